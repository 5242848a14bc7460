package boot

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/oemact/oemact/harness/kernel"
	"github.com/oemact/oemact/harness/qemu"
)

func TestPlan(t *testing.T) {
	k := &kernel.Kernel{Vmlinuz: "/k/vmlinuz", Vmlinux: "/k/vmlinux", Modules: []kernel.Module{
		{Name: "virtio_ring", Path: "/m/virtio_ring.ko"}, {Name: "virtio", Path: "/m/virtio.ko", Depends: []string{"virtio_ring"}},
	}}
	s := Spec{Machine: qemu.Config{OEMID: "TSTOEM"}, Kernel: k, Agent: "/bin/oemact", Dir: "/a/boot-1", StateDisk: "/a/state.img", Timeout: 30 * time.Second}
	l := Plan(s)
	assert.Equal(t, "/k/vmlinux", l.Config.Kernel, "SeaBIOS boots the unpacked kernel through PVH")
	assert.Equal(t, "TSTOEM", l.Config.OEMID)
	assert.Equal(t, "/a/state.img", l.Config.StateDisk)
	assert.Equal(t, filepath.Join("/a/boot-1", ChannelSocket), l.Config.Channel.Socket)
	assert.Equal(t, "console=ttyS0 panic=-1 quiet cryptomgr.notests noreplace-smp oemact.port=org.oemact.channel.0 oemact.state=1 oemact.timeout=25", l.Config.Append)
	assert.Equal(t, "/bin/oemact", l.Initramfs.Init)
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
