package fwimage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fmapLayout is a flash map like coreboot's default x86 one, for fmaptool.
const fmapLayout = `FLASH@0 0x100000 {
	BIOS@0 0x100000 {
		FMAP@0 0x1000
		COREBOOT(CBFS)@0x1000 0xff000
	}
}
`

// cbfsFiles are what the coreboot tests add: a real SLIC and MSDM, stored raw, LZMA and LZ4.
var cbfsFiles = []struct{ name, table, comp string }{
	{"slic", "SLIC", ""}, {"msdm", "MSDM", ""},
	{"slic.lzma", "SLIC", "lzma"}, {"msdm.lzma", "MSDM", "lzma"},
	{"slic.lz4", "SLIC", "lz4"}, {"msdm.lz4", "MSDM", "lz4"},
}

// buildROM makes a 1 MiB coreboot ROM with cbfstool: legacy (a master header) or with an FMAP,
// holding the tables in files as listed. It returns the ROM's path.
func buildROM(t *testing.T, fmap bool, tables map[string][]byte, files ...[3]string) string {
	dir := t.TempDir()
	for sig, b := range tables {
		require.NoError(t, os.WriteFile(filepath.Join(dir, sig), b, 0o644))
	}
	if fmap {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "layout.fmd"), []byte(fmapLayout), 0o644))
		tool(t, dir, "fmaptool", "layout.fmd", "fmap.bin")
		tool(t, dir, "cbfstool", "rom.bin", "create", "-M", "fmap.bin")
	} else {
		tool(t, dir, "cbfstool", "rom.bin", "create", "-m", "x86", "-s", "0x100000")
	}
	for _, f := range files {
		args := []string{"rom.bin", "add", "-f", f[1], "-n", f[0], "-t", "raw"}
		if f[2] != "" {
			args = append(args, "-c", f[2])
		}
		tool(t, dir, "cbfstool", args...)
	}
	return filepath.Join(dir, "rom.bin")
}

var cbfsPrintLine = regexp.MustCompile(`^(\S+)\s+0x([0-9a-f]+)\s+(\S+)\s+(\d+)\s+(\S+)(?:\s+\((\d+) decompressed\))?`)

// cbfsPrint reads 'cbfstool ROM print': name, offset in the CBFS, data size, compression and
// decompressed size of each file, "(empty)" ones left out.
func cbfsPrint(t *testing.T, rom string) []string {
	out := tool(t, filepath.Dir(rom), "cbfstool", filepath.Base(rom), "print")
	var files []string
	for _, line := range strings.Split(out, "\n") {
		m := cbfsPrintLine.FindStringSubmatch(line)
		if m == nil || m[1] == "Name" || m[1] == "(empty)" {
			continue
		}
		off, _ := strconv.ParseInt(m[2], 16, 64)
		dec := m[4]
		if m[6] != "" {
			dec = m[6]
		}
		files = append(files, fmt.Sprintf("%s at 0x%x: %s bytes, %s, %s decompressed", m[1], off, m[4], strings.ToLower(m[5]), dec))
	}
	return files
}

// walkedCBFS lists the CBFS files of a walk like cbfsPrint.
func walkedCBFS(im *Image) []string {
	var files []string
	im.Visit(func(n *Node, _ int) {
		if n.Kind != NodeCBFSFile {
			return
		}
		data := n.Size - n.HeaderSize
		comp, dec := "none", data
		if n.Compression != "" {
			comp, dec = n.Compression, n.Decompressed
		}
		files = append(files, fmt.Sprintf("%s at 0x%x: %d bytes, %s, %d decompressed", n.Name, n.RelOffset(), data, comp, dec))
	})
	return files
}

