// Package swtpm runs swtpm, the software TPM 2.0, for oemact's test machines: one swtpm process
// per boot, its state kept in the machine's TPM folder across that machine's boots (the same
// endorsement key every boot), wiped when a scenario swaps the board or the TPM, and no process
// left behind once Stop returns.
//
// It starts and stops the emulator and tells QEMU where it is; speaking TPM 2.0 is package
// harness/tpm's job.
package swtpm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/oemact/oemact/harness/hosttool"
	"github.com/oemact/oemact/harness/internal/unixsock"
	"github.com/oemact/oemact/harness/qemu"
)

// File names swtpm uses in the state folder, and the sockets Start creates.
const (
	// StateFile is where swtpm keeps a TPM 2.0's permanent state (seeds, NV, hierarchies).
	StateFile = "tpm2-00.permall"
	// lockFile is swtpm's lock on the state folder.
	lockFile = ".lock"
	// CtrlSocket is the control channel QEMU's -tpmdev emulator connects to.
	CtrlSocket = "swtpm-ctrl.sock"
	// ServerSocket is the data channel for TPM commands from the host (Options.Server).
	ServerSocket = "swtpm-srv.sock"
)

// StopTimeout is how long Stop waits for swtpm to end after SIGTERM before it kills it. swtpm
// saves its state and exits in milliseconds; two seconds allow for a loaded CI host.
const StopTimeout = 2 * time.Second

// Options tune Start.
type Options struct {
	// SocketDir holds the sockets; default the state folder. QEMU reaches the control socket by a
	// path of at most 107 bytes (sun_path). qemu.Run shortens paths inside its artifacts folder,
	// so a caller whose state folder has a long path puts the sockets in the boot's artifacts
	// folder.
	SocketDir string
	// Server opens a data socket (Process.Server) for TPM commands sent from the host, through
	// go-tpm's linuxudstpm transport, and has swtpm start the TPM itself (TPM2_Startup(CLEAR)),
	// since no firmware will. Without it the TPM is QEMU's: QEMU initialises it through the
	// control socket, SeaBIOS or OVMF sends TPM2_Startup, and swtpm ends when QEMU closes the
	// control connection (--terminate).
	Server bool
	// Log is a file for swtpm's log at LogLevel (swtpm's --log); "" keeps only the end of its
	// output, for error messages.
	Log      string
	LogLevel int
	// Swtpm is the swtpm binary; default from hosttool (OEMACT_SWTPM or PATH).
	Swtpm string
}

// Process is one running swtpm.
type Process struct {
	// Dir is the state folder, absolute.
	Dir string
	// Ctrl is the control socket, absolute; QEMU needs it (see QEMU).
	Ctrl string
	// Server is the data socket, absolute; "" unless Options.Server.
	Server string
	// Args are swtpm's arguments, for error messages and reproducing a run.
	Args []string

	cmd       *exec.Cmd
	listeners []*unixsock.Listener
	out       *tailBuffer
	exited    chan struct{}
	waitErr   error
	stopOnce  sync.Once
	stopErr   error
}

