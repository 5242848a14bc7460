package inspect

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/oemact/oemact/firmware/sniff"
	"github.com/oemact/oemact/smbios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// One machine from a folder, loose files and SMBIOS in any container: each input goes to its
// reader by content, an unrecognized file is a finding, two machines' SMBIOS is a usage error.
func TestInspectSortsInputsByContent(t *testing.T) {
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
	rsmb, err := in.RSMBBlob()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rsmb.bin"), rsmb, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "junk.bin"), []byte{0xFF, 1, 2, 3}, 0o644))

	m, err := Inspect(Input{Paths: []string{acpiDir, filepath.Join(dir, "junk.bin")}}, Options{})
	require.NoError(t, err)
	require.Len(t, m.Sets, 1)
	require.NotNil(t, m.SMBIOS)
	assert.Equal(t, filepath.Join(acpiDir, "smbios.bin"), m.Doc.SMBIOS.Path)
	assert.Equal(t, in.Identity(), m.SMBIOS.Identity())
	assert.True(t, m.Doc.Findings.Has(sniff.CodeUnrecognized), m.Doc.Findings.Codes())
	assert.Equal(t, "fail", m.Doc.Result, "an unrecognized file is an error")
	assert.Equal(t, 1, m.Doc.Counts.SLICs)
	assert.Equal(t, 1, m.Doc.Counts.SLICsVerified)
	assert.Equal(t, len(in.Structures), m.Doc.Counts.SMBIOSStructures)
	require.Len(t, m.Doc.Tables, 1)
	require.NotNil(t, m.Doc.Tables[0].SLIC)
	assert.Equal(t, "2.1", m.Doc.Tables[0].SLIC.SLICVersionString)
	assert.Regexp(t, "^[0-9a-f]{64}$", m.Doc.Tables[0].SLIC.KeySHA256)

	m, err = Inspect(Input{Paths: []string{filepath.Join(dir, "rsmb.bin")}}, Options{})
	require.NoError(t, err)
	assert.Equal(t, "RSMB", m.Doc.SMBIOS.Format)
	assert.Empty(t, m.Sets, "no ACPI input, no table set")

	_, err = Inspect(Input{Paths: []string{acpiDir, filepath.Join(dir, "rsmb.bin")}}, Options{})
	var ue *UsageError
	require.ErrorAs(t, err, &ue)
	assert.Contains(t, err.Error(), "2 SMBIOS sources")

	// --acpi reads a file as a table whatever it holds; --smbios as SMBIOS.
	m, err = Inspect(Input{ACPI: []string{filepath.Join(dir, "junk.bin")}}, Options{})
	require.NoError(t, err)
	assert.Len(t, m.Doc.Tables, 1)
	assert.True(t, m.Doc.Findings.Has("acpi-truncated"), m.Doc.Findings.Codes())

	_, err = Inspect(Input{Paths: []string{filepath.Join(dir, "missing")}}, Options{})
	assert.ErrorContains(t, err, "missing")
}

// Damage inside an entry point is a finding, and the table behind it is read.
func TestInspectDamagedEntryPoint(t *testing.T) {
	dump, err := os.ReadFile(filepath.Join(fixturesDir(t), "smbios", "uroot_Lenovo-ThinkPad-T480.bin"))
	require.NoError(t, err)
	dump[6] = 0x40 // the _SM3_ length byte
	p := filepath.Join(t.TempDir(), "damaged.bin")
	require.NoError(t, os.WriteFile(p, dump, 0o644))
	m, err := Inspect(Input{Paths: []string{p}}, Options{})
	require.NoError(t, err)
	assert.True(t, m.Doc.Findings.Has(smbios.CodeEntryPointLength), m.Doc.Findings.Codes())
	assert.Equal(t, "fail", m.Doc.Result)
	require.NotNil(t, m.Doc.SMBIOS.System)
	assert.Equal(t, "20L8S07A14", m.Doc.SMBIOS.System.ProductName)
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

// A firmware image is walked and its ACPI tables checked as one machine's, each named by where
// in the image it was found.
func TestInspectFirmwareImage(t *testing.T) {
	slic, err := os.ReadFile(filepath.Join(fixturesDir(t), "acpi", "dell-inspiron-14-3462", "SLIC"))
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "flash.bin")
	require.NoError(t, os.WriteFile(p, append(make([]byte, 0x100), slic...), 0o644))
	m, err := Inspect(Input{Paths: []string{p}}, Options{})
	require.NoError(t, err)
	require.Len(t, m.Doc.Tables, 1)
	assert.Equal(t, "SLIC", m.Doc.Tables[0].Signature)
	assert.Equal(t, p, m.Doc.Tables[0].Path)
	require.NotNil(t, m.Doc.Tables[0].Location)
	assert.EqualValues(t, 0x100, m.Doc.Tables[0].Location.Offset)
	require.NotNil(t, m.Doc.Tables[0].SLIC)
	assert.True(t, m.Doc.Tables[0].SLIC.SignatureValid)
}
