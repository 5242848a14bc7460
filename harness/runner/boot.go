package runner

import (
	"context"
	"fmt"
	"sync"

	"github.com/oemact/oemact/harness/channel"
	"github.com/oemact/oemact/harness/engine"
	"github.com/oemact/oemact/harness/scenario"
	"github.com/oemact/oemact/oemact/licence"
)

// machineRound is what one machine's part of a boot step gave.
type machineRound struct {
	m      *machine
	boot   *Boot
	report *channel.Report
	err    string
}

// bootStep boots the step's machines (one, or a proxy activation's batch, at once) and checks
// what the step's machine shows; the others' tables are checked too, and their answers noted.
func (sr *scenarioRun) bootStep(ctx context.Context, i int, s *scenario.Step, st *Step) {
	ms := s.Booted()
	var batch *proxyBatch
	if s.Kind == scenario.Activate && s.Method == scenario.MethodProxy {
		batch = newProxyBatch(ctx, sr, s, len(ms))
	}
	rounds := make([]*machineRound, len(ms))
	var wg sync.WaitGroup
	for j, def := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rounds[j] = sr.round(ctx, i, s, j, sr.machines[def.Name], batch)
			if batch != nil {
				batch.finished(j)
			}
		}()
	}
	wg.Wait()
	for j, r := range rounds {
		if r.boot != nil {
			sr.count(r.boot.Resumed)
		}
		if j == 0 {
			sr.mainRound(ctx, s, r, st)
		} else {
			sr.otherRound(s, r, st)
		}
	}
	for _, c := range st.Checks {
		if !c.OK && st.Outcome != Error {
			st.Outcome = Failed
		}
	}
}

// mainRound puts the step's machine's round in the step's result.
func (sr *scenarioRun) mainRound(ctx context.Context, s *scenario.Step, r *machineRound, st *Step) {
	st.Boot = r.boot
	if r.err != "" {
		st.Outcome, st.Error = Error, r.err
		return
	}
	ev := r.report.Evaluation
	st.Notes = append(st.Notes, r.report.Notes...)
	st.Notes = append(st.Notes, ev.Refused...)
	snap := ev.Snapshot
	st.Snapshot, st.Events = &snap, ev.Events
	if ev.OA != nil {
		st.OA = ev.OA.String()
	}
	st.Activation = activationOf(ev)
	sr.timeline(r.m, s, ev)
	st.Checks = append(st.Checks, sameTables(r.m.tables, ev))
	if s.Expect != nil {
		st.Checks = append(st.Checks, sr.expectations(ctx, s, ev)...)
	}
}

// otherRound puts another machine of the step (a proxy batch's) in the step's result: how it
// booted, its state and answer; its tables are checked and its events go to its timeline.
func (sr *scenarioRun) otherRound(s *scenario.Step, r *machineRound, st *Step) {
	name := r.m.def.Name
	o := &Other{Machine: name, Boot: r.boot, Error: r.err}
	st.Others = append(st.Others, o)
	if r.err != "" {
		st.Outcome = Error
		st.Error = joinErrors(st.Error, name+": "+r.err)
		return
	}
	ev := r.report.Evaluation
	snap := ev.Snapshot
	o.Snapshot, o.Activation = &snap, activationOf(ev)
	sr.timeline(r.m, s, ev)
	c := sameTables(r.m.tables, ev)
	c.Name = name + ": " + c.Name
	st.Checks = append(st.Checks, c)
	for _, n := range append(r.report.Notes, ev.Refused...) {
		st.Notes = append(st.Notes, name+": "+n)
	}
}

