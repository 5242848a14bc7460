package fwimage

import "fmt"

// CBFS, coreboot's file system (coreboot's commonlib/bsd/cbfs_serialized.h), big-endian: a file
// is "LARCHIVE", len u32, type u32, attributes_offset u32, offset u32 (of the data, from the file
// header), a NUL-terminated name, attributes, then len bytes of data; the next file starts at the
// next 64-byte boundary from the CBFS start. coreboot reads a raw CBFS file named "slic" into
// its SLIC table (src/acpi/acpi.c), so a marker is stored this way.

const (
	cbfsFileMagic    = "LARCHIVE"
	cbfsFileHeader   = 24
	cbfsAlign        = 64
	cbfsMasterMagic  = 0x4F524243 // "ORBC"
	cbfsMasterHeader = 32

	cbfsTypeDeleted = 0x00000000
	cbfsTypeNull    = 0xFFFFFFFF // free space

	cbfsAttrCompression = 0x42435A4C // "BCZL": compression u32, decompressed_size u32
)

// cbfsMethods maps CBFS compression algorithms to decompression methods.
var cbfsMethods = map[uint32]string{1: methodLZMA, 2: methodLZ4}

// masterHeader returns the offset of the legacy CBFS master header that the last 4 bytes of an
// x86 image point to (a negative offset from the end of the flash), or -1.
func masterHeader(b []byte) int64 {
	if len(b) < cbfsMasterHeader+4 {
		return -1
	}
	off := int64(len(b)) + int64(int32(le.Uint32(b[len(b)-4:])))
	if off < 0 || off+cbfsMasterHeader > int64(len(b)) || be.Uint32(b[off:]) != cbfsMasterMagic {
		return -1
	}
	return off
}

// cbfs walks the CBFS files of d.b[lo:hi], children of parent, until the chain ends.
func (w *walker) cbfs(d *data, parent *Node, lo, hi int64, depth int) {
	b := d.b
	for pos := lo; pos+cbfsFileHeader <= hi; {
		if string(b[pos:pos+8]) != cbfsFileMagic {
			return // the end of the chain; the scan covers what follows
		}
		length, typ := int64(be.Uint32(b[pos+8:])), be.Uint32(b[pos+12:])
		attrOff, dataOff := int64(be.Uint32(b[pos+16:])), int64(be.Uint32(b[pos+20:]))
		if dataOff < cbfsFileHeader || dataOff > hi-pos {
			w.fail(d, pos+20, parent, ErrOutside, "a CBFS file's data offset 0x%x is not between its header and the end of the CBFS (%d bytes left)", dataOff, hi-pos)
			return
		}
		name := cString(b[pos+cbfsFileHeader : pos+dataOff])
		if length > hi-pos-dataOff {
			w.fail(d, pos+8, parent, ErrOutside, "CBFS file %q says it holds %d bytes, only %d are left in the CBFS", name, length, hi-pos-dataOff)
			return
		}
		next := align(pos+dataOff+length, lo, cbfsAlign)
		if typ == cbfsTypeNull || typ == cbfsTypeDeleted {
			pos = next
			continue
		}
		if name == "" {
			name = "(unnamed)"
		}
		n := &Node{Kind: NodeCBFSFile, Name: name, Type: typ, Size: dataOff + length, HeaderSize: dataOff}
		if !w.add(d, parent, n, pos, depth) {
			return
		}
		algo, want, errOff, err := cbfsCompression(b[pos:pos+dataOff], attrOff)
		switch method := cbfsMethods[algo]; {
		case err != nil:
			w.fail(d, pos+errOff, n, ErrMalformed, "%v", err)
		case algo != 0 && method == "":
			n.Compression = fmt.Sprintf("cbfs-%d", algo)
			w.fail(d, pos, n, ErrUnsupported, "CBFS compression algorithm %d: the %d bytes of CBFS file %q are not decompressed or scanned", algo, length, name)
		case method != "":
			w.inflate(d, n, pos+dataOff, pos+dataOff+length, method, want, nil)
		case typ == cbfsTypePayload:
			w.payload(d, n, pos+dataOff, pos+dataOff+length, depth+1)
		}
		pos = next
	}
}

