package agent

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/harness/channel"
	"github.com/oemact/oemact/harness/statedisk"
	"github.com/oemact/oemact/oemact/activation"
	"github.com/oemact/oemact/oemact/catalog"
	"github.com/oemact/oemact/oemact/hwid"
	"github.com/oemact/oemact/oemact/licence"
)

// Bounds of the agent's waits on the channel (variables so that a test can shorten them).
var (
	errorWait = 3 * time.Second  // for the host's ack of an error report
	sendWait  = 10 * time.Second // writing the report once the host is connected
)

// Platform is what the agent needs of the machine it runs in. The guest's /init gives it the
// real one (Root "/", syslog(2), the state disk found by its serial, /dev/tpmrm0); the in-process
// engine gives it a folder laid out like a guest's /proc and /sys, and files.
type Platform struct {
	// Root holds proc/ and sys/ as a Linux guest shows them.
	Root string
	// KernelLog reads the kernel log.
	KernelLog func() ([]byte, error)
	// StateDisk returns the state disk's device or file ("" when the machine has none).
	StateDisk func() string
	// TPMPath is the TPM the binding uses ("" the default device).
	TPMPath string
	// Logf logs a line to the console.
	Logf func(format string, args ...any)
}

// Session is the agent's conversation with the host over one channel: hello, then for each round
// collect, read the plan, evaluate, report, until the host has no more steps for the machine.
type Session struct {
	Platform Platform
	Conn     *channel.Conn
	// RW is the connection's stream, for write deadlines when it has them (a port, a pipe).
	RW io.ReadWriter

	// Start is when the round's clock started (the agent's start for the first round; default
	// when Run is called).
	Start   time.Time
	timings []channel.Timing
	notes   []string
	// Paused and Resumed are called around the wait for a kept-running machine's next plan (the
	// guest stops its watchdog there).
	Paused, Resumed func()
}

func (s *Session) logf(format string, args ...any) {
	if s.Platform.Logf != nil {
		s.Platform.Logf(format, args...)
	}
}

func (s *Session) note(format string, args ...any) {
	n := fmt.Sprintf(format, args...)
	s.logf("note: %s", n)
	s.notes = append(s.notes, n)
}