// Start starts swtpm on the state folder dir, creating it if needed. An empty folder gives a new
// TPM: swtpm manufactures it (new endorsement and storage seeds, so a new endorsement key) when it
// first runs. The folder must not be in use by another swtpm.
//
// No swtpm_setup step is run: the endorsement key is derived from the endorsement seed each time
// it is created (harness/tpm creates it from the TCG template), so it is stable across boots
// without being stored, and no EK certificate is needed because nothing here attests the TPM to a
// third party. swtpm_setup --create-ek-cert costs 0.6-0.7 s per new TPM on these hosts.
func Start(dir string, o Options) (*Process, error) {
	bin := o.Swtpm
	if bin == "" {
		var err error
		if bin, err = hosttool.Find("swtpm"); err != nil {
			return nil, err
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("swtpm: %w", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("swtpm: state folder: %w", err)
	}
	if pids := Running(abs); len(pids) > 0 {
		return nil, fmt.Errorf("swtpm: the state folder %s is in use by swtpm (pid %s): stop that one first", abs, joinPids(pids))
	}
	sockDir := o.SocketDir
	if sockDir == "" {
		sockDir = abs
	}
	if sockDir, err = filepath.Abs(sockDir); err != nil {
		return nil, fmt.Errorf("swtpm: %w", err)
	}
	if err := os.MkdirAll(sockDir, 0o755); err != nil {
		return nil, fmt.Errorf("swtpm: socket folder: %w", err)
	}

	p := &Process{Dir: abs, out: &tailBuffer{max: 4 << 10}, exited: make(chan struct{})}
	fail := func(err error) (*Process, error) {
		p.closeListeners()
		return nil, err
	}
	// The listening sockets are made here and handed over (swtpm's fd= forms): clients can connect
	// as soon as Start returns, with no wait for swtpm to bind, and a long folder path is no
	// problem for the bind (unixsock goes through /proc/self/fd).
	ctrl, err := unixsock.Listen(filepath.Join(sockDir, CtrlSocket))
	if err != nil {
		return fail(fmt.Errorf("swtpm: control socket: %w", err))
	}
	p.listeners = append(p.listeners, ctrl)
	p.Ctrl = ctrl.Path
	ctrlFile, err := ctrl.File()
	if err != nil {
		return fail(fmt.Errorf("swtpm: control socket: %w", err))
	}
	defer ctrlFile.Close()
	files := []*os.File{ctrlFile}
	// ExtraFiles[i] is descriptor 3+i in the child.
	p.Args = []string{"socket", "--tpm2", "--tpmstate", "dir=" + abs + ",mode=0600",
		"--ctrl", "type=unixio,fd=3"}
	if o.Server {
		srv, err := unixsock.Listen(filepath.Join(sockDir, ServerSocket))
		if err != nil {
			return fail(fmt.Errorf("swtpm: data socket: %w", err))
		}
		p.listeners = append(p.listeners, srv)
		p.Server = srv.Path
		srvFile, err := srv.File()
		if err != nil {
			return fail(fmt.Errorf("swtpm: data socket: %w", err))
		}
		defer srvFile.Close()
		files = append(files, srvFile)
		p.Args = append(p.Args, "--server", "type=unixio,fd=4", "--flags", "not-need-init,startup-clear")
	} else {
		p.Args = append(p.Args, "--terminate")
	}
	if o.Log != "" {
		l := "file=" + o.Log
		if o.LogLevel > 0 {
			l += ",level=" + strconv.Itoa(o.LogLevel)
		}
		p.Args = append(p.Args, "--log", l)
	}

	cmd := exec.Command(bin, p.Args...)
	cmd.Dir = abs
	cmd.ExtraFiles = files
	cmd.Stdout, cmd.Stderr = p.out, p.out
	// Its own process group; SIGKILL if this process dies, so a killed test leaves no swtpm.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fail(fmt.Errorf("swtpm: starting %s: %w", bin, err))
	}
	p.cmd = cmd
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	if o.Server {
		// With startup-clear swtpm initialises the TPM, and takes the state folder's lock, before
		// it serves: a client connecting to a swtpm that failed would wait forever in the
		// listening socket's backlog, so wait for the lock (or the failure) here.
		if err := p.waitLocked(5 * time.Second); err != nil {
			p.Stop()
			return nil, err
		}
	}
	return p, nil
}

// waitLocked waits until swtpm holds the state folder's lock file open, or exits.
func (p *Process) waitLocked(timeout time.Duration) error {
	lock := filepath.Join(p.Dir, lockFile)
	fdDir := filepath.Join("/proc", strconv.Itoa(p.cmd.Process.Pid), "fd")
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-p.exited:
			return fmt.Errorf("swtpm exited at start (%v): %s", p.waitErr, p.output())
		default:
		}
		ents, _ := os.ReadDir(fdDir)
		for _, e := range ents {
			if t, err := os.Readlink(filepath.Join(fdDir, e.Name())); err == nil && t == lock {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("swtpm did not open its state in %s after %s: %s", p.Dir, timeout, p.output())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// QEMU is the TPM device for a qemu.Config: model "tpm-tis" (the default when "") or "tpm-crb".
// The guest tests boot tpm-tis on pc and tpm-crb on q35; both give the guest /dev/tpmrm0.
func (p *Process) QEMU(model string) *qemu.TPM {
	return &qemu.TPM{Socket: p.Ctrl, Model: model}
}

// Pid is swtpm's process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited is closed when swtpm has ended (after QEMU closed the control connection, or Stop).
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Stop ends swtpm and removes its sockets. After QEMU has exited swtpm is usually gone already
// (--terminate); otherwise Stop sends SIGTERM, which has swtpm save its state, and after
// StopTimeout SIGKILL to its process group. The error is swtpm's own failure, if it had one (with
// the end of its output); being stopped by Stop is not an error. Stop may be called more than once.
func (p *Process) Stop() error {
	p.stopOnce.Do(func() {
		defer p.closeListeners()
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.exited:
				return // stopped by us: its exit status says nothing about the TPM
			case <-time.After(StopTimeout):
				syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
				<-p.exited
				p.stopErr = fmt.Errorf("swtpm (pid %d) did not end within %s of SIGTERM and was killed: %s", p.cmd.Process.Pid, StopTimeout, p.output())
				return
			}
		}
		if p.waitErr != nil {
			p.stopErr = fmt.Errorf("swtpm on %s failed (%v): %s", p.Dir, p.waitErr, p.output())
		}
	})
	return p.stopErr
}

func (p *Process) closeListeners() {
	for _, l := range p.listeners {
		l.Close()
	}
	p.listeners = nil
}

func (p *Process) output() string {
	s := strings.TrimSpace(p.out.String())
	if s == "" {
		return "(no output)"
	}
	return s
}

// HasState reports whether dir holds a TPM's state: false for a new TPM that swtpm manufactures
// at its first start.
func HasState(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, StateFile))
	return err == nil
}

