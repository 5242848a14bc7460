package runner

import (
	"time"

	"github.com/oemact/oemact/harness/scenario"
	"github.com/oemact/oemact/oemact/licence"
)

// Outcome of a step, a scenario or a run.
type Outcome string

const (
	Passed  Outcome = "passed"
	Failed  Outcome = "failed"  // an expectation did not hold: a test verdict
	Error   Outcome = "error"   // infrastructure: QEMU died, a guest hung, the agent failed; not a verdict
	Skipped Outcome = "skipped" // not run because an earlier step of the scenario had an error
)

// Run is the result of `oemact run`: what the reports (terminal, JSON, JUnit, HTML) show.
type Run struct {
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration_ns"`
	// Engine runs the machines ("qemu", "in-process"); Accel is the accelerator the boots used
	// ("tcg" or "kvm") and why.
	Engine string `json:"engine"`
	Accel  string `json:"accel"`
	// Agent is the binary the QEMU engine boots as /init, and why that one.
	Agent string `json:"agent,omitempty"`
	Jobs  int    `json:"jobs"`
	Boots int    `json:"boots"` // VM boots
	// Resumed counts boot steps that ran in a machine kept running since its previous step,
	// which changed only the clock: no VM boot (Options.RebootEveryStep turns this off).
	Resumed   int         `json:"resumed"`
	Scenarios []*Scenario `json:"scenarios"`
	// Error is an infrastructure error that stopped the whole run (no kernel, a scenario file that
	// did not load): the reports still say why, so a CI job never ends with no results.
	Error string `json:"error,omitempty"`
	// Shard says which part of a split run this is (oemact run --shard I/N); nil for a whole run.
	Shard *Shard `json:"shard,omitempty"`
	// Shards are the parts of a merged report (oemact report merge), one per shard expected or
	// given, in shard order.
	Shards []*ShardResult `json:"shards,omitempty"`
}

// MaxShards bounds a split: more shards than this is a mistake, not a CI matrix.
const MaxShards = 1000

// Shard is the part of a split run a report covers.
type Shard struct {
	Index int `json:"index"` // from 1
	Count int `json:"count"`
	// Scenarios is how many scenarios the shard was given: a report that holds fewer did not run
	// them all, and a merge says so.
	Scenarios int `json:"scenarios"`
	// Total is how many scenarios all the shards were given together (the whole selection).
	Total int `json:"total"`
	// Split names how the selection was split: shards of one split have the same, and shards
	// split from other scenarios or other durations do not.
	Split string `json:"split,omitempty"`
}

// ShardResult is one shard in a merged report: what it was given, what its report holds and its
// own wall time, or why it has no usable report.
type ShardResult struct {
	Index    int           `json:"index"` // 0 when the report could not be read
	Count    int           `json:"count"`
	Report   string        `json:"report,omitempty"` // the JSON report it came from
	Given    int           `json:"given"`            // scenarios the shard was given
	Reported int           `json:"reported"`         // scenarios its report holds
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration_ns"`
	Jobs     int           `json:"jobs"`
	Boots    int           `json:"boots"`
	Resumed  int           `json:"resumed"`
	Accel    string        `json:"accel,omitempty"`
	Error    string        `json:"error,omitempty"`
}

// Scenario is one scenario's result.
type Scenario struct {
	Name string `json:"name"`
	File string `json:"file"`
	// Position is the scenario's place (from 0) among every scenario the run was asked for, before
	// a --shard split: a merged report lists the shards' scenarios in this order.
	Position    int           `json:"position"`
	Description string        `json:"description,omitempty"`
	Outcome     Outcome       `json:"outcome"`
	Duration    time.Duration `json:"duration_ns"`
	Steps       []*Step       `json:"steps"`
	Machines    []*Machine    `json:"machines"`
	// Error is the infrastructure error that stopped the scenario, if any.
	Error string `json:"error,omitempty"`
	// Artifacts is the scenario's artifacts folder (kept on failure or with --keep-artifacts).
	Artifacts string `json:"artifacts,omitempty"`
}

