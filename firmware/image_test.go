package firmware

import (
	"bytes"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/oemact/oemact/firmware/fileio"
	"github.com/oemact/oemact/firmware/finding"
	"github.com/oemact/oemact/firmware/fwimage"
	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fixtureTable(t *testing.T, machine, sig string) []byte {
	b, err := os.ReadFile(filepath.Join(fixturesDir, machine, sig))
	require.NoError(t, err)
	return b
}

func writeImage(t *testing.T, b []byte) string {
	p := filepath.Join(t.TempDir(), "image.bin")
	require.NoError(t, os.WriteFile(p, b, 0o644))
	return p
}

// blobWith returns n random bytes (fixed seed) with each table copied at its offset.
func blobWith(n int, tables map[int][]byte) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(int64(n))).Read(b)
	for off, tb := range tables {
		copy(b[off:], tb)
	}
	return b
}

// A real SLIC at an arbitrary offset of random bytes: the file is an image, the SLIC is found
// with its offset, it verifies and its marker IDs agree with its header.
func TestLoadBlobWithSLIC(t *testing.T) {
	slic := fixtureTable(t, "hp-elitebook-840-g7", "SLIC")
	p := writeImage(t, blobWith(64<<10, map[int][]byte{0x5E7D: slic}))
	sets, err := Load(p)
	require.NoError(t, err)
	require.Len(t, sets, 1)
	s := sets[0]
	assert.Equal(t, SetImage, s.Kind)
	assert.Equal(t, "blob", s.ImageKind)
	require.Len(t, s.Tables, 1)
	tb := s.Tables[0]
	assert.Equal(t, "SLIC", tb.Name)
	assert.Equal(t, FromImage, tb.Source)
	require.NotNil(t, tb.Location)
	assert.Equal(t, fwimage.Location{Image: p, Offset: 0x5E7D}, *tb.Location)
	require.NotNil(t, tb.SLIC)
	assert.NoError(t, tb.SLIC.VerifyMarker())
	fs := Check(s, Options{})
	assert.False(t, fs.Failed(), "%v", fs)
	assert.True(t, fs.Has(CodeNoRootTable))
	assert.False(t, fs.Has(CodeSignature))
	assert.False(t, fs.Has(CodeMarkerHeader))
}

// A tampered SLIC whose checksum was fixed is found and reported: its marker does not verify.
func TestLoadBlobWithTamperedSLIC(t *testing.T) {
	slic := append([]byte(nil), fixtureTable(t, "hp-elitebook-840-g7", "SLIC")...)
	slic[SLICMarkerOffset+20] ^= 0x20 // a letter of the marker's OEM table ID
	FixChecksum(slic)
	p := writeImage(t, blobWith(64<<10, map[int][]byte{0x3133: slic}))
	sets, err := Load(p)
	require.NoError(t, err)
	require.Len(t, sets, 1)
	fs := Check(sets[0], Options{})
	assert.True(t, fs.Failed())
	assert.True(t, fs.Has(CodeSignature), "%v", fs.Codes())
	assert.True(t, fs.Has(CodeMarkerHeader), "the marker's IDs no longer match the header's")
	for _, f := range fs {
		if f.Code == CodeSignature {
			assert.Equal(t, p, f.Path)
		}
	}
}

// A table file stays a table file, a junk file stays what it was (not an image), and a file
// larger than a table may be is read when it is an image.
func TestLoadImageOrTable(t *testing.T) {
	slic := fixtureTable(t, "dell-inspiron-14-3462", "SLIC")
	sets, err := Load(writeImage(t, slic))
	require.NoError(t, err)
	assert.Equal(t, SetFiles, sets[0].Kind)

	bad := append([]byte(nil), slic...)
	bad[9]++ // a table with a wrong checksum is still the table, with a checksum finding
	sets, err = Load(writeImage(t, bad))
	require.NoError(t, err)
	assert.Equal(t, SetFiles, sets[0].Kind)
	assert.True(t, Check(sets[0], Options{}).Has(CodeChecksum))

	junk := blobWith(4096, nil)
	sets, err = Load(writeImage(t, junk))
	require.NoError(t, err)
	assert.Equal(t, SetFiles, sets[0].Kind)

	// A file larger than a table may be: read when its start shows an image structure (here an
	// EFI capsule header), refused otherwise.
	big := blobWith(fileio.TableLimit+1<<20, map[int][]byte{fileio.TableLimit + 4096: slic})
	capsule := fwimage.MustGUID("3B6686BD-0D76-4030-B70E-B5519E2FC5A0")
	copy(big, capsule[:])
	le.PutUint32(big[16:], 28)
	le.PutUint32(big[24:], uint32(len(big)))
	sets, err = Load(writeImage(t, big))
	require.NoError(t, err)
	require.Equal(t, SetImage, sets[0].Kind)
	require.Len(t, sets[0].Tables, 1)
	assert.EqualValues(t, fileio.TableLimit+4096, sets[0].Tables[0].Location.Offset)

	big = blobWith(fileio.TableLimit+1<<20, map[int][]byte{fileio.TableLimit + 4096: slic})
	_, err = Load(writeImage(t, big))
	assert.ErrorIs(t, err, fileio.ErrTooLarge, "bytes over the table limit holding a table past the first MiB are no image")
}

