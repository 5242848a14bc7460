package fwimage

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Debian's OVMF builds (notes/images.md): the outer volume holds a file whose LZMA section
// decompresses to 13,500,560 bytes with the main volume 7CB8BDC9-...; RamDiskDxe's second raw
// section is a checksummed SSDT, 124 bytes, INTEL /RamDisk.
func TestOVMF(t *testing.T) {
	for name, lzmaSize := range map[string]int64{"OVMF_CODE.fd": 1512764, "OVMF_CODE_4M.fd": 1511415} {
		t.Run(name, func(t *testing.T) {
			im := readImage(t, ovmf(t, name))
			assert.Equal(t, KindVolume, im.Kind)
			assert.Empty(t, im.Errors)
			assert.EqualValues(t, 13500560, im.Decompressed)

			var lzmaSec, mainVol *Node
			im.Visit(func(n *Node, _ int) {
				if n.GUID == guidLZMA && n.Kind == NodeSection {
					lzmaSec = n
				}
				if n.Kind == NodeVolume && n.GUID.String() == "7CB8BDC9-F8EB-4F34-AAEA-3EE4AF6516A1" {
					mainVol = n
				}
			})
			require.NotNil(t, lzmaSec)
			assert.Equal(t, "lzma", lzmaSec.Compression)
			assert.EqualValues(t, 0x90, lzmaSec.Loc.Offset, "the LZMA section starts at file offset 0x90")
			assert.Equal(t, lzmaSize, lzmaSec.Size)
			require.NotNil(t, mainVol)
			assert.True(t, mainVol.Loc.Decompressed)

			require.Len(t, im.Tables, 1)
			tb := im.Tables[0]
			assert.Equal(t, "SSDT", tb.Signature)
			assert.Len(t, tb.Raw, 124)
			assert.Equal(t, "INTEL ", string(tb.Raw[10:16]))
			assert.Equal(t, "RamDisk ", string(tb.Raw[16:24]))
			assert.True(t, tb.Loc.Decompressed)
			assert.EqualValues(t, 0xA8, tb.Loc.Offset, "the LZMA data starts 0x18 into the section")
			assert.Equal(t, "48DB5E17-707C-472D-91CD-1613E7EF51B0/9E21FD93-9C72-4C15-8C4B-E77F1DB2D792/"+
				"EE4E5898-3914-4259-9D6E-DC7BD79403CF/Volume image section #2/7CB8BDC9-F8EB-4F34-AAEA-3EE4AF6516A1/"+
				"RamDiskDxe/Raw section #2", tb.Loc.Path)
		})
	}
}

// uefiExtractReport reads the report 'UEFIExtract FILE report' writes: one line per node with
// its type, subtype, base (N/A inside compressed data), size, CRC32 and name, depth as dashes.
// It returns one line per volume, file and section: depth, type, name, base, size and CRC32.
func uefiExtractReport(t *testing.T, text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n")[1:] {
		f := strings.SplitN(line, "|", 6)
		if len(f) < 6 {
			continue
		}
		typ := strings.TrimSpace(f[0])
		if typ != "Volume" && typ != "File" && typ != "Section" {
			continue
		}
		dashes, name, _ := strings.Cut(strings.TrimSpace(f[5]), " ")
		name, _, _ = strings.Cut(name, " | ")
		out = append(out, fmt.Sprintf("%d %s %s base %s size %s crc %s", len(dashes), typ, name,
			strings.TrimSpace(f[2]), strings.TrimSpace(f[3]), strings.TrimSpace(f[4])))
	}
	return out
}

