package fwimage

import (
	"bytes"
	"fmt"
	"unicode/utf16"
)

// UEFI Platform Initialization specification 1.8, volume 3: firmware volumes (3.2.1), FFS files
// (3.2.3) and sections (3.2.4). Little-endian throughout.

const (
	fvHeaderMin = 56 // EFI_FIRMWARE_VOLUME_HEADER up to its block map
	fvSigOff    = 40 // "_FVH"
	// EFI_FVB2_ERASE_POLARITY: erased bytes (free space, file state bits) are 0xFF, else 0x00.
	fvbErasePolarity = 0x800
	// FFS_ATTRIB_LARGE_FILE (FFSv3): a 32-byte header with a 64-bit size. In FFSv2 volumes the
	// same bit is FFS_ATTRIB_TAIL_PRESENT: a 2-byte tail after the data.
	ffsAttribLarge = 0x01
	// EFI_GUIDED_SECTION_PROCESSING_REQUIRED: the data cannot be read as it is stored.
	guidedProcessingRequired = 0x01
)

var (
	guidFFS2    = MustGUID("8C8CE578-8A3D-4F1C-9935-896185C32DD3")
	guidFFS3    = MustGUID("5473C07A-3DCB-4DCA-BD6F-1E9689E7349A")
	guidLZMA    = MustGUID("EE4E5898-3914-4259-9D6E-DC7BD79403CF") // EDK2 LzmaCustomDecompress
	guidLZMAF86 = MustGUID("D42AE6BD-1352-4BFB-909A-CA72A6EAE889") // LZMA after the x86 branch filter
	guidTiano   = MustGUID("A31280AD-481E-41B6-95E8-127F4C984779") // EDK2 TianoCustomDecompress
	guidBrotli  = MustGUID("3D532050-5CDA-4FD0-879E-0F7F630D5AFB")
)

// unsupportedGUIDs name the GUID-defined encodings this package knows and cannot undo.
var unsupportedGUIDs = map[GUID]string{
	guidLZMAF86: "LZMA with the x86 branch filter (LZMAF86)",
	guidTiano:   "Tiano compression",
	guidBrotli:  "Brotli compression",
}

// sectionNames are the section types, named as UEFITool names them.
var sectionNames = map[uint8]string{
	0x01: "Compressed section", 0x02: "GUID defined section", 0x03: "Disposable section",
	0x10: "PE32 image section", 0x11: "PIC image section", 0x12: "TE image section",
	0x13: "DXE dependency section", 0x14: "Version section", 0x15: "UI section",
	0x16: "Compatibility16 section", 0x17: "Volume image section", 0x18: "Freeform subtype GUID section",
	0x19: "Raw section", 0x1B: "PEI dependency section", 0x1C: "MM dependency section",
}

func sectionName(t uint8) string {
	if n, ok := sectionNames[t]; ok {
		return n
	}
	return fmt.Sprintf("section type 0x%02X", t)
}

type fvHeader struct {
	fs         GUID
	length     int64
	attrs      uint32
	hdrLen     int64
	extOff     int64
	checksumOK bool
}

// fvAt reads a firmware volume header at off when one plausibly starts there: the signature, a
// header length that holds the fixed part and fits the volume's length, revision 1 or 2, and a
// known file system GUID or a valid header checksum (the same "_FVH" bytes occur in code). It
// does not check that the volume fits in b.
func fvAt(b []byte, off int64) (fvHeader, bool) {
	var h fvHeader
	if off < 0 || int64(len(b))-off < fvHeaderMin || string(b[off+fvSigOff:off+fvSigOff+4]) != "_FVH" {
		return h, false
	}
	v := b[off:]
	h.fs = guidAt(v[16:])
	h.length = int64(le.Uint64(v[32:]))
	h.attrs = le.Uint32(v[44:])
	h.hdrLen = int64(le.Uint16(v[48:]))
	h.extOff = int64(le.Uint16(v[52:]))
	rev := v[55]
	if h.hdrLen < fvHeaderMin || h.hdrLen%2 != 0 || h.length < h.hdrLen || rev < 1 || rev > 2 {
		return h, false
	}
	if h.hdrLen <= int64(len(v)) {
		var sum uint16
		for i := int64(0); i < h.hdrLen; i += 2 {
			sum += le.Uint16(v[i:])
		}
		h.checksumOK = sum == 0
	}
	return h, h.checksumOK || h.fs == guidFFS2 || h.fs == guidFFS3
}

func hasVolumeAt(b []byte, off int64) bool {
	_, ok := fvAt(b, off)
	return ok
}

// firstVolume returns the offset of the first plausible volume header in b[lo:hi], or -1.
func firstVolume(b []byte, lo, hi int64) int64 {
	for pos := lo; pos < hi; {
		i := bytes.Index(b[pos:hi], []byte("_FVH"))
		if i < 0 {
			return -1
		}
		start := pos + int64(i) - fvSigOff
		if start >= lo {
			if _, ok := fvAt(b[:hi], start); ok {
				return start
			}
		}
		pos += int64(i) + 1
	}
	return -1
}

