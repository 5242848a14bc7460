package fwimage

import "bytes"

// FMAP, the flash map of coreboot and ChromeOS (flashmap's fmap.h): "__FMAP__", version 1.x,
// base u64, size u32, name[32], nareas u16, then nareas areas of {offset u32, size u32,
// name[32], flags u16}, little-endian. Area offsets are from the start of the flash.

const (
	fmapHeaderSize = 56
	fmapAreaSize   = 42
)

type fmapArea struct {
	off, size int64
	name      string
	at        int64 // where the area's entry is, for errors
}

// fmapAt reads the FMAP at off of b[:hi]; ok is false when it is not a plausible one.
func fmapAt(b []byte, off, hi int64) (areas []fmapArea, ok bool) {
	if off < 0 || hi-off < fmapHeaderSize || string(b[off:off+8]) != "__FMAP__" || b[off+8] != 1 {
		return nil, false
	}
	n := int64(le.Uint16(b[off+54:]))
	if n == 0 || off+fmapHeaderSize+n*fmapAreaSize > hi {
		return nil, false
	}
	for i := int64(0); i < n; i++ {
		a := b[off+fmapHeaderSize+i*fmapAreaSize:]
		areas = append(areas, fmapArea{off: int64(le.Uint32(a)), size: int64(le.Uint32(a[4:])), name: cString(a[8:40]),
			at: off + fmapHeaderSize + i*fmapAreaSize})
	}
	return areas, true
}

// findFMAP returns the offset of the first plausible FMAP in b[lo:hi], or -1.
func findFMAP(b []byte, lo, hi int64) int64 {
	for pos := lo; pos < hi; {
		i := bytes.Index(b[pos:hi], []byte("__FMAP__"))
		if i < 0 {
			return -1
		}
		if _, ok := fmapAt(b, pos+int64(i), hi); ok {
			return pos + int64(i)
		}
		pos += int64(i) + 1
	}
	return -1
}

// hasCoreboot reports whether b holds an FMAP, a CBFS master header the last 4 bytes point to,
// or starts with a CBFS file.
func hasCoreboot(b []byte) bool {
	return findFMAP(b, 0, int64(len(b))) >= 0 || masterHeader(b) >= 0 || bytes.HasPrefix(b, []byte(cbfsFileMagic))
}

// coreboot walks the FMAP and CBFS structures in d.b[lo:hi]: every FMAP area as a node, and the
// CBFS files of the areas that hold them; without an FMAP, the CBFS its master header describes,
// or CBFS files from lo. It reports whether it found any.
func (w *walker) coreboot(d *data, lo, hi int64, parent *Node, depth int) bool {
	if off := findFMAP(d.b, lo, hi); off >= 0 {
		w.fmap(d, off, lo, hi, parent, depth)
		return true
	}
	if d.origin == nil && hi == int64(len(d.b)) {
		if mh := masterHeader(d.b); mh >= lo {
			h := d.b[mh:]
			start, end := int64(be.Uint32(h[20:])), int64(be.Uint32(h[8:]))-int64(be.Uint32(h[12:]))
			end = min(end, hi)
			n := &Node{Kind: NodeCBFS, Name: "CBFS", Size: end - start}
			if start < lo || start >= end {
				w.fail(d, mh+20, parent, ErrOutside, "the CBFS master header's offset 0x%x is not inside the image's %d bytes", start, hi)
				return true
			}
			if w.add(d, parent, n, start, depth) {
				w.cbfs(d, n, start, end, depth+1)
			}
			return true
		}
	}
	if bytes.HasPrefix(d.b[lo:hi], []byte(cbfsFileMagic)) {
		n := &Node{Kind: NodeCBFS, Name: "CBFS", Size: hi - lo}
		if w.add(d, parent, n, lo, depth) {
			w.cbfs(d, n, lo, hi, depth+1)
		}
		return true
	}
	return false
}

func (w *walker) fmap(d *data, off, lo, hi int64, parent *Node, depth int) {
	areas, _ := fmapAt(d.b, off, hi)
	walked := map[int64]bool{}
	for _, a := range areas {
		if a.off < lo || a.off+a.size > hi || a.size == 0 {
			w.fail(d, a.at, parent, ErrOutside, "FMAP area %s (offset 0x%x, %d bytes) is not inside the %d bytes of the image", a.name, a.off, a.size, hi-lo)
			continue
		}
		n := &Node{Kind: NodeArea, Name: a.name, Size: a.size}
		if !w.add(d, parent, n, a.off, depth) {
			return
		}
		if !walked[a.off] && bytes.HasPrefix(d.b[a.off:a.off+a.size], []byte(cbfsFileMagic)) {
			walked[a.off] = true
			w.cbfs(d, n, a.off, a.off+a.size, depth+1)
		}
	}
}

// cString returns b up to its first NUL.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
