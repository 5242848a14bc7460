package report

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/oemact/oemact/harness/runner"
	"github.com/oemact/oemact/harness/scenario"
	"github.com/oemact/oemact/oemact/licence"
)

//go:embed report.html.tmpl
var htmlSource string

//go:embed report.css
var cssSource string

// htmlTemplate is parsed on first use: the binary is also the guest's /init, where start-up
// time counts.
var htmlTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Parse(htmlSource))
})

// Colours of the outcomes in the HTML report.
var outcomeColour = map[runner.Outcome]string{
	runner.Passed: "#2e7d32", runner.Failed: "#c62828", runner.Error: "#ff6f00", runner.Skipped: "#bdbdbd",
}

// outcomeSymbol shows an outcome without colour: the page must read the same when its
// stylesheet is blocked (a Content-Security-Policy such as Jenkins' default) or not seen.
var outcomeSymbol = map[runner.Outcome]string{
	runner.Passed: "✓", runner.Failed: "✗", runner.Error: "⚠", runner.Skipped: "○",
}

// pageStyle is the page's one stylesheet, and the Content-Security-Policy the page declares for
// itself: nothing may load or run, and the only style is that stylesheet, allowed by its SHA-256
// hash. The page has no style attributes (a policy without 'unsafe-inline' blocks them all):
// every colour is a class here, made from the same maps the drawings use. The timelines' SVG
// presentation attributes (fill, stroke) are not styles and need no permission.
var pageStyle = sync.OnceValue(func() htmlStyle {
	var b strings.Builder
	b.WriteString("\n")
	b.WriteString(cssSource)
	for _, o := range []runner.Outcome{runner.Passed, runner.Failed, runner.Error, runner.Skipped} {
		fmt.Fprintf(&b, ".o-%s { background: %s; }\n.stat.s-%s { border-left-color: %s; }\n", o, outcomeColour[o], o, outcomeColour[o])
	}
	for _, st := range licence.Statuses() {
		fmt.Fprintf(&b, ".st-%s { background: %s; }\n", cssClass(st.String()), statusColour[st])
	}
	kinds := make([]string, 0, len(reminderMarks))
	for k := range reminderMarks {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Fprintf(&b, ".rm-%s { background: %s; }\n", cssClass(k), reminderMarks[licence.EventKind(k)].colour)
	}
	css := b.String()
	sum := sha256.Sum256([]byte(css))
	policy := "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; base-uri 'none'; form-action 'none'"
	// The policy holds nothing html/template would need to escape; written as it is, people can
	// read it and copy it into a server's configuration.
	return htmlStyle{CSS: template.CSS(css), Policy: policy, PolicyAttr: template.HTMLAttr(`content="` + policy + `"`)}
})

type htmlStyle struct {
	CSS        template.CSS
	Policy     string
	PolicyAttr template.HTMLAttr
}

// ContentSecurityPolicy is the policy the HTML report declares for itself (in a <meta> element)
// and reads in full under; a server may send it as the report's Content-Security-Policy header.
func ContentSecurityPolicy() string { return pageStyle().Policy }

var notClassChar = regexp.MustCompile(`[^A-Za-z0-9-]+`)

// cssClass makes a name into a class name.
func cssClass(s string) string { return notClassChar.ReplaceAllString(s, "-") }

type htmlPage struct {
	Style     htmlStyle
	Outcome   string
	Symbol    string
	Error     string
	Shards    []htmlShard
	Balance   string
	Started   string
	Accel     string
	Jobs      string
	Duration  string
	Boots     int
	BPM       string
	ExitCode  int
	ExitWords string
	Total     string
	Stats     []htmlStat
	Columns   []int
	Matrix    []htmlRow
	Scenarios []htmlScenario
	Outcomes  []htmlLegend
	Statuses  []htmlLegend
	Marks     []htmlLegend
}

type htmlStat struct {
	Label, Value, Outcome string
}

// htmlLegend is a legend entry: Class colours its swatch, Symbol shows it without colour.
type htmlLegend struct{ Label, Class, Symbol, Title string }

type htmlRow struct {
	Name, Anchor, Outcome, Symbol string
	Cells                         []htmlCell
}

type htmlCell struct {
	Empty                               bool
	Anchor, Outcome, Symbol, Title, Tag string
}

type htmlShard struct {
	Name, Outcome, Symbol, Report, Started, Duration, Error string
	Given, Reported, Boots                                  int
}

type htmlScenario struct {
	Name, Anchor, File, Description, Outcome, Symbol, Duration, Error, Artifacts string
	Counts                                                                       string
	Boots                                                                        int
	Steps                                                                        []htmlStep
	Machines                                                                     []htmlMachine
}

type htmlStep struct {
	Number                                                int
	Anchor, Where, Kind, Machine, Description, Day, Clock string
	Outcome, Symbol, Duration                             string
	Licence                                               string
	Checks                                                []htmlCheck
	OA, Activation                                        string
	Error, Command, SerialLog, BootInfo                   string
	Notes, Events                                         []string
	Detail                                                bool
}

