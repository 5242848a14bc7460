package qemu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/oemact/oemact/harness/hosttool"
	"github.com/oemact/oemact/harness/internal/unixsock"
)

// DefaultTimeout bounds one boot when Options.Timeout is zero: 60 s, over ten times the slowest
// boot measured in notes/qemu.md (q35 + OVMF under TCG, 5.3 s), so that a loaded CI host does not
// turn a slow boot into a false hang.
const DefaultTimeout = 60 * time.Second

// Files Run creates in the artifacts folder.
const (
	SerialLogName = "serial.log"
	StderrName    = "qemu.stderr"
	qmpName       = "qmp.sock"
)

// Outcome is how a run ended.
type Outcome int

const (
	// PowerOff: the guest powered the machine off (QMP SHUTDOWN reason guest-shutdown), QEMU exited 0.
	PowerOff Outcome = iota
	// GuestPanic: the guest kernel panicked (init died, for instance); with panic=-1 and
	// -no-reboot, QEMU exits after the reset. The serial log has the panic.
	GuestPanic
	// GuestReset: the guest reset the machine without a panic on the console.
	GuestReset
	// Timeout: the guest was still running at the deadline (a hang); QEMU was killed.
	Timeout
	// StartFailed: QEMU exited before running the guest (a bad option, a missing file); see Stderr.
	StartFailed
	// Crashed: QEMU died while running the guest (a signal, a non-zero exit).
	Crashed
	// Canceled: the caller's context ended first; QEMU was killed.
	Canceled
)

var outcomeNames = [...]string{
	PowerOff: "power-off", GuestPanic: "guest-panic", GuestReset: "guest-reset", Timeout: "timeout",
	StartFailed: "qemu-start-failed", Crashed: "qemu-crashed", Canceled: "canceled",
}

func (o Outcome) String() string {
	if o >= 0 && int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}

