package kernel

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
)

// Booting the uncompressed kernel: QEMU loads an ELF vmlinux that has a PVH entry point straight
// into memory and starts it there (-kernel with an ELF, through its pvh.bin option ROM), so the
// guest skips the bzImage's real-mode setup and its decompressor, which under TCG is a large part
// of the boot. Debian's cloud kernel is built with CONFIG_PVH and an LZ4 payload.

// BzImageError says why a bzImage could not be unpacked, and where.
type BzImageError struct {
	Off int64
	Msg string
}

func (e *BzImageError) Error() string {
	return fmt.Sprintf("bzImage at offset %#x: %s", e.Off, e.Msg)
}

// Linux boot protocol (Documentation/arch/x86/boot.rst): the setup header's fields this reads.
const (
	hdrSetupSects    = 0x1f1
	hdrMagic         = 0x202 // "HdrS"
	hdrVersion       = 0x206
	hdrPayloadOffset = 0x248 // protocol 2.08+: the payload, from the start of the protected-mode code
	hdrPayloadLength = 0x24c
	hdrEnd           = 0x250

	// xenElfNotePhys32Entry is XEN_ELFNOTE_PHYS32_ENTRY, the PVH entry point note (Xen's
	// public/elfnote.h), which QEMU looks for to boot an ELF kernel with PVH.
	xenElfNotePhys32Entry = 18

	// maxVmlinux bounds what Uncompress produces: an x86-64 vmlinux is tens of MB.
	maxVmlinux = 512 << 20
)

// Uncompress returns the ELF vmlinux inside a bzImage, if it has a PVH entry point. The payload
// may be LZ4 (legacy frames, as the kernel's build writes them) or gzip; other compressions are an
// error that names them.
func Uncompress(bz []byte) ([]byte, error) {
	if len(bz) < hdrEnd {
		return nil, &BzImageError{0, fmt.Sprintf("%d bytes, shorter than the setup header", len(bz))}
	}
	if string(bz[hdrMagic:hdrMagic+4]) != "HdrS" {
		return nil, &BzImageError{hdrMagic, "no \"HdrS\" setup header: not a bzImage"}
	}
	if v := binary.LittleEndian.Uint16(bz[hdrVersion:]); v < 0x208 {
		return nil, &BzImageError{hdrVersion, fmt.Sprintf("boot protocol %d.%02d has no payload fields (2.08 or later)", v>>8, v&0xff)}
	}
	sects := int64(bz[hdrSetupSects])
	if sects == 0 {
		sects = 4
	}
	start := (sects + 1) * 512
	off := start + int64(binary.LittleEndian.Uint32(bz[hdrPayloadOffset:]))
	n := int64(binary.LittleEndian.Uint32(bz[hdrPayloadLength:]))
	if off+n > int64(len(bz)) || n < 4 {
		return nil, &BzImageError{hdrPayloadOffset, fmt.Sprintf("payload of %d bytes at %#x runs past the file's %d bytes", n, off, len(bz))}
	}
	payload := bz[off : off+n]
	var out []byte
	var err error
	switch {
	case bytes.HasPrefix(payload, lz4LegacyMagic):
		out, err = unLZ4Legacy(payload)
	case bytes.HasPrefix(payload, []byte{0x1f, 0x8b}):
		var zr *gzip.Reader
		if zr, err = gzip.NewReader(bytes.NewReader(payload)); err == nil {
			out, err = io.ReadAll(io.LimitReader(zr, maxVmlinux+1))
			if err == nil && len(out) > maxVmlinux {
				err = fmt.Errorf("unpacks to more than %d MB", maxVmlinux>>20)
			}
		}
	default:
		return nil, &BzImageError{off, "payload compressed with " + compression(payload) + ", which oemact does not unpack (LZ4 and gzip only)"}
	}
	if err != nil {
		return nil, &BzImageError{off, "payload: " + err.Error()}
	}
	if err := checkPVH(out); err != nil {
		return nil, &BzImageError{off, "the unpacked kernel " + err.Error()}
	}
	return out, nil
}

// compression names a payload's compression by its magic, for errors.
func compression(p []byte) string {
	for _, c := range []struct {
		magic []byte
		name  string
	}{
		{[]byte{0xfd, '7', 'z', 'X', 'Z', 0}, "xz"},
		{[]byte{0x28, 0xb5, 0x2f, 0xfd}, "zstd"},
		{[]byte("BZh"), "bzip2"},
		{[]byte{0x5d, 0, 0}, "lzma"},
		{[]byte{0x89, 'L', 'Z', 'O'}, "lzo"},
	} {
		if bytes.HasPrefix(p, c.magic) {
			return c.name
		}
	}
	return fmt.Sprintf("an unknown method (magic % x)", p[:min(4, len(p))])
}