// coreboot ROMs built by cbfstool, legacy and with an FMAP: the files agree with 'cbfstool
// print', and the six tables are found, byte for byte, with their CBFS file as path.
func TestCorebootROMs(t *testing.T) {
	tables := map[string][]byte{
		"SLIC": realTable(t, "dell-inspiron-14-3462", "SLIC"),
		"MSDM": realTable(t, "dell-inspiron-14-3462", "MSDM"),
	}
	var files [][3]string
	for _, f := range cbfsFiles {
		files = append(files, [3]string{f.name, f.table, f.comp})
	}
	for _, fmap := range []bool{false, true} {
		t.Run(map[bool]string{false: "legacy", true: "fmap"}[fmap], func(t *testing.T) {
			rom := buildROM(t, fmap, tables, files...)
			im := readImage(t, rom)
			assert.Equal(t, KindCoreboot, im.Kind)
			assert.Empty(t, im.Errors)
			assert.Equal(t, cbfsPrint(t, rom), walkedCBFS(im))

			cbfsName := map[bool]string{false: "CBFS", true: "COREBOOT"}[fmap]
			b, err := os.ReadFile(rom)
			require.NoError(t, err)
			got := map[string]Table{}
			for _, tb := range im.Tables {
				got[tb.Loc.Path] = tb
			}
			require.Len(t, im.Tables, len(cbfsFiles))
			for _, f := range cbfsFiles {
				tb, ok := got[cbfsName+"/"+f.name]
				if !assert.True(t, ok, "no table found in %s", f.name) {
					continue
				}
				assert.Equal(t, f.table, tb.Signature)
				assert.Equal(t, tables[f.table], tb.Raw, f.name)
				assert.Equal(t, f.comp != "", tb.Loc.Decompressed, f.name)
				if f.comp == "" {
					assert.Equal(t, tables[f.table], b[tb.Loc.Offset:tb.Loc.Offset+int64(len(tb.Raw))], "a raw file's table is at its file offset")
				} else {
					assert.EqualValues(t, 0, tb.Loc.DataOffset)
				}
			}
		})
	}
}

// A decompression bomb stops at the bound of one section, or of the whole image, with an error
// that names the CBFS file; the other files are still read.
func TestCBFSDecompressionBounds(t *testing.T) {
	slic := realTable(t, "dell-inspiron-14-3462", "SLIC")
	zeros := make([]byte, 4<<20)
	rom := buildROM(t, false, map[string][]byte{"SLIC": slic, "ZERO": zeros},
		[3]string{"bomb", "ZERO", "lzma"}, [3]string{"bomb2", "ZERO", "lz4"}, [3]string{"slic.lzma", "SLIC", "lzma"})
	b, err := os.ReadFile(rom)
	require.NoError(t, err)

	im := Walk("rom.bin", b, Limits{Section: 1 << 20})
	require.Len(t, im.Errors, 2)
	for i, name := range []string{"bomb", "bomb2"} {
		e := im.Errors[i]
		assert.True(t, errors.Is(e, ErrLimit), "%v", e)
		assert.Equal(t, "CBFS/"+name, e.Loc.Path)
		assert.Contains(t, e.Error(), "declares 4194304 bytes decompressed")
		assert.Contains(t, e.Error(), "one section's bound is 1048576 bytes")
		assert.Equal(t, CodeLimit, e.Finding().Code)
	}
	require.Len(t, im.Tables, 1, "the SLIC after the bombs is found")
	assert.Equal(t, "CBFS/slic.lzma", im.Tables[0].Loc.Path)

	im = Walk("rom.bin", b, Limits{Section: 8 << 20, Total: 6 << 20})
	require.Len(t, im.Errors, 1)
	assert.Equal(t, "CBFS/bomb2", im.Errors[0].Loc.Path)
	assert.Contains(t, im.Errors[0].Error(), "the image's remaining bound is 2097152 bytes")
	assert.EqualValues(t, 4<<20+len(slic), im.Decompressed)
}

// An LZMA stream that does not declare its size is stopped where the output passes the bound.
func TestLZMABombWithoutSize(t *testing.T) {
	var lz bytes.Buffer
	w, err := lzmaWriter(&lz)
	require.NoError(t, err)
	_, err = w.Write(make([]byte, 3<<20))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.Less(t, lz.Len(), 4096)
	_, err = decompress(methodLZMA, lz.Bytes(), -1, 1<<20)
	assert.True(t, errors.Is(err, ErrLimit), "%v", err)
	assert.ErrorContains(t, err, "decompresses to more than 1048576 bytes")
	out, err := decompress(methodLZMA, lz.Bytes(), -1, 4<<20)
	require.NoError(t, err)
	assert.Len(t, out, 3<<20)
}

