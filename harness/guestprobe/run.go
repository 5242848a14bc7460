package guestprobe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/oemact/oemact/harness/internal/unixsock"
	"github.com/oemact/oemact/harness/qemu"
	"github.com/oemact/oemact/harness/qga"
)

// Defaults for Options.
const (
	// DefaultAgentTimeout bounds the wait from QEMU's start to the agent's first answer: the
	// Debian test image answers after 15-30 s under TCG on a shared 2-vCPU machine; an image
	// with a slower OS (Windows under TCG takes minutes) needs a larger bound.
	DefaultAgentTimeout = 3 * time.Minute
	// DefaultPowerOffTimeout bounds guest-shutdown to QEMU's exit.
	DefaultPowerOffTimeout = time.Minute
	// AgentSocketName is the guest agent's socket in the artifacts folder.
	AgentSocketName = "qga.sock"
)

// Options tune Run.
type Options struct {
	// QEMU are the options for the QEMU run; Dir (the artifacts folder) is required. Its
	// Timeout bounds the whole run; default AgentTimeout + PowerOffTimeout + 5 minutes.
	QEMU qemu.Options
	// AgentTimeout bounds QEMU's start to the agent's first answer; default DefaultAgentTimeout.
	AgentTimeout time.Duration
	// PowerOffTimeout bounds guest-shutdown to QEMU's exit; default DefaultPowerOffTimeout.
	PowerOffTimeout time.Duration
}

// Result is what happened in a probe run.
type Result struct {
	QEMU *qemu.Result `json:"qemu"`
	// BootToAgent is QEMU's start to the agent's first answer: the boot, firmware to OS.
	BootToAgent time.Duration `json:"boot_to_agent"`
	// Probe is how long the probe function took.
	Probe time.Duration `json:"probe"`
	// PowerOff is guest-shutdown to QEMU's exit.
	PowerOff time.Duration `json:"power_off"`
}

// AgentError is a guest agent that did not answer in time, or a QEMU that ended before it
// did: an infrastructure failure, not a verdict on the image.
type AgentError struct {
	Waited time.Duration
	Err    error
	QEMU   *qemu.Result // how QEMU ended (it was stopped when the agent timed out)
}

func (e *AgentError) Error() string {
	s := fmt.Sprintf("the guest agent did not answer within %s of QEMU's start: %v", e.Waited.Round(time.Millisecond), e.Err)
	if e.QEMU != nil {
		s += "\n  serial log: " + e.QEMU.Serial + "\n  reproduce: " + e.QEMU.Command
	}
	return s
}

func (e *AgentError) Unwrap() error { return e.Err }

// Run boots c (a disk or CD-ROM image whose OS runs the QEMU guest agent), waits for the agent,
// calls probe with a client to it, then asks the guest to power off and waits for QEMU to exit.
// An agent that does not answer within AgentTimeout is an *AgentError, and QEMU is stopped. When
// Run returns, QEMU, the agent's socket and the disk overlay are gone; the serial log and QEMU's
// stderr stay in the artifacts folder.
func Run(ctx context.Context, c qemu.Config, o Options, probe func(context.Context, *qga.Client) error) (*Result, error) {
	g, err := Start(ctx, c, o)
	if err != nil {
		return nil, err
	}
	res := &Result{BootToAgent: g.BootToAgent}
	var perr error
	res.Probe, perr = g.Probe(ctx, probe)
	q, off, serr := g.PowerOff()
	res.QEMU, res.PowerOff = q, off
	if perr != nil {
		return res, perr
	}
	return res, serr
}

// Guest is an OS booted from its image whose guest agent answered: probe it as often as needed,
// then power it off.
type Guest struct {
	m      *machine
	l      *unixsock.Listener
	client *qga.Client
	o      Options
	// BootToAgent is QEMU's start to the agent's first answer: the boot, firmware to OS.
	BootToAgent time.Duration
	off         bool
}

// Start boots c (a disk or CD-ROM image whose OS runs the QEMU guest agent) and waits for the
// agent. An agent that does not answer within AgentTimeout is an *AgentError; then, as on any
// error, QEMU is stopped and its socket and overlay are gone.
func Start(ctx context.Context, c qemu.Config, o Options) (*Guest, error) {
	if o.QEMU.Dir == "" {
		return nil, errors.New("guestprobe: Options.QEMU.Dir (the artifacts folder) is required")
	}
	if o.AgentTimeout <= 0 {
		o.AgentTimeout = DefaultAgentTimeout
	}
	if o.PowerOffTimeout <= 0 {
		o.PowerOffTimeout = DefaultPowerOffTimeout
	}
	if o.QEMU.Timeout <= 0 {
		o.QEMU.Timeout = o.AgentTimeout + o.PowerOffTimeout + 5*time.Minute
	}
	dir, err := filepath.Abs(o.QEMU.Dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("guestprobe: artifacts folder: %w", err)
	}
	l, err := unixsock.Listen(filepath.Join(dir, AgentSocketName))
	if err != nil {
		return nil, fmt.Errorf("guestprobe: guest agent socket: %w", err)
	}
	c.GuestAgent = l.Path

	m := startMachine(ctx, c, o.QEMU)
	client, err := m.agent(l, o.AgentTimeout)
	if err != nil {
		m.stop()
		l.Close()
		return nil, &AgentError{Waited: time.Since(m.begin()), Err: err, QEMU: m.res}
	}
	return &Guest{m: m, l: l, client: client, o: o, BootToAgent: time.Since(m.begin())}, nil
}