// Wipe erases the TPM state in dir, so that the next Start manufactures a new TPM (a new
// endorsement key): what replacing the board, or the TPM alone, does to a machine. It refuses
// while a swtpm uses the folder. Files that are not swtpm's are left alone.
func Wipe(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("swtpm: %w", err)
	}
	if pids := Running(abs); len(pids) > 0 {
		return fmt.Errorf("swtpm: cannot wipe %s: swtpm (pid %s) is using it; stop it first", abs, joinPids(pids))
	}
	for _, name := range []string{StateFile, "tpm2-00.volatilestate", "tpm2-00.savestate", lockFile} {
		if err := os.Remove(filepath.Join(abs, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("swtpm: wiping %s: %w", abs, err)
		}
	}
	return nil
}

// Running lists the swtpm processes whose command line names the state folder dir, by scanning
// /proc: swtpm's own lock only shows once the TPM is initialised.
func Running(dir string) []int {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil
	}
	want := "dir=" + abs
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(b) == 0 {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if filepath.Base(args[0]) != "swtpm" {
			continue
		}
		for _, a := range args[1:] {
			if v, _, _ := strings.Cut(a, ","); v == want {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

func joinPids(pids []int) string {
	s := make([]string, len(pids))
	for i, p := range pids {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ", ")
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   bytes.Buffer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b.Write(p)
	if over := t.b.Len() - t.max; over > 0 {
		rest := append([]byte(nil), t.b.Bytes()[over:]...)
		t.b.Reset()
		t.b.Write(rest)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.String()
}

var _ io.Writer = (*tailBuffer)(nil)
