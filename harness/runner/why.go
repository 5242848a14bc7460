package runner

import (
	"fmt"
	"sort"
	"strings"

	"github.com/oemact/oemact/firmware/finding"
	"github.com/oemact/oemact/harness/channel"
	"github.com/oemact/oemact/oemact/licence"
)

// A failed check carries why the model got what it got, in the model's own words: the OA rules
// that failed and their reasons, the service's answer with its code and message, the hardware
// vote arithmetic. Reports print it beside "want X, got Y" (Check.Why).

// because sets the check's reason when it did not hold.
func (c Check) because(why func() string) Check {
	if !c.OK {
		c.Why = why()
	}
	return c
}

// oaWhy is the OEM Activation verdict with the rules that failed and why.
func oaWhy(ev *channel.Evaluation) func() string {
	return func() string {
		v := ev.OA
		if v == nil {
			return "no OEM Activation applies: " + keyWords(ev.Snapshot.Product)
		}
		if v.Valid {
			s := v.Kind + " holds every rule"
			if v.Marker != "" {
				s += " (marker " + v.Marker + ")"
			}
			return s
		}
		var failed []string
		for _, r := range v.Rules {
			if !r.OK {
				failed = append(failed, fmt.Sprintf("rule %d (%s): %s", r.Number, r.Name, r.Reason))
			}
		}
		if len(failed) == 0 {
			return v.Kind + " is not valid"
		}
		return v.Kind + " fails " + strings.Join(failed, "; ")
	}
}

// keyWords says what key is installed, for a verdict that has no OEM Activation.
func keyWords(p *licence.Product) string {
	if p == nil {
		return "no product key is installed"
	}
	return fmt.Sprintf("the installed key is a %s key for %s, which activates without a firmware marker", p.Channel, p.Edition)
}

// activationWhy is the service's (or the KMS host's) answer this boot, with its code and message,
// or why none was asked for.
func activationWhy(ev *channel.Evaluation) func() string {
	return func() string {
		a := activationOf(ev)
		if a == nil {
			s := "no activation was asked for at this boot"
			if len(ev.Refused) > 0 {
				s += "; the licence model refused: " + strings.Join(ev.Refused, "; ")
			}
			return s
		}
		s := fmt.Sprintf("the %s activation answered %s", a.Method, a.Result)
		switch {
		case a.Code != "" && a.Message != "":
			s += fmt.Sprintf(" (%s: %s)", a.Code, a.Message)
		case a.Code != "":
			s += " (" + a.Code + ")"
		case a.Message != "":
			s += " (" + a.Message + ")"
		}
		return s
	}
}

// hardwareWhy is the vote arithmetic of the hardware comparison and whether the machine counted as
// dockable, or why there was none.
func hardwareWhy(ev *channel.Evaluation) func() string {
	return func() string {
		if d := ev.Snapshot.Hardware; d != nil {
			return d.Votes()
		}
		s := "no hardware comparison: the licence (" + ev.Snapshot.Status.String()
		if p := ev.Snapshot.Product; p != nil {
			s += ", " + string(p.Channel)
		}
		return s + ") has no activated hardware to compare with"
	}
}

// findingsWhy lists the codes of the warnings and errors among fs, after who ("the guest
// reported").
func findingsWhy(fs finding.List, who string) func() string {
	return func() string {
		var codes []string
		seen := map[string]bool{}
		for _, f := range fs {
			if f.Severity >= finding.Warning && !seen[f.Code] {
				seen[f.Code] = true
				codes = append(codes, f.Code)
			}
		}
		if len(codes) == 0 {
			return who + " no warning or error"
		}
		sort.Strings(codes)
		return who + " " + strings.Join(codes, ", ")
	}
}

// statusWhy explains the licence state: what failed this boot (OEM Activation, the activation
// answer, the hardware), else the events that changed the state, else the state's description.
func statusWhy(ev *channel.Evaluation) func() string {
	return func() string {
		snap := ev.Snapshot
		var parts []string
		if ev.OA != nil && !ev.OA.Valid {
			parts = append(parts, oaWhy(ev)())
		}
		if a := activationOf(ev); a != nil && a.Result != string(licence.Succeeded) {
			parts = append(parts, activationWhy(ev)())
		}
		if d := snap.Hardware; d != nil && !d.InTolerance {
			parts = append(parts, "hardware: "+d.Votes())
		}
		if len(parts) == 0 {
			for _, e := range ev.Events {
				if e.Transition() && e.Message != "" {
					parts = append(parts, e.Message)
				}
			}
		}
		if len(parts) == 0 && snap.Description != "" {
			parts = append(parts, snap.Status.String()+": "+snap.Description)
		}
		if snap.Reason != licence.ReasonNone {
			parts = append([]string{"reason " + string(snap.Reason)}, parts...)
		}
		return strings.Join(parts, "; ")
	}
}
