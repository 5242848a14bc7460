package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
)

// corebootROM synthesizes the TEST SLIC and MSDM of fixtures/profiles/tstoem-oa3.yaml with
// 'oemact synth' and adds them to a coreboot ROM built with cbfstool: the SLIC as a raw file
// named "slic" (the name coreboot reads it from), the MSDM LZMA-compressed. It returns the ROM and
// the synthesized tables' folder.
func corebootROM(t *testing.T) (rom, synth string) {
	cbfstool := hosttooltest.Require(t, "cbfstool")
	dir := t.TempDir()
	synth = filepath.Join(dir, "synth")
	var out, errOut bytes.Buffer
	code := run(stdio{nil, &out, &errOut}, []string{"synth", "-o", synth, filepath.Join("..", "..", "fixtures", "profiles", "tstoem-oa3.yaml")})
	require.Equal(t, exitOK, code, errOut.String())
	rom = filepath.Join(dir, "rom.bin")
	for _, args := range [][]string{
		{"create", "-m", "x86", "-s", "0x100000"},
		{"add", "-f", filepath.Join(synth, "SLIC.bin"), "-n", "slic", "-t", "raw"},
		{"add", "-f", filepath.Join(synth, "MSDM.bin"), "-n", "msdm", "-t", "raw", "-c", "lzma"},
	} {
		b, err := exec.Command(cbfstool, append([]string{rom}, args...)...).CombinedOutput()
		require.NoError(t, err, "cbfstool %v: %s", args, b)
	}
	return rom, synth
}

type imageTable struct {
	Name      string `json:"name"`
	Signature string `json:"signature"`
	OEMID     string `json:"oem_id"`
	SLIC      *struct {
		SignatureValid bool   `json:"signature_valid"`
		MarkerOEMID    string `json:"marker_oem_id"`
	} `json:"slic"`
	MSDM *struct {
		ProductKey string `json:"product_key"`
	} `json:"msdm"`
	Location struct {
		Image        string `json:"image"`
		Offset       int64  `json:"offset"`
		Path         string `json:"path"`
		Decompressed bool   `json:"decompressed"`
	} `json:"location"`
}

// inspect, verify (OA 2.1 and 3.0) and capture on a coreboot ROM holding the TEST markers: both
// are found with their CBFS file, the SLIC verifies and its IDs agree, the MSDM key is the
// catalog's, and the captured profile synthesizes the same tables.
func TestCorebootROMVerbs(t *testing.T) {
	rom, synth := corebootROM(t)
	var out, errOut bytes.Buffer
	code := run(stdio{nil, &out, &errOut}, []string{"inspect", "--json", rom})
	require.Equal(t, exitOK, code, "%s%s", out.String(), errOut.String())
	var doc struct {
		Sets []struct {
			Kind string `json:"kind"`
		} `json:"sets"`
		Tables   []imageTable `json:"tables"`
		Findings []struct {
			Code string `json:"code"`
		} `json:"findings"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &doc))
	require.Len(t, doc.Sets, 1)
	assert.Equal(t, "image", doc.Sets[0].Kind)
	require.Len(t, doc.Tables, 2)
	byName := map[string]imageTable{}
	for _, tb := range doc.Tables {
		byName[tb.Name] = tb
		assert.Equal(t, rom, tb.Location.Image)
	}
	slic, msdm := byName["SLIC"], byName["MSDM"]
	assert.Equal(t, "CBFS/slic", slic.Location.Path)
	assert.False(t, slic.Location.Decompressed)
	require.NotNil(t, slic.SLIC)
	assert.True(t, slic.SLIC.SignatureValid)
	assert.Equal(t, slic.OEMID, slic.SLIC.MarkerOEMID)
	assert.Equal(t, "TSTOEM", slic.OEMID)
	assert.Equal(t, "CBFS/msdm", msdm.Location.Path)
	assert.True(t, msdm.Location.Decompressed)
	require.NotNil(t, msdm.MSDM)
	assert.Regexp(t, `^XXXXX-XXXXX-XXXXX-XXXXX-\w{5}$`, msdm.MSDM.ProductKey, "masked")

	slicBytes, err := os.ReadFile(filepath.Join(synth, "SLIC.bin"))
	require.NoError(t, err)
	romBytes, err := os.ReadFile(rom)
	require.NoError(t, err)
	assert.Equal(t, slicBytes, romBytes[slic.Location.Offset:slic.Location.Offset+int64(len(slicBytes))])

	for _, c := range []struct{ edition, key, kind string }{
		{"win7-professional", "oem-slp/TSTOEM/win7-professional", "OA 2.1"},
		{"win8-pro", "", "OA 3.0"},
	} {
		out.Reset()
		args := []string{"verify", "--json", "--edition", c.edition, rom}
		if c.key != "" {
			args = append(args, "--key", c.key)
		}
		code = run(stdio{nil, &out, &errOut}, args)
		assert.Equal(t, exitOK, code, "%s%s", out.String(), errOut.String())
		var v struct {
			Kind   string       `json:"kind"`
			Valid  bool         `json:"valid"`
			Tables []imageTable `json:"tables"`
		}
		require.NoError(t, json.Unmarshal(out.Bytes(), &v))
		assert.Equal(t, c.kind, v.Kind)
		assert.True(t, v.Valid)
		require.Len(t, v.Tables, 2)
		assert.NotEmpty(t, v.Tables[0].Location.Path)
	}
	out.Reset()
	code = run(stdio{nil, &out, &errOut}, []string{"verify", "--edition", "win7-professional", "--key", "oem-slp/TSTOEM/win7-professional", rom})
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out.String(), "tables in "+rom+" (coreboot):\n  SLIC  found in CBFS/slic, file offset 0x20\n"+
		"  MSDM  found in CBFS/msdm, offset 0x0 of the data decompressed from file offset 0x1F0\n")

	capDir := filepath.Join(t.TempDir(), "cap")
	out.Reset()
	code = run(stdio{nil, &out, &errOut}, []string{"capture", "--from", rom, "-o", capDir})
	require.Equal(t, exitOK, code, errOut.String())
	assert.Contains(t, out.String(), "note: SLIC copied from "+rom+": CBFS/slic, file offset 0x")
	again := filepath.Join(t.TempDir(), "again")
	code = run(stdio{nil, &out, &errOut}, []string{"synth", "-o", again, filepath.Join(capDir, "profile.yaml")})
	require.Equal(t, exitOK, code, errOut.String())
	for _, f := range []string{"SLIC.bin", "MSDM.bin"} {
		want, err := os.ReadFile(filepath.Join(synth, f))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(again, f))
		require.NoError(t, err)
		assert.Equal(t, want, got, f)
	}

	// A table file is not a firmware image for --from.
	code = run(stdio{nil, &out, &errOut}, []string{"capture", "--from", filepath.Join(synth, "SLIC.bin"), "-o", t.TempDir()})
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut.String(), "is not a firmware image but ACPI table SLIC, checksum right")
}
