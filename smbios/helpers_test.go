package smbios

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// fixtureDir is fixtures/smbios, found from this file's location so tests run from anywhere.
func fixtureDir(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	return filepath.Join(filepath.Dir(file), "..", "fixtures", "smbios")
}

// realDumps are the real SMBIOS dumps in fixtures/smbios (see its README for attribution).
var realDumps = []string{
	"uroot_VMWare.bin",
	"uroot_Synology-RS3614xsp.bin",
	"uroot_Lenovo-ThinkPad-T480.bin",
	"uroot_GigaByte-X399.bin",
	"sidero_HyperV.bin",
}

func fixturePath(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(fixtureDir(t), name)
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(fixturePath(t, name))
	require.NoError(t, err)
	return b
}

// typeCode is the structure type of a typed view, 0 for a view this package did not make.
func typeCode(t Typed) uint8 {
	if b, ok := t.(builtType); ok {
		return b.structureType()
	}
	return 0
}
