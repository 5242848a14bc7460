package boot

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/oemact/oemact/harness/channel"
	"github.com/oemact/oemact/harness/kernel"
	"github.com/oemact/oemact/harness/qemu"
)

// Machine is one test machine across boots: its hardware (changed between boots by editing
// Config), its state disk (Dir/state.img, kept across boots), and a folder per boot
// (Dir/boot-1, Dir/boot-2...).
type Machine struct {
	Name   string
	Config qemu.Config
	Kernel *kernel.Kernel
	// Agent is the static binary to run as /init (oemact-agent or oemact); default DefaultAgent.
	Agent string
	Dir   string
	// InitramfsDir caches initramfs archives; default Dir.
	InitramfsDir string
	// Timeout per boot; default qemu.DefaultTimeout.
	Timeout time.Duration
	// Boots counts the boots so far.
	Boots int
	// NoStateDisk leaves the state disk out: for a machine that boots only once, which has no
	// state to keep for a later boot. The boot is one virtio disk smaller and the agent neither
	// waits for the disk nor writes it.
	NoStateDisk bool
}

// StateDisk is the machine's state disk image.
func (m *Machine) StateDisk() string { return filepath.Join(m.Dir, "state.img") }

// BootDir is the artifacts folder of boot n (1-based).
func (m *Machine) BootDir(n int) string { return filepath.Join(m.Dir, fmt.Sprintf("boot-%d", n)) }

// Boot boots the machine once more, with h answering the agent (nil: DefaultHandler).
func (m *Machine) Boot(ctx context.Context, h channel.Handler) (*Result, error) {
	return m.Start(ctx, h, false)
}

// Start boots the machine once more; with resume it keeps running after the agent's report
// (Spec.Resume): the result's Running takes its next step.
func (m *Machine) Start(ctx context.Context, h channel.Handler, resume bool) (*Result, error) {
	m.Boots++
	state := m.StateDisk()
	if m.NoStateDisk {
		state = ""
	}
	return Boot(ctx, Spec{
		Machine: m.Config, Kernel: m.Kernel, Agent: m.Agent, StateDisk: state,
		Dir: m.BootDir(m.Boots), InitramfsDir: m.InitramfsDir, Handler: h, Timeout: m.Timeout, Resume: resume,
	})
}
