package fwimage

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// fuzzLimits keep one execution small.
var fuzzLimits = Limits{Section: 1 << 20, Total: 4 << 20, Nodes: 4096, Depth: 16}

// cbfsFile returns a CBFS file as cbfstool writes it (name padded to 16 bytes, data after the
// attributes), aligned to 64 bytes; algo != 0 adds a compression attribute.
func cbfsFile(name string, typ uint32, data []byte, algo uint32, size int) []byte {
	nameLen := (len(name) + 1 + 15) &^ 15
	attrOff := cbfsFileHeader + nameLen
	dataOff := attrOff
	if algo != 0 {
		dataOff += 16
	}
	b := make([]byte, dataOff, dataOff+len(data)+cbfsAlign)
	copy(b, cbfsFileMagic)
	binary.BigEndian.PutUint32(b[8:], uint32(len(data)))
	binary.BigEndian.PutUint32(b[12:], typ)
	if algo != 0 {
		binary.BigEndian.PutUint32(b[16:], uint32(attrOff))
		binary.BigEndian.PutUint32(b[attrOff:], cbfsAttrCompression)
		binary.BigEndian.PutUint32(b[attrOff+4:], 16)
		binary.BigEndian.PutUint32(b[attrOff+8:], algo)
		binary.BigEndian.PutUint32(b[attrOff+12:], uint32(size))
	}
	binary.BigEndian.PutUint32(b[20:], uint32(dataOff))
	copy(b[cbfsFileHeader:], name)
	b = append(b, data...)
	for len(b)%cbfsAlign != 0 {
		b = append(b, 0xFF)
	}
	return b
}

// fmapImage returns an image with an FMAP at 0 and one CBFS area from 0x100.
func fmapImage(cbfs []byte) []byte {
	b := make([]byte, 0x100+len(cbfs))
	copy(b, "__FMAP__")
	b[8], b[9] = 1, 1
	binary.LittleEndian.PutUint32(b[18:], uint32(len(b)))
	copy(b[22:], "FLASH")
	binary.LittleEndian.PutUint16(b[54:], 2)
	area := func(i int, off, size int, name string) {
		a := b[56+42*i:]
		binary.LittleEndian.PutUint32(a, uint32(off))
		binary.LittleEndian.PutUint32(a[4:], uint32(size))
		copy(a[8:], name)
	}
	area(0, 0, 0x100, "FMAP")
	area(1, 0x100, len(cbfs), "COREBOOT")
	copy(b[0x100:], cbfs)
	return b
}

func seedTablesFrom(tb testing.TB) (slic, msdm []byte) {
	return realTable(tb, "dell-inspiron-14-3462", "SLIC"), realTable(tb, "dell-inspiron-14-3462", "MSDM")
}

// seedVolumes are small volumes built from the real tables: plain, in an LZMA section, in a
// volume image section, with a Tiano section and a UI name.
func seedVolumes(tb testing.TB) [][]byte {
	slic, msdm := seedTablesFrom(tb)
	inner := volume(0x1000, ffsFile(testFileGUID, 0x02, section(0x19, msdm)))
	return [][]byte{
		volume(0x1000, ffsFile(testFileGUID, 0x07, sections(section(0x19, slic), section(0x15, ucs2z("Dxe"))))),
		volume(0x2000, ffsFile(testFileGUID, 0x0B, guided(guidLZMA, guidedProcessingRequired, lzmaAlone(tb, sections(section(0x17, inner)))))),
		volume(0x1000, ffsFile(testFileGUID, 0x07, sections(guided(guidTiano, guidedProcessingRequired, slic), section(0x01, append([]byte{0x76, 1, 0, 0, 0}, section(0x19, msdm)...))))),
	}
}

func seedCBFS(tb testing.TB) []byte {
	slic, msdm := seedTablesFrom(tb)
	var c []byte
	c = append(c, cbfsFile("slic", 0x50, slic, 0, 0)...)
	c = append(c, cbfsFile("msdm.lzma", 0x50, lzmaAlone(tb, msdm), 1, len(msdm))...)
	c = append(c, cbfsFile("payload", cbfsTypePayload, payloadData(tb, slic), 0, 0)...)
	c = append(c, cbfsFile("", cbfsTypeNull, make([]byte, 64), 0, 0)...)
	return c
}

// payloadData is a CBFS payload: a DATA segment holding table LZMA-compressed, then the entry.
func payloadData(tb testing.TB, table []byte) []byte {
	lz := lzmaAlone(tb, table)
	b := make([]byte, 2*cbfsSegmentSize)
	copy(b, "DATA")
	binary.BigEndian.PutUint32(b[4:], 1)
	binary.BigEndian.PutUint32(b[8:], uint32(len(b)))
	binary.BigEndian.PutUint32(b[20:], uint32(len(lz)))
	binary.BigEndian.PutUint32(b[24:], uint32(len(table)))
	copy(b[cbfsSegmentSize:], "ENTR")
	return append(b, lz...)
}

