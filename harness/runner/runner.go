package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/oemact/oemact/harness/boot"
	"github.com/oemact/oemact/harness/channel"
	"github.com/oemact/oemact/harness/engine"
	"github.com/oemact/oemact/harness/engine/qemuvm"
	"github.com/oemact/oemact/harness/kernel"
	"github.com/oemact/oemact/harness/qemu"
	"github.com/oemact/oemact/harness/scenario"
	"github.com/oemact/oemact/oemact/catalog"
	"github.com/oemact/oemact/oemact/hwid"
	"github.com/oemact/oemact/oemact/licence"
	"github.com/oemact/oemact/oemact/profile"
	"github.com/oemact/oemact/oemact/service"
	"github.com/oemact/oemact/oemact/service/api"
	"github.com/oemact/oemact/oemact/service/client"
)

// Observer hears about progress; the terminal and CI progress printers implement it. Calls for
// different scenarios may come from different goroutines at once.
type Observer interface {
	ScenarioStarted(sc *Scenario, steps int)
	StepStarted(sc *Scenario, st *Step)
	StepDone(sc *Scenario, st *Step)
	ScenarioDone(sc *Scenario)
}

// Options tune a run.
type Options struct {
	// Jobs is how many scenarios run at once (default 1).
	Jobs int
	// Engine runs the machines (default the QEMU engine, with Kernel, Agent, Accel and
	// InitramfsDir).
	Engine engine.Engine
	Kernel *kernel.Kernel
	// Agent is the static binary booted as /init (default boot.DefaultAgent: oemact-agent beside
	// this executable, else this executable).
	Agent string
	// Artifacts is the folder for every scenario's artifacts (a folder per scenario).
	Artifacts string
	// KeepArtifacts keeps the artifacts of passed scenarios too (failed ones are always kept).
	KeepArtifacts bool
	// Timeout bounds each boot (default DefaultBootTimeout), and each probe of an OS image.
	Timeout time.Duration
	// AgentTimeout bounds an OS image's boot, QEMU's start to its guest agent's first answer
	// (default the engine's: minutes).
	AgentTimeout time.Duration
	// ServiceURL is a running `oemact serve` (started with --trust-client-time) to use instead of
	// an in-process service per scenario: http://HOST:PORT, or unix:PATH for a unix socket.
	ServiceURL string
	// ServiceToken is sent to it on every request when it was started with --token-file.
	ServiceToken string
	Observer     Observer
	// Accel is the accelerator; empty probes KVM once (qemu.ChooseAccel).
	Accel qemu.Accel
	// InitramfsDir caches the guest initramfs by content (default Artifacts/.initramfs).
	InitramfsDir string
	// RebootEveryStep boots a machine afresh at every boot step. By default a machine whose next
	// step changes only the clock (advance, kms_clients and check steps between, no change to it)
	// stays running and the agent takes the next step's plan without a reboot: the firmware,
	// hardware and guest are the same as a reboot would give, and the licence state is carried
	// over as the state disk would carry it. A machine with a TPM always reboots (a reboot resets
	// its PCRs, which the binding measures).
	RebootEveryStep bool
}

// DefaultBootTimeout bounds one boot: a TCG boot takes 2-4 s on an idle 2-core machine and was
// measured at up to 49 s on a heavily loaded one; 120 s leaves room without hiding a hang for long.
const DefaultBootTimeout = 120 * time.Second

