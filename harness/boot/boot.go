// Package boot boots one test machine: it builds the initramfs (the static oemact as /init, the
// kernel's virtio modules), attaches the state disk, listens on the channel, runs QEMU and hands
// each message the guest agent sends to the caller's handler. The result has the agent's report,
// timings, the serial log and the command that reproduces the boot.
//
// What the report means (tables, findings, licence state) is the caller's: a scenario runner.
package boot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/oemact/oemact/harness/agent"
	"github.com/oemact/oemact/harness/channel"
	"github.com/oemact/oemact/harness/initramfs"
	"github.com/oemact/oemact/harness/kernel"
	"github.com/oemact/oemact/harness/qemu"
	"github.com/oemact/oemact/harness/statedisk"
)

// ChannelSocket is the channel's socket file in the artifacts folder.
const ChannelSocket = "channel.sock"

// BaseAppend is the kernel command line every boot starts with: the console on the first UART,
// and panic=-1 so that a dying init resets the machine, which -no-reboot turns into QEMU exiting
// (notes/qemu.md). "quiet" keeps the serial log short; the agent reads the ACPI lines with
// syslog(2), which is unaffected. The rest shortens the guest kernel's boot under TCG, each
// measured alone on the floor of the default machine with the boot benchmark (-try-append):
//   - cryptomgr.notests skips the crypto API's self-tests (0.83 of the floor: about 0.5 s);
//   - noreplace-smp keeps the SMP instructions on a one-CPU guest instead of rewriting every lock
//     prefix (0.93 of the floor; the kernel's patching phase 0.42-0.47 s -> 0.19-0.23 s), as a
//     guest with two CPUs runs anyway.
//
// OneCPUAppend is added for a machine with one CPU.
//
// Measured with the cloud kernel and left out: init_on_alloc=0, rcupdate.rcu_expedited=1, mitigations=off,
// no_timer_check, tsc=reliable, 8250.nr_uarts=1, audit=0, nosmp, i8042.noaux with i8042.nokbd,
// and initcall_blacklist= of crypto_kdf108_init, init_kprobe_trace or
// load_system_certificate_list: none moved the floor beyond the noise (0.95-1.11).
const BaseAppend = "console=ttyS0 panic=-1 quiet cryptomgr.notests noreplace-smp"

// OneCPUAppend is added to the command line of a machine with one CPU: noapictimer skips
// calibrating the local APIC timer against the PIT, which takes 100 ms of jiffies
// (LAPIC_CAL_LOOPS) because QEMU's TCG has no TSC deadline timer; the HPET drives the clock
// events instead (the boot benchmark: 0.89 of the floor with the built kernel; 40 of 40 boots
// clean). Not with more CPUs: they then share the HPET as a broadcast timer, and QEMU 7.2 under
// TCG died of a segmentation fault in 2 of 25 such boots with the built kernel and 1 of 15 with
// the cloud kernel (none in 25 without the option).
const OneCPUAppend = "noapictimer"

// Spec is one boot of one machine.
type Spec struct {
	// Machine is the hardware: memory, CPUs, NICs, disks, tables, firmware. Kernel, Initrd, Append,
	// Channel and StateDisk are filled in by Boot.
	Machine qemu.Config
	Kernel  *kernel.Kernel
	// Agent is the static oemact binary to run as /init; default this executable.
	Agent string
	// StateDisk is the machine's state disk image, created blank (statedisk.DefaultSize) if
	// missing and kept across boots; "" boots without one.
	StateDisk string
	// Dir is the artifacts folder of this boot: serial log, QEMU's stderr, the channel socket
	// while it runs.
	Dir string
	// InitramfsDir caches built initramfs archives by content hash; default Dir.
	InitramfsDir string
	// Handler answers the agent's requests; default DefaultHandler.
	Handler channel.Handler
	// Timeout bounds the boot; default qemu.DefaultTimeout. The agent's watchdog is set 5 s
	// shorter, so a stuck agent reports itself before the host kills the machine.
	Timeout time.Duration
	// Append adds kernel command line words.
	Append string
	// Started and Ready are passed to qemu.Options.
	Started, Ready func(pid int)
}

// Result is what one boot did.
type Result struct {
	QEMU *qemu.Result `json:"qemu"`
	// Report is the agent's report, nil if none arrived.
	Report *channel.Report `json:"report,omitempty"`
	// GuestError is the error the agent reported, if any.
	GuestError *channel.Error `json:"guest_error,omitempty"`
	Messages   int            `json:"messages"`
	Initramfs  string         `json:"initramfs"`
	Timings    Timings        `json:"timings"`
}

// Timings of one boot.
type Timings struct {
	Initramfs time.Duration `json:"initramfs"` // building (or finding) the archive
	// Report is from QEMU's start to the agent's report arriving.
	Report time.Duration `json:"report"`
	// QEMU is from QEMU's start to its exit.
	QEMU  time.Duration `json:"qemu"`
	Total time.Duration `json:"total"`
}

