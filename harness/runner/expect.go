package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/firmware/finding"
	"github.com/oemact/oemact/harness/channel"
	"github.com/oemact/oemact/harness/scenario"
	"github.com/oemact/oemact/oemact/activation"
	"github.com/oemact/oemact/oemact/profile"
	"github.com/oemact/oemact/oemact/service/api"
	"github.com/oemact/oemact/oemact/service/client"
	"github.com/oemact/oemact/oemact/tpm"
)

func check(name, want, got string) Check {
	return Check{Name: name, Want: want, Got: got, OK: want == got}
}

// sameTables checks, at every boot, that the guest saw the marker tables the host synthesized,
// byte for byte, and the SMBIOS identity it was given: otherwise nothing else the step shows is
// about the intended firmware.
func sameTables(t *profile.Tables, ev *channel.Evaluation) Check {
	var diffs []string
	for _, sig := range firmware.MarkerSignatures() {
		b := t.Marker(sig)
		got, seen := ev.Digests[sig]
		switch {
		case b == nil && seen:
			diffs = append(diffs, sig+" appeared")
		case b != nil && !seen:
			diffs = append(diffs, sig+" missing")
		case b != nil && got != sha(b):
			diffs = append(diffs, sig+" differs")
		}
	}
	if t.SMBIOS != nil {
		want := activation.Identity(t.SMBIOS)
		keys := make([]string, 0, len(want))
		for k := range want {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if ev.Identity[k] != want[k] {
				diffs = append(diffs, fmt.Sprintf("SMBIOS %s is %q, synthesized %q", k, ev.Identity[k], want[k]))
			}
		}
	}
	got := "same"
	if len(diffs) > 0 {
		got = strings.Join(diffs, "; ")
	}
	return check("the guest sees the synthesized tables", "same", got)
}

// expectations checks a boot step's expect block against the guest's evaluation: each of
// guestChecks in turn, then the service's counts.
func (sr *scenarioRun) expectations(ctx context.Context, s *scenario.Step, ev *channel.Evaluation) []Check {
	e := s.Expect
	var out []Check
	for _, c := range guestChecks {
		out = append(out, c(e, ev)...)
	}
	if e.KMSCount != nil && len(ev.KMS) > 0 {
		// The count the KMS host gave this boot's last request: right for a service on another
		// clock too (a running 'oemact serve --trust-client-time' counts at the request's time).
		k := ev.KMS[len(ev.KMS)-1]
		out = append(out, check("KMS host count", fmt.Sprint(*e.KMSCount), fmt.Sprint(k.Count)))
		e2 := *e
		e2.KMSCount = nil
		e = &e2
	}
	return append(out, sr.serviceChecks(ctx, e)...)
}

// guestChecks check the expectations on what the guest reported, one group of Expect fields
// each.
var guestChecks = []func(e *scenario.Expect, ev *channel.Evaluation) []Check{
	licenceChecks, findingChecks, oaChecks, activationChecks, hardwareChecks, reminderChecks, tpmChecks,
}

func licenceChecks(e *scenario.Expect, ev *channel.Evaluation) []Check {
	snap := ev.Snapshot
	var out []Check
	if e.Status != nil {
		out = append(out, check("status", e.Status.String(), snap.Status.String()).because(statusWhy(ev)))
	}
	if e.GraceDays != nil {
		out = append(out, check("grace days left", fmt.Sprint(*e.GraceDays), fmt.Sprint(snap.GraceRemainingMinutes/(24*60))).because(statusWhy(ev)))
	}
	if e.Rearms != nil {
		out = append(out, check("rearms used", fmt.Sprint(*e.Rearms), fmt.Sprint(snap.Rearms)))
	}
	if e.Surfaces != nil && len(e.Surfaces) == 0 {
		got := make([]string, len(snap.Surfaces))
		for i, sf := range snap.Surfaces {
			got[i] = string(sf)
		}
		out = append(out, check("surfaces", "none", orNone(strings.Join(got, ", "))).because(statusWhy(ev)))
	}
	for _, want := range e.Surfaces {
		has := false
		for _, s := range snap.Surfaces {
			has = has || string(s) == want
		}
		out = append(out, check("surface "+want, "shown", map[bool]string{true: "shown", false: "not shown"}[has]).because(statusWhy(ev)))
	}
	return out
}

func findingChecks(e *scenario.Expect, ev *channel.Evaluation) []Check {
	return tableFindingChecks(e, ev.Findings, "the guest reported")
}

// tableFindingChecks checks findings, no_findings and same_tables against the findings fs of a
// boot's evaluation or a probe's tables; who opens the explanation ("the guest reported").
func tableFindingChecks(e *scenario.Expect, fs finding.List, who string) []Check {
	codes := map[string]bool{}
	for _, f := range fs {
		codes[f.Code] = true
	}
	why := findingsWhy(fs, who)
	var out []Check
	if e.Findings != nil && len(e.Findings) == 0 {
		got := make([]string, 0, len(codes))
		for c := range codes {
			got = append(got, c)
		}
		sort.Strings(got)
		out = append(out, check("findings", "none", orNone(strings.Join(got, ", "))).because(why))
	}
	for _, c := range e.Findings {
		out = append(out, check("finding "+c, "present", presence(codes[c])).because(why))
	}
	for _, c := range e.NoFindings {
		out = append(out, check("finding "+c, "absent", presence(codes[c])).because(why))
	}
	if e.SameTables != nil && !*e.SameTables {
		out = append(out, Check{Name: "same_tables: false", Want: "the harness always requires the synthesized tables", Got: "not supported", OK: false})
	}
	return out
}

