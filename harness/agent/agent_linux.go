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

	"github.com/oemact/oemact/harness/channel"
	"github.com/oemact/oemact/harness/initramfs"
	"github.com/oemact/oemact/harness/statedisk"
)

// How long the agent waits for devices that virtio probes asynchronously.
const (
	portWait = 10 * time.Second
	diskWait = 5 * time.Second
	// hostWait bounds the wait for the host end of the channel: QEMU connects to the host's socket
	// when it starts, long before the guest boots, so the host is there unless nobody listens
	// (someone rerunning the printed QEMU command by hand).
	hostWait = 5 * time.Second
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

// guest is the agent as the machine's PID 1: it mounts the kernel's file systems, loads the
// drivers, opens the channel, runs the Session and powers off.
type guest struct {
	start   time.Time
	opts    Options
	mu      sync.Mutex // guards sess, which the watchdog reads
	sess    *Session
	offOnce sync.Once
}

func (g *guest) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "oemact-agent: %s\n", fmt.Sprintf(format, args...))
}

func (g *guest) safeRun() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("agent panic: %v\n%s", r, debug.Stack())
			g.mu.Lock()
			sess := g.sess
			g.mu.Unlock()
			if sess != nil {
				sess.sendError("panic", err)
			}
		}
	}()
	return g.run()
}

func (g *guest) run() error {
	if err := mountAll(); err != nil {
		return err // no channel without /sys and /dev: the host sees a power-off with no report
	}
	g.logUptime()
	cmdline, _ := os.ReadFile("/proc/cmdline")
	opts, err := ParseCmdline(string(cmdline))
	if err != nil {
		g.logf("note: kernel command line: %v; using defaults", err)
	}
	g.opts = opts
	watchdog := time.AfterFunc(opts.Timeout, g.watchdog)
	defer watchdog.Stop()

	loadStart := time.Now()
	notes := g.loadModules()
	loaded := time.Since(loadStart)
	f, err := channel.OpenPort("/sys", "/dev", opts.Port, portWait)
	if err != nil {
		return err
	}
	if err := waitHost(f, hostWait); err != nil {
		f.Close()
		return err
	}
	sess := &Session{Conn: channel.NewConn(f, channel.Guest, channel.Options{}), RW: f,
		Platform: Platform{Root: "/", KernelLog: readKernelLog, Logf: g.logf, StateDisk: func() string {
			if !opts.StateDisk {
				return ""
			}
			dev := waitStateDisk(diskWait)
			if dev == "" {
				g.logf("note: the command line says a state disk is attached, but no disk has serial %s", statedisk.Serial)
			}
			return dev
		}},
		Start:   g.start,
		Paused:  func() { watchdog.Stop() },
		Resumed: func() { watchdog.Reset(opts.Timeout) },
	}
	sess.timings = []channel.Timing{{Step: "modules", Ms: float64(loaded.Microseconds()) / 1000},
		{Step: "channel", Ms: float64(time.Since(loadStart).Microseconds()-loaded.Microseconds()) / 1000}}
	for _, n := range notes {
		sess.note("%s", n)
	}
	g.mu.Lock()
	g.sess = sess
	g.mu.Unlock()
	return sess.Run()
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

// watchdog runs on its own goroutine while the main one may be reading the channel, so it only
// sends (sends are safe alongside a receive) and powers off without waiting for the host's ack.
func (g *guest) watchdog() {
	g.logf("watchdog: still running after %s; powering off", g.opts.Timeout)
	g.mu.Lock()
	sess := g.sess
	g.mu.Unlock()
	if sess != nil {
		conn := sess.Conn
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
func (g *guest) loadModules() (notes []string) {
	b, err := os.ReadFile("/" + initramfs.LoadOrderPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil // a kernel with the drivers built in
	}
	if err != nil {
		return []string{fmt.Sprintf("module list: %v", err)}
	}
	for _, name := range strings.Fields(string(b)) {
		p := filepath.Join("/", initramfs.ModuleDir, name+".ko")
		f, err := os.Open(p)
		if err != nil {
			notes = append(notes, fmt.Sprintf("module %s: %v", name, err))
			continue
		}
		err = unix.FinitModule(int(f.Fd()), "", 0)
		f.Close()
		if err != nil && !errors.Is(err, unix.EEXIST) {
			notes = append(notes, fmt.Sprintf("loading module %s: %v", name, err))
		}
	}
	return notes
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
