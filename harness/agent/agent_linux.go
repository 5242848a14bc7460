//go:build linux

package agent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/harness/channel"
	"github.com/oemact/oemact/harness/initramfs"
	"github.com/oemact/oemact/harness/statedisk"
	"github.com/oemact/oemact/oemact/hwid"
	"github.com/oemact/oemact/oemact/licence"
)

// How long the agent waits for devices that virtio probes asynchronously.
const (
	portWait  = 10 * time.Second
	diskWait  = 5 * time.Second
	errorWait = 3 * time.Second // for the host's ack of an error report
	// hostWait bounds the wait for the host end of the channel: QEMU connects to the host's socket
	// when it starts, long before the guest boots, so the host is there unless nobody listens
	// (someone rerunning the printed QEMU command by hand).
	hostWait = 5 * time.Second
	// sendWait bounds writing the report once the host is connected.
	sendWait = 10 * time.Second
)

// Main is the guest's /init. It powers the machine off when done, on error and on its watchdog;
// it returns only if powering off failed.
func Main() int {
	g := &guest{start: time.Now()}
	g.logf("oemact agent %s", Version())
	if err := g.safeRun(); err != nil {
		g.logf("error: %v", err)
	}
	g.powerOff()
	return 1
}

type guest struct {
	start   time.Time
	opts    Options
	mu      sync.Mutex // guards port and conn, which the watchdog reads
	port    *os.File
	conn    *channel.Conn
	timings []channel.Timing
	notes   []string
	offOnce sync.Once
}

func (g *guest) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "oemact-agent: %s\n", fmt.Sprintf(format, args...))
}

func (g *guest) note(format string, args ...any) {
	n := fmt.Sprintf(format, args...)
	g.logf("note: %s", n)
	g.notes = append(g.notes, n)
}

// step runs f and records how long it took.
func (g *guest) step(name string, f func() error) error {
	t := time.Now()
	err := f()
	ms := float64(time.Since(t).Microseconds()) / 1000
	g.timings = append(g.timings, channel.Timing{Step: name, Ms: ms})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func (g *guest) safeRun() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("agent panic: %v\n%s", r, debug.Stack())
			g.sendError("panic", err)
		}
	}()
	return g.run()
}

func (g *guest) run() error {
	if err := g.step("mount", mountAll); err != nil {
		return err // no channel without /sys and /dev: the host sees a power-off with no report
	}
	g.logUptime()
	var opts Options
	g.step("cmdline", func() error {
		cmdline, _ := os.ReadFile("/proc/cmdline")
		var err error
		if opts, err = ParseCmdline(string(cmdline)); err != nil {
			g.note("kernel command line: %v; using defaults", err)
		}
		return nil
	})
	g.opts = opts
	watchdog := time.AfterFunc(opts.Timeout, g.watchdog)
	defer watchdog.Stop()

	g.step("modules", func() error { g.loadModules(); return nil })
	if err := g.step("channel", func() error {
		f, err := channel.OpenPort("/sys", "/dev", opts.Port, portWait)
		if err != nil {
			return err
		}
		if err := waitHost(f, hostWait); err != nil {
			f.Close()
			return err
		}
		g.mu.Lock()
		g.port = f
		g.conn = channel.NewConn(f, channel.Guest, channel.Options{})
		g.mu.Unlock()
		return nil
	}); err != nil {
		return err
	}

	// The host says what this boot is about. The agent asks first and reads the answer once it
	// has collected what every boot reports: the guest works while the host answers.
	var hello uint64
	if err := g.step("hello", func() (err error) {
		hello, err = g.conn.Send(channel.TypeHello, channel.Hello{Agent: channel.Agent{Version: Version()}})
		return err
	}); err != nil {
		return g.fail("hello", err)
	}
	var kept []byte // the licence state a resumed round starts from
	for round := 1; ; round++ {
		var plan *channel.Plan
		if round > 1 {
			// The machine stays up for its next step: the host answers when the runner gets there.
			watchdog.Stop()
			g.timings, g.notes = nil, nil
			p, err := g.awaitPlan(hello)
			if err != nil {
				return g.fail("plan", err)
			}
			if p.PowerOff {
				g.logf("the host has no more steps for this machine")
				return nil
			}
			watchdog.Reset(opts.Timeout)
			g.start = time.Now()
			g.logf("round %d: resumed without a reboot", round)
			plan = &p
		}
		resume, st, err := g.round(hello, plan, kept)
		if err != nil || !resume {
			return err
		}
		kept = st
		if hello, err = g.conn.Send(channel.TypeHello, channel.Hello{Agent: channel.Agent{Version: Version()}}); err != nil {
			return g.fail("hello", err)
		}
	}
}

