package hwid

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tree returns a fake root under testdata (see testdata/README.md).
func tree(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata", name)
}

// copyTree copies a fake root, symlinks included, so a test can change it.
func copyTree(t *testing.T, name string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.CopyFS(dst, os.DirFS(tree(name))))
	return dst
}

func write(t *testing.T, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
}

type want struct {
	class         Class
	value, source string
}

func components(inv Inventory) []want {
	out := make([]want, len(inv.Components))
	for i, c := range inv.Components {
		out[i] = want{c.Class, c.Value, c.Source}
		if c.Digest != Digest(c.Class, c.Value) {
			panic("digest does not match value for " + string(c.Class))
		}
	}
	return out
}

// What a QEMU q35 guest shows (measured: Debian cloud kernel 6.1, QEMU 7.2, -m 512 -smp 2,
// virtio-net and two virtio-blk disks, -smbios type=1 and type=2 fields).
func TestCollectQEMUq35(t *testing.T) {
	inv, err := Collect(tree("qemu-q35"), Options{SkipDiskSerials: []string{"oemact-state"}, TPMEKDigest: "0a1b2c3d"})
	require.NoError(t, err)
	assert.Equal(t, []want{
		{CPU, "QEMU Virtual CPU version 2.5+ x2", "/proc/cpuinfo"},
		{Memory, "256MiB-512MiB", "/proc/meminfo MemTotal"},
		{NIC, "52:54:00:12:34:56", "/sys/class/net/eth0/address"},
		{Disk, "DISK-0001", "/sys/block/vda/serial"},
		{Display, "1234:1111", "/sys/bus/pci/devices/0000:00:01.0"},
		{StorageController, "1af4:1001", "/sys/bus/pci/devices/0000:00:04.0"},
		{StorageController, "1af4:1001", "/sys/bus/pci/devices/0000:00:05.0"},
		{StorageController, "8086:2922", "/sys/bus/pci/devices/0000:00:1f.2"},
		{System, "product_uuid=5e7a6f2c-1b3d-4e5f-8a9b-0c1d2e3f4a5b product_serial=TST0001", "/sys/class/dmi/id/{product_uuid,product_serial}"},
		{Board, "board_vendor=TSTOEM board_name=TSTBOARD board_serial=BRD0001", "/sys/class/dmi/id/{board_vendor,board_name,board_serial}"},
		{BIOS, "bios_vendor=SeaBIOS bios_version=1.16.2-debian-1.16.2-1", "/sys/class/dmi/id/{bios_vendor,bios_version}"},
		{TPM, "0a1b2c3d", "TPM endorsement key (from the caller)"},
	}, components(inv))
	assert.False(t, inv.Dockable, "chassis type 1 (Other)")
	assert.Empty(t, inv.Notes)

	// Without the caller's list, the harness's state disk counts like any disk.
	inv, err = Collect(tree("qemu-q35"), Options{})
	require.NoError(t, err)
	assert.Contains(t, components(inv), want{Disk, "oemact-state", "/sys/block/vdb/serial"})
}