// Malformed CBFS headers are errors naming the file and the offset.
func TestCBFSErrors(t *testing.T) {
	slic := realTable(t, "dell-inspiron-14-3462", "SLIC")
	rom := buildROM(t, false, map[string][]byte{"SLIC": slic}, [3]string{"slic.lzma", "SLIC", "lzma"}, [3]string{"slic", "SLIC", ""})
	orig, err := os.ReadFile(rom)
	require.NoError(t, err)
	// The first file's header is at 0: length at 8, data offset at 20, the name at 24, the
	// compression attribute at 0x24 (its length at 0x28, the algorithm at 0x2C).
	cases := []struct {
		name     string
		edit     func(b []byte)
		sentinel error
		msg      string
	}{
		{"length past the CBFS", func(b []byte) { binary.BigEndian.PutUint32(b[8:], 0x200000) }, ErrOutside, `CBFS file "slic.lzma" says it holds 2097152 bytes`},
		{"data offset inside the header", func(b []byte) { binary.BigEndian.PutUint32(b[20:], 8) }, ErrOutside, "data offset 0x8 is not between its header"},
		{"unknown algorithm", func(b []byte) { binary.BigEndian.PutUint32(b[0x2C:], 7) }, ErrUnsupported, `CBFS compression algorithm 7: the 356 bytes of CBFS file "slic.lzma"`},
		{"attribute length", func(b []byte) { binary.BigEndian.PutUint32(b[0x28:], 0x100) }, ErrMalformed, "attribute 0x42435A4C says it is 256 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := append([]byte(nil), orig...)
			require.Equal(t, cbfsFileMagic, string(b[:8]))
			c.edit(b)
			im := Walk("rom.bin", b, Limits{})
			require.NotEmpty(t, im.Errors)
			assert.True(t, errors.Is(im.Errors[0], c.sentinel), "%v", im.Errors[0])
			assert.Contains(t, im.Errors[0].Error(), c.msg)
		})
	}
}

// A hand-built FMAP image (the fuzz seeds' builder): the CBFS area is found by its first file.
func TestHandBuiltFMAP(t *testing.T) {
	im := Walk("fmap.bin", fmapImage(seedCBFS(t)), Limits{})
	assert.Equal(t, KindCoreboot, im.Kind)
	assert.Empty(t, im.Errors)
	var paths []string
	for _, tb := range im.Tables {
		paths = append(paths, tb.Loc.Path)
	}
	assert.ElementsMatch(t, []string{"COREBOOT/slic", "COREBOOT/msdm.lzma", "COREBOOT/payload/segment 0"}, paths)
}

var payloadSegmentLine = regexp.MustCompile(`^    (\w+) +\((\w+) compression, offset: 0x([0-9a-f]+), load: 0x[0-9a-f]+, length: (\d+)/(\d+)\)`)

// A payload (an ELF built here, holding a real SLIC in its data) added by cbfstool with LZMA:
// its compressed segments agree with 'cbfstool print -v' and the SLIC is found in one.
func TestCBFSPayloadSegments(t *testing.T) {
	hosttooltest.Require(t, "gcc")
	slic := realTable(t, "dell-inspiron-14-3462", "SLIC")
	dir := t.TempDir()
	var src strings.Builder
	src.WriteString("const unsigned char slic[] __attribute__((used)) = {")
	for i, c := range slic {
		if i > 0 {
			src.WriteString(",")
		}
		src.WriteString(strconv.Itoa(int(c)))
	}
	src.WriteString("};\nvoid _start(void) { for (;;) ; }\n")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "payload.c"), []byte(src.String()), 0o644))
	tool(t, dir, "gcc", "-m32", "-static", "-nostdlib", "-fno-pic", "-no-pie", "-Wl,-Ttext=0x100000", "-o", "payload.elf", "payload.c")
	tool(t, dir, "cbfstool", "rom.bin", "create", "-m", "x86", "-s", "0x100000")
	tool(t, dir, "cbfstool", "rom.bin", "add-payload", "-f", "payload.elf", "-n", "fallback/payload", "-c", "lzma")

	var want []string
	for _, line := range strings.Split(tool(t, dir, "cbfstool", "rom.bin", "print", "-v"), "\n") {
		if m := payloadSegmentLine.FindStringSubmatch(line); m != nil && m[2] != "none" {
			off, _ := strconv.ParseInt(m[3], 16, 64)
			want = append(want, fmt.Sprintf("%s at 0x%x: %s bytes, %s decompressed", m[1], off, m[4], m[5]))
		}
	}
	require.NotEmpty(t, want)
	im := readImage(t, filepath.Join(dir, "rom.bin"))
	assert.Empty(t, im.Errors)
	var got []string
	im.Visit(func(n *Node, _ int) {
		if n.Kind == NodeSegment {
			p := n.Parent()
			got = append(got, fmt.Sprintf("%s at 0x%x: %d bytes, %d decompressed", strings.ToLower(strings.TrimSpace(string(be.AppendUint32(nil, n.Type)))),
				n.Loc.Offset-p.Loc.Offset-p.HeaderSize, n.Size, n.Decompressed))
		}
	})
	assert.Equal(t, want, got)
	require.Len(t, im.Tables, 1)
	assert.Equal(t, slic, im.Tables[0].Raw)
	assert.True(t, im.Tables[0].Loc.Decompressed)
	assert.Regexp(t, `^CBFS/fallback/payload/segment \d+$`, im.Tables[0].Loc.Path)
}
