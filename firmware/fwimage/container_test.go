package fwimage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// efiCapsule wraps payload in an EFI_CAPSULE_HEADER (UEFI 2.10, 8.5.3).
func efiCapsule(payload []byte) []byte {
	g := MustGUID("3B6686BD-0D76-4030-B70E-B5519E2FC5A0")
	h := make([]byte, 28)
	copy(h, g[:])
	binary.LittleEndian.PutUint32(h[16:], 28)
	binary.LittleEndian.PutUint32(h[20:], 0x10000) // CAPSULE_FLAGS_PERSIST_ACROSS_RESET
	binary.LittleEndian.PutUint32(h[24:], uint32(28+len(payload)))
	return append(h, payload...)
}

// flashImage builds a flash image of size bytes with an Intel flash descriptor (the layout
// ifdtool reads): the descriptor in the first 4 KiB, an ME region up to biosAt starting with me
// (erased otherwise: UEFIExtract 0.28 crashes on random ME contents), and a BIOS region from
// biosAt to the end holding bios at its top.
func flashImage(size, biosAt int, bios, me []byte) []byte {
	b := bytes.Repeat([]byte{0xFF}, size)
	copy(b[0x1000:biosAt], me)
	copy(b[size-len(bios):], bios)
	d := b[:0x1000]
	binary.LittleEndian.PutUint32(d[0xEFC:], 0) // FLUMAP1: no ME VSCC table
	binary.LittleEndian.PutUint32(d[0x10:], ifdSignature)
	binary.LittleEndian.PutUint32(d[0x14:], 0x04040003) // FLMAP0: FCBA 0x30, FRBA 0x40, NR 4
	binary.LittleEndian.PutUint32(d[0x18:], 0x10100206) // FLMAP1: FMBA 0x60, FPSBA 0x100, ISL 0x10
	binary.LittleEndian.PutUint32(d[0x1C:], 0x00000021) // FLMAP2: FMSBA 0x210
	binary.LittleEndian.PutUint32(d[0x30:], 0x00000000) // FLCOMP
	reg := func(i int, base, limit int) {
		binary.LittleEndian.PutUint32(d[0x40+4*i:], uint32(base>>12)|uint32(limit>>12)<<16)
	}
	reg(0, 0, 0xFFF)
	reg(1, biosAt, size-1)
	reg(2, 0x1000, biosAt-1)
	for i := 3; i < len(regionNames); i++ {
		binary.LittleEndian.PutUint32(d[0x40+4*i:], ifdUnusedBase)
	}
	return b
}

// A UEFI capsule around OVMF_CODE.fd: the capsule node, then the same volumes UEFIExtract finds.
func TestCapsule(t *testing.T) {
	fd, err := os.ReadFile(ovmf(t, "OVMF_CODE.fd"))
	require.NoError(t, err)
	cap := efiCapsule(fd)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ovmf.cap"), cap, 0o644))
	tool(t, dir, "UEFIExtract", "ovmf.cap", "report")
	report, err := os.ReadFile(filepath.Join(dir, "ovmf.cap.report.txt"))
	require.NoError(t, err)
	assert.Contains(t, string(report), "Capsule ")
	want := uefiExtractReport(t, string(report))
	assert.Greater(t, len(want), 600)
	if d := cmp.Diff(want, walkReport("ovmf.cap", cap)); d != "" {
		t.Errorf("the walk's tree differs from UEFIExtract's (-UEFIExtract +walk):\n%s", d)
	}

	im := Walk("ovmf.cap", cap, Limits{})
	assert.Equal(t, KindCapsule, im.Kind)
	assert.Empty(t, im.Errors)
	require.Len(t, im.Tables, 1)
	assert.Regexp(t, `^EFI capsule 3B6686BD-0D76-4030-B70E-B5519E2FC5A0/48DB5E17-.*/RamDiskDxe/Raw section #2$`, im.Tables[0].Loc.Path)

	// A capsule that says it is longer than the file: an error, and the payload is still walked.
	binary.LittleEndian.PutUint32(cap[24:], uint32(len(cap)+0x1000))
	im = Walk("ovmf.cap", cap, Limits{})
	require.Len(t, im.Errors, 1)
	assert.True(t, errors.Is(im.Errors[0], ErrOutside))
	assert.Len(t, im.Tables, 1)
}

