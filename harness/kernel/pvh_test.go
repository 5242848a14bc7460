package kernel

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
)

// TestUncompressCloudKernel unpacks the real kernel the harness boots, when it has been fetched:
// an x86-64 ELF with a PVH entry point, the same bytes the cache keeps as vmlinux.
func TestUncompressCloudKernel(t *testing.T) {
	k, err := CachedCloud(userCache(t))
	if err != nil {
		hosttooltest.Unavailable(t, err.Error())
	}
	bz, err := os.ReadFile(k.Vmlinuz)
	require.NoError(t, err)
	out, err := Uncompress(bz)
	require.NoError(t, err)
	require.NoError(t, checkPVH(out))
	// The kernel's build appends the unpacked size to the payload; it matched.
	require.NotEmpty(t, k.Vmlinux, "the cache keeps the unpacked kernel (note: %s)", k.Note)
	sum := sha256.Sum256(out)
	b, err := os.ReadFile(k.Vmlinux)
	require.NoError(t, err)
	assert.Equal(t, hex.EncodeToString(sum[:]), hex.EncodeToString(func() []byte { s := sha256.Sum256(b); return s[:] }()))
}

// pvhELF is the smallest x86-64 ELF with a PVH entry point note.
func pvhELF(noteType uint32) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	note := []byte{}
	note = le.AppendUint32(note, 4) // namesz
	note = le.AppendUint32(note, 8) // descsz
	note = le.AppendUint32(note, noteType)
	note = append(note, "Xen\x00"...)
	note = le.AppendUint64(note, 0x1000000)
	b.Write([]byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	h := []byte{}
	h = le.AppendUint16(h, 2)  // ET_EXEC
	h = le.AppendUint16(h, 62) // EM_X86_64
	h = le.AppendUint32(h, 1)
	h = le.AppendUint64(h, 0)  // entry
	h = le.AppendUint64(h, 64) // phoff
	h = le.AppendUint64(h, 0)  // shoff
	h = le.AppendUint32(h, 0)  // flags
	h = le.AppendUint16(h, 64) // ehsize
	h = le.AppendUint16(h, 56) // phentsize
	h = le.AppendUint16(h, 1)  // phnum
	h = le.AppendUint16(h, 64) // shentsize
	h = le.AppendUint16(h, 0)  // shnum
	h = le.AppendUint16(h, 0)  // shstrndx
	b.Write(h)
	ph := []byte{}
	ph = le.AppendUint32(ph, 4) // PT_NOTE
	ph = le.AppendUint32(ph, 4)
	ph = le.AppendUint64(ph, 120) // offset
	ph = le.AppendUint64(ph, 0)
	ph = le.AppendUint64(ph, 0)
	ph = le.AppendUint64(ph, uint64(len(note)))
	ph = le.AppendUint64(ph, uint64(len(note)))
	ph = le.AppendUint64(ph, 4)
	b.Write(ph)
	b.Write(note)
	// Padding that compresses: a run for the LZ4 match below.
	b.Write(bytes.Repeat([]byte{0xAA}, 300))
	return b.Bytes()
}

// lz4Literals is an LZ4 block of literals only.
func lz4Literals(p []byte) []byte {
	n := len(p)
	if n < 15 {
		return append([]byte{byte(n << 4)}, p...)
	}
	out := []byte{0xF0}
	for n -= 15; n >= 255; n -= 255 {
		out = append(out, 255)
	}
	return append(append(out, byte(n)), p...)
}

// lz4Frame packs p as an LZ4 legacy frame: the head as literals plus a match copying the run of
// 0xAA bytes that ends p, then the size trailer.
func lz4Frame(p []byte) []byte {
	run := 0
	for run < len(p) && p[len(p)-1-run] == 0xAA {
		run++
	}
	head := p[:len(p)-run+1] // keep one 0xAA as a literal to copy from
	blk := lz4Literals(head)
	// Turn the literals-only block into literals + a match of run-1 bytes at offset 1, then 5
	// final literals (LZ4 ends with literals). The token's match length is run-1-4.
	ml := run - 1 - 5 - 4
	tok := blk[0] | 15
	blk[0] = tok
	blk = binary.LittleEndian.AppendUint16(blk, 1)
	for ml -= 15; ml >= 255; ml -= 255 {
		blk = append(blk, 255)
	}
	blk = append(blk, byte(ml))
	blk = append(blk, 0x50, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA)
	out := append([]byte(nil), lz4LegacyMagic...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(blk)))
	out = append(out, blk...)
	return binary.LittleEndian.AppendUint32(out, uint32(len(p)))
}

// bzImage wraps a payload in a boot protocol 2.15 setup header with one setup sector.
func bzImage(payload []byte) []byte {
	b := make([]byte, 2*512)
	b[hdrSetupSects] = 1
	copy(b[hdrMagic:], "HdrS")
	binary.LittleEndian.PutUint16(b[hdrVersion:], 0x20f)
	binary.LittleEndian.PutUint32(b[hdrPayloadOffset:], 0x40)
	binary.LittleEndian.PutUint32(b[hdrPayloadLength:], uint32(len(payload)))
	b = append(b, make([]byte, 0x40)...)
	return append(b, payload...)
}