// MarshalText gives the name String prints, for JSON reports.
func (o Outcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// Options tune Run.
type Options struct {
	// Dir is the artifacts folder (created if missing). QEMU runs in it, and Run writes the serial
	// log, QEMU's stderr and its QMP socket there; nothing else is created anywhere.
	Dir string
	// Timeout is how long the guest may run; default DefaultTimeout.
	Timeout time.Duration
	// QEMU is the qemu-system-x86_64 binary; default from hosttool (OEMACT_QEMU or PATH).
	QEMU string
	// Started is called with QEMU's pid once it has started; Ready once QEMU has finished
	// setting up and runs the guest (it answered on QMP).
	Started, Ready func(pid int)
	// Launched, when set, is called once QEMU has started with the result so far: the command,
	// folder, serial log, accelerator, pid and start time (for a caller that reports on a
	// machine before it exits).
	Launched func(Result)
	// Probe is used when the Config's Accel is AccelAuto; default the process-wide ChooseAccel.
	Probe func(ctx context.Context, kernel, dir string) AccelChoice
	// CanaryKernel is the kernel the KVM probe boots when the Config boots a disk or CD-ROM
	// (which has no kernel of its own to probe with). Without one such a run uses TCG.
	CanaryKernel string
}

// prepare resolves the options, makes the artifacts folder, chooses the accelerator and the
// arguments, and makes the boot overlay of a disk image (cleanup removes it).
func prepare(ctx context.Context, c Config, o *Options) (res *Result, args []string, cleanup func(), err error) {
	cleanup = func() {}
	if o.Dir == "" {
		return nil, nil, nil, errors.New("qemu: Options.Dir (the artifacts folder) is required")
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, nil, fmt.Errorf("qemu: artifacts folder: %w", err)
	}
	if o.QEMU == "" {
		if o.QEMU, err = hosttool.Find("qemu-system-x86_64"); err != nil {
			return nil, nil, nil, err
		}
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	backing, err := withOverlay(&c)
	if err != nil {
		return nil, nil, nil, err
	}
	c = localize(c, dir)
	res = &Result{Dir: dir, Serial: filepath.Join(dir, SerialLogName)}
	if c.Accel == AccelAuto {
		c.Accel, res.Why = chooseFor(ctx, c, *o, dir)
	}
	res.Accel = c.Accel
	c.SerialLog = SerialLogName
	c.QMPSocket = qmpName
	args, err = Args(c)
	if err != nil {
		return nil, nil, nil, err
	}
	res.Argv = append([]string{o.QEMU}, args...)
	res.Command = CommandLine(dir, o.QEMU, args)
	if backing != "" {
		if err := makeOverlay(ctx, res, backing, c.Image, args); err != nil {
			return nil, nil, nil, err
		}
		cleanup = func() { os.Remove(filepath.Join(dir, OverlayName)) }
	}
	return res, args, cleanup, nil
}

// judge says how the run ended, from who killed QEMU (PowerOff: nobody), its exit, and what QMP
// reported.
func (res *Result) judge(killed Outcome, mon *qmpWatch) {
	switch {
	case killed != PowerOff:
		res.Outcome = killed
	case res.Signal != "":
		res.Outcome = Crashed
	case !mon.isReady() && res.Exit != 0:
		res.Outcome = StartFailed
	case res.Exit != 0:
		res.Outcome = Crashed
	case mon.panicked() || res.Panic != "":
		res.Outcome = GuestPanic
	case res.Reason == "guest-shutdown":
		res.Outcome = PowerOff
	case res.Reason == "guest-reset":
		res.Outcome = GuestReset
	default:
		// Exit 0 with no guest shutdown: QEMU was told to quit from outside (host-signal, a QMP
		// quit from someone else) or never reported why.
		res.Outcome = Crashed
		if res.Reason != "" {
			res.Stderr = strings.TrimSpace(res.Stderr + "\nQEMU shut down for reason " + res.Reason)
		}
	}
}

// Result is what happened in one run.
type Result struct {
	Outcome Outcome       `json:"outcome"`
	Accel   Accel         `json:"accel"`
	Why     string        `json:"accel_reason,omitempty"` // why this accelerator
	Command string        `json:"command"`                // shell command that reproduces the run
	Argv    []string      `json:"argv"`
	Dir     string        `json:"dir"`
	Serial  string        `json:"serial_log"`
	Stderr  string        `json:"stderr,omitempty"` // QEMU's stderr (the last 8 KB)
	Exit    int           `json:"exit_code"`        // -1 when killed by a signal
	Signal  string        `json:"signal,omitempty"`
	Reason  string        `json:"shutdown_reason,omitempty"` // QMP SHUTDOWN reason
	Panic   string        `json:"panic,omitempty"`           // the guest's "Kernel panic" line
	Start   time.Time     `json:"start"`
	Ready   time.Duration `json:"ready_after"` // start to QEMU running the guest
	Elapsed time.Duration `json:"elapsed"`     // start to exit
	PID     int           `json:"pid"`
}

// Err returns nil for a clean power-off, else an *Error describing the outcome.
func (r *Result) Err() error {
	if r == nil || r.Outcome == PowerOff {
		return nil
	}
	return &Error{Result: r}
}

// Error is a run that did not end in a clean power-off: an infrastructure failure for the caller,
// not a test verdict.
type Error struct{ Result *Result }

func (e *Error) Error() string {
	r := e.Result
	var what string
	switch r.Outcome {
	case GuestPanic:
		what = "the guest kernel panicked: " + r.Panic
	case GuestReset:
		what = "the guest reset the machine instead of powering off"
	case Timeout:
		what = fmt.Sprintf("the guest was still running after %s and was killed (a hang?)", r.Elapsed.Round(time.Millisecond))
	case StartFailed:
		what = "QEMU failed to start: " + firstLines(r.Stderr, 3)
	case Crashed:
		if r.Signal != "" {
			what = "QEMU was killed by " + r.Signal
		} else {
			what = fmt.Sprintf("QEMU exited with status %d while running the guest", r.Exit)
		}
		if r.Stderr != "" {
			what += ": " + firstLines(r.Stderr, 3)
		}
	case Canceled:
		what = "the run was canceled and QEMU killed"
	default:
		what = r.Outcome.String()
	}
	return fmt.Sprintf("%s\n  serial log: %s\n  reproduce: %s", what, r.Serial, r.Command)
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, "\n    ")
}

// Run starts QEMU for c and waits until it exits, the timeout passes or ctx ends; it never leaves
// QEMU running. The error is nil only for a clean power-off: a *Error (with the Result) for any
// other outcome, another error when QEMU could not even be launched (the Result is nil then).
func Run(ctx context.Context, c Config, o Options) (*Result, error) {
	res, args, cleanup, err := prepare(ctx, c, &o)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	dir := res.Dir

	// The serial log starts empty even if QEMU never opens it, so callers can always read it.
	if err := os.WriteFile(res.Serial, nil, 0o644); err != nil {
		return nil, fmt.Errorf("qemu: %w", err)
	}
	qmpL, err := unixsock.Listen(filepath.Join(dir, qmpName))
	if err != nil {
		return nil, fmt.Errorf("qemu: QMP socket: %w", err)
	}
	defer qmpL.Close()
	stderrFile, err := os.Create(filepath.Join(dir, StderrName))
	if err != nil {
		return nil, fmt.Errorf("qemu: %w", err)
	}
	defer stderrFile.Close()
	tail := &tailBuffer{max: 8 << 10}

	cmd := exec.Command(o.QEMU, args...)
	cmd.Dir = dir
	cmd.Stdout = io.MultiWriter(stderrFile, tail)
	cmd.Stderr = cmd.Stdout
	// Anything QEMU puts in TMPDIR lands in the artifacts folder.
	cmd.Env = append(os.Environ(), "TMPDIR="+dir)
	// Its own process group, so a kill reaches anything it starts; SIGKILL if this process dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}

	res.Start = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("qemu: starting %s: %w", o.QEMU, err)
	}
	res.PID = cmd.Process.Pid
	if o.Started != nil {
		o.Started(res.PID)
	}
	if o.Launched != nil {
		o.Launched(*res)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	mon := &qmpWatch{ready: make(chan struct{})}
	monCtx, stopMon := context.WithCancel(context.Background())
	monDone := make(chan struct{})
	go func() { defer close(monDone); mon.run(monCtx, qmpL) }()
	readyDone := make(chan struct{})
	go func() {
		defer close(readyDone)
		select {
		case <-mon.ready:
			res.Ready = time.Since(res.Start)
			if o.Ready != nil {
				o.Ready(res.PID)
			}
		case <-monCtx.Done():
		}
	}()

	timer := time.NewTimer(o.Timeout)
	defer timer.Stop()
	var waitErr error
	killed := PowerOff // PowerOff means "not killed by us"
	select {
	case waitErr = <-exited:
	case <-timer.C:
		killed = Timeout
	case <-ctx.Done():
		killed = Canceled
	}
	if killed != PowerOff {
		syscall.Kill(-res.PID, syscall.SIGKILL)
		waitErr = <-exited
	}
	res.Elapsed = time.Since(res.Start)
	// Anything left in QEMU's process group goes too.
	syscall.Kill(-res.PID, syscall.SIGKILL)
	stopMon()
	<-monDone
	<-readyDone
	qmpL.Close()

	res.Stderr = tail.String()
	res.Exit = cmd.ProcessState.ExitCode()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		res.Signal = ws.Signal().String()
	}
	res.Reason = mon.reason()
	res.Panic = findPanic(res.Serial)
	_ = waitErr
	res.judge(killed, mon)
	return res, res.Err()
}