// Error is a boot that did not end with the agent reporting and powering off: an infrastructure
// failure, not a test verdict.
type Error struct {
	Result *Result
	Err    error
}

func (e *Error) Error() string {
	var qe *qemu.Error
	if errors.As(e.Err, &qe) {
		return e.Err.Error()
	}
	s := e.Err.Error()
	if q := e.Result.QEMU; q != nil {
		s += fmt.Sprintf("\n  serial log: %s\n  reproduce: %s", q.Serial, q.Command)
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// ErrNoReport means the guest powered off without reporting: the agent could not reach the host
// (see the serial log).
var ErrNoReport = errors.New("the guest powered off without sending a report")

// GuestError is the agent's own error report.
type GuestError struct{ Stage, Message string }

func (e *GuestError) Error() string {
	return fmt.Sprintf("the guest agent failed at %s: %s", e.Stage, e.Message)
}

// DefaultHandler gives an empty plan (raw report only), accepts a report without sending state,
// and acknowledges an error.
func DefaultHandler(ctx context.Context, m *channel.Message) (channel.Type, any, error) {
	switch m.Type {
	case channel.TypeHello:
		return channel.TypePlan, channel.Plan{}, nil
	case channel.TypeReport:
		return channel.TypeReply, channel.Reply{}, nil
	case channel.TypeError:
		return channel.TypeAck, nil, nil
	}
	return "", nil, fmt.Errorf("the host does not handle %q", m.Type)
}

// Layout is what Boot runs for a Spec: the machine with its kernel, initramfs, command line,
// channel and state disk filled in, the archive's contents, and the options the agent is given.
type Layout struct {
	Config    qemu.Config
	Initramfs initramfs.Spec
	Agent     agent.Options
}

// Plan returns the Layout Boot runs for s, with s's defaults applied (its Agent must be set). It
// writes nothing: Config.Initrd is empty until the archive is built (initramfs.WriteCached).
func Plan(s Spec) Layout {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = qemu.DefaultTimeout
	}
	l := Layout{Initramfs: initramfs.Spec{Init: s.Agent}}
	c := s.Machine
	c.Kernel = s.Kernel.Vmlinuz
	if usePVH(s.Kernel, c) {
		c.Kernel = s.Kernel.Vmlinux
	}
	l.Agent = agent.Options{Port: channel.DefaultPortName, Timeout: timeout - 5*time.Second}
	if l.Agent.Timeout < time.Second {
		l.Agent.Timeout = time.Second
	}
	if s.StateDisk != "" {
		c.StateDisk = s.StateDisk
		l.Agent.StateDisk = true
	}
	base := BaseAppend
	if c.CPUs <= 1 {
		base += " " + OneCPUAppend
	}
	c.Append = strings.Join(nonEmpty(base, l.Agent.Cmdline(), s.Append), " ")
	c.Channel = &qemu.Channel{Socket: filepath.Join(s.Dir, ChannelSocket), Name: l.Agent.Port}
	for _, m := range modulesFor(s.Kernel, c) {
		l.Initramfs.Modules = append(l.Initramfs.Modules, initramfs.Module{Name: m.Name, Path: m.Path})
	}
	l.Config = c
	return l
}

// modulesFor returns the kernel modules the machine's devices need, in the order the agent loads
// them: the channel's first, because its port appears only after the device and QEMU have talked
// (asynchronously), which then happens while the other drivers load; then the disks' and NICs'.
// A machine without NICs loads no network driver, one without virtio devices none at all.
func modulesFor(k *kernel.Kernel, c qemu.Config) []kernel.Module {
	var roots []string
	if c.Channel != nil {
		roots = append(roots, "virtio_console")
	}
	if len(c.Disks) > 0 || c.StateDisk != "" {
		roots = append(roots, "virtio_blk")
	}
	if len(c.NICs) > 0 {
		roots = append(roots, "virtio_net")
	}
	if len(roots) == 0 {
		return nil
	}
	roots = append([]string{"virtio_pci"}, roots...)
	var out []kernel.Module
	seen := map[string]bool{}
	for i := range roots {
		for _, m := range k.Needed(roots[:i+1]...) {
			if !seen[m.Name] {
				seen[m.Name] = true
				out = append(out, m)
			}
		}
	}
	return out
}

// usePVH says whether the machine boots the unpacked kernel through PVH (QEMU's pvh.bin option
// ROM), which skips the bzImage's setup code and decompressor: the boot benchmark measured the
// floor of the default machine 0.82 of a plain boot with it, 1.09 without. Only under SeaBIOS
// (OVMF loads bzImages only), and not with a TPM: QEMU 7.2 puts a PVH kernel's initrd 160 KB
// below the top of RAM, and SeaBIOS's tables with a TPM's event log reach lower than that, so the
// initrd overwrites the RSDT (measured: garbage tables, no ACPI, a halt instead of a power-off).
// Without a TPM the lowest table sat 32 KB above the initrd's end; the bzImage path leaves 256 KB.
func usePVH(k *kernel.Kernel, c qemu.Config) bool {
	return k.Vmlinux != "" && (c.Firmware == "" || c.Firmware == qemu.SeaBIOS) && c.TPM == nil
}

// Boot boots the machine once. The error is nil only when the agent reported and QEMU powered off
// cleanly; otherwise it is an *Error (with the Result), or a plain error when nothing could be
// started (no kernel, no agent binary).
func Boot(ctx context.Context, s Spec) (*Result, error) {
	start := time.Now()
	if s.Kernel == nil || s.Kernel.Vmlinuz == "" {
		return nil, errors.New("boot: no kernel: locate one with kernel.Locate")
	}
	if s.Dir == "" {
		return nil, errors.New("boot: Spec.Dir (the artifacts folder) is required")
	}
	dir, err := filepath.Abs(s.Dir)
	if err != nil {
		return nil, err
	}
	s.Dir = dir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("boot: %w", err)
	}
	if s.Agent == "" {
		if s.Agent, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("boot: finding the oemact binary: %w", err)
		}
	}
	if s.Timeout <= 0 {
		s.Timeout = qemu.DefaultTimeout
	}
	if s.InitramfsDir == "" {
		s.InitramfsDir = dir
	}
	if s.Handler == nil {
		s.Handler = DefaultHandler
	}
	res := &Result{}

	lay := Plan(s)
	t := time.Now()
	if res.Initramfs, err = initramfs.WriteCached(s.InitramfsDir, lay.Initramfs); err != nil {
		return nil, fmt.Errorf("boot: %w", err)
	}
	res.Timings.Initramfs = time.Since(t)

	c := lay.Config
	c.Initrd = res.Initramfs
	if s.StateDisk != "" {
		if err := statedisk.Create(s.StateDisk, statedisk.DefaultSize); err != nil {
			return nil, fmt.Errorf("boot: state disk: %w", err)
		}
	}
	sock := c.Channel.Socket

	l, err := channel.Listen(sock)
	if err != nil {
		return nil, fmt.Errorf("boot: %w", err)
	}
	defer l.Close()

	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	var (
		mu        sync.Mutex
		qemuStart time.Time
		serveErr  error
		hostErr   error
	)
	handler := func(hctx context.Context, m *channel.Message) (channel.Type, any, error) {
		mu.Lock()
		res.Messages++
		mu.Unlock()
		switch m.Type {
		case channel.TypeReport:
			r, err := channel.PayloadOf[channel.Report](m)
			if err != nil {
				return "", nil, &channel.FatalError{Err: err}
			}
			mu.Lock()
			res.Report = &r
			if !qemuStart.IsZero() {
				res.Timings.Report = time.Since(qemuStart)
			}
			mu.Unlock()
		case channel.TypeError:
			e, err := channel.PayloadOf[channel.Error](m)
			if err != nil {
				return "", nil, &channel.FatalError{Err: err}
			}
			mu.Lock()
			res.GuestError = &e
			mu.Unlock()
		}
		typ, payload, err := s.Handler(hctx, m)
		if err != nil {
			mu.Lock()
			if hostErr == nil {
				hostErr = fmt.Errorf("the host's handler failed on %s: %w", m.Type, err)
			}
			mu.Unlock()
		}
		return typ, payload, err
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		conn, err := l.Accept(runCtx)
		if err != nil {
			return // QEMU never connected: its outcome says why
		}
		if err := channel.Serve(runCtx, conn, handler, channel.Options{}); err != nil && runCtx.Err() == nil {
			mu.Lock()
			serveErr = err
			mu.Unlock()
			cancelRun() // the guest broke the protocol: stop the machine now
		}
	}()

	qres, qerr := qemu.Run(runCtx, c, qemu.Options{
		Dir: dir, Timeout: s.Timeout,
		Started: func(pid int) {
			mu.Lock()
			qemuStart = time.Now()
			mu.Unlock()
			if s.Started != nil {
				s.Started(pid)
			}
		},
		Ready: s.Ready,
	})
	cancelRun()
	<-served
	l.Close()
	if qres == nil {
		return nil, fmt.Errorf("boot: %w", qerr)
	}
	res.QEMU = qres
	res.Timings.QEMU = qres.Elapsed
	res.Timings.Total = time.Since(start)

	mu.Lock()
	defer mu.Unlock()
	switch {
	case serveErr != nil:
		return res, &Error{Result: res, Err: fmt.Errorf("the guest broke the channel protocol: %w", serveErr)}
	case res.GuestError != nil:
		return res, &Error{Result: res, Err: &GuestError{Stage: res.GuestError.Stage, Message: res.GuestError.Message}}
	case hostErr != nil:
		return res, &Error{Result: res, Err: hostErr}
	case qerr != nil:
		return res, &Error{Result: res, Err: qerr}
	case res.Report == nil:
		return res, &Error{Result: res, Err: ErrNoReport}
	}
	return res, nil
}

func nonEmpty(s ...string) []string {
	var out []string
	for _, x := range s {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}
