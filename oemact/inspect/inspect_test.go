package inspect

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/firmware/finding"
	"github.com/oemact/oemact/firmware/productkey"
	"github.com/oemact/oemact/oemact/edition"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const fixtures = "../../fixtures/acpi"

func win7(t *testing.T) edition.ReleaseInfo {
	t.Helper()
	r, err := edition.LookupRelease("win7")
	require.NoError(t, err)
	return r
}

func machines(t *testing.T) []*firmware.Set {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(fixtures, "*"))
	require.NoError(t, err)
	sets, err := firmware.Load(dirs...)
	require.NoError(t, err)
	return sets
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(p, got, 0o644))
	}
	want, err := os.ReadFile(p)
	require.NoError(t, err, "run 'go test ./oemact/inspect -update' to create %s", p)
	assert.Equal(t, string(want), string(got), "%s differs; if the change is intended, rerun with -update", p)
}

// The report of the ten real machines (and the README beside them, skipped), as text and JSON.
func TestGoldenReports(t *testing.T) {
	doc := Build(machines(t), Options{Release: win7(t)})
	assert.True(t, doc.Failed())
	var text bytes.Buffer
	require.NoError(t, WriteText(&text, doc))
	golden(t, "fixtures.txt", text.Bytes())
	js, err := json.MarshalIndent(doc, "", "  ")
	require.NoError(t, err)
	golden(t, "fixtures.json", append(js, '\n'))
}

// The JSON document has the shape the issue gives, and the values of the real tables.
func TestJSONShape(t *testing.T) {
	doc := Build(machines(t), Options{Release: win7(t)})
	doc.Finish()
	js, err := json.Marshal(doc)
	require.NoError(t, err)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(js, &raw))
	for _, k := range []string{"schema_version", "result", "counts", "release", "tables", "findings"} {
		assert.Contains(t, raw, k)
	}
	assert.Equal(t, float64(SchemaVersion), raw["schema_version"])
	assert.Equal(t, "fail", raw["result"])
	counts := raw["counts"].(map[string]any)
	assert.Equal(t, 28.0, counts["tables"])
	assert.Equal(t, 6.0, counts["slics_verified"])
	assert.Equal(t, float64(doc.Findings.Count(finding.Error)), counts["errors"])
	assert.Equal(t, "2.1", raw["release"].(map[string]any)["slic_version_string"])
	tables := raw["tables"].([]any)
	assert.Len(t, tables, 28)
	var dell map[string]any
	for _, x := range tables {
		m := x.(map[string]any)
		for _, k := range []string{"path", "signature", "length", "revision", "checksum_ok", "oem_id", "oem_table_id"} {
			assert.Contains(t, m, k)
		}
		if m["signature"] == "SLIC" && strings.Contains(m["path"].(string), "dell-inspiron") {
			dell = m
		}
	}
	require.NotNil(t, dell)
	assert.Equal(t, "WN09   \x00", dell["oem_table_id"], "raw 8 bytes, NUL kept")
	assert.Contains(t, string(js), `"oem_table_id":"WN09   \u0000"`)
	slic := dell["slic"].(map[string]any)
	assert.Regexp(t, "^[0-9a-f]{64}$", slic["key_sha256"])
	delete(slic, "key_sha256")
	assert.Equal(t, map[string]any{
		"key_bits": 1024.0, "exponent": 65537.0, "marker_version": float64(0x00020000),
		"marker_oem_id": "DELL  ", "marker_oem_table_id": "WN09   \x00", "slic_version": float64(0x00020001),
		"slic_version_string": "2.1", "signature_valid": true,
	}, slic)
	for _, x := range raw["findings"].([]any) {
		m := x.(map[string]any)
		for _, k := range []string{"code", "severity", "table", "offset", "message"} {
			assert.Contains(t, m, k)
		}
	}

	verified := 0
	for _, tb := range doc.Tables {
		if tb.SLIC != nil && tb.SLIC.SignatureValid {
			verified++
		}
		if tb.MSDM != nil {
			assert.True(t, strings.HasPrefix(tb.MSDM.ProductKey, "XXXXX-XXXXX-XXXXX-XXXXX-"), "masked: %s", tb.Path)
		}
	}
	assert.Equal(t, 6, verified)
}

// Product keys are masked in JSON and text unless ShowKeys.
func TestProductKeysMasked(t *testing.T) {
	key := productkey.Derive("inspect masking test")
	m, err := firmware.NewMSDM(firmware.MSDMParams{OEMID: "TSTOEM", OEMTableID: "TSTBOARD", Key: key.Reveal()})
	require.NoError(t, err)
	set := firmware.NewSet("synth", firmware.SetBytes)
	set.AddBytes("MSDM", m.Encode())
	for _, show := range []bool{false, true} {
		doc := Build([]*firmware.Set{set}, Options{Release: win7(t), ShowKeys: show})
		js, err := json.Marshal(doc)
		require.NoError(t, err)
		var text bytes.Buffer
		require.NoError(t, WriteText(&text, doc))
		first := key.Reveal()[:5]
		if show {
			assert.Equal(t, key.Reveal(), doc.Tables[0].MSDM.ProductKey)
			assert.Contains(t, string(js), key.Reveal())
			assert.Contains(t, text.String(), key.Reveal())
		} else {
			assert.Equal(t, key.Masked(), doc.Tables[0].MSDM.ProductKey)
			assert.NotContains(t, string(js), first)
			assert.NotContains(t, text.String(), first)
			assert.Contains(t, text.String(), key.Masked())
		}
		assert.False(t, doc.Failed())
	}
}

// Findings a later section adds (say SMBIOS) print after the sets, and count in the summary.
func TestTextReportFromTheStruct(t *testing.T) {
	doc := Build(nil, Options{Release: win7(t)})
	doc.Findings = append(doc.Findings, finding.Finding{Code: "smbios-test", Severity: finding.Error,
		Table: "SMBIOS type 1", Path: "dmi.bin", Offset: 4, Message: "a message"})
	var text bytes.Buffer
	require.NoError(t, WriteText(&text, doc))
	assert.Contains(t, text.String(), "Other findings:")
	assert.Contains(t, text.String(), "smbios-test")
	assert.Contains(t, text.String(), "SMBIOS type 1+0x4")
	assert.Contains(t, text.String(), "Summary: FAIL.")
	assert.True(t, doc.Failed())
}
