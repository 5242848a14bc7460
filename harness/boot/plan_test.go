package boot

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/oemact/oemact/harness/initramfs"
	"github.com/oemact/oemact/harness/kernel"
	"github.com/oemact/oemact/harness/qemu"
)

func TestPlan(t *testing.T) {
	k := &kernel.Kernel{Vmlinuz: "/k/vmlinuz", Vmlinux: "/k/vmlinux", Modules: cloudModules}
	s := Spec{Machine: qemu.Config{OEMID: "TSTOEM"}, Kernel: k, Agent: "/bin/oemact", Dir: "/a/boot-1", StateDisk: "/a/state.img", Timeout: 30 * time.Second}
	l := Plan(s)
	assert.Equal(t, "/k/vmlinux", l.Config.Kernel, "SeaBIOS boots the unpacked kernel through PVH")
	assert.Equal(t, "TSTOEM", l.Config.OEMID)
	assert.Equal(t, "/a/state.img", l.Config.StateDisk)
	assert.Equal(t, filepath.Join("/a/boot-1", ChannelSocket), l.Config.Channel.Socket)
	assert.Equal(t, "console=ttyS0 panic=-1 quiet cryptomgr.notests noreplace-smp no_timer_check noapictimer oemact.port=org.oemact.channel.0 oemact.state=1 oemact.timeout=25", l.Config.Append)
	two := s
	two.Machine.CPUs = 2
	assert.NotContains(t, Plan(two).Config.Append, "noapictimer", "more CPUs share the HPET as a broadcast timer, which crashes QEMU 7.2")
	assert.Contains(t, Plan(two).Config.Append, "no_timer_check oemact.port=")
	assert.Equal(t, "/bin/oemact", l.Initramfs.Init)
	assert.Equal(t, []string{"virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev", "virtio_pci", "virtio_console", "virtio_blk"},
		moduleNames(l.Initramfs.Modules), "the channel's driver first; disks; no NIC, no network driver")
	nic := s
	nic.Machine.NICs = []qemu.NIC{{MAC: "52:54:00:4f:45:01"}}
	assert.Equal(t, []string{"virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev", "virtio_pci", "virtio_console", "virtio_blk",
		"failover", "net_failover", "virtio_net"}, moduleNames(Plan(nic).Initramfs.Modules))
	noDisk := s
	noDisk.StateDisk = ""
	assert.NotContains(t, moduleNames(Plan(noDisk).Initramfs.Modules), "virtio_blk")
	assert.Empty(t, l.Config.Initrd, "Plan writes nothing")

	tpm := s
	tpm.Machine.TPM = &qemu.TPM{Socket: "tpm.sock"}
	assert.Equal(t, "/k/vmlinuz", Plan(tpm).Config.Kernel, "a TPM's tables reach where QEMU puts a PVH kernel's initrd")
	ovmf := s
	ovmf.Machine.Firmware = qemu.OVMF
	assert.Equal(t, "/k/vmlinuz", Plan(ovmf).Config.Kernel, "OVMF loads bzImages only")
	bare := s
	bare.Kernel = &kernel.Kernel{Vmlinuz: "/k/vmlinuz"}
	assert.Equal(t, "/k/vmlinuz", Plan(bare).Config.Kernel, "no unpacked kernel")
}

// cloudModules is the cloud kernel's module graph (its manifest's load order and depends=).
var cloudModules = []kernel.Module{
	{Name: "virtio_ring", Path: "/m/virtio_ring.ko"},
	{Name: "virtio", Path: "/m/virtio.ko", Depends: []string{"virtio_ring"}},
	{Name: "virtio_pci_legacy_dev", Path: "/m/virtio_pci_legacy_dev.ko"},
	{Name: "virtio_pci_modern_dev", Path: "/m/virtio_pci_modern_dev.ko"},
	{Name: "virtio_pci", Path: "/m/virtio_pci.ko", Depends: []string{"virtio_ring", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio"}},
	{Name: "virtio_blk", Path: "/m/virtio_blk.ko", Depends: []string{"virtio", "virtio_ring"}},
	{Name: "virtio_console", Path: "/m/virtio_console.ko", Depends: []string{"virtio", "virtio_ring"}},
	{Name: "failover", Path: "/m/failover.ko"},
	{Name: "net_failover", Path: "/m/net_failover.ko", Depends: []string{"failover"}},
	{Name: "virtio_net", Path: "/m/virtio_net.ko", Depends: []string{"net_failover", "virtio", "virtio_ring"}},
}

func moduleNames(ms []initramfs.Module) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return out
}