// Probe calls probe with a client to the guest agent and returns how long it took. The probe's
// context ends with ctx or when QEMU exits.
func (g *Guest) Probe(ctx context.Context, probe func(context.Context, *qga.Client) error) (time.Duration, error) {
	if g.off {
		return 0, errors.New("guestprobe: the guest was powered off")
	}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(g.m.ctx, cancel)
	defer stop()
	start := time.Now()
	err := probe(pctx, g.client)
	took := time.Since(start)
	if err != nil && g.m.ctx.Err() != nil {
		err = g.m.whyDone(err)
	}
	return took, err
}

// Launched is QEMU's run as it started: its command line, folder and serial log.
func (g *Guest) Launched() qemu.Result { return g.m.launchedResult() }

// PowerOff asks the guest to power off through its agent and waits for QEMU to exit, stopping it
// after PowerOffTimeout (an error). It returns how QEMU ended and how long the power-off took;
// QEMU, the agent's socket and the overlay are gone then. A second call returns at once.
func (g *Guest) PowerOff() (*qemu.Result, time.Duration, error) {
	if g.off {
		return g.m.res, 0, nil
	}
	g.off = true
	start := time.Now()
	err := g.m.powerOff(g.client, g.o.PowerOffTimeout)
	took := time.Since(start)
	g.m.stop()
	g.client.Close()
	g.l.Close()
	if err == nil {
		err = g.m.err
	}
	return g.m.res, took, err
}

// machine is QEMU running in the background.
type machine struct {
	ctx     context.Context // ends when QEMU has exited
	cancel  context.CancelFunc
	done    chan struct{}
	started chan time.Time
	start   time.Time
	res     *qemu.Result
	err     error

	mu       sync.Mutex
	launched qemu.Result
}

func (m *machine) launchedResult() qemu.Result {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.launched
}

func startMachine(ctx context.Context, c qemu.Config, o qemu.Options) *machine {
	runCtx, cancel := context.WithCancel(ctx)
	m := &machine{cancel: cancel, done: make(chan struct{}), started: make(chan time.Time, 1)}
	var exited context.CancelFunc
	m.ctx, exited = context.WithCancel(ctx)
	launched := o.Launched
	o.Launched = func(r qemu.Result) {
		m.mu.Lock()
		m.launched = r
		m.mu.Unlock()
		if launched != nil {
			launched(r)
		}
	}
	started := o.Started
	o.Started = func(pid int) {
		m.started <- time.Now()
		if started != nil {
			started(pid)
		}
	}
	go func() {
		defer close(m.done)
		defer exited()
		m.res, m.err = qemu.Run(runCtx, c, o)
	}()
	return m
}

// begin is when QEMU started (or now, if it never did).
func (m *machine) begin() time.Time {
	if m.start.IsZero() {
		select {
		case m.start = <-m.started:
		default:
			m.start = time.Now()
		}
	}
	return m.start
}

// stop kills QEMU if it still runs and waits for Run to return.
func (m *machine) stop() {
	m.cancel()
	<-m.done
}

// agent waits for QEMU to connect to the agent's socket and for the agent to answer, within
// timeout of QEMU's start; a QEMU that exits first ends the wait.
func (m *machine) agent(l *unixsock.Listener, timeout time.Duration) (*qga.Client, error) {
	select {
	case m.start = <-m.started:
	case <-m.done:
		return nil, fmt.Errorf("QEMU ended first: %w", m.err)
	}
	ctx, cancel := context.WithDeadline(m.ctx, m.start.Add(timeout))
	defer cancel()
	type accepted struct {
		c   net.Conn
		err error
	}
	ch := make(chan accepted, 1)
	go func() {
		c, err := l.Accept()
		ch <- accepted{c, err}
	}()
	var conn net.Conn
	select {
	case a := <-ch:
		if a.err != nil {
			return nil, fmt.Errorf("accepting QEMU's connection on %s: %w", l.Path, a.err)
		}
		conn = a.c
	case <-ctx.Done():
		l.Close() // ends the Accept
		<-ch
		return nil, m.whyDone(fmt.Errorf("QEMU did not connect to %s", l.Path))
	}
	client := qga.NewClient(conn)
	if err := client.Ready(ctx); err != nil {
		client.Close()
		return nil, m.whyDone(err)
	}
	return client, nil
}

// whyDone prefers QEMU's own end to the error it caused.
func (m *machine) whyDone(err error) error {
	select {
	case <-m.done:
		if m.err != nil {
			return fmt.Errorf("QEMU ended first: %w", m.err)
		}
		return errors.New("QEMU ended first: the guest powered off")
	default:
		return err
	}
}

// powerOff asks the guest to power off and waits for QEMU to exit; a guest that has not done
// so within timeout is stopped, and that is an error.
func (m *machine) powerOff(client *qga.Client, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	// Shutdown returns when QEMU exits (m.ctx ends, the socket closes) or at the deadline.
	ctx, cancel := context.WithDeadline(m.ctx, deadline)
	defer cancel()
	if err := client.Shutdown(ctx, "powerdown"); err != nil {
		m.stop()
		return fmt.Errorf("powering the guest off: %w", err)
	}
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case <-m.done:
		return nil
	case <-timer.C:
		m.stop()
		err := fmt.Errorf("the guest had not powered off %s after guest-shutdown; QEMU was stopped", timeout)
		if m.res != nil {
			err = fmt.Errorf("%w\n  serial log: %s", err, m.res.Serial)
		}
		return err
	}
}
