// Package inproc is the in-process engine: it runs the guest agent's own code (harness/agent's
// Session, the same collection, inventory and activation model as in a VM) in this process, on a
// folder laid out like a guest's /proc and /sys that shows the tables and devices QEMU would
// show, over an in-memory channel to the runner's handler. A TPM is a swtpm process reached
// through its data socket; the state disk is a file.
//
// No kernel, no firmware and no VM run: a boot takes milliseconds. What it cannot show is what
// only a real boot shows (a firmware that drops a table, a driver that fails); the QEMU engine
// does, and a test checks that both present the same tables, identity and inventory.
package inproc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/oemact/oemact/harness/agent"
	"github.com/oemact/oemact/harness/channel"
	"github.com/oemact/oemact/harness/engine"
	"github.com/oemact/oemact/harness/statedisk"
	"github.com/oemact/oemact/harness/swtpm"
)

// Accel is what results say the machine ran on.
const Accel = "in-process"

// DefaultTimeout bounds a round when the machine's options set none.
const DefaultTimeout = time.Minute

// Engine runs machines in this process.
type Engine struct{}

// Name implements engine.Engine.
func (Engine) Name() string { return "in-process" }

// Machine implements engine.Engine.
func (Engine) Machine(_, dir string, o engine.MachineOptions) (engine.Machine, error) {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	return &machine{dir: dir, o: o}, nil
}

type machine struct {
	dir   string
	o     engine.MachineOptions
	boots int
}

func (m *machine) Boots() int { return m.boots }

func (m *machine) tpmDir() string { return filepath.Join(m.dir, "tpm") }

// NewTPM forgets the machine's TPM state: the next swtpm manufactures a new TPM.
func (m *machine) NewTPM() error { return swtpm.Wipe(m.tpmDir()) }

// Boot implements engine.Machine.
func (m *machine) Boot(ctx context.Context, hw engine.Hardware, h channel.Handler, resume bool) (*engine.Result, error) {
	hw = hw.WithDefaults()
	if err := hw.Check(); err != nil {
		return nil, err
	}
	if hw.BootsImage() {
		return nil, &engine.ImageBootError{Engine: Engine{}.Name(), Boot: hw.Boot}
	}
	m.boots++
	dir := filepath.Join(m.dir, fmt.Sprintf("boot-%d", m.boots))
	root := filepath.Join(dir, "root")
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	klog, err := acpi(root, hw)
	if err != nil {
		return nil, fmt.Errorf("in-process engine: %w", err)
	}
	if err := dmi(root, hw); err != nil {
		return nil, fmt.Errorf("in-process engine: SMBIOS: %w", err)
	}
	if err := devices(root, hw, !m.o.NoStateDisk); err != nil {
		return nil, fmt.Errorf("in-process engine: %w", err)
	}
	p := &proc{m: m, log: filepath.Join(dir, "console.log"), done: make(chan struct{})}
	state := ""
	if !m.o.NoStateDisk {
		state = filepath.Join(m.dir, "state.img")
		if err := statedisk.Create(state, statedisk.DefaultSize); err != nil {
			return nil, fmt.Errorf("in-process engine: state disk: %w", err)
		}
	}
	tpmPath := ""
	if hw.TPM {
		if p.tpm, err = swtpm.Start(m.tpmDir(), swtpm.Options{Server: true, SocketDir: dir}); err != nil {
			return nil, err
		}
		tpmPath = p.tpm.Server
	}
	plat := agent.Platform{Root: root, TPMPath: tpmPath, Logf: p.logf,
		KernelLog: func() ([]byte, error) { return []byte(joinLines(klog)), nil },
		StateDisk: func() string { return state }}
	return p.start(ctx, plat, h, resume)
}

// Probe implements engine.Machine: an OS image needs firmware and an OS, which this engine does
// not run.
func (m *machine) Probe(_ context.Context, hw engine.Hardware, _ engine.ProbeFunc, _ bool) (*engine.Result, error) {
	if !hw.BootsImage() {
		return nil, errors.New("in-process engine: a probe reads an OS image's guest agent, and this machine boots no image (vm.boot: disk or cdrom)")
	}
	return nil, &engine.ImageBootError{Engine: Engine{}.Name(), Boot: hw.Boot}
}

func joinLines(ls []string) string {
	var b []byte
	for _, l := range ls {
		b = append(append(b, l...), '\n')
	}
	return string(b)
}

// proc is one in-process "power-on": the agent's Session on a goroutine, the host end of its
// channel served by Rounds.
type proc struct {
	m      *machine
	log    string
	tpm    *swtpm.Process
	rounds *channel.Rounds
	cancel context.CancelFunc
	host   net.Conn
	guest  net.Conn

	offOnce sync.Once
	mu      sync.Mutex
	logBuf  []byte
	done    chan struct{} // closed when the agent's session ended
	runErr  error
	serveEr error
}

func (p *proc) logf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.logBuf = append(p.logBuf, fmt.Sprintf("oemact-agent: "+format+"\n", args...)...)
}

