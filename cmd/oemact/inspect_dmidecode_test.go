package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
	"github.com/oemact/oemact/smbios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// `oemact inspect -s KEYWORD FILE` prints exactly what `dmidecode --from-dump FILE -s KEYWORD`
// prints, for every keyword dmidecode knows, on every real dump dmidecode reads.
func TestInspectStringMatchesDmidecode(t *testing.T) {
	bin := hosttooltest.Require(t, "dmidecode")
	dumps, err := filepath.Glob(filepath.Join("..", "..", "fixtures", "smbios", "uroot_*.bin"))
	require.NoError(t, err)
	require.Len(t, dumps, 4)
	compared := 0
	for _, dump := range dumps {
		for _, k := range smbios.StringKeywords() {
			var want, stderr bytes.Buffer
			cmd := exec.Command(bin, "--from-dump", dump, "-s", k.Name)
			cmd.Stdout, cmd.Stderr = &want, &stderr
			require.NoError(t, cmd.Run(), "dmidecode: %s", stderr.String())
			var got, errOut bytes.Buffer
			code := run(stdio{stdout: &got, stderr: &errOut}, []string{"inspect", dump, "-s", k.Name})
			require.Equal(t, exitOK, code, "%s -s %s: %s", dump, k.Name, errOut.String())
			assert.Equal(t, want.String(), got.String(), "%s -s %s", filepath.Base(dump), k.Name)
			compared++
		}
	}
	t.Logf("%d keyword outputs equal to dmidecode's", compared)
}

// -t selects the structures dmidecode -t selects, keyword by keyword, with the same handles.
func TestInspectTypeSelectsAsDmidecode(t *testing.T) {
	bin := hosttooltest.Require(t, "dmidecode")
	dumps, err := filepath.Glob(filepath.Join("..", "..", "fixtures", "smbios", "uroot_*.bin"))
	require.NoError(t, err)
	for _, dump := range dumps {
		for _, kw := range append(smbios.TypeKeywords(), "1", "17,4") {
			var want bytes.Buffer
			cmd := exec.Command(bin, "--from-dump", dump, "-t", kw)
			cmd.Stdout = &want
			require.NoError(t, cmd.Run())
			var got bytes.Buffer
			require.Equal(t, exitOK, run(stdio{stdout: &got, stderr: &got}, []string{"inspect", dump, "-t", kw}))
			assert.Equal(t, handleLines(want.Bytes()), handleLines(got.Bytes()), "%s -t %s", filepath.Base(dump), kw)
		}
	}
}

func handleLines(b []byte) []string {
	var out []string
	for _, l := range bytes.Split(b, []byte("\n")) {
		if bytes.HasPrefix(l, []byte("Handle 0x")) {
			out = append(out, string(l))
		}
	}
	return out
}