type htmlCheck struct {
	OK   bool
	Text string
}

type htmlMachine struct {
	Name, Profile, Edition, Channel, Final string
	SVG                                    timelineSVG
}

// kindTag is a step kind's short word in the matrix cells (scenario.KindSpec.Tag).
func kindTag(kind string) string {
	if spec, ok := scenario.Kind(kind).Spec(); ok {
		return spec.Tag
	}
	return ""
}

// WriteHTML writes the run as one self-contained HTML page (one stylesheet allowed by the page's
// own Content-Security-Policy, inline SVG; no script, no style attribute, no network; every
// outcome also as a word and a symbol): the totals, a merged run's shards, the scenario matrix
// (a row per scenario, a cell per step coloured by its outcome, its checks in the tooltip), then
// per scenario its steps and, per machine, the licence timeline. Every text goes through
// html/template's escaping.
func WriteHTML(w io.Writer, r *runner.Run) error {
	return htmlTemplate().Execute(w, buildPage(r))
}

func buildPage(r *runner.Run) htmlPage {
	code := r.ExitCode()
	o := map[int]runner.Outcome{0: runner.Passed, 1: runner.Failed, 2: runner.Error}[code]
	p := htmlPage{
		Style: pageStyle(), Outcome: string(o), Symbol: outcomeSymbol[o], Error: r.Error,
		Accel: orNone(r.Accel), Jobs: plural(r.Jobs, "job"), Duration: duration(r.Duration), Boots: r.Boots,
		BPM: fmt.Sprintf("%.1f", r.BootsPerMinute()), ExitCode: code, ExitWords: exitWords(code), Total: plural(len(r.Scenarios), "scenario"),
	}
	if !r.Started.IsZero() {
		p.Started = r.Started.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	p.Stats = []htmlStat{
		{outcomeSymbol[runner.Passed] + " passed", fmt.Sprint(r.Count(runner.Passed)), string(runner.Passed)},
		{outcomeSymbol[runner.Failed] + " failed", fmt.Sprint(r.Count(runner.Failed)), string(runner.Failed)},
		{outcomeSymbol[runner.Error] + " error", fmt.Sprint(r.Count(runner.Error)), string(runner.Error)},
		{"boots", fmt.Sprint(r.Boots), ""},
		{"boots per minute", p.BPM, ""},
		{"wall time", p.Duration, ""},
	}
	if r.Resumed > 0 {
		p.Stats = append(p.Stats, htmlStat{"steps without a reboot", fmt.Sprint(r.Resumed), ""})
	}
	for _, o := range []runner.Outcome{runner.Passed, runner.Failed, runner.Error, runner.Skipped} {
		p.Outcomes = append(p.Outcomes, htmlLegend{Label: string(o), Class: "o-" + string(o), Symbol: outcomeSymbol[o]})
	}
	for _, s := range licence.Statuses() {
		p.Statuses = append(p.Statuses, htmlLegend{Label: s.String(), Class: "st-" + cssClass(s.String()), Title: s.Description()})
	}
	for _, k := range []licence.EventKind{licence.EventReminderLogon, licence.EventReminderPeriodic, licence.EventReminderHourly, licence.EventNotificationLogon} {
		p.Marks = append(p.Marks, htmlLegend{Label: reminderMarks[k].label, Class: "rm-" + cssClass(string(k))})
	}
	p.Shards, p.Balance = buildShards(r)
	cols := 0
	for _, sc := range r.Scenarios {
		cols = max(cols, len(sc.Steps))
	}
	for i := 1; i <= cols; i++ {
		p.Columns = append(p.Columns, i)
	}
	for i, sc := range r.Scenarios {
		anchor := fmt.Sprintf("s%d", i+1)
		o := outcome(sc.Outcome)
		row := htmlRow{Name: sc.Name, Anchor: anchor, Outcome: string(o), Symbol: outcomeSymbol[o]}
		hs := htmlScenario{Name: sc.Name, Anchor: anchor, File: sc.File, Description: sc.Description, Outcome: string(o),
			Symbol: outcomeSymbol[o], Duration: duration(sc.Duration), Error: sc.Error, Artifacts: sc.Artifacts}
		c := countSteps(sc)
		hs.Boots = c.boots
		hs.Counts = fmt.Sprintf("%d steps: %d passed, %d failed, %d error, %d skipped", len(sc.Steps), c.passed, c.failed, c.errors, c.skipped)
		for _, st := range sc.Steps {
			hst := buildStep(sc, st, anchor)
			hs.Steps = append(hs.Steps, hst)
			row.Cells = append(row.Cells, htmlCell{Anchor: hst.Anchor, Outcome: hst.Outcome, Symbol: hst.Symbol,
				Title: cellTitle(sc, st), Tag: kindTag(st.Kind)})
		}
		for len(row.Cells) < cols {
			row.Cells = append(row.Cells, htmlCell{Empty: true})
		}
		for _, m := range sc.Machines {
			hm := htmlMachine{Name: m.Name, Profile: m.Profile, Edition: m.Edition, Channel: m.Channel, SVG: buildTimeline(sc, m)}
			if n := len(m.Timeline); n > 0 {
				last := m.Timeline[n-1]
				hm.Final = fmt.Sprintf("%s at day %.1f", last.Status, last.Day)
			}
			hs.Machines = append(hs.Machines, hm)
		}
		p.Matrix = append(p.Matrix, row)
		p.Scenarios = append(p.Scenarios, hs)
	}
	return p
}

// buildShards lists a merged run's shards and the balance of their wall times.
func buildShards(r *runner.Run) ([]htmlShard, string) {
	var out []htmlShard
	for _, s := range r.Shards {
		h := htmlShard{Name: shardName(s), Outcome: string(runner.Passed), Report: s.Report, Duration: duration(s.Duration),
			Error: s.Error, Given: s.Given, Reported: s.Reported, Boots: s.Boots}
		if s.Error != "" {
			h.Outcome = string(runner.Error)
		}
		h.Symbol = outcomeSymbol[runner.Outcome(h.Outcome)]
		if !s.Started.IsZero() {
			h.Started = s.Started.UTC().Format("2006-01-02 15:04:05")
		}
		out = append(out, h)
	}
	balance := ""
	if hi, lo, ok := ShardBalance(r); ok {
		balance = fmt.Sprintf("%.2f (longest shard %s, shortest %s)", float64(hi)/float64(lo), duration(hi), duration(lo))
	}
	return out, balance
}

func buildStep(sc *runner.Scenario, st *runner.Step, anchor string) htmlStep {
	o := outcome(st.Outcome)
	h := htmlStep{
		Number: stepNumber(st), Anchor: fmt.Sprintf("%s-step%d", anchor, stepNumber(st)), Where: where(sc, st),
		Kind: st.Kind, Machine: st.Machine, Description: st.Description, Day: fmt.Sprintf("%.1f", st.Day),
		Outcome: string(o), Symbol: outcomeSymbol[o], Duration: duration(st.Duration), OA: st.OA, Notes: st.Notes,
		Events: eventLines(st),
	}
	if !st.Time.IsZero() {
		h.Clock = st.Time.UTC().Format("2006-01-02 15:04")
	}
	if o == runner.Skipped {
		h.Duration = ""
	}
	if sn := st.Snapshot; sn != nil {
		h.Licence = sn.Status.String()
		if sn.Status.Grace() && sn.GraceRemaining != "" {
			h.Licence += ", " + sn.GraceRemaining + " left"
		}
	}
	for _, c := range st.Checks {
		text := checkText(c)
		if c.OK {
			text = fmt.Sprintf("%s = %s", c.Name, orNone(c.Got))
		}
		h.Checks = append(h.Checks, htmlCheck{OK: c.OK, Text: text})
	}
	if a := st.Activation; a != nil {
		h.Activation = a.Method + ": " + a.Result
		if a.Code != "" {
			h.Activation += " (" + a.Code + ")"
		}
		if a.Message != "" {
			h.Activation += ": " + a.Message
		}
	}
	if b := st.Boot; b != nil {
		h.BootInfo = fmt.Sprintf("boot %s, %s, %s", duration(b.Wall), orNone(b.Accel), orNone(b.Outcome))
		if b.BootToAgent > 0 {
			h.BootInfo += ", guest agent after " + duration(b.BootToAgent)
		}
	}
	if o == runner.Error || o == runner.Failed {
		h.Detail = true
		if o == runner.Error {
			h.Error = stepError(sc, st)
		} else {
			h.Error = st.Error
		}
		if b := st.Boot; b != nil {
			h.Command, h.SerialLog = b.Command, b.SerialLog
		}
	}
	return h
}

// cellTitle is the tooltip of a matrix cell: the step, where it is, its outcome and its failed
// checks or error.
func cellTitle(sc *runner.Scenario, st *runner.Step) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%s\n%s, %s", stepLabel(st), where(sc, st), outcome(st.Outcome), day(st.Day))
	if st.Duration > 0 {
		fmt.Fprintf(&b, ", %s", duration(st.Duration))
	}
	for _, c := range failedChecks(st) {
		fmt.Fprintf(&b, "\n✗ %s", checkText(c))
	}
	if outcome(st.Outcome) == runner.Error {
		fmt.Fprintf(&b, "\nerror: %s", stepError(sc, st))
	}
	if n := len(st.Checks) - len(failedChecks(st)); n > 0 {
		fmt.Fprintf(&b, "\n%s held", plural(n, "check"))
	}
	return b.String()
}
