package inspect

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/oemact/oemact/firmware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// imageBlob is 64 KiB of random bytes holding a real SLIC and MSDM at odd offsets.
func imageBlob(t *testing.T) []byte {
	b := make([]byte, 64<<10)
	rand.New(rand.NewSource(19)).Read(b)
	for off, sig := range map[int]string{0x1235: "SLIC", 0x8001: "MSDM"} {
		tb, err := os.ReadFile(filepath.Join(fixtures, "dell-inspiron-14-3462", sig))
		require.NoError(t, err)
		copy(b[off:], tb)
	}
	return b
}

// Tables found in an image keep their object and gain "location"; the text says where.
func TestImageReport(t *testing.T) {
	set := firmware.ImageSet("blob.bin", imageBlob(t))
	doc := Build([]*firmware.Set{set}, Options{Release: win7(t)})
	js, err := json.Marshal(doc)
	require.NoError(t, err)
	var raw struct {
		Sets   []map[string]any `json:"sets"`
		Tables []map[string]any `json:"tables"`
	}
	require.NoError(t, json.Unmarshal(js, &raw))
	assert.Equal(t, "image", raw.Sets[0]["kind"])
	require.Len(t, raw.Tables, 2)
	for _, tb := range raw.Tables {
		assert.Contains(t, tb, "oem_id")
		assert.Equal(t, "image", tb["source"])
		loc := tb["location"].(map[string]any)
		assert.Equal(t, "blob.bin", loc["image"])
		assert.Contains(t, loc, "path")
		switch tb["signature"] {
		case "SLIC":
			assert.EqualValues(t, 0x1235, loc["offset"])
			assert.Equal(t, true, tb["slic"].(map[string]any)["signature_valid"])
		case "MSDM":
			assert.EqualValues(t, 0x8001, loc["offset"])
		}
	}
	var text bytes.Buffer
	require.NoError(t, WriteText(&text, doc))
	golden(t, "image.txt", text.Bytes())
}

// Image files go to the image reader, whatever sniff's order of evidence puts before them.
func TestInspectImages(t *testing.T) {
	p := filepath.Join(t.TempDir(), "blob.bin")
	require.NoError(t, os.WriteFile(p, imageBlob(t), 0o644))
	paths := []string{p}
	if _, err := os.Stat("/usr/share/OVMF/OVMF_CODE.fd"); err == nil {
		paths = append(paths, "/usr/share/OVMF/OVMF_CODE.fd")
	}
	m, err := Inspect(Input{Paths: paths}, Options{Release: win7(t)})
	require.NoError(t, err)
	require.Len(t, m.Sets, len(paths))
	for i, s := range m.Sets {
		assert.Equal(t, firmware.SetImage, s.Kind)
		assert.Equal(t, paths[i], s.Name)
	}
	assert.Nil(t, m.Doc.SMBIOS)
}