// Payload segments (cbfs_serialized.h, struct cbfs_payload_segment), big-endian: type,
// compression, offset (from the payload's data), load address (u64), length, memory length. The
// list ends with the entry segment.
const (
	cbfsTypePayload    = 0x20 // "simple elf", a payload such as SeaBIOS
	cbfsSegmentSize    = 28
	cbfsSegmentBSS     = 0x42535320 // "BSS ": no data
	cbfsSegmentEntry   = 0x454E5452 // "ENTR": the entry point, the list's end
	cbfsMaxSegments    = 256
	cbfsSegmentTypeLen = 4
)

// payload decompresses the compressed segments of a payload whose data is d.b[start:end]; the
// stored ones are covered by the scan of d.
func (w *walker) payload(d *data, n *Node, start, end int64, depth int) {
	for i, pos := 0, start; i < cbfsMaxSegments; i, pos = i+1, pos+cbfsSegmentSize {
		if pos+cbfsSegmentSize > end {
			w.fail(d, pos, n, ErrTruncated, "payload segment %d: the list ends without an entry segment", i)
			return
		}
		typ, comp := be.Uint32(d.b[pos:]), be.Uint32(d.b[pos+4:])
		off, length := int64(be.Uint32(d.b[pos+8:])), int64(be.Uint32(d.b[pos+20:]))
		if typ == cbfsSegmentEntry {
			return
		}
		if typ == cbfsSegmentBSS || comp == 0 {
			continue
		}
		kind := string(d.b[pos : pos+cbfsSegmentTypeLen])
		if off > end-start || length > end-start-off {
			w.fail(d, pos+8, n, ErrOutside, "payload segment %d (%q) says %d bytes at offset 0x%x, outside the payload's %d bytes", i, kind, length, off, end-start)
			return
		}
		seg := &Node{Kind: NodeSegment, Name: fmt.Sprintf("segment %d", i), Type: typ, Size: length}
		if !w.add(d, n, seg, start+off, depth) {
			return
		}
		if method := cbfsMethods[comp]; method != "" {
			w.inflate(d, seg, start+off, start+off+length, method, -1, nil)
		} else {
			seg.Compression = fmt.Sprintf("cbfs-%d", comp)
			w.fail(d, start+off, seg, ErrUnsupported, "CBFS compression algorithm %d: the %d bytes of payload segment %d are not decompressed or scanned", comp, length, i)
		}
	}
	w.fail(d, start, n, ErrLimit, "a payload with more than %d segments: the rest is not walked", cbfsMaxSegments)
}

// cbfsCompression reads the compression attribute of a CBFS file header h (attributes from
// attrOff to the data): the algorithm (0 for none) and the decompressed size; or an error and
// the offset in h of the field it is about.
func cbfsCompression(h []byte, attrOff int64) (algo uint32, size, errOff int64, err error) {
	if attrOff == 0 {
		return 0, -1, 0, nil
	}
	if attrOff < cbfsFileHeader || attrOff > int64(len(h)) {
		return 0, -1, 16, fmt.Errorf("the attributes offset 0x%x is not between the file header and its data (0x%x)", attrOff, len(h))
	}
	for pos := attrOff; pos+8 <= int64(len(h)); {
		tag, alen := be.Uint32(h[pos:]), int64(be.Uint32(h[pos+4:]))
		if tag == 0 || tag == 0xFFFFFFFF { // CBFS_FILE_ATTR_TAG_UNUSED, UNUSED2: the list ends
			break
		}
		if alen < 8 || alen > int64(len(h))-pos {
			return 0, -1, pos + 4, fmt.Errorf("attribute 0x%08X says it is %d bytes, %d are left before the data", tag, alen, int64(len(h))-pos)
		}
		if tag == cbfsAttrCompression {
			if alen < 16 {
				return 0, -1, pos + 4, fmt.Errorf("the compression attribute is %d bytes, it needs 16", alen)
			}
			return be.Uint32(h[pos+8:]), int64(be.Uint32(h[pos+12:])), 0, nil
		}
		pos += alen
	}
	return 0, -1, 0, nil
}