// chooseFor picks the accelerator for an AccelAuto run: the probe boots the Config's kernel, or
// for a disk or CD-ROM boot Options.CanaryKernel. Without a kernel to probe with, only
// $OEMACT_ACCEL can choose KVM.
func chooseFor(ctx context.Context, c Config, o Options, dir string) (Accel, string) {
	probe := o.Probe
	if probe == nil {
		probe = ChooseAccel
	}
	kernel := c.Kernel
	if !filepath.IsAbs(kernel) {
		kernel = filepath.Join(dir, kernel) // localize made it relative to the artifacts folder
	}
	if c.Boot != BootKernel {
		if o.CanaryKernel == "" {
			if ch, ok := envAccel(); ok {
				return ch.Accel, ch.Reason
			}
			return TCG, "no kernel to probe KVM with for a " + string(c.Boot) + " boot (Options.CanaryKernel); set " + EnvAccel + "=kvm to use KVM"
		}
		var err error
		if kernel, err = filepath.Abs(o.CanaryKernel); err != nil {
			return TCG, fmt.Sprintf("KVM canary kernel %s: %v", o.CanaryKernel, err)
		}
	}
	ch := probe(ctx, kernel, dir)
	return ch.Accel, ch.Reason
}

// OverlayName is the throw-away overlay a disk boot runs on, in the artifacts folder.
const OverlayName = "boot-overlay.qcow2"

