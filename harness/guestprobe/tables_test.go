package guestprobe

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/harness/internal/harnesstest"
	"github.com/oemact/oemact/harness/internal/qgatest"
	"github.com/oemact/oemact/harness/qga"
	"github.com/oemact/oemact/smbios"
)

func realTable(t testing.TB, machine, sig string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(harnesstest.RepoRoot(), "fixtures", "acpi", machine, sig))
	require.NoError(t, err)
	return b
}

func realSMBIOS(t testing.TB, name string) *smbios.Info {
	t.Helper()
	info, err := smbios.Read(filepath.Join(harnesstest.RepoRoot(), "fixtures", "smbios", name))
	require.NoError(t, err)
	return info
}

// sysfsTree lays out real tables as Linux's sysfs under root.
func sysfsTree(t *testing.T, root string, acpi map[string][]byte, info *smbios.Info) {
	t.Helper()
	dir := filepath.Join(root, "sys", "firmware", "acpi", "tables")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for sig, b := range acpi {
		require.NoError(t, os.WriteFile(filepath.Join(dir, sig), b, 0o444))
	}
	if info != nil {
		require.NoError(t, info.WriteSysfs(filepath.Join(root, "sys", "firmware", "dmi", "tables")))
	}
}

// TestReadLinuxThroughAgent reads real tables laid out as sysfs through Debian's qemu-ga, run
// on the host.
func TestReadLinuxThroughAgent(t *testing.T) {
	conn, _ := qgatest.Start(t)
	c := qga.NewClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, c.Ready(ctx))

	root := t.TempDir()
	slic, msdm := realTable(t, "dell-inspiron-14-3462", "SLIC"), realTable(t, "dell-inspiron-14-3462", "MSDM")
	facp := realTable(t, "dell-inspiron-14-3462", "FACP")
	info := realSMBIOS(t, "uroot_Lenovo-ThinkPad-T480.bin")
	sysfsTree(t, root, map[string][]byte{"SLIC": slic, "MSDM": msdm, "FACP": facp, "DSDT": []byte("not read")}, info)
	seen, err := readLinux(ctx, c, root+"/")
	require.NoError(t, err)
	assert.Equal(t, map[string][]byte{"SLIC": slic, "MSDM": msdm, "FACP": facp}, seen.ACPI, "the markers and the FADT, nothing else")
	ep, table, err := info.SysfsFiles()
	require.NoError(t, err)
	assert.Equal(t, ep, seen.SMBIOSEntryPoint)
	assert.Equal(t, table, seen.SMBIOSTable)
	assert.Empty(t, Compare(Given{ACPI: map[string][]byte{"SLIC": slic, "MSDM": msdm}, SMBIOS: info.QEMUStructures()}, seen))

	// A machine with a SLIC only, and no SMBIOS.
	root = t.TempDir()
	acer := realTable(t, "acer-extensa-4210", "SLIC")
	sysfsTree(t, root, map[string][]byte{"SLIC": acer}, nil)
	seen, err = readLinux(ctx, c, root+"/")
	require.NoError(t, err)
	assert.Equal(t, map[string][]byte{"SLIC": acer}, seen.ACPI)
	assert.Nil(t, seen.SMBIOSTable)
	assert.Equal(t, []Mismatch{{"SMBIOS", "the OS has no SMBIOS table"}}, Compare(Given{ACPI: map[string][]byte{"SLIC": acer}, SMBIOS: info.QEMUStructures()}, seen))

	// Half the DMI pair is an error; so is a table over the bound.
	require.NoError(t, os.MkdirAll(filepath.Join(root, "sys/firmware/dmi/tables"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "sys/firmware/dmi/tables/DMI"), table, 0o444))
	_, err = readLinux(ctx, c, root+"/")
	assert.EqualError(t, err, "the guest has only one of /sys/firmware/dmi/tables/DMI and /sys/firmware/dmi/tables/smbios_entry_point")
	require.NoError(t, os.WriteFile(filepath.Join(root, "sys/firmware/acpi/tables/MSDM"), make([]byte, MaxACPITable+1), 0o444))
	_, err = readLinux(ctx, c, root+"/")
	assert.EqualError(t, err, "guest agent guest-file-read "+root+"/sys/firmware/acpi/tables/MSDM: the file is longer than 1048576 bytes, the bound for it")
}