// A laptop: two NICs with devices and three without (bridges, a raw-IP modem), an NVMe disk
// (device/serial), a SATA disk with only VPD page 0x80, a USB stick and virtual block devices
// (skipped), two display adapters, a Notebook chassis (dockable).
func TestCollectLaptop(t *testing.T) {
	inv, err := Collect(tree("laptop"), Options{})
	require.NoError(t, err)
	assert.Equal(t, []want{
		{CPU, "Intel(R) Core(TM) i5-8350U CPU @ 1.70GHz x8", "/proc/cpuinfo"},
		{Memory, "8GiB-16GiB", "/proc/meminfo MemTotal"},
		{NIC, "8c:16:45:5a:3b:01", "/sys/class/net/enp0s31f6/address"},
		{NIC, "f8:94:c2:4e:7d:02", "/sys/class/net/wlp61s0/address"},
		{Disk, "S3EUNX0K812345T", "/sys/block/nvme0n1/device/serial"},
		{Disk, "S3Z1NB0K654321X", "/sys/block/sda/device/vpd_pg80"},
		{Display, "8086:5917", "/sys/bus/pci/devices/0000:00:02.0"},
		{StorageController, "8086:9d03", "/sys/bus/pci/devices/0000:00:17.0"},
		{Display, "10de:1d10", "/sys/bus/pci/devices/0000:01:00.0"},
		{StorageController, "144d:a808", "/sys/bus/pci/devices/0000:3c:00.0"},
		{System, "product_uuid=161674cc-2a1e-11b2-a85c-e121881d01b9 product_serial=PC131TBF", "/sys/class/dmi/id/{product_uuid,product_serial}"},
		{Board, "board_vendor=LENOVO board_name=20L8S07A14 board_serial=L1HF9380025", "/sys/class/dmi/id/{board_vendor,board_name,board_serial}"},
		{BIOS, "bios_vendor=LENOVO bios_version=N22ET52W (1.29 )", "/sys/class/dmi/id/{bios_vendor,bios_version}"},
	}, components(inv))
	assert.True(t, inv.Dockable, "chassis type 10 (Notebook)")
	assert.Empty(t, inv.Notes)

	// The dockable chassis list is the model's choice and can be changed.
	inv, err = Collect(tree("laptop"), Options{DockableChassis: []int{9}})
	require.NoError(t, err)
	assert.False(t, inv.Dockable)
}

// Each chassis type the model counts as dockable, and some it does not.
func TestDockableChassis(t *testing.T) {
	root := copyTree(t, "qemu-q35")
	for ct, dockable := range map[string]bool{"8": true, "9": true, "10": true, "12": true, "14": true,
		"1": false, "3": false, "13": false, "30": false, "31": false} {
		write(t, root, "sys/devices/virtual/dmi/id/chassis_type", ct+"\n")
		inv, err := Collect(root, Options{})
		require.NoError(t, err)
		assert.Equal(t, dockable, inv.Dockable, "chassis type %s", ct)
	}
}

// The point of collecting: swap the NIC and the disk of the q35 guest, collect again, and the
// vote policy says 4 votes are lost (NIC 3 + disk 1): out of tolerance.
func TestCollectThenCompare(t *testing.T) {
	opts := Options{SkipDiskSerials: []string{"oemact-state"}}
	base, err := Collect(tree("qemu-q35"), opts)
	require.NoError(t, err)

	root := copyTree(t, "qemu-q35")
	write(t, root, "sys/devices/pci0000:00/0000:00:03.0/virtio0/net/eth0/address", "52:54:00:AA:BB:CC\n")
	cur, err := Collect(root, opts)
	require.NoError(t, err)
	d := VotePolicy.Compare(base, cur)
	assert.True(t, d.InTolerance)
	assert.Equal(t, 3, d.Lost)

	write(t, root, "sys/devices/pci0000:00/0000:00:04.0/virtio1/block/vda/serial", "DISK-0002\n")
	cur, err = Collect(root, opts)
	require.NoError(t, err)
	d = VotePolicy.Compare(base, cur)
	assert.False(t, d.InTolerance)
	assert.Equal(t, 4, d.Lost)
	assert.Equal(t, "out of tolerance: 6 of 10 votes match, 7 required; changed: nic (3), disk (1)", d.String())

	// Memory: -m 512 to -m 1024 moves MemTotal into the next range; a few MB do not.
	write(t, root, "proc/meminfo", "MemTotal:         470000 kB\n")
	cur, err = Collect(root, opts)
	require.NoError(t, err)
	assert.Equal(t, 4, VotePolicy.Compare(base, cur).Lost)
	write(t, root, "proc/meminfo", "MemTotal:         996608 kB\n")
	cur, err = Collect(root, opts)
	require.NoError(t, err)
	assert.Equal(t, 5, VotePolicy.Compare(base, cur).Lost)
}