// walkReport walks b and returns its nodes in uefiExtractReport's form, with the CRC32 of each
// node's bytes as the walk found them.
func walkReport(name string, b []byte) []string {
	crcs := map[*Node]uint32{}
	im := walk(name, b, Limits{}, func(n *Node, nb []byte) { crcs[n] = crc32.ChecksumIEEE(nb) })
	var out []string
	im.Visit(func(n *Node, depth int) {
		kind := map[NodeKind]string{NodeVolume: "Volume", NodeFile: "File", NodeSection: "Section"}[n.Kind]
		if kind == "" {
			return
		}
		name := n.Name
		switch {
		case n.Kind == NodeVolume || n.Kind == NodeFile:
			name = n.GUID.String()
			if n.Kind == NodeFile && n.Type == 0xF0 {
				name = "Padding file"
			}
		case n.Type == 0x02:
			name = n.GUID.String()
		}
		base := "N/A"
		if !n.Loc.Decompressed {
			base = fmt.Sprintf("%08X", n.Loc.Offset)
		}
		out = append(out, fmt.Sprintf("%d %s %s base %s size %08X crc %08X", depth+1, kind, name, base, n.Size, crcs[n]))
	})
	return out
}

// The volume, file and section tree of each OVMF build agrees with UEFIExtract's, node by node:
// depth, kind, GUID or section kind, file offset (outside compressed data), size and the CRC32
// of the node's bytes.
func TestOVMFTreeMatchesUEFIExtract(t *testing.T) {
	for _, name := range []string{"OVMF_CODE.fd", "OVMF_CODE_4M.fd"} {
		t.Run(name, func(t *testing.T) {
			src := ovmf(t, name)
			dir := t.TempDir()
			b, err := os.ReadFile(src)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
			tool(t, dir, "UEFIExtract", name, "report")
			report, err := os.ReadFile(filepath.Join(dir, name+".report.txt"))
			require.NoError(t, err)
			want := uefiExtractReport(t, string(report))
			assert.Greater(t, len(want), 600)
			if d := cmp.Diff(want, walkReport(name, b)); d != "" {
				t.Errorf("the walk's tree differs from UEFIExtract's (-UEFIExtract +walk):\n%s", d)
			}
		})
	}
}

// An FFSv2 volume built here: a DXE driver with a UI name and a raw section holding a table,
// and an LZMA section whose output holds a volume image with another table.
func TestBuiltVolume(t *testing.T) {
	slic := realTable(t, "dell-inspiron-14-3462", "SLIC")
	msdm := realTable(t, "dell-inspiron-14-3462", "MSDM")
	inner := volume(0x2000, ffsFile(testFileGUID, 0x02, section(0x19, msdm)))
	lz := lzmaAlone(t, sections(section(0x17, inner)))
	vol := volume(0x4000,
		ffsFile(testFileGUID, 0x07, sections(section(0x19, slic), section(0x15, ucs2z("MarkerDxe")))),
		ffsFile(MustGUID("01234567-89AB-CDEF-0123-456789ABCDEF"), 0x0B, guided(guidLZMA, guidedProcessingRequired, lz)))
	im := Walk("vol.fd", vol, Limits{})
	require.Empty(t, im.Errors)
	require.Len(t, im.Tables, 2)
	byName := map[string]Table{}
	for _, tb := range im.Tables {
		byName[tb.Signature] = tb
	}
	assert.Equal(t, slic, byName["SLIC"].Raw)
	assert.Equal(t, "8C8CE578-8A3D-4F1C-9935-896185C32DD3/MarkerDxe/Raw section", byName["SLIC"].Loc.Path,
		"a volume without an extended header is named by its file system GUID")
	assert.False(t, byName["SLIC"].Loc.Decompressed)
	assert.EqualValues(t, bytesIndex(vol, slic), byName["SLIC"].Loc.Offset)
	assert.Equal(t, msdm, byName["MSDM"].Raw)
	assert.True(t, byName["MSDM"].Loc.Decompressed)
	assert.Contains(t, byName["MSDM"].Loc.Path, "/EE4E5898-3914-4259-9D6E-DC7BD79403CF/Volume image section/")
}

func ucs2z(s string) []byte {
	var b []byte
	for _, c := range s {
		b = append(b, byte(c), byte(c>>8))
	}
	return append(b, 0, 0)
}

func bytesIndex(b, sub []byte) int {
	return strings.Index(string(b), string(sub))
}