func TestCompareFindsEveryDifference(t *testing.T) {
	slic, msdm := realTable(t, "dell-inspiron-14-3462", "SLIC"), realTable(t, "dell-inspiron-14-3462", "MSDM")
	info := realSMBIOS(t, "uroot_VMWare.bin")
	ep, table, err := info.SysfsFiles()
	require.NoError(t, err)
	given := Given{ACPI: map[string][]byte{"SLIC": slic}, SMBIOS: info.QEMUStructures()}
	seen := &Tables{ACPI: map[string][]byte{"SLIC": slic}, SMBIOSEntryPoint: ep, SMBIOSTable: table}
	require.Empty(t, Compare(given, seen))

	flipped := bytes.Clone(slic)
	flipped[0x100] ^= 0x40
	flipped[0x101] ^= 0x40
	seen.ACPI = map[string][]byte{"SLIC": flipped, "MSDM": msdm}
	assert.Equal(t, []Mismatch{
		{"SLIC", "the OS's copy differs: 374 bytes given, 374 seen; 2 of the first 374 bytes differ, the first at offset 0x100"},
		{"MSDM", "the OS has a 85-byte MSDM the machine was not given"},
	}, Compare(given, seen))

	// Cut short: the OS's copy differs, and the decoder refuses it.
	seen.ACPI = map[string][]byte{"SLIC": slic[:100]}
	assert.Equal(t, []Mismatch{
		{"SLIC", "the OS's copy differs: 374 bytes given, 100 seen"},
		{"SLIC", "the OS's copy does not decode: " + decodeErr(t, slic[:100])},
	}, Compare(given, seen))
	seen.ACPI = map[string][]byte{"SLIC": slic[:20]}
	assert.Equal(t, []Mismatch{
		{"SLIC", "the OS's copy differs: 374 bytes given, 20 seen"},
		{"SLIC", "the OS's copy does not decode: SLIC at offset 0x14: 20 bytes, an ACPI table header needs 36"},
	}, Compare(given, seen))
	// Another table where the SLIC should be: it decodes, as what it is.
	seen.ACPI = map[string][]byte{"SLIC": msdm}
	m := Compare(given, seen)
	require.Len(t, m, 2)
	assert.Equal(t, Mismatch{"SLIC", `the OS's copy has the signature "MSDM"`}, m[1])
	seen.ACPI = nil
	assert.Equal(t, []Mismatch{{"SLIC", "the OS has no SLIC"}}, Compare(given, seen))

	// SMBIOS: a structure changed, one missing, one of another type at a handle.
	seen.ACPI = map[string][]byte{"SLIC": slic}
	changed := info.QEMUStructures()
	s1 := changed[1].Clone()
	s1.Strings = append([]string(nil), s1.Strings...)
	s1.Strings[0] = "other"
	given.SMBIOS = append([]*smbios.Structure{s1}, changed[2:]...)
	given.SMBIOS = append(given.SMBIOS, &smbios.Structure{Type: 4, Handle: 0xBEEF, Formatted: make([]byte, 20)})
	wrongType := changed[0].Clone()
	wrongType.Type = 200
	given.SMBIOS = append(given.SMBIOS, wrongType)
	m = Compare(given, seen)
	require.Len(t, m, 3)
	assert.Contains(t, m[0].String(), "SMBIOS type 1 handle 0x0001: the OS's copy differs:")
	assert.Equal(t, "SMBIOS type 4 handle 0xbeef: the OS's table has no structure with this handle", m[1].String())
	assert.Equal(t, "SMBIOS type 200 handle 0x0000: the OS's structure with this handle is of type 0", m[2].String())

	// Types the firmware writes itself are not compared.
	given.SMBIOS = []*smbios.Structure{wrongType}
	given.FirmwareTypes = []uint8{200}
	assert.Empty(t, Compare(given, seen))

	seen.SMBIOSTable = []byte{1, 2, 3}
	given.FirmwareTypes = nil
	m = Compare(given, seen)
	require.NotEmpty(t, m)
	assert.Equal(t, "SMBIOS", m[0].Table)
}

func decodeErr(t *testing.T, b []byte) string {
	t.Helper()
	_, err := firmware.DecodeSLIC(b)
	require.Error(t, err)
	return err.Error()
}

func FuzzCompare(f *testing.F) {
	slic := realTable(f, "dell-inspiron-14-3462", "SLIC")
	info := realSMBIOS(f, "uroot_VMWare.bin")
	ep, table, err := info.SysfsFiles()
	if err != nil {
		f.Fatal(err)
	}
	given := Given{ACPI: map[string][]byte{"SLIC": slic}, SMBIOS: info.QEMUStructures()}
	f.Add(slic, ep, table)
	f.Add(slic[:36], ep[:10], table[:50])
	f.Fuzz(func(t *testing.T, s, e, tb []byte) {
		Compare(given, &Tables{ACPI: map[string][]byte{"SLIC": s, "MSDM": s}, SMBIOSEntryPoint: e, SMBIOSTable: tb})
	})
}