// volumes walks every volume in d.b[lo:hi], searching past the end of each.
func (w *walker) volumes(d *data, lo, hi int64, parent *Node, depth int) {
	for pos := lo; pos < hi; {
		start := firstVolume(d.b, pos, hi)
		if start < 0 {
			return
		}
		pos = w.volume(d, start, hi, parent, depth)
	}
}

// volume walks the volume at off, which must end by hi, and returns where the search for the
// next one goes on.
func (w *walker) volume(d *data, off, hi int64, parent *Node, depth int) int64 {
	h, ok := fvAt(d.b[:hi], off)
	if !ok {
		w.fail(d, off, parent, ErrMalformed, "no firmware volume header (_FVH) here")
		return hi
	}
	n := &Node{Kind: NodeVolume, GUID: h.fs, Name: h.fs.String(), Size: h.length, HeaderSize: h.hdrLen}
	if !w.add(d, parent, n, off, depth) {
		return off + h.hdrLen
	}
	if h.length > hi-off {
		n.Size = hi - off
		w.fail(d, off, n, ErrOutside, "the volume header says the volume is %d bytes, but only %d are left in what holds it: not walked", h.length, hi-off)
		return off + h.hdrLen
	}
	if !h.checksumOK {
		w.fail(d, off, n, ErrChecksum, "the volume header's 16-bit sum is not zero")
	}
	filesAt := h.hdrLen
	if h.extOff != 0 {
		// EFI_FIRMWARE_VOLUME_EXT_HEADER: FvName GUID, ExtHeaderSize u32; files follow it.
		if h.extOff < h.hdrLen || h.extOff+20 > h.length {
			w.fail(d, off+52, n, ErrOutside, "the extended header offset 0x%x is outside the volume's %d bytes", h.extOff, h.length)
			return off + h.length
		}
		ext := d.b[off+h.extOff:]
		extSize := int64(le.Uint32(ext[16:]))
		if extSize < 20 || h.extOff+extSize > h.length {
			w.fail(d, off+h.extOff+16, n, ErrOutside, "the extended header size %d does not fit in the volume", extSize)
			return off + h.length
		}
		n.GUID = guidAt(ext)
		n.Name = n.GUID.String()
		filesAt = h.extOff + extSize
	}
	if h.fs == guidFFS2 || h.fs == guidFFS3 {
		erase := byte(0)
		if h.attrs&fvbErasePolarity != 0 {
			erase = 0xFF
		}
		w.files(d, n, off, off+filesAt, off+h.length, h.fs == guidFFS3, erase, depth+1)
	}
	return off + h.length
}

// files walks the FFS files of the volume at volOff from pos to end.
func (w *walker) files(d *data, vol *Node, volOff, pos, end int64, ffs3 bool, erase byte, depth int) {
	for pos = align(pos, volOff, 8); pos+24 <= end; pos = align(pos, volOff, 8) {
		hb := d.b[pos : pos+24]
		if allBytes(hb, erase) {
			return // free space: the rest of the volume is erased
		}
		size, hdr, attrs := int64(le.Uint32(hb[20:])&0xFFFFFF), int64(24), hb[19]
		if ffs3 && attrs&ffsAttribLarge != 0 {
			if pos+32 > end {
				w.fail(d, pos, vol, ErrTruncated, "a large-file FFS header needs 32 bytes, %d are left in the volume", end-pos)
				return
			}
			size, hdr = int64(le.Uint64(d.b[pos+24:])), 32
		}
		if size < hdr {
			w.fail(d, pos, vol, ErrMalformed, "file %s says it is %d bytes, less than its %d-byte header", guidAt(hb), size, hdr)
			return
		}
		if size > end-pos {
			w.fail(d, pos, vol, ErrOutside, "file %s says it is %d bytes, but only %d are left in its volume", guidAt(hb), size, end-pos)
			return
		}
		f := &Node{Kind: NodeFile, GUID: guidAt(hb), Type: uint32(hb[18]), Size: size, HeaderSize: hdr}
		f.Name = f.GUID.String()
		if !w.add(d, vol, f, pos, depth) {
			return
		}
		bodyEnd := pos + size
		if !ffs3 && attrs&ffsAttribLarge != 0 && size >= hdr+2 {
			bodyEnd -= 2
		}
		// Every file type but RAW (0x01) and FFS_PAD (0xF0) up to 0x0F holds sections.
		if t := hb[18]; t >= 0x02 && t <= 0x0F {
			w.sections(d, f, pos+hdr, bodyEnd, depth+1)
		}
		pos += size
	}
}