// Malformed volumes, files and sections are errors that name the structure and the offset, and
// the walk goes on with what it can read.
func TestVolumeErrors(t *testing.T) {
	slic := realTable(t, "dell-inspiron-14-3462", "SLIC")
	good := ffsFile(testFileGUID, 0x07, section(0x19, slic))
	cases := []struct {
		name     string
		image    func() []byte
		sentinel error
		code     string
		msg      string
	}{
		{"volume longer than the file", func() []byte {
			v := volume(0x2000, good)
			return v[:0x1800]
		}, ErrOutside, CodeOutside, "the volume header says the volume is 8192 bytes, but only 6144 are left"},
		{"file longer than its volume", func() []byte {
			f := append([]byte(nil), good...)
			f[22] = 0x10 // 1 MiB
			return volume(0x2000, f)
		}, ErrOutside, CodeOutside, "only 8120 are left in its volume"},
		{"section longer than its file", func() []byte {
			s := section(0x19, slic)
			s[2] = 1
			return volume(0x2000, ffsFile(testFileGUID, 0x07, s))
		}, ErrOutside, CodeOutside, "a Raw section says it is 65914 bytes"},
		{"section shorter than its header", func() []byte {
			return volume(0x2000, ffsFile(testFileGUID, 0x07, []byte{2, 0, 0, 0x19}))
		}, ErrMalformed, CodeMalformed, "less than its 4-byte header"},
		{"Tiano-compressed section", func() []byte {
			return volume(0x2000, ffsFile(testFileGUID, 0x07, guided(guidTiano, guidedProcessingRequired, slic)))
		}, ErrUnsupported, CodeUnsupported, "Tiano compression: the 374 bytes inside are not walked or scanned"},
		{"EFI compression section", func() []byte {
			body := append([]byte{0x76, 1, 0, 0, 1}, slic...)
			return volume(0x2000, ffsFile(testFileGUID, 0x07, section(0x01, body)))
		}, ErrUnsupported, CodeUnsupported, "EFI standard (Tiano) compression"},
		{"unknown guided section", func() []byte {
			return volume(0x2000, ffsFile(testFileGUID, 0x07, guided(testVolGUID, guidedProcessingRequired, slic)))
		}, ErrUnsupported, CodeUnsupported, "GUID-defined section 11111111-2222-3333-4444-555555555555 needs processing"},
		{"corrupt LZMA", func() []byte {
			lz := lzmaAlone(t, sections(section(0x19, slic)))
			lz[20] ^= 0xFF
			return volume(0x2000, ffsFile(testFileGUID, 0x07, guided(guidLZMA, guidedProcessingRequired, lz)))
		}, ErrMalformed, CodeMalformed, "LZMA"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img := c.image()
			im := Walk("bad.fd", img, Limits{})
			require.NotEmpty(t, im.Errors)
			e := im.Errors[0]
			assert.True(t, errors.Is(e, c.sentinel), "%v wraps %v", e, c.sentinel)
			assert.Contains(t, e.Error(), c.msg)
			assert.Contains(t, e.Error(), "bad.fd: ")
			f := im.Findings()[0]
			assert.Equal(t, c.code, f.Code)
			assert.Equal(t, "bad.fd", f.Path)
			assert.GreaterOrEqual(t, f.Offset, int64(0))
			assert.Less(t, f.Offset, int64(len(img)))
		})
	}
}

// The unsupported section is named by its path and offset in the finding.
func TestUnsupportedNamesSection(t *testing.T) {
	packed := bytes.Repeat([]byte{0x5A, 0xC3}, 200) // stands for Tiano-compressed bytes
	vol := volume(0x2000, ffsFile(testFileGUID, 0x07, sections(section(0x15, ucs2z("TianoDxe")), guided(guidTiano, guidedProcessingRequired, packed))))
	im := Walk("t.fd", vol, Limits{})
	require.Len(t, im.Errors, 1)
	f := im.Errors[0].Finding()
	assert.Equal(t, "8C8CE578-8A3D-4F1C-9935-896185C32DD3/TianoDxe/A31280AD-481E-41B6-95E8-127F4C984779", f.Table)
	assert.EqualValues(t, 72+24+24, f.Offset, "the section's file offset: volume header, file header, UI section")
	assert.Equal(t, "warning", f.Severity.String())
	assert.Contains(t, f.Message, "Tiano compression: the 400 bytes inside are not walked or scanned")
}