// checkImage holds what every walk must give, whatever the bytes.
func checkImage(t *testing.T, b []byte, im *Image) {
	for _, tb := range im.Tables {
		if !ValidSignature(tb.Raw[:4]) || int(le.Uint32(tb.Raw[4:])) != len(tb.Raw) {
			t.Fatalf("table %q of %d bytes: bad signature or length", tb.Signature, len(tb.Raw))
		}
		var s byte
		for _, c := range tb.Raw {
			s += c
		}
		if s != 0 {
			t.Fatalf("table %q at %v does not sum to zero", tb.Signature, tb.Loc)
		}
	}
	im.Visit(func(n *Node, _ int) {
		if n.Size < 0 || n.HeaderSize < 0 {
			t.Fatalf("node %s: size %d, header %d", n.Loc.Path, n.Size, n.HeaderSize)
		}
		if !n.Loc.Decompressed && (n.Loc.Offset < 0 || n.Loc.Offset+n.Size > int64(len(b))) {
			t.Fatalf("node %s at 0x%x, %d bytes: outside the %d-byte image", n.Loc.Path, n.Loc.Offset, n.Size, len(b))
		}
	})
	for _, e := range im.Errors {
		if e.Loc.Offset < 0 || e.Loc.Offset > int64(len(b)) || e.Error() == "" {
			t.Fatalf("error outside the image: %v", e)
		}
	}
	if im.Decompressed > fuzzLimits.Total || im.NodeCount > fuzzLimits.Nodes+1 {
		t.Fatalf("limits exceeded: %d bytes decompressed, %d nodes", im.Decompressed, im.NodeCount)
	}
}

// FuzzWalk walks any bytes as an image: volumes, capsules, flash descriptors, FMAP and CBFS.
func FuzzWalk(f *testing.F) {
	for _, v := range seedVolumes(f) {
		f.Add(v)
		f.Add(efiCapsule(v))
	}
	f.Add(fmapImage(seedCBFS(f)))
	f.Add(flashImage(0x4000, 0x2000, seedVolumes(f)[0], nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkImage(t, b, walk("fuzz", b, fuzzLimits, nil))
	})
}

// FuzzVolume walks a firmware volume at the start of the bytes; seeded with built volumes and,
// when the ovmf package is installed, OVMF_CODE.fd's uncompressed SEC volume.
func FuzzVolume(f *testing.F) {
	for _, v := range seedVolumes(f) {
		f.Add(v)
	}
	if b, err := os.ReadFile(filepath.Join("/usr/share/OVMF", "OVMF_CODE.fd")); err == nil && len(b) == 1966080 {
		f.Add(b[0x1AC000:])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		w := &walker{im: &Image{Name: "fuzz", Size: int64(len(b))}, lim: fuzzLimits.withDefaults()}
		d := &data{b: b}
		if hasVolumeAt(b, 0) {
			w.volume(d, 0, int64(len(b)), nil, 0)
		}
		w.scan(d)
		w.finish()
		checkImage(t, b, w.im)
	})
}

// FuzzSections walks the bytes as the sections of an FFS file.
func FuzzSections(f *testing.F) {
	slic, msdm := seedTablesFrom(f)
	f.Add(sections(section(0x19, slic), section(0x15, ucs2z("Name"))))
	f.Add(guided(guidLZMA, guidedProcessingRequired, lzmaAlone(f, sections(section(0x19, msdm)))))
	f.Add(section(0x17, volume(0x1000, ffsFile(testFileGUID, 0x02, section(0x19, msdm)))))
	f.Add(section(0x01, append([]byte{0x76, 1, 0, 0, 0}, section(0x19, msdm)...)))
	f.Fuzz(func(t *testing.T, b []byte) {
		w := &walker{im: &Image{Name: "fuzz", Size: int64(len(b))}, lim: fuzzLimits.withDefaults()}
		d := &data{b: b}
		file := &Node{Kind: NodeFile, Name: "file", Size: int64(len(b))}
		w.add(d, nil, file, 0, 0)
		w.sections(d, file, 0, int64(len(b)), 1)
		w.scan(d)
		w.finish()
		checkImage(t, b, w.im)
	})
}

// FuzzCBFS walks the bytes as a CBFS.
func FuzzCBFS(f *testing.F) {
	f.Add(seedCBFS(f))
	slic, _ := seedTablesFrom(f)
	f.Add(cbfsFile("x", 0x50, slic[:100], 2, 374))
	f.Fuzz(func(t *testing.T, b []byte) {
		w := &walker{im: &Image{Name: "fuzz", Size: int64(len(b))}, lim: fuzzLimits.withDefaults()}
		d := &data{b: b}
		w.cbfs(d, nil, 0, int64(len(b)), 0)
		w.scan(d)
		w.finish()
		checkImage(t, b, w.im)
	})
}

// FuzzScan holds the windowed scan to the naive rule.
func FuzzScan(f *testing.F) {
	slic, msdm := seedTablesFrom(f)
	f.Add(append(append([]byte("xx"), slic...), msdm...))
	f.Add(msdm)
	f.Fuzz(func(t *testing.T, b []byte) {
		got, want := scanAll(b), naiveScan(b)
		if len(got) != len(want) {
			t.Fatalf("scan found %v, the naive rule %v", got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("scan found %v, the naive rule %v", got, want)
			}
		}
	})
}