// Step is one step's result.
type Step struct {
	Index int `json:"index"`
	// ID is the step's id in the scenario file, if it has one: its stable test name.
	ID          string    `json:"id,omitempty"`
	Line        int       `json:"line"` // in the scenario file
	Kind        string    `json:"kind"`
	Machine     string    `json:"machine,omitempty"`
	Description string    `json:"description"`
	Outcome     Outcome   `json:"outcome"`
	Time        time.Time `json:"time"` // scenario clock when the step ran
	Day         float64   `json:"day"`  // days since the scenario's start
	// Boot is set for steps that booted a VM.
	Boot *Boot `json:"boot,omitempty"`
	// Others are the other machines the step booted: a proxy activation's batch.
	Others []*Other `json:"others,omitempty"`
	Checks []Check  `json:"checks,omitempty"`
	Error  string   `json:"error,omitempty"`
	Notes  []string `json:"notes,omitempty"`
	// Snapshot is the machine's licence state after the step (boot steps).
	Snapshot *licence.Snapshot `json:"snapshot,omitempty"`
	// Events are the licence events the step produced, in order.
	Events []licence.Event `json:"events,omitempty"`
	// OA is the guest's OEM Activation verdict in one line ("OA 2.1: valid").
	OA string `json:"oa,omitempty"`
	// Activation is the service's answer to the step's activation, if any.
	Activation *Activation `json:"activation,omitempty"`
	// Probe is what the OS of a probe step saw.
	Probe    *Probe        `json:"probe,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// Other is another machine a step booted alongside its own (a proxy activation gathers several):
// how it booted, its licence state after the step and the answer it got.
type Other struct {
	Machine    string            `json:"machine"`
	Boot       *Boot             `json:"boot,omitempty"`
	Snapshot   *licence.Snapshot `json:"snapshot,omitempty"`
	Activation *Activation       `json:"activation,omitempty"`
	Error      string            `json:"error,omitempty"`
}

// Boot describes the VM boot of a step.
type Boot struct {
	Wall      time.Duration `json:"wall_ns"`
	Accel     string        `json:"accel"`
	Command   string        `json:"command"`    // reproduces the boot
	SerialLog string        `json:"serial_log"` // kept with the artifacts
	Outcome   string        `json:"qemu_outcome"`
	// Resumed: the step ran in the machine kept running since its previous step (only the clock
	// changed since), without a reboot; Wall is then the step's own time, Command and SerialLog
	// the boot's it continued.
	Resumed bool `json:"resumed,omitempty"`
	// BootToAgent is, for an OS image's boot (probe steps), QEMU's start to the first answer of
	// the OS's guest agent: the boot from firmware to a running OS.
	BootToAgent time.Duration `json:"boot_to_agent_ns,omitempty"`
}

// Activation is an activation the guest asked for during a step.
type Activation struct {
	Method  string `json:"method"` // online, telephone, kms
	Result  string `json:"result"` // success, failure, blocked
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

// Check is one expectation and whether it held.
type Check struct {
	Name string `json:"name"` // e.g. "status", "findings contain slic-signature"
	Want string `json:"want"`
	Got  string `json:"got"`
	OK   bool   `json:"ok"`
	// Why says, for a check that did not hold, why the model got what it got, in its own words:
	// the OA rules that failed and their reasons, the service's code and message, the hardware
	// vote arithmetic and whether the machine counted as dockable.
	Why string `json:"why,omitempty"`
}

// Machine is one machine's licence timeline across the scenario, for the HTML report.
type Machine struct {
	Name     string          `json:"name"`
	Profile  string          `json:"profile"`
	Edition  string          `json:"edition"`
	Channel  string          `json:"channel,omitempty"`
	Timeline []TimelinePoint `json:"timeline"`
}

// TimelinePoint is the licence state at one moment (each boot, each event).
type TimelinePoint struct {
	Time           time.Time `json:"time"`
	Day            float64   `json:"day"`
	Status         string    `json:"status"`
	GraceRemaining float64   `json:"grace_remaining_days"`
	Event          string    `json:"event,omitempty"`
	// Kind is the licence event's kind (licence.EventKind), "boot" for the state after a boot.
	Kind     string `json:"kind,omitempty"`
	Reminder bool   `json:"reminder,omitempty"`
	Step     int    `json:"step"`
}

// Failed counts scenarios by outcome.
func (r *Run) Count(o Outcome) int {
	n := 0
	for _, s := range r.Scenarios {
		if s.Outcome == o {
			n++
		}
	}
	return n
}

// BootsPerMinute is the run's boot throughput.
func (r *Run) BootsPerMinute() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Boots) / r.Duration.Minutes()
}

// ExitCode is what `oemact run` exits with: 2 when the run, a shard of a merged run or any
// scenario had an infrastructure error, else 1 when any scenario failed, else 0.
func (r *Run) ExitCode() int {
	switch {
	case r.Error != "" || r.ShardErrors() > 0 || r.Count(Error) > 0:
		return 2
	case r.Count(Failed) > 0:
		return 1
	}
	return 0
}

// ShardErrors counts the shards of a merged run that have no usable report.
func (r *Run) ShardErrors() int {
	n := 0
	for _, s := range r.Shards {
		if s.Error != "" {
			n++
		}
	}
	return n
}

// NotStarted is the result of a run that stopped before it booted a machine (no guest kernel, a
// scenario file that did not load): the error, and each scenario it was given as an
// infrastructure error that did not run (none when the scenarios did not load), so that the
// reports say why instead of showing no tests.
func NotStarted(started time.Time, scs []*scenario.Scenario, err error) *Run {
	r := &Run{Started: started, Scenarios: []*Scenario{}, Error: err.Error()}
	for i, sc := range scs {
		why := "not run: " + err.Error()
		if sc.LoadError != nil {
			why = "the scenario file does not load: " + sc.LoadError.Error()
		}
		r.Scenarios = append(r.Scenarios, &Scenario{Name: sc.Name, File: sc.Path, Description: sc.Description, Position: i,
			Outcome: Error, Error: why, Steps: []*Step{}, Machines: []*Machine{}})
	}
	return r
}