func gzipped(p []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(p)
	w.Close()
	return b.Bytes()
}

func TestUncompress(t *testing.T) {
	elf := pvhELF(xenElfNotePhys32Entry)
	got, err := Uncompress(bzImage(lz4Frame(elf)))
	require.NoError(t, err)
	assert.Equal(t, elf, got)
	got, err = Uncompress(bzImage(gzipped(elf)))
	require.NoError(t, err)
	assert.Equal(t, elf, got)

	frame := lz4Frame(elf)
	wrongSize := append(append([]byte(nil), frame[:len(frame)-4]...), 1, 0, 0, 0)
	short := bzImage(lz4Frame(elf))
	binary.LittleEndian.PutUint32(short[hdrPayloadLength:], 1<<20)
	for _, c := range []struct {
		name string
		in   []byte
		want string
	}{
		{"short", []byte("MZ"), "shorter than the setup header"},
		{"not a bzImage", make([]byte, 1024), `no "HdrS" setup header`},
		{"payload past the end", short, "runs past the file's"},
		{"xz", bzImage([]byte{0xfd, '7', 'z', 'X', 'Z', 0, 1, 2}), "compressed with xz, which oemact does not unpack"},
		{"no PVH note", bzImage(lz4Frame(pvhELF(17))), "no PVH entry point"},
		{"not ELF", bzImage(gzipped([]byte("plain text"))), "is not an ELF file"},
		{"size trailer", bzImage(wrongSize), "the trailer says 1"},
		{"truncated block", bzImage(frame[:len(frame)-20]), "runs past the input's end"},
	} {
		_, err := Uncompress(c.in)
		var be *BzImageError
		if assert.ErrorAs(t, err, &be, c.name) {
			assert.Contains(t, err.Error(), c.want, c.name)
		}
	}
}

func TestLZ4Block(t *testing.T) {
	// "abcd", then a 9-byte match at offset 4 (overlapping: "abcdabcda"), then "xyz!!".
	blk := []byte{0x45, 'a', 'b', 'c', 'd', 4, 0, 0x50, 'x', 'y', 'z', '!', '!'}
	got, err := lz4Block([]byte("prefix"), blk, 64)
	require.NoError(t, err)
	assert.Equal(t, "prefixabcdabcdabcdaxyz!!", string(got))

	for _, c := range []struct {
		name string
		blk  []byte
		max  int
		want string
	}{
		{"offset zero", []byte{0x10, 'a', 0, 0}, 64, "offset 0"},
		{"offset before the block", []byte{0x10, 'a', 2, 0, 0x00}, 64, "reaches before the block's start"},
		{"literals past the end", []byte{0x50, 'a'}, 64, "run past the block's end"},
		{"length past the end", []byte{0xF0, 255}, 1000, "length runs past"},
		{"length beyond the bound", []byte{0xF0, 255}, 64, "exceeds the block's 64 bytes"},
		{"too long", []byte{0x45, 'a', 'b', 'c', 'd', 4, 0, 0x50, 'x', 'y', 'z', '!', '!'}, 10, "more than 10 bytes"},
		{"offset cut", []byte{0x10, 'a', 1}, 64, "match offset at"},
	} {
		_, err := lz4Block(nil, c.blk, c.max)
		assert.ErrorContains(t, err, c.want, c.name)
	}
}

// FuzzUncompress: no input panics or unpacks beyond the bound.
func FuzzUncompress(f *testing.F) {
	elf := pvhELF(xenElfNotePhys32Entry)
	f.Add(bzImage(lz4Frame(elf)))
	f.Add(bzImage(gzipped(elf)))
	f.Add(lz4Frame(elf))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := Uncompress(b)
		if err == nil {
			require.NoError(t, checkPVH(out))
		}
		out, err = unLZ4Legacy(b)
		if err == nil {
			assert.LessOrEqual(t, len(out), maxVmlinux)
		}
	})
}

func TestNeeded(t *testing.T) {
	k := &Kernel{Modules: []Module{
		{Name: "virtio_ring"}, {Name: "virtio", Depends: []string{"virtio_ring"}},
		{Name: "virtio_pci", Depends: []string{"virtio", "virtio_ring"}},
		{Name: "virtio_blk", Depends: []string{"virtio", "virtio_ring"}},
		{Name: "virtio_console", Depends: []string{"virtio", "virtio_ring"}},
		{Name: "failover"}, {Name: "net_failover", Depends: []string{"failover"}},
		{Name: "virtio_net", Depends: []string{"net_failover", "virtio", "virtio_ring"}},
	}}
	names := func(ms []Module) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.Name)
		}
		return out
	}
	assert.Equal(t, []string{"virtio_ring", "virtio", "virtio_pci", "virtio_console"}, names(k.Needed("virtio_console", "virtio_pci")))
	assert.Equal(t, []string{"virtio_ring", "virtio", "failover", "net_failover", "virtio_net"}, names(k.Needed("virtio-net")))
	assert.Empty(t, k.Needed("e1000"), "a module the kernel does not have (built in, or missing)")
	assert.Empty(t, k.Needed())
}