// Execute runs scenarios and returns their results; the error is for what stops the whole run (no
// kernel). A scenario's own problems are in its result.
func Execute(ctx context.Context, scs []*scenario.Scenario, o Options) (*Run, error) {
	if o.Jobs < 1 {
		o.Jobs = 1
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultBootTimeout
	}
	if o.Artifacts == "" {
		return nil, errors.New("run: no artifacts folder")
	}
	if err := os.MkdirAll(o.Artifacts, 0o755); err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	r := &Run{Started: time.Now(), Jobs: o.Jobs}
	if o.Engine == nil {
		e, accel, agent, err := qemuEngine(ctx, o)
		if err != nil {
			return nil, err
		}
		o.Engine, r.Accel, r.Agent = e, accel, agent
	} else {
		r.Accel = o.Engine.Name()
	}
	r.Engine = o.Engine.Name()

	names := map[string]int{}
	r.Scenarios = make([]*Scenario, len(scs))
	dirs := make([]string, len(scs))
	for i, sc := range scs {
		r.Scenarios[i] = &Scenario{Name: sc.Name, File: sc.Path, Description: sc.Description, Position: i, Outcome: Skipped,
			Steps: []*Step{}, Machines: []*Machine{}}
		base := dirName(sc.Name)
		names[base]++
		if names[base] > 1 {
			base = fmt.Sprintf("%s-%d", base, names[base])
		}
		dirs[i] = filepath.Join(o.Artifacts, base)
	}
	// Workers take scenarios in file order, so a one-job run is in order.
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := make(chan int)
	for w := 0; w < o.Jobs && w < len(scs); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				boots, resumed := runScenario(ctx, scs[i], r.Scenarios[i], dirs[i], o)
				mu.Lock()
				r.Boots += boots
				r.Resumed += resumed
				mu.Unlock()
			}
		}()
	}
	for i := range scs {
		next <- i
	}
	close(next)
	wg.Wait()
	r.Duration = time.Since(r.Started)
	return r, nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func dirName(s string) string {
	s = strings.Trim(unsafeName.ReplaceAllString(s, "-"), "-.")
	if s == "" {
		s = "scenario"
	}
	return s
}

// qemuEngine is the QEMU engine for the options: their kernel, agent binary and initramfs cache,
// and the accelerator (KVM when a canary boot shows it works, else TCG), with the accelerator and
// the agent binary described for the report.
func qemuEngine(ctx context.Context, o Options) (engine.Engine, string, string, error) {
	if o.Kernel == nil {
		return nil, "", "", errors.New("run: no kernel (oemact kernel fetch)")
	}
	agent := o.Agent + " (named by the caller)"
	if o.Agent == "" {
		path, why, err := boot.DefaultAgent()
		if err != nil {
			return nil, "", "", fmt.Errorf("run: %w", err)
		}
		o.Agent, agent = path, path+" ("+why+")"
	}
	if o.InitramfsDir == "" {
		o.InitramfsDir = filepath.Join(o.Artifacts, ".initramfs")
	}
	accel := qemu.AccelChoice{Accel: o.Accel, Reason: "chosen by the caller"}
	if o.Accel == qemu.AccelAuto {
		accel = qemu.ChooseAccel(ctx, o.Kernel.Vmlinuz, o.Artifacts)
	}
	return &qemuvm.Engine{Kernel: o.Kernel, Agent: o.Agent, InitramfsDir: o.InitramfsDir, Accel: accel.Accel},
		fmt.Sprintf("%s (%s)", accel.Accel, accel.Reason), agent, nil
}

// AutoJobs is -j auto: the CPUs this process may use (its affinity mask), each TCG guest keeping
// about one busy. On a 2-vCPU machine that gives little real throughput, and parallel VMs gain
// little (notes/qemu.md); on real multi-core CI hosts they do.
func AutoJobs() int {
	n := runtime.NumCPU()
	if q := cgroupCPUs(); q > 0 && q < n {
		n = q
	}
	if n < 1 {
		n = 1
	}
	return n
}

// cgroupCPUs reads a cgroup v2 CPU quota (cpu.max "QUOTA PERIOD"), rounded down; 0 when unlimited
// or unknown.
func cgroupCPUs() int {
	b, err := os.ReadFile("/sys/fs/cgroup/cpu.max")
	if err != nil {
		return 0
	}
	var quota, period int
	if _, err := fmt.Sscanf(string(b), "%d %d", &quota, &period); err != nil || quota <= 0 || period <= 0 {
		return 0
	}
	return quota / period
}

// scenarioRun is one scenario in progress.
type scenarioRun struct {
	sc       *scenario.Scenario
	res      *Scenario
	dir      string
	o        Options
	now      time.Time
	clock    *service.ManualClock
	srv      *service.Server
	host     *client.Host
	machines map[string]*machine
	boots    int
	resumed  int
	plan     *roundPlan
	// kmsDown: the organisation's KMS host is down (a kms_host step).
	kmsDown bool
	// catalog is the scenario's key catalog in its wire form, handed to the guests.
	catalog []byte
}

// count counts a boot step's VM boot, or its step in a machine kept running (resumed). Only the
// scenario's own goroutine counts, after the step's rounds are done.
func (sr *scenarioRun) count(resumed bool) {
	if resumed {
		sr.resumed++
	} else {
		sr.boots++
	}
}