// checkPVH returns nil if b is an x86-64 ELF with a PVH entry point note.
func checkPVH(b []byte) error {
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("is not an ELF file: %v", err)
	}
	if f.Machine != elf.EM_X86_64 {
		return fmt.Errorf("is built for %s, not x86-64", f.Machine)
	}
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		notes, err := io.ReadAll(io.LimitReader(p.Open(), 1<<20))
		if err != nil {
			return fmt.Errorf("has an unreadable note segment: %v", err)
		}
		for len(notes) >= 12 {
			namesz := int(binary.LittleEndian.Uint32(notes[0:]))
			descsz := int(binary.LittleEndian.Uint32(notes[4:]))
			typ := binary.LittleEndian.Uint32(notes[8:])
			nameEnd := 12 + align4(namesz)
			end := nameEnd + align4(descsz)
			if namesz < 0 || descsz < 0 || nameEnd > len(notes) || end > len(notes) || end < 12 {
				break
			}
			if typ == xenElfNotePhys32Entry && bytes.Equal(bytes.TrimRight(notes[12:12+namesz], "\x00"), []byte("Xen")) {
				return nil
			}
			notes = notes[end:]
		}
	}
	return fmt.Errorf("has no PVH entry point (XEN_ELFNOTE_PHYS32_ENTRY): built without CONFIG_PVH")
}

func align4(n int) int { return (n + 3) &^ 3 }

var lz4LegacyMagic = []byte{0x02, 0x21, 0x4c, 0x18}

// lz4LegacyBlock is the most a legacy-frame block unpacks to (lz4's LEGACY_BLOCKSIZE).
const lz4LegacyBlock = 8 << 20

// unLZ4Legacy unpacks LZ4 legacy frames (lz4 -l, what the kernel's build writes): the magic, then
// blocks of a 32-bit little-endian compressed size and an independent LZ4 block, until the input
// ends; a repeated magic starts another frame. The kernel's build appends the unpacked size as 4
// bytes, which is checked when present.
func unLZ4Legacy(in []byte) ([]byte, error) {
	var out []byte
	pos := 4
	for pos+4 <= len(in) {
		size := binary.LittleEndian.Uint32(in[pos:])
		if size == binary.LittleEndian.Uint32(lz4LegacyMagic) {
			pos += 4
			continue
		}
		if pos+4 == len(in) {
			// The trailer: the unpacked size (the kernel's size_append).
			if int(size) != len(out) {
				return nil, fmt.Errorf("LZ4: unpacked %d bytes, the trailer says %d", len(out), size)
			}
			return out, nil
		}
		pos += 4
		if int64(size) > int64(len(in)-pos) {
			return nil, fmt.Errorf("LZ4: block of %d bytes at %#x runs past the input's end (%d bytes left)", size, pos-4, len(in)-pos)
		}
		var err error
		if out, err = lz4Block(out, in[pos:pos+int(size)], lz4LegacyBlock); err != nil {
			return nil, fmt.Errorf("LZ4: block at %#x: %w", pos-4, err)
		}
		if len(out) > maxVmlinux {
			return nil, fmt.Errorf("LZ4: unpacks to more than %d MB", maxVmlinux>>20)
		}
		pos += int(size)
	}
	if pos != len(in) {
		return nil, fmt.Errorf("LZ4: %d stray bytes at the end", len(in)-pos)
	}
	return out, nil
}

// lz4Block appends the unpacked LZ4 block src (the LZ4 block format: sequences of a token,
// literals, a 16-bit offset and a match) to dst, writing at most max bytes. Matches reach back
// only into this block's output, as independent blocks do.
func lz4Block(dst, src []byte, max int) ([]byte, error) {
	base := len(dst)
	limit := base + max
	i := 0
	length := func(n int) (int, error) {
		if n != 15 {
			return n, nil
		}
		for {
			if i >= len(src) {
				return 0, fmt.Errorf("length runs past the block's end")
			}
			b := src[i]
			i++
			n += int(b)
			if n > max {
				return 0, fmt.Errorf("length %d exceeds the block's %d bytes", n, max)
			}
			if b != 255 {
				return n, nil
			}
		}
	}
	for i < len(src) {
		token := src[i]
		i++
		lit, err := length(int(token >> 4))
		if err != nil {
			return nil, err
		}
		if lit > len(src)-i {
			return nil, fmt.Errorf("%d literals at %#x run past the block's end", lit, i)
		}
		if len(dst)+lit > limit {
			return nil, fmt.Errorf("unpacks to more than %d bytes", max)
		}
		dst = append(dst, src[i:i+lit]...)
		i += lit
		if i == len(src) {
			return dst, nil // the last sequence has literals only
		}
		if i+2 > len(src) {
			return nil, fmt.Errorf("match offset at %#x runs past the block's end", i)
		}
		off := int(binary.LittleEndian.Uint16(src[i:]))
		i += 2
		if off == 0 || off > len(dst)-base {
			return nil, fmt.Errorf("match offset %d at %#x reaches before the block's start", off, i-2)
		}
		ml, err := length(int(token & 15))
		if err != nil {
			return nil, err
		}
		ml += 4
		if len(dst)+ml > limit {
			return nil, fmt.Errorf("unpacks to more than %d bytes", max)
		}
		from := len(dst) - off
		if off >= ml {
			dst = append(dst, dst[from:from+ml]...)
			continue
		}
		for k := 0; k < ml; k++ { // byte by byte: this match overlaps what it writes
			dst = append(dst, dst[from+k])
		}
	}
	return dst, nil
}
