package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/oemact/oemact/harness/hosttool"
	"github.com/oemact/oemact/harness/initramfs"
	"github.com/oemact/oemact/harness/qemu"
)

// machine is a QEMU command the benchmark runs as it is, timing the process from start to exit.
type machine struct {
	dir  string   // QEMU's working folder
	argv []string // with the program first
	// sockets are unix socket paths (relative to dir) QEMU connects to as a client: the benchmark
	// listens on them as the harness does, and accepts without talking.
	sockets []string
	serial  string // the console log, for errors
}

func (m *machine) command() string { return qemu.CommandLine(m.dir, m.argv[0], m.argv[1:]) }

// boot runs the machine once; an error unless the guest powered off (QEMU exiting 0).
func (m *machine) boot(ctx context.Context, timeout time.Duration) (time.Duration, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for _, s := range m.sockets {
		p := filepath.Join(m.dir, s)
		os.Remove(p)
		l, err := net.Listen("unix", p)
		if err != nil {
			return 0, fmt.Errorf("bench: %w", err)
		}
		ls = append(ls, l)
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go func() { io.Copy(io.Discard, c); c.Close() }()
			}
		}()
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, m.argv[0], m.argv[1:]...)
	cmd.Dir = m.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), "TMPDIR="+m.dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		why := err.Error()
		if ctx.Err() != nil {
			why = fmt.Sprintf("still running after %s", timeout)
		}
		return wall, fmt.Errorf("bench: the power-off boot failed (%s): %s\n  serial log: %s\n  reproduce: %s",
			why, strings.TrimSpace(out.String()), filepath.Join(m.dir, m.serial), m.command())
	}
	return wall, nil
}

// naiveMachine is the naive boot: q35 with QEMU's default devices and firmware, the kernel, an
// initramfs with only the power-off init.
func naiveMachine(o Options, dir string) (*machine, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	initrd, err := initramfs.WriteCached(dir, initramfs.Spec{Init: o.PowerOff})
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	bin, err := hosttool.Find("qemu-system-x86_64")
	if err != nil {
		return nil, err
	}
	const serial = "serial.log"
	return &machine{dir: dir, serial: serial, argv: []string{bin,
		"-machine", "q35", "-accel", string(o.Accel), "-m", fmt.Sprint(NaiveMemoryMB),
		"-kernel", o.NaiveKernel.Vmlinuz, "-initrd", initrd, "-append", NaiveAppend,
		"-display", "none", "-serial", "file:" + serial, "-no-reboot"}}, nil
}

// floorMachine is the verdict boot's own QEMU command, run in a copy of its folder (tables, disk
// images) with an initramfs that differs only in /init: the power-off init is /init, the agent is
// still in the archive (as /oemact) so that the kernel unpacks as much. extra words are added to
// the kernel command line, extraArgs to QEMU's.
func floorMachine(o Options, warm *verdictBoot, dir, extra string, extraArgs []string) (*machine, error) {
	argv, err := SplitCommand(warm.command)
	if err != nil {
		return nil, fmt.Errorf("bench: the verdict boot's command: %w", err)
	}
	if len(argv) < 2 {
		return nil, fmt.Errorf("bench: the verdict boot's command is too short: %s", warm.command)
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := copyTree(warm.dir, dir); err != nil {
		return nil, fmt.Errorf("bench: copying the verdict boot's folder: %w", err)
	}
	m := &machine{dir: dir, argv: argv}
	for i := 1; i+1 < len(argv); i++ {
		switch argv[i] {
		case "-initrd":
			if argv[i+1], err = swapInit(argv[i+1], o.PowerOff, dir); err != nil {
				return nil, err
			}
		case "-append":
			if extra != "" {
				argv[i+1] += " " + extra
			}
		case "-serial":
			if s, ok := strings.CutPrefix(argv[i+1], "file:"); ok {
				m.serial = s
			}
		case "-chardev":
			for _, opt := range strings.Split(argv[i+1], ",") {
				if p, ok := strings.CutPrefix(opt, "path="); ok && strings.HasPrefix(argv[i+1], "socket,") {
					m.sockets = append(m.sockets, p)
				}
			}
		}
	}
	m.argv = append(m.argv, extraArgs...)
	// Disk images outside the boot folder (the machine's state and data disks) are shared with the
	// verdict boots, which do not run at the same time.
	return m, nil
}

// swapInit writes a copy of the archive at path into dir with the power-off init as /init and the
// original /init kept as /oemact, and returns the copy's path.
func swapInit(path, powerOff, dir string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("bench: the verdict boot's initramfs: %w", err)
	}
	defer f.Close()
	po, err := os.ReadFile(powerOff)
	if err != nil {
		return "", fmt.Errorf("bench: %w", err)
	}
	var buf bytes.Buffer
	w := initramfs.NewWriter(&buf)
	r := initramfs.NewReader(f)
	swapped := false
	for {
		h, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("bench: reading %s: %w", path, err)
		}
		data, err := io.ReadAll(r)
		if err != nil {
			return "", fmt.Errorf("bench: reading %s: %w", path, err)
		}
		perm := h.Mode & 0o7777
		switch h.Mode & 0o170000 {
		case initramfs.TypeDir:
			err = w.Dir(h.Name, perm)
		case initramfs.TypeSymlink:
			err = w.Symlink(h.Name, string(data))
		case initramfs.TypeChar:
			err = w.CharDev(h.Name, perm, h.RdevMajor, h.RdevMinor)
		case initramfs.TypeRegular:
			if h.Name == initramfs.InitPath {
				if err = w.File(initramfs.InitPath, perm, po); err == nil {
					err = w.File("oemact", perm, data)
				}
				swapped = true
			} else {
				err = w.File(h.Name, perm, data)
			}
		default:
			err = fmt.Errorf("entry %s has a file type (mode %o) the benchmark does not copy", h.Name, h.Mode)
		}
		if err != nil {
			return "", fmt.Errorf("bench: copying %s: %w", path, err)
		}
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	if !swapped {
		return "", fmt.Errorf("bench: %s has no /init", path)
	}
	out := filepath.Join(dir, "floor-initramfs.cpio")
	return out, os.WriteFile(out, buf.Bytes(), 0o644)
}

// copyTree copies the regular files and folders under src into dst (sockets and the like are
// left out).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(to, 0o755)
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(to, b, 0o644)
		}
		return nil
	})
}

func replaceAll(s, old, new string) string { return strings.ReplaceAll(s, old, new) }