// withOverlay points a disk boot at the overlay Run makes (OverlayName in the artifacts folder)
// and returns the image's absolute path, the overlay's backing file; "" for other boots.
func withOverlay(c *Config) (string, error) {
	if c.Boot != BootDisk || c.Image == nil || c.Image.Path == "" {
		return "", nil
	}
	backing, err := filepath.Abs(c.Image.Path)
	if err != nil {
		return "", err
	}
	im := *c.Image
	im.Overlay = OverlayName
	c.Image = &im
	return backing, nil
}

// makeOverlay creates the qcow2 overlay over the image (backing) in the artifacts folder, where
// QEMU writes instead of the image, and makes res.Command create it first and remove it after.
func makeOverlay(ctx context.Context, res *Result, backing string, im *Image, qemuArgs []string) error {
	if st, err := os.Stat(backing); err != nil {
		return fmt.Errorf("qemu: boot image: %w", err)
	} else if !st.Mode().IsRegular() {
		return fmt.Errorf("qemu: boot image %s is not a regular file", backing)
	}
	tool, err := hosttool.Find("qemu-img")
	if err != nil {
		return err
	}
	args := []string{"create", "-q", "-f", "qcow2", "-b", backing, "-F", imageFormat(im), OverlayName}
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Dir = res.Dir
	cmd.Env = append(os.Environ(), "TMPDIR="+res.Dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(filepath.Join(res.Dir, OverlayName))
		return fmt.Errorf("qemu: making the overlay for boot image %s: qemu-img %s: %v: %s", backing, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	res.Command = "cd " + Quote(res.Dir) + " && " + CommandLine("", tool, args) + " && " + CommandLine("", res.Argv[0], qemuArgs) + "; rm -f " + OverlayName
	return nil
}

// localize makes the Config's paths work from the artifacts folder QEMU runs in: paths inside it
// become relative (short, which unix socket paths need, and readable in the printed command),
// others absolute.
func localize(c Config, dir string) Config {
	fix := func(p string) string {
		if p == "" {
			return p
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return p
		}
		if rel, err := filepath.Rel(dir, abs); err == nil && !strings.HasPrefix(rel, "..") {
			return rel
		}
		return abs
	}
	c.Kernel, c.Initrd, c.StateDisk, c.OVMF = fix(c.Kernel), fix(c.Initrd), fix(c.StateDisk), fix(c.OVMF)
	c.ACPITables = mapStrings(c.ACPITables, fix)
	c.SMBIOSFiles = mapStrings(c.SMBIOSFiles, fix)
	disks := make([]Disk, len(c.Disks))
	for i, d := range c.Disks {
		d.Path = fix(d.Path)
		disks[i] = d
	}
	c.Disks = disks
	if c.Image != nil {
		im := *c.Image
		im.Path = fix(im.Path)
		c.Image = &im
	}
	c.GuestAgent = fix(c.GuestAgent)
	if c.Channel != nil {
		ch := *c.Channel
		ch.Socket = fix(ch.Socket)
		c.Channel = &ch
	}
	if c.TPM != nil {
		t := *c.TPM
		t.Socket = fix(t.Socket)
		c.TPM = &t
	}
	return c
}

func mapStrings(in []string, f func(string) string) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = f(s)
	}
	return out
}

// findPanic returns the first "Kernel panic" line of the serial log, from its last 256 KB.
func findPanic(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const max = 256 << 10
	if st, err := f.Stat(); err == nil && st.Size() > max {
		f.Seek(st.Size()-max, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	i := bytes.Index(b, []byte("Kernel panic - not syncing"))
	if i < 0 {
		return ""
	}
	line := b[i:]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	return strings.TrimSpace(string(line))
}

// tailBuffer keeps the last max bytes written.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append([]byte(nil), t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
