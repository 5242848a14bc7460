package fwimage

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
	"github.com/stretchr/testify/require"
	"github.com/ulikunitz/xz/lzma"
)

// Builders of UEFI structures for tests, written from the PI specification; the tests that use
// them for more than malformed input also check that UEFIExtract reads what they build.

var (
	testVolGUID  = MustGUID("11111111-2222-3333-4444-555555555555")
	testFileGUID = MustGUID("AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE")
)

// readImage reads and walks an image file, as firmware.LoadImage does.
func readImage(t testing.TB, path string) *Image {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return Walk(path, b, Limits{})
}

// section returns an FFS section of type typ around body (a 4-byte header, or 8 with ext).
func section(typ byte, body []byte) []byte {
	n := 4 + len(body)
	if n >= 0xFFFFFF {
		b := make([]byte, 8, n+4)
		binary.LittleEndian.PutUint32(b, 0xFFFFFF|uint32(typ)<<24)
		binary.LittleEndian.PutUint32(b[4:], uint32(n+4))
		return append(b, body...)
	}
	b := make([]byte, 4, n)
	binary.LittleEndian.PutUint32(b, uint32(n)|uint32(typ)<<24)
	return append(b, body...)
}

// sections concatenates sections, each 4-byte aligned.
func sections(ss ...[]byte) []byte {
	var b []byte
	for _, s := range ss {
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		b = append(b, s...)
	}
	return b
}

// guided returns a GUID-defined section with the data right after its header.
func guided(g GUID, attrs uint16, data []byte) []byte {
	h := make([]byte, 20)
	copy(h, g[:])
	binary.LittleEndian.PutUint16(h[16:], 4+20)
	binary.LittleEndian.PutUint16(h[18:], attrs)
	return section(0x02, append(h, data...))
}

// ffsFile returns an FFS file (FFSv2 header, state "data valid" under erase polarity 1).
func ffsFile(g GUID, typ byte, body []byte) []byte {
	h := make([]byte, 24)
	copy(h, g[:])
	h[18] = typ
	size := 24 + len(body)
	h[20], h[21], h[22] = byte(size), byte(size>>8), byte(size>>16)
	h[23] = 0xF8
	var sum byte
	for i, c := range h {
		if i != 17 && i != 23 {
			sum += c
		}
	}
	h[16], h[17] = -sum, 0xAA
	return append(h, body...)
}

// volume returns an FFSv2 volume of size bytes (erase polarity 1) holding the files.
func volume(size int, files ...[]byte) []byte {
	b := bytes.Repeat([]byte{0xFF}, size)
	copy(b[:16], make([]byte, 16))
	copy(b[16:], guidFFS2[:])
	binary.LittleEndian.PutUint64(b[32:], uint64(size))
	copy(b[40:], "_FVH")
	binary.LittleEndian.PutUint32(b[44:], 0x0004FEFF)
	binary.LittleEndian.PutUint16(b[48:], 72)
	binary.LittleEndian.PutUint16(b[50:], 0)
	binary.LittleEndian.PutUint16(b[52:], 0)
	b[54], b[55] = 0, 2
	binary.LittleEndian.PutUint32(b[56:], uint32(size/0x1000))
	binary.LittleEndian.PutUint32(b[60:], 0x1000)
	binary.LittleEndian.PutUint64(b[64:], 0)
	var sum uint16
	for i := 0; i < 72; i += 2 {
		sum += binary.LittleEndian.Uint16(b[i:])
	}
	binary.LittleEndian.PutUint16(b[50:], -sum)
	pos := 72
	for _, f := range files {
		pos = (pos + 7) &^ 7
		copy(b[pos:], f)
		pos += len(f)
	}
	if pos > size {
		panic("files do not fit in the test volume")
	}
	return b
}

// lzmaAlone compresses b in the "LZMA alone" format EDK2 writes (the size in the header).
func lzmaAlone(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := lzma.WriterConfig{SizeInHeader: true, Size: int64(len(b))}.NewWriter(&out)
	require.NoError(t, err)
	_, err = w.Write(b)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return out.Bytes()
}

// ovmf returns the path of one of Debian's OVMF builds (package ovmf), or skips (fails in CI).
func ovmf(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join("/usr/share/OVMF", name)
	if _, err := os.Stat(p); err != nil {
		hosttooltest.Unavailable(t, p+" not found: install the ovmf package (apt-get install ovmf)")
	}
	return p
}

// realTable reads a real table from the project's fixtures.
func realTable(t testing.TB, machine, sig string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "acpi", machine, sig))
	require.NoError(t, err)
	return b
}

// tool runs a host tool in dir and returns its standard output.
func tool(t testing.TB, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(hosttooltest.Require(t, name), args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(t, cmd.Run(), "%s %v: %s", name, args, errb.String())
	return out.String()
}

// lzmaWriter writes the "LZMA alone" format without the size in the header, with a 64 KiB
// dictionary.
func lzmaWriter(w io.Writer) (io.WriteCloser, error) {
	return lzma.WriterConfig{DictCap: 64 << 10}.NewWriter(w)
}