// awaitPlan reads the host's answer to hello. An old host that does not know hello gets the raw
// report only (a zero plan).
func (g *guest) awaitPlan(hello uint64) (channel.Plan, error) {
	resp, err := g.conn.Await(channel.TypeHello, hello)
	if err != nil {
		var re *channel.RemoteError
		if errors.As(err, &re) {
			g.note("the host has no plan for this boot (%v): reporting raw data only", err)
			return channel.Plan{}, nil
		}
		return channel.Plan{}, err
	}
	return channel.PayloadOf[channel.Plan](resp)
}

// round is one boot's work, or one step's in a machine the host keeps running: collect, read the
// plan (unless the caller has it), evaluate, report. kept is the state a resumed round starts
// from (the disk's is read in the first). It returns whether the host keeps the machine running
// for another round, and the state to start it from.
func (g *guest) round(hello uint64, plan *channel.Plan, kept []byte) (bool, []byte, error) {
	opts := g.opts
	var report *channel.Report
	g.step("collect", func() error {
		report = Collect("/")
		return nil
	})
	g.step("kernel-log", func() error {
		log, err := readKernelLog()
		if err != nil {
			g.note("kernel log (syslog(2)): %v", err)
		}
		report.KernelLog = firmware.KernelLogTableLines(log)
		return nil
	})
	var dev string
	g.step("state-read", func() error {
		if opts.StateDisk {
			dev = waitStateDisk(diskWait)
			if dev == "" {
				g.note("the command line says a state disk is attached, but no disk has serial %s", statedisk.Serial)
			}
		}
		if plan != nil && kept != nil {
			report.State, report.StateStatus = kept, "ok" // what the last round left, as on the disk
			return nil
		}
		LoadState(report, dev)
		return nil
	})
	if plan == nil {
		if err := g.step("plan", func() error {
			p, err := g.awaitPlan(hello)
			plan = &p
			return err
		}); err != nil {
			return false, nil, g.fail("plan", err)
		}
	}

	var newState []byte
	if plan.Evaluate {
		var inv hwid.Inventory
		if err := g.step("inventory", func() error {
			var err error
			if inv, err = hwid.Collect("/", hwid.Options{SkipDiskSerials: []string{statedisk.Serial}}); err != nil {
				return err
			}
			for _, n := range inv.Notes {
				g.note("inventory: %s", n)
			}
			return nil
		}); err != nil {
			return false, nil, g.fail("evaluate", err)
		}
		if err := g.step("evaluate", func() error {
			ev, st, err := Evaluate(Input{Plan: *plan, Raw: report, State: report.State, Inventory: inv}, &channelHost{g: g})
			if err != nil {
				return err
			}
			report.Evaluation, newState = ev, st
			return nil
		}); err != nil {
			return false, nil, g.fail("evaluate", err)
		}
		switch {
		case plan.Stateless:
		case dev != "":
			if err := g.step("state-write", func() error { return statedisk.Write(dev, newState) }); err != nil {
				return false, nil, g.fail("state-write", err)
			}
		case !plan.Resume:
			return false, nil, g.fail("state-write", errors.New("the plan asks for the licence model but the machine has no state disk to keep it"))
		}
		// The host needs the new state, not the old: it is in the evaluation's snapshot.
		report.State = nil
	}
	report.Notes = append(g.notes, report.Notes...)
	report.Timings = g.timings

	// The report's own timings end here; the console line below also times sending it (encoding
	// and writing) and the host's answer.
	g.port.SetWriteDeadline(time.Now().Add(sendWait))
	var id uint64
	if err := g.step("report", func() (err error) {
		id, err = g.conn.Send(channel.TypeReport, report)
		return err
	}); err != nil {
		return false, nil, err // the channel broke: nothing more can be said over it
	}
	var resp *channel.Message
	if err := g.step("reply", func() (err error) {
		resp, err = g.conn.Await(channel.TypeReport, id)
		return err
	}); err != nil {
		// Either the host refused the report (and knows why) or the channel broke: nothing more
		// can be said over it.
		return false, nil, err
	}
	reply, err := channel.PayloadOf[channel.Reply](resp)
	if err != nil {
		return false, nil, g.fail("reply", err)
	}
	if len(reply.State) > 0 {
		if err := g.step("state-write", func() error {
			if dev == "" {
				return errors.New("the host sent state to save but the machine has no state disk")
			}
			return statedisk.Write(dev, reply.State)
		}); err != nil {
			return false, nil, g.fail("state-write", err)
		}
		newState = reply.State
	}
	g.logf("done in %s (%s)", time.Since(g.start).Round(time.Millisecond), g.stepTimes())
	return plan.Resume, newState, nil
}