func joinErrors(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// round boots (or resumes) one machine for step i and returns what its agent reported; j is the
// machine's place in the step (0: the step's machine).
func (sr *scenarioRun) round(ctx context.Context, i int, s *scenario.Step, j int, m *machine, batch *proxyBatch) *machineRound {
	out := &machineRound{m: m}
	k := roundKey{i, m.def.Name}
	resumed, stay := sr.plan.resumes[k], sr.plan.stays[k]
	if resumed && m.live == nil {
		out.err = fmt.Sprintf("%s should still be running from its previous step, but is not", m.def.Name)
		return out
	}
	plan := sr.planFor(i, s, m)
	plan.Resume = stay
	var hw engine.Hardware
	if !resumed { // a machine kept running has the tables it booted with (m.tables)
		t, err := m.firmware.Synthesize()
		if err != nil {
			out.err = fmt.Sprintf("synthesizing %s's tables: %v", m.def.Name, err)
			return out
		}
		hw = engine.FromProfile(t, m.vm, m.tpm)
		plan.TPM = m.tpm
		m.tables = t
	}
	var (
		mu     sync.Mutex
		report *channel.Report
	)
	handler := sr.handler(ctx, plan, j, batch, func(r *channel.Report) {
		mu.Lock()
		report = r
		mu.Unlock()
	})
	var res *engine.Result
	var err error
	if resumed {
		res, err = m.live.Next(ctx, handler, stay)
	} else {
		res, err = m.eng.Boot(ctx, hw, handler, stay)
	}
	m.live = nil
	if res != nil {
		m.live = res.Running
		out.boot = &Boot{Wall: res.Wall, Accel: res.Accel, Command: res.Command, SerialLog: res.Log, Outcome: res.Outcome, Resumed: resumed}
	}
	if err != nil {
		out.err = err.Error()
		return out
	}
	mu.Lock()
	defer mu.Unlock()
	if report == nil || report.Evaluation == nil {
		out.err = "the guest reported no evaluation (see the serial log)"
		return out
	}
	m.install = false
	if m.result.Channel == "" && report.Evaluation.Snapshot.Product != nil {
		m.result.Channel = string(report.Evaluation.Snapshot.Product.Channel) // the edition's default key
	}
	out.report = report
	return out
}

// planFor is what machine m's guest is told at boot step i.
func (sr *scenarioRun) planFor(i int, s *scenario.Step, m *machine) channel.Plan {
	k := roundKey{i, m.def.Name}
	// The machine's last boot step keeps no state: nothing reads it again.
	plan := channel.Plan{Evaluate: true, Now: sr.now, Machine: m.def.Name, Edition: m.def.Edition.ID, Logon: true,
		Catalog: sr.catalog, Stateless: sr.plan.last[m.def.Name] == i, StaysOn: sr.plan.on[k], PowerOffAt: sr.plan.offAt[k],
		Licence: m.def.Licence, IP: m.def.IP, Offline: m.offline}
	if prepare := bootPlans[s.Kind]; prepare != nil {
		prepare(m, s, &plan)
	}
	if m.key != nil {
		plan.Key = m.key.Key.Reveal()
	}
	plan.InstallKey = m.install
	// The image's OEM certificate follows the installed key's OEM (or the machine's certificate:),
	// never the board's.
	plan.Certificate, plan.Authority = sr.sc.Certificate(m.def, m.key), m.def.Image.Authority
	return plan
}

// handler answers one machine's agent: its plan, its activation and KMS requests (a proxy
// request joins the step's batch; a KMS host that is down does not answer), its report.
func (sr *scenarioRun) handler(ctx context.Context, plan channel.Plan, j int, batch *proxyBatch, reported func(*channel.Report)) channel.Handler {
	host := sr.host.WithContext(ctx)
	return func(hctx context.Context, msg *channel.Message) (channel.Type, any, error) {
		switch msg.Type {
		case channel.TypeHello:
			return channel.TypePlan, plan, nil
		case channel.TypeActivate:
			req, err := channel.PayloadOf[channel.ActivateRequest](msg)
			if err != nil {
				return "", nil, err
			}
			if req.Method == scenario.MethodProxy && batch != nil {
				ans, err := batch.ask(hctx, j, req)
				return channel.TypeActivation, ans, err
			}
			ans, err := host.Activate(req)
			return channel.TypeActivation, ans, err
		case channel.TypeKMS:
			req, err := channel.PayloadOf[channel.KMSRequest](msg)
			if err != nil {
				return "", nil, err
			}
			if sr.kmsDown {
				return channel.TypeKMSAnswer, licence.KMSAnswer{Message: "the KMS host is down"}, nil
			}
			ans, err := host.KMS(req)
			return channel.TypeKMSAnswer, ans, err
		case channel.TypeReport:
			r, err := channel.PayloadOf[channel.Report](msg)
			if err != nil {
				return "", nil, &channel.FatalError{Err: err}
			}
			reported(&r)
			return channel.TypeReply, channel.Reply{}, nil
		case channel.TypeError:
			return channel.TypeAck, nil, nil
		}
		return "", nil, fmt.Errorf("the host does not handle %q", msg.Type)
	}
}
