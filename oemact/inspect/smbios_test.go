package inspect

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/oemact/oemact/smbios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClassify(t *testing.T) {
	dir := t.TempDir()
	acpiDir := filepath.Join(dir, "tables")
	require.NoError(t, os.MkdirAll(acpiDir, 0o755))
	slic, err := os.ReadFile(filepath.Join(fixturesDir(t), "acpi", "dell-inspiron-14-3462", "SLIC"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(acpiDir, "SLIC.bin"), slic, 0o644))
	dump, err := os.ReadFile(filepath.Join(fixturesDir(t), "smbios", "uroot_VMWare.bin"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(acpiDir, "smbios.bin"), dump, 0o644))
	in, err := smbios.Decode(dump)
	require.NoError(t, err)
	sysfs := filepath.Join(dir, "dmi")
	require.NoError(t, in.WriteSysfs(sysfs))
	rsmb, err := in.RSMBBlob()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rsmb.bin"), rsmb, 0o644))

	s, err := Classify([]string{acpiDir, sysfs, filepath.Join(dir, "rsmb.bin"), filepath.Join(acpiDir, "SLIC.bin")})
	require.NoError(t, err)
	assert.Equal(t, []string{acpiDir, filepath.Join(acpiDir, "SLIC.bin")}, s.ACPI)
	assert.ElementsMatch(t, []string{filepath.Join(acpiDir, "smbios.bin"), sysfs, filepath.Join(dir, "rsmb.bin")}, s.SMBIOS)

	_, err = Classify([]string{filepath.Join(dir, "missing")})
	assert.ErrorContains(t, err, "missing")
}

func TestAddSMBIOS(t *testing.T) {
	path := filepath.Join(fixturesDir(t), "smbios", "uroot_Synology-RS3614xsp.bin")
	in, err := smbios.Read(path)
	doc := Build(nil, Options{})
	require.NoError(t, doc.AddSMBIOS(in, err, path))
	require.NotNil(t, doc.SMBIOS)
	assert.Equal(t, "dump-bin", doc.SMBIOS.Format)
	assert.Equal(t, "2.7", doc.SMBIOS.Version)
	assert.True(t, doc.Findings.Has("smbios-uuid-placeholder"), doc.Findings.Codes())

	b, err := json.Marshal(doc)
	require.NoError(t, err)
	var back map[string]any
	require.NoError(t, json.Unmarshal(b, &back))
	smb := back["smbios"].(map[string]any)
	for _, k := range []string{"version", "entry_point", "bios", "system", "baseboard", "chassis", "processors", "memory_devices", "oem_strings"} {
		assert.Contains(t, smb, k)
	}
	sys := smb["system"].(map[string]any)
	for _, k := range []string{"manufacturer", "product_name", "version", "serial_number", "uuid", "sku_number", "family"} {
		assert.Contains(t, sys, k)
	}

	var text bytes.Buffer
	require.NoError(t, WriteText(&text, doc))
	assert.Contains(t, text.String(), "== SMBIOS "+path+" (dump-bin)")
	assert.Contains(t, text.String(), "smbios-uuid-placeholder")

	// Unreadable data: the error comes back, the document is unchanged.
	_, err = smbios.Read(filepath.Join(t.TempDir(), "none"))
	doc2 := Build(nil, Options{})
	assert.Error(t, doc2.AddSMBIOS(nil, err, "none"))
	assert.Nil(t, doc2.SMBIOS)
}

func fixturesDir(t *testing.T) string { return filepath.Join("..", "..", "fixtures") }