// step runs f and records how long it took.
func (s *Session) step(name string, f func() error) error {
	t := time.Now()
	err := f()
	ms := float64(time.Since(t).Microseconds()) / 1000
	s.timings = append(s.timings, channel.Timing{Step: name, Ms: ms})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// Run greets the host and runs rounds until the host says the machine powers off (or, for a
// plan without Resume, after one round). Errors are reported to the host before they are
// returned, when the channel still works.
func (s *Session) Run() error {
	if s.Start.IsZero() {
		s.Start = time.Now()
	}
	var hello uint64
	if err := s.step("hello", func() (err error) {
		hello, err = s.Conn.Send(channel.TypeHello, channel.Hello{Agent: channel.Agent{Version: Version()}})
		return err
	}); err != nil {
		return s.Fail("hello", err)
	}
	var kept []byte // the licence state a resumed round starts from
	for round := 1; ; round++ {
		var plan *channel.Plan
		if round > 1 {
			// The machine stays up for its next step: the host answers when the runner gets there.
			if s.Paused != nil {
				s.Paused()
			}
			s.timings, s.notes = nil, nil
			p, err := s.awaitPlan(hello)
			if err != nil {
				return s.Fail("plan", err)
			}
			if p.PowerOff {
				s.logf("the host has no more steps for this machine")
				return nil
			}
			if s.Resumed != nil {
				s.Resumed()
			}
			s.Start = time.Now()
			s.logf("round %d: resumed without a reboot", round)
			plan = &p
		}
		resume, st, err := s.round(hello, plan, kept)
		if err != nil || !resume {
			return err
		}
		kept = st
		if hello, err = s.Conn.Send(channel.TypeHello, channel.Hello{Agent: channel.Agent{Version: Version()}}); err != nil {
			return s.Fail("hello", err)
		}
	}
}

// awaitPlan reads the host's answer to hello. An old host that does not know hello gets the raw
// report only (a zero plan).
func (s *Session) awaitPlan(hello uint64) (channel.Plan, error) {
	resp, err := s.Conn.Await(channel.TypeHello, hello)
	if err != nil {
		var re *channel.RemoteError
		if errors.As(err, &re) {
			s.note("the host has no plan for this boot (%v): reporting raw data only", err)
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
func (s *Session) round(hello uint64, plan *channel.Plan, kept []byte) (bool, []byte, error) {
	report, dev := s.collect(plan, kept)
	if plan == nil {
		if err := s.step("plan", func() error {
			p, err := s.awaitPlan(hello)
			plan = &p
			return err
		}); err != nil {
			return false, nil, s.Fail("plan", err)
		}
	}
	var newState []byte
	if plan.Evaluate {
		var err error
		if newState, err = s.evaluate(report, plan, dev); err != nil {
			return false, nil, err
		}
	}
	report.Notes = append(s.notes, report.Notes...)
	report.Timings = s.timings
	reply, err := s.send(report)
	if err != nil {
		return false, nil, err
	}
	if len(reply.State) > 0 {
		if err := s.step("state-write", func() error {
			if dev == "" {
				return errors.New("the host sent state to save but the machine has no state disk")
			}
			return statedisk.Write(dev, reply.State)
		}); err != nil {
			return false, nil, s.Fail("state-write", err)
		}
		newState = reply.State
	}
	s.logf("done in %s (%s)", time.Since(s.Start).Round(time.Millisecond), s.stepTimes())
	return plan.Resume, newState, nil
}

// collect reads what every round reports: tables, SMBIOS, devices, the kernel log's table
// lines and the saved state. dev is the state disk ("" none).
func (s *Session) collect(plan *channel.Plan, kept []byte) (report *channel.Report, dev string) {
	p := s.Platform
	s.step("collect", func() error {
		report = Collect(p.Root)
		return nil
	})
	s.step("kernel-log", func() error {
		if p.KernelLog == nil {
			return nil
		}
		log, err := p.KernelLog()
		if err != nil {
			s.note("kernel log (syslog(2)): %v", err)
		}
		report.KernelLog = firmware.KernelLogTableLines(log)
		return nil
	})
	s.step("state-read", func() error {
		if p.StateDisk != nil {
			dev = p.StateDisk()
		}
		if plan != nil && kept != nil {
			report.State, report.StateStatus = kept, "ok" // what the last round left, as on the disk
			return nil
		}
		LoadState(report, dev)
		return nil
	})
	return report, dev
}

// evaluate runs the activation model on the report and saves the state; the report carries the
// evaluation (not the old state: the new one is in its snapshot).
func (s *Session) evaluate(report *channel.Report, plan *channel.Plan, dev string) ([]byte, error) {
	var inv hwid.Inventory
	if err := s.step("inventory", func() error {
		var err error
		if inv, err = hwid.Collect(s.Platform.Root, hwid.Options{SkipDiskSerials: []string{statedisk.Serial}}); err != nil {
			return err
		}
		for _, n := range inv.Notes {
			s.note("inventory: %s", n)
		}
		return nil
	}); err != nil {
		return nil, s.Fail("evaluate", err)
	}
	var newState []byte
	if err := s.step("evaluate", func() error {
		in, err := Input(*plan, report, inv)
		if err != nil {
			return err
		}
		in.TPMPath = s.Platform.TPMPath
		ev, st, err := activation.Evaluate(in, &channelHost{s})
		if err != nil {
			return err
		}
		report.Evaluation, newState = ev, st
		return nil
	}); err != nil {
		return nil, s.Fail("evaluate", err)
	}
	switch {
	case plan.Stateless:
	case dev != "":
		if err := s.step("state-write", func() error { return statedisk.Write(dev, newState) }); err != nil {
			return nil, s.Fail("state-write", err)
		}
	case !plan.Resume:
		return nil, s.Fail("state-write", errors.New("the plan asks for the licence model but the machine has no state disk to keep it"))
	}
	report.State = nil
	return newState, nil
}

// send sends the report and reads the host's reply.
func (s *Session) send(report *channel.Report) (channel.Reply, error) {
	var id uint64
	if err := s.step("report", func() (err error) {
		// The deadline bounds this write only: a kept-running machine's next round writes its
		// hello and its activation and KMS requests long after it (the host offers the round when
		// the runner gets there).
		if d, ok := s.RW.(interface{ SetWriteDeadline(time.Time) error }); ok {
			d.SetWriteDeadline(time.Now().Add(sendWait))
			defer d.SetWriteDeadline(time.Time{})
		}
		id, err = s.Conn.Send(channel.TypeReport, report)
		return err
	}); err != nil {
		return channel.Reply{}, err // the channel broke: nothing more can be said over it
	}
	var resp *channel.Message
	if err := s.step("reply", func() (err error) {
		resp, err = s.Conn.Await(channel.TypeReport, id)
		return err
	}); err != nil {
		// Either the host refused the report (and knows why) or the channel broke.
		return channel.Reply{}, err
	}
	reply, err := channel.PayloadOf[channel.Reply](resp)
	if err != nil {
		return channel.Reply{}, s.Fail("reply", err)
	}
	return reply, nil
}

// Input turns a plan, the collected report and the inventory into the activation model's input.
func Input(p channel.Plan, r *channel.Report, inv hwid.Inventory) (activation.Input, error) {
	in := activation.Input{Now: p.Now, Edition: p.Edition, Key: p.Key, InstallKey: p.InstallKey, Logon: p.Logon,
		StaysOn: p.StaysOn, PowerOffAt: p.PowerOffAt, IP: p.IP, Offline: p.Offline,
		Certificate: p.Certificate, Authority: p.Authority, Licence: p.Licence, TPM: p.TPM, Stateless: p.Stateless,
		Firmware: activation.Firmware{Tables: channel.TPMTables(r.ACPITables), SMBIOSEntryPoint: r.SMBIOSEntryPoint,
			SMBIOSTable: r.SMBIOSTable, KernelLog: r.KernelLog},
		Inventory: inv, State: r.State}
	for _, a := range p.Actions {
		in.Actions = append(in.Actions, activation.Action(a))
	}
	if len(p.Catalog) > 0 {
		cat, err := catalog.ParseWire(p.Catalog)
		if err != nil {
			return in, fmt.Errorf("plan: %w", err)
		}
		in.Catalog = cat
	}
	return in, nil
}

// stepTimes lists the steps' timings as NAME=MSms words.
func (s *Session) stepTimes() string {
	w := make([]string, len(s.timings))
	for i, t := range s.timings {
		w[i] = fmt.Sprintf("%s=%.1fms", t.Step, t.Ms)
	}
	return strings.Join(w, " ")
}

// Fail reports an error to the host, then returns it.
func (s *Session) Fail(stage string, err error) error {
	s.sendError(stage, err)
	return err
}

// sendError tells the host the agent failed, waiting briefly for its ack.
func (s *Session) sendError(stage string, err error) {
	if d, ok := s.RW.(interface{ SetReadDeadline(time.Time) error }); ok {
		d.SetReadDeadline(time.Now().Add(errorWait))
		defer d.SetReadDeadline(time.Time{})
	}
	if _, cerr := s.Conn.Call(channel.TypeError, channel.Error{Stage: stage, Message: err.Error()}); cerr != nil {
		s.logf("could not report the error to the host: %v", cerr)
	}
}

// channelHost relays the model's requests to the host over the channel.
type channelHost struct{ s *Session }

func (h *channelHost) Activate(req activation.ActivateRequest) (activation.Activation, error) {
	resp, err := h.s.Conn.Call(channel.TypeActivate, req)
	if err != nil {
		return activation.Activation{}, err
	}
	return channel.PayloadOf[activation.Activation](resp)
}

func (h *channelHost) KMS(req activation.KMSRequest) (licence.KMSAnswer, error) {
	resp, err := h.s.Conn.Call(channel.TypeKMS, req)
	if err != nil {
		return licence.KMSAnswer{}, err
	}
	return channel.PayloadOf[licence.KMSAnswer](resp)
}
