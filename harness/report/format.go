package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/oemact/oemact/harness/runner"
	"github.com/oemact/oemact/harness/scenario"
)

// outcome reads a step's or scenario's outcome; a step the runner never reached has none and
// counts as skipped.
func outcome(o runner.Outcome) runner.Outcome {
	if o == "" {
		return runner.Skipped
	}
	return o
}

// stepNumber is the number people see: scenario files number steps from 0, people from 1.
func stepNumber(s *runner.Step) int { return s.Index + 1 }

// stepLabel is the step as people read it in tooltips: "step 3: boot pc".
func stepLabel(s *runner.Step) string {
	return fmt.Sprintf("step %d: %s", stepNumber(s), s.Description)
}

// testNames are the stable test names of a scenario's steps (scenario.StepNames): a step's id, or
// its kind and machine numbered among equals, never its number or description.
func testNames(sc *runner.Scenario) []string {
	refs := make([]scenario.StepRef, len(sc.Steps))
	for i, st := range sc.Steps {
		refs[i] = scenario.StepRef{ID: st.ID, Kind: st.Kind, Machine: st.Machine}
	}
	return scenario.StepNames(refs)
}

// where is the step's place in its scenario file, "fixtures/scenarios/x.yaml:31".
func where(sc *runner.Scenario, s *runner.Step) string {
	if s.Line <= 0 {
		return sc.File
	}
	return fmt.Sprintf("%s:%d", sc.File, s.Line)
}

// duration prints a wall time to a tenth of a second ("2.4s", "1m12.3s"), or in milliseconds
// under a second, so that reports read the same however precise the clock was.
func duration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Round(time.Millisecond)/time.Millisecond)
	}
	return d.Round(100 * time.Millisecond).String()
}

// seconds is a duration in seconds with millisecond precision, as JUnit's time attributes want.
func seconds(d time.Duration) string {
	return fmt.Sprintf("%.3f", d.Round(time.Millisecond).Seconds())
}

func day(d float64) string { return fmt.Sprintf("day %.1f", d) }

// failedChecks returns the checks of the step that did not hold.
func failedChecks(s *runner.Step) []runner.Check {
	var out []runner.Check
	for _, c := range s.Checks {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

// checkText is a check in one line: "status: want Licensed, got OOBGrace", and for a failed check
// why the model got what it got: ", because OA 2.1 fails rule 2 (...): ...".
func checkText(c runner.Check) string {
	s := fmt.Sprintf("%s: want %s, got %s", c.Name, orNone(c.Want), orNone(c.Got))
	if !c.OK && c.Why != "" {
		s += ", because " + c.Why
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "(nothing)"
	}
	return s
}

// counts are a scenario's steps by outcome.
type counts struct{ passed, failed, errors, skipped, boots int }

func countSteps(sc *runner.Scenario) counts {
	var c counts
	for _, s := range sc.Steps {
		switch outcome(s.Outcome) {
		case runner.Passed:
			c.passed++
		case runner.Failed:
			c.failed++
		case runner.Error:
			c.errors++
		default:
			c.skipped++
		}
		if s.Boot != nil && !s.Boot.Resumed {
			c.boots++
		}
		for _, o := range s.Others {
			if o.Boot != nil && !o.Boot.Resumed {
				c.boots++
			}
		}
	}
	return c
}

// stepError is the error text of a step in error, or of its scenario when the step has none.
func stepError(sc *runner.Scenario, s *runner.Step) string {
	if s.Error != "" {
		return s.Error
	}
	return sc.Error
}

// eventDay is the scenario day of a moment, from the step's own time and day.
func eventDay(s *runner.Step, t time.Time) float64 {
	return s.Day + t.Sub(s.Time).Hours()/24
}

// eventLines are the step's licence events, one line each:
// "day 10.0 (2009-11-01 09:00) out-of-tolerance Licensed -> OOTGrace: ...".
func eventLines(s *runner.Step) []string {
	var out []string
	for _, e := range s.Events {
		var b strings.Builder
		fmt.Fprintf(&b, "%s (%s) %s", day(eventDay(s, e.Time)), e.Time.UTC().Format("2006-01-02 15:04"), e.Kind)
		if e.Transition() {
			fmt.Fprintf(&b, " %s -> %s", e.From, e.To)
		}
		if e.Message != "" {
			b.WriteString(": ")
			b.WriteString(e.Message)
		}
		out = append(out, b.String())
	}
	return out
}