// machine is one machine in progress: its firmware and hardware as changed so far.
type machine struct {
	def      *scenario.Machine
	tpm      bool
	firmware *profile.Profile // the board's profile: ACPI IDs, markers, SMBIOS
	vm       profile.VM
	key      *catalog.Entry
	eng      engine.Machine
	live     engine.Running   // the machine kept running for its next step
	liveOS   engine.RunningOS // an OS image's machine kept running for its next probe
	tables   *profile.Tables  // what the running machine was booted with
	install  bool             // install the key at the next boot
	offline  bool             // the network is disconnected
	result   *Machine
	dir      string
}

func runScenario(ctx context.Context, sc *scenario.Scenario, res *Scenario, dir string, o Options) (boots, resumed int) {
	start := time.Now()
	if o.Observer != nil {
		o.Observer.ScenarioStarted(res, len(sc.Steps))
	}
	if sc.LoadError != nil {
		// Nothing to run: the file's error is the scenario's, and the others run.
		res.Outcome, res.Error = Error, "the scenario file does not load: "+sc.LoadError.Error()
		res.Duration = time.Since(start)
		if o.Observer != nil {
			o.Observer.ScenarioDone(res)
		}
		return 0, 0
	}
	sr := &scenarioRun{sc: sc, res: res, dir: dir, o: o, now: sc.Start, machines: map[string]*machine{}}
	res.Artifacts = dir
	err := sr.run(ctx)
	res.Duration = time.Since(start)
	switch {
	case err != nil:
		res.Outcome, res.Error = Error, err.Error()
	default:
		res.Outcome = Passed
		for _, st := range res.Steps {
			switch st.Outcome {
			case Error:
				res.Outcome = Error
			case Failed:
				if res.Outcome != Error {
					res.Outcome = Failed
				}
			}
		}
	}
	if res.Outcome == Passed && !o.KeepArtifacts {
		if os.RemoveAll(dir) == nil {
			res.Artifacts = ""
		}
	}
	if o.Observer != nil {
		o.Observer.ScenarioDone(res)
	}
	return sr.boots, sr.resumed
}