// logUptime logs when the agent's main started, counted from the kernel's start (/proc/uptime):
// the kernel's own share of the boot with the Go runtime's start-up, which the boot benchmark
// (harness/bench) reads from the serial log.
func (g *guest) logUptime() {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return
	}
	var up float64
	if _, err := fmt.Sscanf(string(b), "%f", &up); err != nil {
		return
	}
	at := time.Duration(up*float64(time.Second)) - time.Since(g.start)
	g.logf("init started %s after the kernel", at.Round(time.Millisecond))
}

// stepTimes lists the steps' timings as NAME=MSms words.
func (g *guest) stepTimes() string {
	w := make([]string, len(g.timings))
	for i, t := range g.timings {
		w[i] = fmt.Sprintf("%s=%.1fms", t.Step, t.Ms)
	}
	return strings.Join(w, " ")
}

// fail reports an error to the host, then returns it.
func (g *guest) fail(stage string, err error) error {
	g.sendError(stage, err)
	return err
}

// sendError tells the host the agent failed, waiting briefly for its ack.
func (g *guest) sendError(stage string, err error) {
	g.mu.Lock()
	conn, port := g.conn, g.port
	g.mu.Unlock()
	if conn == nil {
		return
	}
	port.SetReadDeadline(time.Now().Add(errorWait))
	if _, cerr := conn.Call(channel.TypeError, channel.Error{Stage: stage, Message: err.Error()}); cerr != nil {
		g.logf("could not report the error to the host: %v", cerr)
	}
}

// watchdog runs on its own goroutine while the main one may be reading the channel, so it only
// sends (sends are safe alongside a receive) and powers off without waiting for the host's ack.
func (g *guest) watchdog() {
	g.logf("watchdog: still running after %s; powering off", g.opts.Timeout)
	g.mu.Lock()
	conn := g.conn
	g.mu.Unlock()
	if conn != nil {
		done := make(chan struct{})
		go func() {
			defer close(done)
			conn.Send(channel.TypeError, channel.Error{Stage: "watchdog",
				Message: fmt.Sprintf("the agent was still running after %s (oemact.timeout)", g.opts.Timeout)})
		}()
		select {
		case <-done:
		case <-time.After(errorWait):
		}
	}
	g.powerOff()
}

func (g *guest) powerOff() {
	g.offOnce.Do(func() {
		unix.Sync()
		if err := unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF); err != nil {
			g.logf("power off: %v", err)
		}
	})
}

