package runner

import (
	"time"

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
	// Accel is the accelerator the boots used ("tcg" or "kvm") and why.
	Accel string `json:"accel"`
	Jobs  int    `json:"jobs"`
	Boots int    `json:"boots"` // VM boots
	// Resumed counts boot steps that ran in a machine kept running since its previous step,
	// which changed only the clock: no VM boot (Options.RebootEveryStep turns this off).
	Resumed   int         `json:"resumed"`
	Scenarios []*Scenario `json:"scenarios"`
}

// Scenario is one scenario's result.
type Scenario struct {
	Name        string        `json:"name"`
	File        string        `json:"file"`
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
	Index       int       `json:"index"`
	Line        int       `json:"line"` // in the scenario file
	Kind        string    `json:"kind"`
	Machine     string    `json:"machine,omitempty"`
	Description string    `json:"description"`
	Outcome     Outcome   `json:"outcome"`
	Time        time.Time `json:"time"` // scenario clock when the step ran
	Day         float64   `json:"day"`  // days since the scenario's start
	// Boot is set for steps that booted a VM.
	Boot   *Boot    `json:"boot,omitempty"`
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
	Activation *Activation   `json:"activation,omitempty"`
	Duration   time.Duration `json:"duration_ns"`
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
	Reminder       bool      `json:"reminder,omitempty"`
	Step           int       `json:"step"`
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

// ExitCode is what `oemact run` exits with: 2 when any scenario had an infrastructure error, else
// 1 when any failed, else 0.
func (r *Run) ExitCode() int {
	switch {
	case r.Count(Error) > 0:
		return 2
	case r.Count(Failed) > 0:
		return 1
	}
	return 0
}