// A coreboot ROM built with cbfstool holding a real SLIC and MSDM, raw and LZMA-compressed: all
// four are found with their CBFS file, the SLIC verifies, the marker IDs agree with the header,
// the copies are reported as duplicates, and the bytes are the fixture's.
func TestLoadCorebootROM(t *testing.T) {
	cbfstool := hosttooltest.Require(t, "cbfstool")
	dir := t.TempDir()
	slic, msdm := fixtureTable(t, "dell-inspiron-14-3462", "SLIC"), fixtureTable(t, "dell-inspiron-14-3462", "MSDM")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "SLIC"), slic, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "MSDM"), msdm, 0o644))
	rom := filepath.Join(dir, "rom.bin")
	for _, args := range [][]string{
		{"create", "-m", "x86", "-s", "0x100000"},
		{"add", "-f", "SLIC", "-n", "slic", "-t", "raw"},
		{"add", "-f", "MSDM", "-n", "msdm", "-t", "raw", "-c", "lzma"},
		{"add", "-f", "SLIC", "-n", "slic.lzma", "-t", "raw", "-c", "lzma"},
	} {
		cmd := exec.Command(cbfstool, append([]string{rom}, args...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "cbfstool %v: %s", args, out)
	}
	sets, err := Load(rom)
	require.NoError(t, err)
	require.Len(t, sets, 1)
	s := sets[0]
	assert.Equal(t, "coreboot", s.ImageKind)
	got := map[string]*Table{}
	for _, tb := range s.Tables {
		got[tb.Location.Path] = tb
	}
	require.Len(t, got, 3)
	assert.Equal(t, slic, got["CBFS/slic"].Raw)
	assert.False(t, got["CBFS/slic"].Location.Decompressed)
	assert.Equal(t, slic, got["CBFS/slic.lzma"].Raw)
	assert.True(t, got["CBFS/slic.lzma"].Location.Decompressed)
	assert.Equal(t, msdm, got["CBFS/msdm"].Raw)
	assert.NoError(t, got["CBFS/slic"].SLIC.VerifyMarker())
	assert.Equal(t, "DELL  ", string(got["CBFS/slic"].SLIC.Marker.OEMID[:]))

	fs := Check(s, Options{})
	assert.False(t, fs.Has(CodeSignature))
	assert.False(t, fs.Has(CodeMarkerHeader))
	assert.True(t, fs.Has(CodeSLICDuplicate))
	assert.True(t, fs.Has(CodeNoRootTable))
	for _, f := range fs {
		if f.Code == CodeNoRootTable {
			assert.Contains(t, f.Message, "no RSDT or XSDT in this image")
		}
	}
}

// Debian's OVMF: one set, the SSDT of RamDiskDxe with its path; no marker, no error.
func TestLoadOVMF(t *testing.T) {
	p := "/usr/share/OVMF/OVMF_CODE.fd"
	if _, err := os.Stat(p); err != nil {
		hosttooltest.Unavailable(t, p+" not found: install the ovmf package")
	}
	s, err := LoadImage(p)
	require.NoError(t, err)
	assert.Equal(t, "uefi-volume", s.ImageKind)
	require.Len(t, s.Tables, 1)
	assert.Equal(t, "SSDT", s.Tables[0].Name)
	assert.Contains(t, s.Tables[0].Location.Path, "/RamDiskDxe/")
	fs := Check(s, Options{})
	assert.False(t, fs.Failed(), "%v", fs)
	assert.True(t, fs.Has(CodeNoMarkers))
}

// Image walk problems are the set's findings, at the image's path.
func TestImageNotes(t *testing.T) {
	s := ImageSet("x.bin", append(bytes.Repeat([]byte{0}, 40), []byte("_FVH")...))
	fs := Check(s, Options{})
	assert.True(t, fs.Has(fwimage.CodeNoTables), "%v", fs.Codes())
	for _, f := range fs {
		assert.Equal(t, "x.bin", f.Path)
		assert.NotEqual(t, finding.Error, f.Severity)
	}
}