func (p *proc) start(ctx context.Context, plat agent.Platform, h channel.Handler, resume bool) (*engine.Result, error) {
	started := time.Now()
	p.host, p.guest = net.Pipe()
	rounds, first := channel.NewRounds(h, resume, started)
	p.rounds = rounds
	// The machine lives until it powers off or is stopped, not only for this call's context.
	life, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go func() {
		err := channel.Serve(life, p.host, rounds.Handle, channel.Options{})
		if err != nil && life.Err() == nil {
			// The agent broke the protocol (not the channel closing at power-off): stop the machine.
			p.mu.Lock()
			p.serveEr = err
			p.mu.Unlock()
			p.powerOff()
		}
	}()
	sess := &agent.Session{Conn: channel.NewConn(p.guest, channel.Guest, channel.Options{}), RW: p.guest, Platform: plat, Start: started}
	go func() {
		err := p.run(sess)
		p.mu.Lock()
		p.runErr = err
		p.mu.Unlock()
		p.powerOff()
	}()
	return p.wait(ctx, first)
}

// run runs the agent; a panic in it is the agent's failure, as a crashed /init would be.
func (p *proc) run(sess *agent.Session) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = sess.Fail("panic", fmt.Errorf("agent panic: %v\n%s", r, debug.Stack()))
		}
	}()
	return sess.Run()
}

// powerOff ends the machine: the channel closes, the TPM stops, the console log is written;
// then done is closed, so a caller that sees the machine off finds nothing of it running.
func (p *proc) powerOff() {
	p.offOnce.Do(func() {
		p.cancel()
		p.guest.Close()
		p.host.Close()
		if p.tpm != nil {
			if err := p.tpm.Stop(); err != nil {
				p.logf("swtpm: %v", err)
			}
		}
		p.mu.Lock()
		_ = os.WriteFile(p.log, p.logBuf, 0o644)
		p.mu.Unlock()
		close(p.done)
	})
}

// wait waits for the end of round r: the agent's session ending or, for a round that resumes,
// its report answered.
func (p *proc) wait(ctx context.Context, r *channel.Round) (*engine.Result, error) {
	t := time.NewTimer(p.m.o.Timeout)
	defer t.Stop()
	reported := r.Reported()
	if !r.Resume {
		reported = nil
	}
	var stopErr error
	select {
	case <-p.done:
	case <-reported:
	case <-t.C:
		stopErr = fmt.Errorf("timeout: the step did not finish within %s (round %d)", p.m.o.Timeout, r.N)
		p.powerOff()
	case <-ctx.Done():
		stopErr = fmt.Errorf("interrupted: %w", ctx.Err())
		p.powerOff()
	}
	said := p.rounds.Result(r)
	res := &engine.Result{Wall: time.Since(r.Start), Accel: Accel, Log: p.log, Outcome: "power-off"}
	select {
	case <-p.done:
	default:
		if said.HostErr != nil {
			p.powerOff()
			return res, said.HostErr
		}
		res.Outcome, res.Running = "running", &running{p: p}
		return res, nil
	}
	p.mu.Lock()
	runErr, serveErr := p.runErr, p.serveEr
	p.mu.Unlock()
	switch {
	case stopErr != nil:
		res.Outcome = "stopped"
		return res, stopErr
	case said.GuestError != nil:
		return res, &agentError{stage: said.GuestError.Stage, msg: said.GuestError.Message, log: p.log}
	case said.HostErr != nil:
		return res, said.HostErr
	case runErr != nil:
		return res, &agentError{stage: "channel", msg: runErr.Error(), log: p.log}
	case serveErr != nil:
		return res, fmt.Errorf("the agent broke the channel protocol: %w", serveErr)
	case said.Report == nil:
		return res, fmt.Errorf("the agent ended without sending a report (console log: %s)", p.log)
	}
	return res, nil
}

// agentError is the agent's own failure.
type agentError struct{ stage, msg, log string }

func (e *agentError) Error() string {
	return fmt.Sprintf("the agent failed at %s: %s\n  console log: %s", e.stage, e.msg, e.log)
}

// running is a machine kept running after a round.
type running struct{ p *proc }

func (r *running) Next(ctx context.Context, h channel.Handler, resume bool) (*engine.Result, error) {
	select {
	case <-r.p.done:
		return nil, errors.New("in-process engine: the machine is no longer running")
	default:
	}
	round := r.p.rounds.NewRound(h, resume, time.Now())
	if err := r.p.rounds.Offer(round); err != nil {
		return nil, fmt.Errorf("in-process engine: %w", err)
	}
	return r.p.wait(ctx, round)
}

func (r *running) Stop() error {
	r.p.rounds.OfferStop()
	select {
	case <-r.p.done:
	case <-time.After(10 * time.Second):
		r.p.powerOff()
		return errors.New("in-process engine: the agent did not power off within 10s of the stop")
	}
	r.p.mu.Lock()
	defer r.p.mu.Unlock()
	return r.p.runErr
}
