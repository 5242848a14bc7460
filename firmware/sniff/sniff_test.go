package sniff

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/oemact/oemact/firmware/fileio"
	"github.com/oemact/oemact/firmware/fwimage"
	"github.com/oemact/oemact/smbios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func repoDir(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func readRepo(t testing.TB, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{repoDir(t)}, parts...)...))
	require.NoError(t, err)
	return b
}

// Every real table is an ACPI table; every real SMBIOS dump is SMBIOS in its container; the
// acpidump captures are acpidump text.
func TestDetectRealInputs(t *testing.T) {
	tables, err := filepath.Glob(filepath.Join(repoDir(t), "fixtures", "acpi", "*", "*"))
	require.NoError(t, err)
	require.NotEmpty(t, tables)
	for _, p := range tables {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		d := Detect(b)
		assert.True(t, d.Kind.IsACPI() && d.Kind != Acpidump, "%s: %v (%s)", p, d.Kind, d.Evidence)
	}
	for name, want := range map[string]smbios.Format{
		"uroot_VMWare.bin": smbios.FormatDumpBin, "uroot_Lenovo-ThinkPad-T480.bin": smbios.FormatDumpBin,
		"uroot_GigaByte-X399.bin": smbios.FormatDumpBin, "uroot_Synology-RS3614xsp.bin": smbios.FormatDumpBin,
		"sidero_HyperV.bin": smbios.FormatBare,
	} {
		d := Detect(readRepo(t, "fixtures", "smbios", name))
		assert.Equal(t, SMBIOS, d.Kind, name)
		assert.Equal(t, want, d.SMBIOS, name)
	}
	for _, name := range []string{"dell-inspiron-14-3462.txt", "toshiba-satellite-c70d-b.txt"} {
		assert.Equal(t, Acpidump, Detect(readRepo(t, "firmware", "testdata", "acpidump", name)).Kind, name)
	}
}

// The order of evidence: an ACPI header with a right checksum wins even over bytes that chain
// as SMBIOS structures; a table whose checksum is wrong or whose end is cut off is still
// recognized as ACPI.
func TestDetectOrderOfEvidence(t *testing.T) {
	slic := readRepo(t, "fixtures", "acpi", "dell-inspiron-14-3462", "SLIC")
	d := Detect(slic)
	assert.Equal(t, ACPITable, d.Kind)
	assert.Equal(t, "ACPI table SLIC, checksum right", d.Evidence)

	bad := append([]byte(nil), slic...)
	bad[9]++
	assert.Equal(t, DamagedACPITable, Detect(bad).Kind)
	assert.Equal(t, DamagedACPITable, Detect(slic[:100]).Kind, "cut off")

	// A damaged table is a damaged table even when its bytes are weaker evidence of something
	// else: an MSDM whose body is erased to 0xFF chains as SMBIOS structures, and the Framework
	// SLIC's modulus holds "_FVH", a UEFI volume's signature.
	msdm := append([]byte(nil), readRepo(t, "fixtures", "acpi", "gigabyte-ga-ma785gm-us2h", "MSDM")...)
	msdm[9] ^= 1
	d = Detect(msdm)
	assert.Equal(t, DamagedACPITable, d.Kind, d.Evidence)
	assert.Equal(t, "ACPI table MSDM, checksum wrong", d.Evidence)
	fw := readRepo(t, "fixtures", "acpi", "framework-laptop-16", "SLIC")
	d = Detect(fw[:len(fw)-1])
	assert.Equal(t, DamagedACPITable, d.Kind, d.Evidence)
	assert.Equal(t, "ACPI table SLIC, cut off: 373 of its 374 bytes", d.Evidence)

	dump := readRepo(t, "fixtures", "smbios", "uroot_VMWare.bin")
	table := dump[smbios.DumpBinTableOffset:]
	assert.Equal(t, smbios.FormatBare, Detect(table).SMBIOS)
	rsmb := append([]byte{0, 2, 7, 0, 0, 0, 0, 0}, table...)
	binary.LittleEndian.PutUint32(rsmb[4:], uint32(len(table)))
	assert.Equal(t, smbios.FormatRSMB, Detect(rsmb).SMBIOS)

	// A flash image whose erased start chains as SMBIOS structures (type 255 up to a NUL pair,
	// then an end-of-table structure) is a firmware image: its descriptor is the stronger
	// evidence.
	flash := make([]byte, 0x1000)
	for i := range flash {
		flash[i] = 0xFF
	}
	binary.LittleEndian.PutUint32(flash[0x10:], 0x0FF0A55A)
	copy(flash[0xFF:], []byte{0, 0, 127, 4, 0, 0, 0, 0})
	require.Equal(t, smbios.FormatBare, smbios.Container(flash), "the bytes chain as SMBIOS structures")
	d = Detect(flash)
	assert.Equal(t, FirmwareImage, d.Kind)
	assert.Equal(t, "firmware image (intel-flash)", d.Evidence)

	// Bytes holding a checksummed table past their start are a firmware image (a blob); the
	// table itself is a table.
	blob := append(make([]byte, 64), slic...)
	d = Detect(blob)
	assert.Equal(t, FirmwareImage, d.Kind)
	assert.Equal(t, "firmware image (blob)", d.Evidence)

	assert.Equal(t, Text, Detect([]byte("notes about this machine\n")).Kind)
	u := Detect([]byte{0xFF, 0xFE, 1, 2, 3})
	assert.Equal(t, Unknown, u.Kind)
	assert.Equal(t, Unknown, Detect(nil).Kind)
	msg := UnrecognizedMessage(5)
	assert.Contains(t, msg, "not recognized (5 bytes): looked for an ACPI table header")
	assert.Contains(t, msg, "SMBIOS entry point (_SM_, _SM3_, _DMI_)")
	assert.Contains(t, msg, "a firmware image")
}