// Files that exist but cannot be read are notes, not failures; missing files are silence.
func TestCollectNotes(t *testing.T) {
	root := copyTree(t, "laptop")
	dmi := "sys/devices/virtual/dmi/id/"
	// A folder where a file should be cannot be read, whoever runs the test (root included).
	require.NoError(t, os.Remove(filepath.Join(root, dmi, "product_serial")))
	require.NoError(t, os.Mkdir(filepath.Join(root, dmi, "product_serial"), 0o755))
	write(t, root, dmi+"chassis_type", "Notebook\n")
	write(t, root, "sys/devices/pci0000:00/0000:00:02.0/class", "VGA\n")
	write(t, root, "proc/meminfo", "MemTotal: lots\n")
	// A disk whose identifiers are all empty.
	write(t, root, "sys/devices/pci0000:00/0000:00:1d.0/0000:3c:00.0/nvme/nvme0/serial", "   \n")
	write(t, root, "sys/devices/pci0000:00/0000:00:1d.0/0000:3c:00.0/nvme/nvme0/block/nvme0n1/wwid", "\n")

	inv, err := Collect(root, Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{
		`/proc/meminfo: MemTotal line "MemTotal: lots" is not "N kB"`,
		"/sys/block/nvme0n1: no serial, wwid or VPD page 0x80: disk not counted",
		`/sys/bus/pci/devices/0000:00:02.0/class: "VGA" is not a hex class code`,
		"/sys/class/dmi/id/product_serial: is a directory",
		`/sys/class/dmi/id/chassis_type: "Notebook" is not a number`,
	}, inv.Notes)
	// What could be read is still there: the system component from the UUID alone.
	assert.Contains(t, components(inv), want{System, "product_uuid=161674cc-2a1e-11b2-a85c-e121881d01b9", "/sys/class/dmi/id/{product_uuid}"})
	assert.False(t, inv.Dockable)
	for _, c := range inv.Components {
		assert.NotEqual(t, Memory, c.Class)
	}
}

// A user who is not root cannot read the SMBIOS serials (mode 0400 in sysfs): notes say so.
func TestCollectPermissionDenied(t *testing.T) {
	root := copyTree(t, "qemu-q35")
	serial := filepath.Join(root, "sys/devices/virtual/dmi/id/product_serial")
	require.NoError(t, os.Chmod(serial, 0))
	if f, err := os.Open(serial); err == nil {
		f.Close()
		// root reads mode-0 files; the note's wording is then checked by building the error.
		c := &collector{}
		c.readErr("sys/class/dmi/id/product_serial", os.ErrPermission)
		assert.Equal(t, []string{"/sys/class/dmi/id/product_serial: permission denied (some SMBIOS serials are readable only by root)"}, c.inv.Notes)
		return
	}
	inv, err := Collect(root, Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{"/sys/class/dmi/id/product_serial: permission denied (some SMBIOS serials are readable only by root)"}, inv.Notes)
}

func TestCollectEmptyAndBadRoots(t *testing.T) {
	inv, err := Collect(t.TempDir(), Options{})
	require.NoError(t, err)
	assert.Empty(t, inv.Components)
	assert.Empty(t, inv.Notes)

	_, err = Collect(filepath.Join(t.TempDir(), "missing"), Options{})
	assert.ErrorIs(t, err, os.ErrNotExist)
	f := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(f, nil, 0o644))
	_, err = Collect(f, Options{})
	assert.ErrorContains(t, err, "is not a folder")
}

