package fwimage

import (
	"math/rand"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// randomBlob returns n bytes from a fixed seed.
func randomBlob(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

// naiveScan is the scan's rule written the slow way: every offset, every sum.
func naiveScan(b []byte) [][2]int {
	var out [][2]int
	for i := 0; i+acpiHeaderSize <= len(b); i++ {
		n := int(le.Uint32(b[i+4:]))
		if !ValidSignature(b[i:i+4]) || n < acpiHeaderSize || n > maxTableLen || n > len(b)-i {
			continue
		}
		var s byte
		for _, c := range b[i : i+n] {
			s += c
		}
		if s == 0 && (knownSignatures[string(b[i:i+4])] || plausibleIDs(b[i:])) {
			out = append(out, [2]int{i, n})
		}
	}
	return out
}

func scanAll(b []byte) [][2]int {
	var out [][2]int
	scanTables(b, func(off, n int) bool { out = append(out, [2]int{off, n}); return true })
	return out
}

// A real SLIC at an odd offset of random bytes is found, and the blob is an image of kind blob.
func TestScanFindsTableInBlob(t *testing.T) {
	slic := realTable(t, "hp-elitebook-840-g7", "SLIC")
	b := randomBlob(3<<20, 19)
	const at = 0x1A2B3D
	copy(b[at:], slic)
	k, ok := Detect(b)
	assert.True(t, ok)
	assert.Equal(t, KindBlob, k)
	im := Walk("blob.bin", b, Limits{})
	assert.Equal(t, KindBlob, im.Kind)
	assert.Empty(t, im.Errors)
	require.Len(t, im.Tables, 1)
	assert.EqualValues(t, at, im.Tables[0].Loc.Offset)
	assert.Equal(t, "", im.Tables[0].Loc.Path)
	assert.False(t, im.Tables[0].Loc.Decompressed)
	assert.Equal(t, slic, im.Tables[0].Raw)
}

// A table whose bytes were changed is found only when its checksum was fixed too (then the
// marker checks in package firmware say what is wrong with it); the scan cannot tell a table
// with a wrong checksum from other bytes.
func TestScanTamperedTable(t *testing.T) {
	slic := realTable(t, "hp-elitebook-840-g7", "SLIC")
	b := randomBlob(1<<20, 7)
	copy(b[0x4321:], slic)
	b[0x4321+0x100] ^= 0x01 // a byte of the marker's signature
	assert.Empty(t, Walk("t.bin", b, Limits{}).Tables, "a wrong checksum: not a table")
	var s byte
	for _, c := range b[0x4321 : 0x4321+len(slic)] {
		s += c
	}
	b[0x4321+9] -= s // fix the checksum, as a careless edit would
	im := Walk("t.bin", b, Limits{})
	require.Len(t, im.Tables, 1)
	assert.NotEqual(t, slic, im.Tables[0].Raw)
}

// A file that is one table is not an image; random bytes are nothing.
func TestDetectNotImage(t *testing.T) {
	_, ok := Detect(realTable(t, "dell-inspiron-14-3462", "SLIC"))
	assert.False(t, ok)
	_, ok = Detect(randomBlob(1<<20, 1))
	assert.False(t, ok)
	_, ok = Detect(nil)
	assert.False(t, ok)
}

// The windowed scan finds what the naive one finds, across window edges and with tables that
// overlap them.
func TestScanMatchesNaive(t *testing.T) {
	slic := realTable(t, "dell-inspiron-14-3462", "SLIC")
	msdm := realTable(t, "dell-inspiron-14-3462", "MSDM")
	b := randomBlob(2*scanWindow+maxTableLen/2, 3)
	for _, at := range []int{0, 400, scanWindow - 100, scanWindow + 300, 2*scanWindow - 200, len(b) - len(slic)} {
		copy(b[at:], slic)
	}
	copy(b[scanWindow+5000:], msdm)
	want := naiveScan(b)
	assert.Len(t, want, 7)
	assert.Equal(t, want, scanAll(b))
}

// Length fields larger than the bound are not tables, whatever their sum.
func TestScanLengthBound(t *testing.T) {
	b := make([]byte, maxTableLen+100)
	copy(b, "SSDT")
	b[4], b[5], b[6] = 0x40, 0, 0x20 // maxTableLen + 0x40
	b[9] = 0
	assert.Empty(t, scanAll(b))
}

// Signatures no specification defines need printable IDs: code bytes with a lucky checksum are
// not tables.
func TestScanUnknownSignatureNeedsPrintableIDs(t *testing.T) {
	t1 := make([]byte, 64)
	copy(t1, "ZZZ1")
	t1[4] = 64
	copy(t1[10:], "OEMID TABLEID TEST")
	var s byte
	for _, c := range t1 {
		s += c
	}
	t1[9] = -s
	assert.Len(t, scanAll(t1), 1)
	t1[12] = 0x90 // not printable
	t1[9] = 0
	s = 0
	for _, c := range t1 {
		s += c
	}
	t1[9] = -s
	assert.Empty(t, scanAll(t1))
	copy(t1, "SSDT") // a defined signature: taken as it is
	t1[9] = 0
	s = 0
	for _, c := range t1 {
		s += c
	}
	t1[9] = -s
	assert.Len(t, scanAll(t1), 1)
}