func (sr *scenarioRun) run(ctx context.Context) error {
	if err := os.RemoveAll(sr.dir); err != nil {
		return err
	}
	if err := os.MkdirAll(sr.dir, 0o755); err != nil {
		return err
	}
	var err error
	if sr.catalog, err = sr.sc.Catalog.Wire(); err != nil {
		return err
	}
	if err := sr.openService(ctx); err != nil {
		return fmt.Errorf("activation service: %w", err)
	}
	if sr.srv != nil {
		defer sr.srv.Close()
	}
	sr.plan = planRounds(sr.sc, sr.o.RebootEveryStep)
	boots := sr.plan.boots
	defer sr.stopMachines()
	for _, def := range sr.sc.Machines {
		m := &machine{def: def, tpm: def.TPM, firmware: def.Profile, vm: def.Profile.VM, key: def.Key, install: def.Key != nil,
			dir: filepath.Join(sr.dir, def.Name)}
		m.result = &Machine{Name: def.Name, Profile: def.Profile.Name, Edition: def.Edition.ID, Timeline: []TimelinePoint{}}
		if def.Key != nil {
			m.result.Channel = string(def.Key.Channel)
		}
		var err error
		mo := engine.MachineOptions{Timeout: sr.o.Timeout, NoStateDisk: boots[def.Name] <= 1 || def.BootsImage(), AgentTimeout: sr.o.AgentTimeout}
		if m.eng, err = sr.o.Engine.Machine(def.Name, m.dir, mo); err != nil {
			return err
		}
		sr.machines[def.Name] = m
		sr.res.Machines = append(sr.res.Machines, m.result)
	}
	if err := sr.preset(ctx); err != nil {
		return fmt.Errorf("service state before the first step: %w", err)
	}
	halted := false
	for i, s := range sr.sc.Steps {
		st := &Step{Index: s.Index, ID: s.ID, Line: s.Line, Kind: string(s.Kind), Description: s.Describe(), Time: sr.now,
			Day: sr.now.Sub(sr.sc.Start).Hours() / 24}
		if s.Machine != nil {
			st.Machine = s.Machine.Name
		}
		t := time.Now()
		if sr.o.Observer != nil && !halted {
			sr.o.Observer.StepStarted(sr.res, st)
		}
		if halted {
			st.Outcome = Skipped
		} else {
			sr.step(ctx, i, s, st)
			if st.Outcome == Error {
				halted = true
			}
		}
		st.Duration = time.Since(t)
		sr.res.Steps = append(sr.res.Steps, st)
		if sr.o.Observer != nil {
			sr.o.Observer.StepDone(sr.res, st)
		}
		if ctx.Err() != nil && !halted {
			halted = true
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted (%w): the remaining steps did not run", err)
	}
	return nil
}

// stopMachines powers off the machines still running (a scenario that ended early).
func (sr *scenarioRun) stopMachines() {
	for _, m := range sr.machines {
		m.stop()
	}
}

// stop powers the machine off if it still runs.
func (m *machine) stop() {
	if m.live != nil {
		m.live.Stop()
		m.live = nil
	}
	if m.liveOS != nil {
		m.liveOS.Stop()
		m.liveOS = nil
	}
}

func (sr *scenarioRun) openService(ctx context.Context) error {
	if sr.o.ServiceURL != "" {
		sr.host = &client.Host{Client: client.New(sr.o.ServiceURL, client.WithToken(sr.o.ServiceToken)), Now: func() time.Time { return sr.now }, SendTime: true}
		return nil
	}
	sr.clock = service.NewManualClock(sr.now)
	// The machines' own addresses (ip:) are where their requests come from: trust client_ip.
	srv, err := service.Open(ctx, service.Config{DBPath: filepath.Join(sr.dir, "service.db"), Catalog: sr.sc.Catalog, Clock: sr.clock, TrustClientIP: true})
	if err != nil {
		return err
	}
	sr.srv = srv
	sr.host = &client.Host{Client: client.NewInProcess(srv.Handler(), ""), Now: func() time.Time { return sr.now }}
	return nil
}

// preset gives the service the state the scenario starts from, through its API: simulated KMS
// clients ask the host, simulated machines take MAK activations.
func (sr *scenarioRun) preset(ctx context.Context) error {
	for _, g := range sr.sc.Service.KMSClients {
		if err := sr.kmsClients(ctx, g); err != nil {
			return err
		}
	}
	labels := make([]string, 0, len(sr.sc.Service.MAKUsed))
	for l := range sr.sc.Service.MAKUsed {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	for _, label := range labels {
		e, err := sr.sc.Catalog.Label(label)
		if err != nil {
			return err
		}
		for i := 0; i < sr.sc.Service.MAKUsed[label]; i++ {
			var inv hwid.Inventory
			inv.Add(hwid.NIC, "simulated "+randomHex(6))
			inv.Add(hwid.Disk, "simulated "+randomHex(8))
			if _, err := sr.host.Client.Activate(ctx, api.ActivateRequest{Key: e.Key.Reveal(), Edition: e.Edition.ID, Hardware: client.Hardware(inv)}); err != nil {
				return fmt.Errorf("simulated MAK activation %d of %s: %w", i+1, label, err)
			}
		}
	}
	return nil
}

func (sr *scenarioRun) kmsClients(ctx context.Context, g scenario.KMSClients) error {
	for i := 0; i < g.Count; i++ {
		cmid := newUUID()
		ans, err := sr.host.WithContext(ctx).KMS(channel.KMSRequest{CMID: cmid, Edition: g.Edition.ID, MarkerPresent: true})
		if err != nil {
			return fmt.Errorf("simulated KMS client %d: %w", i+1, err)
		}
		if !ans.Reached {
			return fmt.Errorf("simulated KMS client %d: the KMS host did not answer", i+1)
		}
	}
	return nil
}

func (sr *scenarioRun) setNow(t time.Time) {
	sr.now = t
	if sr.clock != nil {
		sr.clock.Set(t)
	}
}

// step runs one step into st.
func (sr *scenarioRun) step(ctx context.Context, i int, s *scenario.Step, st *Step) {
	st.Outcome = Passed
	run, ok := stepRunners[s.Kind]
	if !ok {
		st.Outcome, st.Error = Error, fmt.Sprintf("the runner has no %s steps", s.Kind)
		return
	}
	run(sr, ctx, i, s, st)
}

func (sr *scenarioRun) change(s *scenario.Step) error {
	m := sr.machines[s.Machine.Name]
	c := s.Change
	if c.Network != nil {
		m.offline = !*c.Network // the next plan says so; no reboot needed
	}
	if !c.Hardware() {
		return nil
	}
	m.stop() // not planned (planRounds), but a changed machine must reboot
	if c.Board != nil || c.TPM {
		if c.Board != nil {
			m.firmware = c.Board
		}
		if err := m.eng.NewTPM(); err != nil {
			return err
		}
	}
	if c.NIC != "" {
		if len(m.vm.NICs) == 0 {
			m.vm.NICs = []profile.NIC{{MAC: c.NIC}}
		} else {
			m.vm.NICs = append([]profile.NIC{{MAC: c.NIC}}, m.vm.NICs[1:]...)
		}
	}
	if c.AddNIC != "" {
		m.vm.NICs = append(append([]profile.NIC(nil), m.vm.NICs...), profile.NIC{MAC: c.AddNIC})
	}
	if c.Disk != "" {
		// Disk 0 is replaced: a blank disk by a new blank one of its size (0: the engine's
		// default), an OS image's disk by another drive holding the same OS (a clone).
		d := profile.Disk{}
		if len(m.vm.Disks) > 0 {
			if d = m.vm.Disks[0]; d.File == "" {
				d = profile.Disk{SizeMB: d.SizeMB}
			}
		}
		d.Serial = c.Disk
		m.vm.Disks = append([]profile.Disk{d}, m.vm.Disks[min(1, len(m.vm.Disks)):]...)
	}
	if c.MemoryMB != 0 {
		m.vm.MemoryMB = c.MemoryMB
	}
	if c.CPUs != 0 {
		m.vm.CPUs = c.CPUs
	}
	if len(c.SMBIOS) > 0 {
		fw, err := m.firmware.Clone()
		if err != nil {
			return err
		}
		keys := make([]string, 0, len(c.SMBIOS))
		for k := range c.SMBIOS {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if err := fw.SetSMBIOSField(k, c.SMBIOS[k]); err != nil {
				return err
			}
		}
		m.firmware = fw
	}
	return nil
}

// activationOf summarises the last activation the guest asked for this boot.
func activationOf(ev *channel.Evaluation) *Activation {
	if n := len(ev.Activations); n > 0 {
		a := ev.Activations[n-1]
		return &Activation{Method: a.Result.Method, Result: string(a.Result.Outcome), Code: a.Result.Code, Message: a.Result.Message}
	}
	if n := len(ev.KMS); n > 0 {
		k := ev.KMS[n-1]
		out := &Activation{Method: "kms", Result: string(licence.Failed), Code: k.Code, Message: k.Message}
		if !k.Reached {
			out.Code = licence.CodeKMSUnreachable // no host answered: the client's own code
		}
		if k.Activated {
			out.Result = string(licence.Succeeded)
		}
		return out
	}
	return nil
}

func (sr *scenarioRun) timeline(m *machine, s *scenario.Step, ev *channel.Evaluation) {
	day := func(t time.Time) float64 { return t.Sub(sr.sc.Start).Hours() / 24 }
	for _, e := range ev.Events {
		m.result.Timeline = append(m.result.Timeline, TimelinePoint{Time: e.Time, Day: day(e.Time), Status: e.To.String(),
			GraceRemaining: graceAt(e), Event: e.Message, Kind: string(e.Kind), Reminder: e.Kind.Reminder(), Step: s.Index})
	}
	snap := ev.Snapshot
	m.result.Timeline = append(m.result.Timeline, TimelinePoint{Time: snap.Time, Day: day(snap.Time), Status: snap.Status.String(),
		GraceRemaining: float64(snap.GraceRemainingMinutes) / (24 * 60), Event: "boot: " + s.Describe(), Kind: "boot", Step: s.Index})
}

func graceAt(e licence.Event) float64 {
	if e.Until.IsZero() || !e.To.Grace() {
		return 0
	}
	return e.Until.Sub(e.Time).Hours() / 24
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func newUUID() string {
	h := randomHex(16)
	b := []byte(h)
	b[12] = '4'
	b[16] = "89ab"[int(b[16])%4]
	s := string(b)
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}
