// Package boot boots one test machine: it builds the initramfs (the static oemact as /init, the
// kernel's virtio modules), attaches the state disk, listens on the channel, runs QEMU and hands
// each message the guest agent sends to the caller's handler. The result has the agent's report,
// timings, the serial log and the command that reproduces the boot.
//
// A machine can also be kept running after its report (Spec.Resume) and take its next steps
// without a reboot (Running.Next): the runner does that when only the clock changes between two
// boot steps.
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
// no_timer_check is for robustness, not speed: the kernel checks at boot that the timer's
// interrupt arrives through the IO-APIC within a number of jiffies, and on a host so loaded that
// TCG falls behind it does not, and the kernel panics ("IO-APIC + timer doesn't work!"): seen in
// 2 of 9 boots of one test run at a load average of 15 on 2 cores, never on a quiet host. The
// timer works; the check only measures the host's load.
//
// OneCPUAppend is added for a machine with one CPU.
//
// Measured with the cloud kernel and left out: init_on_alloc=0, rcupdate.rcu_expedited=1, mitigations=off,
// tsc=reliable, 8250.nr_uarts=1, audit=0, nosmp, i8042.noaux with i8042.nokbd,
// and initcall_blacklist= of crypto_kdf108_init, init_kprobe_trace or
// load_system_certificate_list: none moved the floor beyond the noise (0.95-1.11).
const BaseAppend = "console=ttyS0 panic=-1 quiet cryptomgr.notests noreplace-smp no_timer_check"

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
	// Agent is the static binary to run as /init (oemact-agent or oemact); default DefaultAgent.
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
	// Resume keeps the machine running after the agent's report, for its next step (the plan
	// must say Resume too, so that the agent waits for another plan): Boot returns once the
	// report is answered, with Result.Running set. The Timeout then bounds each round.
	Resume bool
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
	// Round is 1 for a boot, n for the nth step of a machine kept running (Running.Next).
	Round int `json:"round"`
	// Running is the machine, still running after the round (Spec.Resume, Running.Next).
	Running *Running `json:"-"`
}

// Timings of one boot. For a later round of a machine kept running, Report and Total run from
// Running.Next, and QEMU, set only by the round that ends with QEMU's exit, is the machine's
// whole run.
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
var DefaultHandler = channel.DefaultHandler

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
// cleanly (or, with Spec.Resume, when the agent reported and the machine runs on: Result.Running);
// otherwise it is an *Error (with the Result), or a plain error when nothing could be started (no
// kernel, no agent binary).
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
		if s.Agent, _, err = DefaultAgent(); err != nil {
			return nil, fmt.Errorf("boot: %w", err)
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

	lay := Plan(s)
	t := time.Now()
	initrd, err := initramfs.WriteCached(s.InitramfsDir, lay.Initramfs)
	if err != nil {
		return nil, fmt.Errorf("boot: %w", err)
	}
	took := time.Since(t)

	c := lay.Config
	c.Initrd = initrd
	if s.StateDisk != "" {
		if err := statedisk.Create(s.StateDisk, statedisk.DefaultSize); err != nil {
			return nil, fmt.Errorf("boot: state disk: %w", err)
		}
	}
	l, err := channel.Listen(c.Channel.Socket)
	if err != nil {
		return nil, fmt.Errorf("boot: %w", err)
	}

	m := &session{spec: s, exited: make(chan struct{})}
	rounds, first := channel.NewRounds(s.Handler, s.Resume, start)
	m.rounds = rounds
	r := m.track(first)
	r.res.Initramfs, r.res.Timings.Initramfs = initrd, took
	runCtx, cancelRun := context.WithCancel(ctx)
	m.cancel = cancelRun

	served := make(chan struct{})
	go func() {
		defer close(served)
		conn, err := l.Accept(runCtx)
		if err != nil {
			return // QEMU never connected: its outcome says why
		}
		if err := channel.Serve(runCtx, conn, m.rounds.Handle, channel.Options{}); err != nil && runCtx.Err() == nil {
			m.mu.Lock()
			m.serveErr = err
			m.mu.Unlock()
			cancelRun() // the guest broke the protocol: stop the machine now
		}
	}()
	timeout := s.Timeout
	if s.Resume {
		// The machine outlives this boot: each round has its own timeout (session.wait), and
		// QEMU's own bounds only a machine nobody stops.
		timeout = maxMachineLife
	}
	go func() {
		qres, qerr := qemu.Run(runCtx, c, qemu.Options{
			Dir: dir, Timeout: timeout,
			Started: func(pid int) {
				m.mu.Lock()
				m.qemuStart = time.Now()
				m.mu.Unlock()
				if s.Started != nil {
					s.Started(pid)
				}
			},
			Launched: func(q qemu.Result) {
				m.mu.Lock()
				m.launched = &q
				m.mu.Unlock()
			},
			Ready: s.Ready,
		})
		cancelRun()
		<-served
		l.Close()
		m.mu.Lock()
		m.qres, m.qerr = qres, qerr
		m.mu.Unlock()
		close(m.exited)
	}()
	return m.wait(ctx, r, s.Resume)
}

// maxMachineLife bounds a machine kept running across steps (Spec.Resume) if nobody stops it.
const maxMachineLife = 24 * time.Hour

// stopWait is how long Running.Stop waits for the agent to power the machine off before killing
// it.
const stopWait = 10 * time.Second