var ifdRegionLine = regexp.MustCompile(`(?m)^\s*Flash Region (\d+) \(([^)]+)\): ([0-9a-f]{8}) - ([0-9a-f]{8})( \(unused\))?`)

// A flash image with an Intel flash descriptor: the regions agree with ifdtool's dump, the BIOS
// region's volumes with UEFIExtract, and the SSDT is found in the BIOS region.
func TestFlashDescriptor(t *testing.T) {
	fd, err := os.ReadFile(ovmf(t, "OVMF_CODE_4M.fd"))
	require.NoError(t, err)
	img := flashImage(8<<20, 4<<20, fd, nil)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "flash.bin"), img, 0o644))

	dump := tool(t, dir, "ifdtool", "-d", "flash.bin")
	var ifdRegions []string
	for _, m := range ifdRegionLine.FindAllStringSubmatch(dump, -1) {
		if m[5] == "" {
			ifdRegions = append(ifdRegions, m[1]+" "+m[3]+"-"+m[4])
		}
	}
	require.Len(t, ifdRegions, 3, "regions in use in ifdtool's dump")
	im := Walk("flash.bin", img, Limits{})
	assert.Equal(t, KindFlash, im.Kind)
	assert.Empty(t, im.Errors)
	var walked []string
	for _, n := range im.Nodes {
		require.Equal(t, NodeRegion, n.Kind)
		walked = append(walked, fmtRegion(n))
	}
	assert.Equal(t, ifdRegions, walked)

	tool(t, dir, "UEFIExtract", "flash.bin", "report")
	report, err := os.ReadFile(filepath.Join(dir, "flash.bin.report.txt"))
	require.NoError(t, err)
	want := uefiExtractReport(t, string(report))
	assert.Greater(t, len(want), 600)
	if d := cmp.Diff(want, walkReport("flash.bin", img)); d != "" {
		t.Errorf("the walk's tree differs from UEFIExtract's (-UEFIExtract +walk):\n%s", d)
	}
	require.Len(t, im.Tables, 1)
	assert.Regexp(t, `^BIOS region/48DB5E17-.*/RamDiskDxe/Raw section #2$`, im.Tables[0].Loc.Path)
}

func fmtRegion(n *Node) string {
	return fmt.Sprintf("%d %08x-%08x", n.Type, n.Loc.Offset, n.Loc.Offset+n.Size-1)
}

// A region that ends past the image is an error naming it; a region section outside the
// descriptor is too.
func TestFlashDescriptorErrors(t *testing.T) {
	img := flashImage(1<<20, 0x80000, volume(0x2000), nil)
	binary.LittleEndian.PutUint32(img[0x44:], uint32(0x80000>>12)|uint32((2<<20-1)>>12)<<16)
	im := Walk("flash.bin", img, Limits{})
	require.NotEmpty(t, im.Errors)
	assert.True(t, errors.Is(im.Errors[0], ErrOutside))
	assert.Equal(t, "BIOS region", im.Errors[0].Loc.Path)
	assert.Contains(t, im.Errors[0].Error(), "FLREG1 (BIOS region) 0x01FF0080 ends at 0x1fffff, past the image's 1048576 bytes")

	img = flashImage(1<<20, 0x80000, volume(0x2000), nil)
	binary.LittleEndian.PutUint32(img[0x14:], 0x04FF0003)
	im = Walk("flash.bin", img, Limits{})
	require.NotEmpty(t, im.Errors)
	assert.Contains(t, im.Errors[0].Error(), "region section base 0xff0 is not inside the 4 KiB descriptor")
}