func TestCPUFallbacks(t *testing.T) {
	root := t.TempDir()
	// arm64 /proc/cpuinfo has no "model name".
	write(t, root, "proc/cpuinfo", "processor\t: 0\nBogoMIPS\t: 48.00\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n\n"+
		"processor\t: 1\nBogoMIPS\t: 48.00\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n")
	inv, err := Collect(root, Options{})
	require.NoError(t, err)
	assert.Equal(t, []want{{CPU, "CPU implementer 0x41, CPU part 0xd0c x2", "/proc/cpuinfo"}}, components(inv))

	write(t, root, "proc/cpuinfo", "garbage\n")
	inv, err = Collect(root, Options{})
	require.NoError(t, err)
	assert.Empty(t, inv.Components)
	assert.Equal(t, []string{"/proc/cpuinfo: no processor found"}, inv.Notes)
}

func TestVPDSerial(t *testing.T) {
	for _, tc := range []struct {
		name string
		page []byte
		want string
	}{
		{"normal", append([]byte{0, 0x80, 0, 8}, "  ABC123"...), "ABC123"},
		{"NUL padded", append([]byte{0, 0x80, 0, 8}, "XYZ\x00\x00\x00\x00\x00"...), "XYZ"},
		{"length beyond the data", append([]byte{0, 0x80, 0x01, 0x00}, "SHORT"...), "SHORT"},
		{"wrong page", append([]byte{0, 0x83, 0, 4}, "ABCD"...), ""},
		{"header only", []byte{0, 0x80, 0, 0}, ""},
		{"truncated header", []byte{0, 0x80}, ""},
		{"empty", nil, ""},
	} {
		assert.Equal(t, tc.want, vpdSerial(tc.page), tc.name)
	}
}

// On this machine: Collect("/") works and finds what the machine visibly has. The expectations are
// derived here from the same files by simpler means, so the test follows the machine it runs on.
func TestCollectLiveMachine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("hardware inventory is collected from Linux /proc and /sys")
	}
	inv, err := Collect("/", Options{})
	require.NoError(t, err)
	for _, c := range inv.Components {
		t.Logf("%-18s %-40q %s", c.Class, c.Value, c.Source)
	}
	for _, n := range inv.Notes {
		t.Logf("note: %s", n)
	}
	has := func(class Class, value string) bool {
		for _, c := range inv.Components {
			if c.Class == class && (value == "" || strings.EqualFold(c.Value, value)) {
				return true
			}
		}
		return false
	}
	if _, err := os.Stat("/proc/cpuinfo"); err == nil {
		assert.True(t, has(CPU, ""), "a CPU component")
	}
	if _, err := os.Stat("/proc/meminfo"); err == nil {
		assert.True(t, has(Memory, ""), "a memory component")
	}
	nets, _ := filepath.Glob("/sys/class/net/*")
	for _, n := range nets {
		mac, err := os.ReadFile(filepath.Join(n, "address"))
		if _, derr := os.Stat(filepath.Join(n, "device")); err != nil || derr != nil {
			continue
		}
		if m := strings.TrimSpace(string(mac)); strings.Trim(m, "0:") != "" {
			assert.True(t, has(NIC, m), "NIC %s (%s)", filepath.Base(n), m)
		}
	}
	blocks, _ := filepath.Glob("/sys/block/*")
	for _, b := range blocks {
		serial, err := os.ReadFile(filepath.Join(b, "serial"))
		removable, _ := os.ReadFile(filepath.Join(b, "removable"))
		if err != nil || strings.TrimSpace(string(removable)) == "1" {
			continue
		}
		if s := strings.TrimSpace(string(serial)); s != "" {
			assert.True(t, has(Disk, s), "disk %s (%s)", filepath.Base(b), s)
		}
	}
	if v, err := os.ReadFile("/sys/class/dmi/id/bios_vendor"); err == nil && strings.TrimSpace(string(v)) != "" {
		assert.True(t, has(BIOS, ""), "a BIOS component")
	}
}

// The guest agent collects once per boot; this measures the cost on the laptop tree.
func BenchmarkCollect(b *testing.B) {
	root := tree("laptop")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Collect(root, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