func TestClassify(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, b, 0o644))
		return p
	}
	dump := readRepo(t, "fixtures", "smbios", "uroot_VMWare.bin")
	slic := write("tables/SLIC", readRepo(t, "fixtures", "acpi", "dell-inspiron-14-3462", "SLIC"))
	inFolder := write("tables/smbios.bin", dump)
	bare := write("DMI.copy", dump[smbios.DumpBinTableOffset:])
	sysfs := filepath.Join(dir, "dmi")
	write("dmi/smbios_entry_point", dump[:0x1F])
	write("dmi/DMI", dump[smbios.DumpBinTableOffset:])
	notes := write("notes.txt", []byte("hello\n"))
	junk := write("junk.bin", []byte{0xFF, 0xFE, 0xFD, 0xFC})
	acpidump := filepath.Join(repoDir(t), "firmware", "testdata", "acpidump", "toshiba-satellite-c70d-b.txt")

	s, err := Classify([]string{filepath.Dir(slic), bare, sysfs, notes, junk, acpidump})
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Dir(slic), acpidump}, s.ACPI)
	assert.Equal(t, []string{bare, sysfs, inFolder}, s.SMBIOS)
	require.Len(t, s.Unrecognized, 2)
	assert.Equal(t, notes, s.Unrecognized[0].Path)
	assert.Contains(t, s.Unrecognized[0].Message, "text that is not acpidump output")
	assert.Equal(t, junk, s.Unrecognized[1].Path)
	assert.Contains(t, s.Unrecognized[1].Message, "not recognized (4 bytes)")

	_, err = Classify([]string{filepath.Join(dir, "missing")})
	assert.ErrorContains(t, err, "missing")
}

// A file over the table limit is read when its first MiB shows an image structure (here an EFI
// capsule header): that MiB for Classify, the whole image for the image reader; refused
// otherwise, so that Classify lists it as an image and nothing else.
func TestReadFileOverTheTableLimit(t *testing.T) {
	dir := t.TempDir()
	big := make([]byte, fileio.TableLimit+1<<20)
	capsule := fwimage.MustGUID("3B6686BD-0D76-4030-B70E-B5519E2FC5A0")
	copy(big, capsule[:])
	binary.LittleEndian.PutUint32(big[16:], 28)
	binary.LittleEndian.PutUint32(big[24:], uint32(len(big)))
	image := filepath.Join(dir, "capsule.bin")
	require.NoError(t, os.WriteFile(image, big, 0o644))
	b, err := ReadFile(image, ImageHead)
	require.NoError(t, err)
	assert.Len(t, b, ImageHead)
	b, err = ReadFile(image, fwimage.DefaultLimits.File)
	require.NoError(t, err)
	assert.Len(t, b, len(big))
	s, err := Classify([]string{image})
	require.NoError(t, err)
	assert.Equal(t, []string{image}, s.Images)

	junk := filepath.Join(dir, "junk.bin")
	require.NoError(t, os.WriteFile(junk, make([]byte, fileio.TableLimit+1), 0o644))
	_, err = ReadFile(junk, fwimage.DefaultLimits.File)
	assert.ErrorIs(t, err, fileio.ErrTooLarge)
	_, err = Classify([]string{junk})
	assert.ErrorIs(t, err, fileio.ErrTooLarge)
}

// FuzzDetect: any bytes get a kind, never a panic, and the kind agrees with what the readers do.
func FuzzDetect(f *testing.F) {
	for _, p := range []string{"fixtures/acpi/dell-inspiron-14-3462/SLIC", "fixtures/acpi/dell-inspiron-14-3462/MSDM",
		"fixtures/smbios/uroot_VMWare.bin", "fixtures/smbios/sidero_HyperV.bin",
		"firmware/testdata/acpidump/toshiba-satellite-c70d-b.txt"} {
		f.Add(readRepo(f, p))
	}
	dump := readRepo(f, "fixtures", "smbios", "uroot_Lenovo-ThinkPad-T480.bin")
	f.Add(dump[smbios.DumpBinTableOffset:])
	f.Add([]byte("RSD PTR "))
	f.Fuzz(func(t *testing.T, b []byte) {
		d := Detect(b)
		if d.Kind == SMBIOS {
			// What sniff calls SMBIOS, the SMBIOS reader takes (an entry point alone may still
			// have no table to give).
			in, err := smbios.Decode(b)
			if in == nil && d.SMBIOS != smbios.FormatDumpBin {
				t.Fatalf("sniffed %v (%s), but smbios.Decode refuses it: %v", d.SMBIOS, d.Evidence, err)
			}
		}
		if d.Kind == ACPITable && len(b) >= 36 && string(b[:4]) != "FACS" && fwimage.ValidSignature(b[:4]) {
			n := binary.LittleEndian.Uint32(b[4:])
			if int(n) > len(b) {
				t.Fatalf("a whole ACPI table longer than its bytes: %d > %d", n, len(b))
			}
		}
		if d.Evidence == "" {
			t.Fatal("no evidence")
		}
	})
}