// mountAll mounts what the agent reads: procfs, sysfs, and devtmpfs (the kernel does not mount it
// in an initramfs: CONFIG_DEVTMPFS_MOUNT only applies to the real root).
func mountAll() error {
	for _, m := range []struct{ src, dir, fstype string }{
		{"proc", "/proc", "proc"}, {"sysfs", "/sys", "sysfs"}, {"devtmpfs", "/dev", "devtmpfs"},
	} {
		if err := os.MkdirAll(m.dir, 0o755); err != nil {
			return err
		}
		if err := unix.Mount(m.src, m.dir, m.fstype, unix.MS_NOSUID|unix.MS_NOEXEC, ""); err != nil && !errors.Is(err, unix.EBUSY) {
			return fmt.Errorf("mounting %s on %s: %w", m.fstype, m.dir, err)
		}
	}
	return nil
}

// loadModules loads the modules the initramfs lists, in its order. A module that fails becomes a
// note: the step that needs it (the channel, a disk) reports the consequence.
func (g *guest) loadModules() {
	b, err := os.ReadFile("/" + initramfs.LoadOrderPath)
	if errors.Is(err, os.ErrNotExist) {
		return // a kernel with the drivers built in
	}
	if err != nil {
		g.note("module list: %v", err)
		return
	}
	for _, name := range strings.Fields(string(b)) {
		p := filepath.Join("/", initramfs.ModuleDir, name+".ko")
		f, err := os.Open(p)
		if err != nil {
			g.note("module %s: %v", name, err)
			continue
		}
		err = unix.FinitModule(int(f.Fd()), "", 0)
		f.Close()
		if err != nil && !errors.Is(err, unix.EEXIST) {
			g.note("loading module %s: %v", name, err)
		}
	}
}

// readKernelLog reads the kernel's log buffer with syslog(2), as dmesg does.
func readKernelLog() ([]byte, error) {
	n, err := unix.Klogctl(unix.SYSLOG_ACTION_SIZE_BUFFER, nil)
	if err != nil {
		return nil, err
	}
	if n <= 0 || n > 64<<20 {
		n = 1 << 20
	}
	buf := make([]byte, n)
	m, err := unix.Klogctl(unix.SYSLOG_ACTION_READ_ALL, buf)
	if err != nil {
		return nil, err
	}
	return buf[:m], nil
}

// waitHost waits until the host end of a virtio-serial port is connected. Until then the port
// polls POLLHUP and writes block (Linux drivers/char/virtio_console.c).
func waitHost(f *os.File, timeout time.Duration) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for {
		var revents int16
		var perr error
		if err := rc.Control(func(fd uintptr) {
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
			_, perr = unix.Poll(fds, 50)
			revents = fds[0].Revents
		}); err != nil {
			return err
		}
		if perr != nil && !errors.Is(perr, unix.EINTR) {
			return fmt.Errorf("polling the channel port: %w", perr)
		}
		if revents&unix.POLLHUP == 0 && revents&unix.POLLOUT != 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nobody is listening on the host end of the channel (waited %s): is the harness running, or was QEMU started by hand?", timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitStateDisk(timeout time.Duration) string {
	deadline := time.Now().Add(timeout)
	for {
		if dev, ok := FindStateDisk("/"); ok {
			return dev
		}
		if time.Now().After(deadline) {
			return ""
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// channelHost relays the guest's requests to the host over the channel.
type channelHost struct{ g *guest }

func (h *channelHost) Activate(req channel.ActivateRequest) (channel.Activation, error) {
	resp, err := h.g.conn.Call(channel.TypeActivate, req)
	if err != nil {
		return channel.Activation{}, err
	}
	return channel.PayloadOf[channel.Activation](resp)
}

func (h *channelHost) KMS(req channel.KMSRequest) (licence.KMSAnswer, error) {
	resp, err := h.g.conn.Call(channel.TypeKMS, req)
	if err != nil {
		return licence.KMSAnswer{}, err
	}
	return channel.PayloadOf[licence.KMSAnswer](resp)
}