// Running is a machine kept running after a round (Spec.Resume): its agent waits for the plan of
// the machine's next step.
type Running struct{ m *session }

// Next runs the machine's next step without a reboot: h answers the agent's hello (the plan),
// its requests and its report, as Spec.Handler does for a boot. With resume the machine runs on
// after the report again; without, the agent powers off and Next waits for QEMU's exit. The
// result's Round counts the machine's rounds; its Timings run from this call.
func (v *Running) Next(ctx context.Context, h channel.Handler, resume bool) (*Result, error) {
	m := v.m
	select {
	case <-m.exited:
		return nil, errors.New("boot: the machine is no longer running")
	default:
	}
	r := m.track(m.rounds.NewRound(h, resume, time.Now()))
	if err := m.rounds.Offer(r.Round); err != nil {
		return nil, fmt.Errorf("boot: %w", err)
	}
	return m.wait(ctx, r, true)
}

// Stop asks the agent to power the machine off (its pending hello is answered with
// Plan.PowerOff) and waits for QEMU's exit, killing it after stopWait. The error is nil when the
// machine powered off cleanly.
func (v *Running) Stop() error {
	m := v.m
	select {
	case <-m.exited:
	default:
		m.rounds.OfferStop()
		t := time.NewTimer(stopWait)
		defer t.Stop()
		select {
		case <-m.exited:
		case <-t.C:
			m.cancel()
			<-m.exited
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.qres == nil {
		return fmt.Errorf("boot: %w", m.qerr)
	}
	return m.qres.Err()
}

// session is one QEMU process and its channel, across the rounds of a machine kept running.
type session struct {
	spec   Spec
	rounds *channel.Rounds
	cancel context.CancelFunc // kills QEMU
	exited chan struct{}      // closed once QEMU exited and the channel is closed

	mu        sync.Mutex
	qemuStart time.Time
	launched  *qemu.Result // QEMU's command, folder and pid while it runs
	qres      *qemu.Result
	qerr      error
	serveErr  error
}

// round is one boot, or one step of a machine kept running, and what Boot reports of it.
type round struct {
	*channel.Round
	res *Result
}

func (m *session) track(r *channel.Round) *round {
	return &round{Round: r, res: &Result{Round: r.N}}
}

// wait waits for the end of round r: QEMU's exit or, for a round that resumes, the answered
// report (then the machine runs on). A round of a machine kept running has its own timeout;
// a plain boot's is QEMU's.
func (m *session) wait(ctx context.Context, r *round, ownTimeout bool) (*Result, error) {
	var timeout <-chan time.Time
	if ownTimeout {
		t := time.NewTimer(m.spec.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	reported := r.Reported()
	if !r.Resume {
		reported = nil
	}
	var timedOut bool
	select {
	case <-m.exited:
	case <-reported:
	case <-timeout:
		timedOut = true
		m.cancel()
		<-m.exited
	case <-ctx.Done():
		m.cancel()
		<-m.exited
	}
	said := m.rounds.Result(r.Round)
	r.res.Messages, r.res.Report, r.res.GuestError = said.Messages, said.Report, said.GuestError
	if said.Report != nil {
		r.res.Timings.Report = said.ReportAt.Sub(r.Start)
	}
	m.mu.Lock()
	if said.Report != nil && r.N == 1 && !m.qemuStart.IsZero() {
		r.res.Timings.Report = said.ReportAt.Sub(m.qemuStart)
	}
	running := !timedOut && ctx.Err() == nil
	select {
	case <-m.exited:
		running = false
	default:
	}
	if running && said.HostErr != nil {
		// The host could not take the report: the machine has nothing more to do.
		m.mu.Unlock()
		m.cancel()
		<-m.exited
		m.mu.Lock()
		running = false
	}
	defer m.mu.Unlock()
	res := r.res
	res.Timings.Total = time.Since(r.Start)
	if running {
		// The agent reported and waits for the next step.
		res.QEMU = m.launched
		res.Running = &Running{m: m}
		return res, nil
	}
	if m.qres == nil {
		if m.launched == nil {
			return nil, fmt.Errorf("boot: %w", m.qerr)
		}
		res.QEMU = m.launched
		return res, &Error{Result: res, Err: m.qerr}
	}
	res.QEMU = m.qres
	if res.Round == 1 {
		res.Timings.QEMU = m.qres.Elapsed
	} else {
		res.Timings.QEMU = time.Since(m.qres.Start)
	}
	switch {
	case timedOut:
		q := *m.qres // killed by this round's timer: a timeout, as QEMU's own would say
		q.Outcome = qemu.Timeout
		res.QEMU = &q
		return res, &Error{Result: res, Err: fmt.Errorf("timeout: the step did not finish within %s (round %d of a machine kept running): %w",
			m.spec.Timeout, res.Round, &qemu.Error{Result: &q})}
	case m.serveErr != nil:
		return res, &Error{Result: res, Err: fmt.Errorf("the guest broke the channel protocol: %w", m.serveErr)}
	case res.GuestError != nil:
		return res, &Error{Result: res, Err: &GuestError{Stage: res.GuestError.Stage, Message: res.GuestError.Message}}
	case said.HostErr != nil:
		return res, &Error{Result: res, Err: said.HostErr}
	case m.qerr != nil:
		return res, &Error{Result: res, Err: m.qerr}
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
