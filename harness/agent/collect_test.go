package agent

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/channel"
	"github.com/oemact/oemact/harness/statedisk"
)

func write(t *testing.T, root, rel string, data []byte) {
	t.Helper()
	p := filepath.Join(root, rel)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, data, 0o644))
}

// fakeGuest lays out what a q35 guest's /proc and /sys show, with the real Dell tables as the
// ACPI files.
func fakeGuest(t *testing.T) (root string, slic []byte) {
	root = t.TempDir()
	fixtures := filepath.Join("..", "..", "fixtures", "acpi", "dell-inspiron-14-3462")
	slic, err := os.ReadFile(filepath.Join(fixtures, "SLIC"))
	require.NoError(t, err)
	msdm, err := os.ReadFile(filepath.Join(fixtures, "MSDM"))
	require.NoError(t, err)
	tables := "sys/firmware/acpi/tables/"
	write(t, root, tables+"SLIC", slic)
	write(t, root, tables+"MSDM", msdm)
	write(t, root, tables+"SSDT1", []byte("SSDT one"))
	write(t, root, tables+"SSDT2", []byte("SSDT two"))
	write(t, root, tables+"dynamic/SSDT3", []byte("loaded at run time"))
	write(t, root, tables+"data/BERT", []byte("not a table"))
	write(t, root, "sys/firmware/dmi/tables/smbios_entry_point", []byte("_SM_entry"))
	write(t, root, "sys/firmware/dmi/tables/DMI", []byte{1, 4, 0, 0, 0, 0})
	write(t, root, "sys/class/net/lo/address", []byte("00:00:00:00:00:00\n"))
	write(t, root, "sys/class/net/eth0/address", []byte("52:54:00:4f:45:01\n"))
	write(t, root, "sys/block/vda/serial", []byte("TSTDISK0417"))
	write(t, root, "sys/block/vda/size", []byte("16384\n"))
	write(t, root, "sys/block/vdb/serial", []byte(statedisk.Serial))
	write(t, root, "sys/block/vdb/size", []byte("2048\n"))
	write(t, root, "sys/block/loop0/size", []byte("0\n"))
	write(t, root, "proc/meminfo", []byte("MemTotal:         225640 kB\nMemFree:          190000 kB\n"))
	write(t, root, "proc/cpuinfo", []byte("processor\t: 0\nmodel name\t: QEMU Virtual CPU\n\nprocessor\t: 1\n"))
	write(t, root, "proc/sys/kernel/osrelease", []byte("6.1.0-56-cloud-amd64\n"))
	write(t, root, "proc/cmdline", []byte("console=ttyS0 panic=-1 oemact.state=1\n"))
	return root, slic
}

func TestCollect(t *testing.T) {
	root, slic := fakeGuest(t)
	r := Collect(root)
	var names []string
	for _, b := range r.ACPITables {
		names = append(names, b.Name)
	}
	assert.Equal(t, []string{"MSDM", "SLIC", "SSDT1", "SSDT2", "dynamic/SSDT3"}, names)
	assert.Equal(t, slic, r.ACPITables[1].Data)
	assert.Equal(t, []byte("_SM_entry"), r.SMBIOSEntryPoint)
	assert.Equal(t, []byte{1, 4, 0, 0, 0, 0}, r.SMBIOSTable)
	assert.Equal(t, channel.Devices{
		NICs:       []channel.NIC{{Name: "eth0", MAC: "52:54:00:4f:45:01"}},
		Disks:      []channel.Disk{{Name: "vda", Serial: "TSTDISK0417", SizeBytes: 8 << 20}, {Name: "vdb", Serial: statedisk.Serial, SizeBytes: 1 << 20}},
		MemTotalKB: 225640,
		CPUs:       2,
	}, r.Devices)
	assert.Equal(t, "6.1.0-56-cloud-amd64", r.Agent.KernelRelease)
	assert.Equal(t, "console=ttyS0 panic=-1 oemact.state=1", r.Agent.Cmdline)
	assert.Empty(t, r.Notes)

	dev, ok := FindStateDisk(root)
	assert.True(t, ok)
	assert.Equal(t, filepath.Join(root, "dev", "vdb"), dev)
}

func TestCollectMissingPartsAreNotes(t *testing.T) {
	r := Collect(t.TempDir())
	assert.Empty(t, r.ACPITables)
	require.Len(t, r.Notes, 3)
	assert.Contains(t, r.Notes[0], "ACPI tables:")
	assert.Contains(t, r.Notes[1], "SMBIOS entry point:")
	assert.Contains(t, r.Notes[2], "SMBIOS table:")
}

func TestLoadState(t *testing.T) {
	dir := t.TempDir()
	disk := filepath.Join(dir, "state.img")
	require.NoError(t, statedisk.Create(disk, 4096))

	var r channel.Report
	LoadState(&r, "")
	assert.Equal(t, "absent", r.StateStatus)

	r = channel.Report{}
	LoadState(&r, disk)
	assert.Equal(t, "blank", r.StateStatus)

	require.NoError(t, statedisk.Write(disk, []byte(`{"status":1}`)))
	r = channel.Report{}
	LoadState(&r, disk)
	assert.Equal(t, "ok", r.StateStatus)
	assert.JSONEq(t, `{"status":1}`, string(r.State))

	f, err := os.OpenFile(disk, os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte("X"), statedisk.HeaderSize+3)
	require.NoError(t, err)
	f.Close()
	r = channel.Report{}
	LoadState(&r, disk)
	assert.Equal(t, "damaged", r.StateStatus)
	assert.Contains(t, r.StateError, "CRC-32")
	assert.Nil(t, r.State)
}

func TestParseCmdline(t *testing.T) {
	o, err := ParseCmdline("console=ttyS0 panic=-1 quiet")
	require.NoError(t, err)
	assert.Equal(t, Options{Port: channel.DefaultPortName, Timeout: DefaultTimeout}, o)

	want := Options{Port: "org.example.p", StateDisk: true, Timeout: 12 * time.Second}
	o, err = ParseCmdline("console=ttyS0 " + want.Cmdline())
	require.NoError(t, err)
	assert.Equal(t, want, o, "Cmdline and ParseCmdline agree")

	_, err = ParseCmdline("oemact.timeout=soon")
	assert.ErrorContains(t, err, "oemact.timeout=soon: want a positive number of seconds")
	_, err = ParseCmdline("oemact.port=")
	assert.ErrorContains(t, err, "oemact.port= is empty")
}