// sections walks the sections in d.b[pos:end], children of parent.
func (w *walker) sections(d *data, parent *Node, pos, end int64, depth int) {
	base := pos
	for pos = align(pos, base, 4); pos+4 <= end; pos = align(pos, base, 4) {
		size, typ, hdr := int64(le.Uint32(d.b[pos:])&0xFFFFFF), d.b[pos+3], int64(4)
		if size == 0xFFFFFF { // EFI_COMMON_SECTION_HEADER2: the size follows as a u32
			if pos+8 > end {
				w.fail(d, pos, parent, ErrTruncated, "an extended section header needs 8 bytes, %d are left", end-pos)
				return
			}
			size, hdr = int64(le.Uint32(d.b[pos+4:])), 8
		}
		if size < hdr {
			w.fail(d, pos, parent, ErrMalformed, "a %s says it is %d bytes, less than its %d-byte header", sectionName(typ), size, hdr)
			return
		}
		if size > end-pos {
			w.fail(d, pos, parent, ErrOutside, "a %s says it is %d bytes, but only %d are left in what holds it", sectionName(typ), size, end-pos)
			return
		}
		s := &Node{Kind: NodeSection, Type: uint32(typ), Name: sectionName(typ), Size: size, HeaderSize: hdr}
		if !w.add(d, parent, s, pos, depth) {
			return
		}
		w.section(d, s, pos, pos+hdr, pos+size, depth+1)
		pos += size
	}
}

// section reads the inside of section s (header at pos, body from body to end).
func (w *walker) section(d *data, s *Node, pos, body, end int64, depth int) {
	switch s.Type {
	case 0x01: // EFI_COMPRESSION_SECTION: UncompressedLength u32, CompressionType u8
		if end-body < 5 {
			w.fail(d, pos, s, ErrTruncated, "a compressed section needs a 5-byte header after the common one")
			return
		}
		s.HeaderSize += 5
		switch ct := d.b[body+4]; ct {
		case 0: // EFI_NOT_COMPRESSED
			w.sections(d, s, body+5, end, depth)
		case 1:
			s.Compression = "efi"
			w.fail(d, pos, s, ErrUnsupported, "EFI standard (Tiano) compression: the %d bytes inside are not walked or scanned", end-body-5)
		default:
			w.fail(d, pos, s, ErrUnsupported, "compression type %d is not defined by the PI specification: the %d bytes inside are not walked or scanned", ct, end-body-5)
		}
	case 0x02:
		w.guided(d, s, pos, body, end, depth)
	case 0x17: // EFI_FIRMWARE_VOLUME_IMAGE_SECTION
		w.volume(d, body, end, s, depth)
	case 0x15: // EFI_USER_INTERFACE_SECTION: a NUL-terminated UCS-2 name for the file
		if f := fileOf(s); f != nil && f.Name == f.GUID.String() {
			if name := ucs2(d.b[body:end]); name != "" {
				f.Name = name
			}
		}
	}
}

// guided reads an EFI_GUID_DEFINED_SECTION: SectionDefinitionGuid, DataOffset u16 (from the
// section start), Attributes u16.
func (w *walker) guided(d *data, s *Node, pos, body, end int64, depth int) {
	if end-body < 20 {
		w.fail(d, pos, s, ErrTruncated, "a GUID-defined section needs 20 bytes after the common header, it has %d", end-body)
		return
	}
	g := guidAt(d.b[body:])
	dataOff, attrs := int64(le.Uint16(d.b[body+16:])), le.Uint16(d.b[body+18:])
	s.GUID, s.Name = g, g.String()
	if dataOff < body-pos+20 || dataOff > end-pos {
		w.fail(d, pos+(body-pos)+16, s, ErrOutside, "data offset 0x%x is not within the section's %d bytes past its header", dataOff, end-pos)
		return
	}
	s.HeaderSize = dataOff
	start := pos + dataOff
	switch {
	case g == guidLZMA:
		w.inflate(d, s, start, end, methodLZMA, -1, func(out *data) {
			w.sections(out, s, 0, int64(len(out.b)), depth)
		})
	case unsupportedGUIDs[g] != "":
		s.Compression = unsupportedGUIDs[g]
		w.fail(d, pos, s, ErrUnsupported, "%s: the %d bytes inside are not walked or scanned", unsupportedGUIDs[g], end-start)
	case attrs&guidedProcessingRequired == 0:
		// Stored as it is (a CRC32 or signature section, for instance): the sections follow.
		w.sections(d, s, start, end, depth)
	default:
		w.fail(d, pos, s, ErrUnsupported, "GUID-defined section %s needs processing this tool does not know: the %d bytes inside are not walked or scanned", g, end-start)
	}
}

// fileOf returns the FFS file holding n, or nil.
func fileOf(n *Node) *Node {
	for x := n.parent; x != nil; x = x.parent {
		if x.Kind == NodeFile {
			return x
		}
	}
	return nil
}

// ucs2 decodes a NUL-terminated UCS-2 string; "" when it holds a byte that is not printable.
func ucs2(b []byte) string {
	var u []uint16
	for i := 0; i+1 < len(b); i += 2 {
		c := le.Uint16(b[i:])
		if c == 0 {
			break
		}
		if c < 0x20 || c == 0x7F || c == '/' {
			return ""
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}

func allBytes(b []byte, v byte) bool {
	for _, c := range b {
		if c != v {
			return false
		}
	}
	return true
}