func oaChecks(e *scenario.Expect, ev *channel.Evaluation) []Check {
	var out []Check
	if e.OA != nil {
		got := "none"
		if ev.OA != nil {
			got = "invalid"
			if ev.OA.Valid {
				got = "valid"
			}
		}
		out = append(out, check("OEM Activation verdict", *e.OA, got).because(oaWhy(ev)))
	}
	if e.OARulesFailed != nil {
		var got []string
		if ev.OA != nil {
			for _, r := range ev.OA.Rules {
				if !r.OK {
					got = append(got, fmt.Sprint(r.Number))
				}
			}
		}
		want := make([]string, len(e.OARulesFailed))
		for i, n := range e.OARulesFailed {
			want[i] = fmt.Sprint(n)
		}
		sort.Strings(want)
		out = append(out, check("OA rules failed", strings.Join(want, ","), strings.Join(got, ",")).because(oaWhy(ev)))
	}
	return out
}

func activationChecks(e *scenario.Expect, ev *channel.Evaluation) []Check {
	if e.Activation == nil && e.ActivationCode == nil {
		return nil
	}
	a := activationOf(ev)
	result, code := "none", ""
	if a != nil {
		result, code = a.Result, a.Code
	}
	var out []Check
	if e.Activation != nil {
		out = append(out, check("activation result", *e.Activation, result).because(activationWhy(ev)))
	}
	if e.ActivationCode != nil {
		out = append(out, check("activation code", *e.ActivationCode, code).because(activationWhy(ev)))
	}
	return out
}

func hardwareChecks(e *scenario.Expect, ev *channel.Evaluation) []Check {
	h, d := e.Hardware, ev.Snapshot.Hardware
	if h == nil {
		return nil
	}
	var out []Check
	if h.InTolerance != nil {
		got := "no comparison"
		if d != nil {
			got = fmt.Sprint(d.InTolerance)
		}
		out = append(out, check("hardware in tolerance", fmt.Sprint(*h.InTolerance), got).because(hardwareWhy(ev)))
	}
	if h.LostVotes != nil {
		got := "no comparison"
		if d != nil {
			got = fmt.Sprint(d.Lost)
		}
		out = append(out, check("hardware votes lost", fmt.Sprint(*h.LostVotes), got).because(hardwareWhy(ev)))
	}
	if h.Changed != nil {
		var got []string
		if d != nil {
			for _, c := range d.Changes {
				got = append(got, string(c.Class))
			}
		}
		want := append([]string(nil), h.Changed...)
		sort.Strings(want)
		sort.Strings(got)
		out = append(out, check("hardware classes changed", strings.Join(want, ","), strings.Join(got, ",")).because(hardwareWhy(ev)))
	}
	return out
}

func reminderChecks(e *scenario.Expect, ev *channel.Evaluation) []Check {
	if e.Reminders == nil {
		return nil
	}
	n := 0
	for _, ev := range ev.Events {
		if ev.Kind.Reminder() {
			n++
		}
	}
	return []Check{check("reminders since the previous boot", fmt.Sprint(*e.Reminders), fmt.Sprint(n))}
}

func tpmChecks(e *scenario.Expect, ev *channel.Evaluation) []Check {
	if e.TPM == nil {
		return nil
	}
	return []Check{check("TPM binding", *e.TPM, tpmResult(ev))}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func presence(b bool) string {
	if b {
		return "present"
	}
	return "absent"
}

// tpmResult is the TPM binding's result ("none" without one).
func tpmResult(ev *channel.Evaluation) string {
	if ev.TPM == nil {
		return "none"
	}
	switch ev.TPM.Unseal {
	case "":
		return "unknown"
	case tpm.Failed:
		return ev.TPM.Unseal + " (" + ev.TPM.Detail + ")"
	}
	return ev.TPM.Unseal
}

// checkService runs a check step.
func (sr *scenarioRun) checkService(ctx context.Context, e *scenario.Expect, st *Step) {
	st.Checks = sr.serviceChecks(ctx, e)
	for _, c := range st.Checks {
		if !c.OK {
			st.Outcome = Failed
		}
	}
}

// serviceChecks compares the service's counts with kms_count and mak_remaining.
func (sr *scenarioRun) serviceChecks(ctx context.Context, e *scenario.Expect) []Check {
	if e.KMSCount == nil && len(e.MAKRemaining) == 0 {
		return nil
	}
	stats, err := sr.host.Client.Stats(ctx)
	if err != nil {
		return []Check{{Name: "service statistics", Want: "readable", Got: err.Error()}}
	}
	var out []Check
	if e.KMSCount != nil {
		out = append(out, check("KMS host count", fmt.Sprint(*e.KMSCount), fmt.Sprint(stats.KMS.Count)))
	}
	labels := make([]string, 0, len(e.MAKRemaining))
	for l := range e.MAKRemaining {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	for _, l := range labels {
		name := "MAK activations left for " + l
		if sr.srv == nil {
			out = append(out, Check{Name: name, Want: fmt.Sprint(e.MAKRemaining[l]), Got: "needs the in-process service (the key ID is a keyed hash)"})
			continue
		}
		out = append(out, check(name, fmt.Sprint(e.MAKRemaining[l]), sr.makRemaining(stats, l)))
	}
	return out
}

// makRemaining is what the service says is left in a MAK's pool, or why it cannot say.
func (sr *scenarioRun) makRemaining(stats *api.Stats, label string) string {
	en, err := sr.sc.Catalog.Label(label)
	if err != nil {
		return err.Error()
	}
	_, id := sr.srv.Store().KeyHash(en.Key)
	if p, ok := client.Pool(stats, id); ok {
		return fmt.Sprint(p.Remaining)
	}
	return "no such pool"
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
