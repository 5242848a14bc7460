package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"sync"

	"github.com/oemact/oemact/harness/runner"
	"github.com/oemact/oemact/oemact/licence"
)

//go:embed report.html.tmpl
var htmlSource string

// htmlTemplate is parsed on first use: the binary is also the guest's /init, where start-up
// time counts.
var htmlTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Parse(htmlSource))
})

// Colours of the outcomes in the HTML report.
var outcomeColour = map[runner.Outcome]string{
	runner.Passed: "#2e7d32", runner.Failed: "#c62828", runner.Error: "#ff6f00", runner.Skipped: "#bdbdbd",
}

type htmlPage struct {
	Outcome   string
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
	Label, Value, Colour string
}

type htmlLegend struct{ Label, Colour, Title string }

type htmlRow struct {
	Name, Anchor, Outcome, Colour string
	Cells                         []htmlCell
}

type htmlCell struct {
	Empty                               bool
	Anchor, Outcome, Colour, Title, Tag string
}

type htmlScenario struct {
	Name, Anchor, File, Description, Outcome, Colour, Duration, Error, Artifacts string
	Counts                                                                       string
	Boots                                                                        int
	Steps                                                                        []htmlStep
	Machines                                                                     []htmlMachine
}

type htmlStep struct {
	Number                                                int
	Anchor, Where, Kind, Machine, Description, Day, Clock string
	Outcome, Colour, Duration                             string
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

// kindTags are the short words of the matrix cells.
var kindTags = map[string]string{
	"boot": "boot", "activate": "act", "rearm": "rearm", "install_key": "key", "change": "chg",
	"advance": "adv", "kms_clients": "kms", "check": "chk",
}

// WriteHTML writes the run as one self-contained HTML page (inline CSS and SVG; no script, no
// network): the totals, the scenario matrix (a row per scenario, a cell per step coloured by its
// outcome, its checks in the tooltip), then per scenario its steps and, per machine, the licence
// timeline. Every text goes through html/template's escaping.
func WriteHTML(w io.Writer, r *runner.Run) error {
	return htmlTemplate().Execute(w, buildPage(r))
}

func buildPage(r *runner.Run) htmlPage {
	code := r.ExitCode()
	p := htmlPage{
		Outcome: map[int]string{0: "passed", 1: "failed", 2: "error"}[code],
		Accel:   orNone(r.Accel), Jobs: plural(r.Jobs, "job"), Duration: duration(r.Duration), Boots: r.Boots,
		BPM: fmt.Sprintf("%.1f", r.BootsPerMinute()), ExitCode: code, ExitWords: exitWords(code), Total: plural(len(r.Scenarios), "scenario"),
	}
	if !r.Started.IsZero() {
		p.Started = r.Started.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	p.Stats = []htmlStat{
		{"passed", fmt.Sprint(r.Count(runner.Passed)), outcomeColour[runner.Passed]},
		{"failed", fmt.Sprint(r.Count(runner.Failed)), outcomeColour[runner.Failed]},
		{"error", fmt.Sprint(r.Count(runner.Error)), outcomeColour[runner.Error]},
		{"boots", fmt.Sprint(r.Boots), ""},
		{"boots per minute", p.BPM, ""},
		{"wall time", p.Duration, ""},
	}
	if r.Resumed > 0 {
		p.Stats = append(p.Stats, htmlStat{"steps without a reboot", fmt.Sprint(r.Resumed), ""})
	}
	for _, o := range []runner.Outcome{runner.Passed, runner.Failed, runner.Error, runner.Skipped} {
		p.Outcomes = append(p.Outcomes, htmlLegend{Label: string(o), Colour: outcomeColour[o]})
	}
	for _, s := range licence.Statuses() {
		p.Statuses = append(p.Statuses, htmlLegend{Label: s.String(), Colour: statusColour[s], Title: s.Description()})
	}
	for _, k := range []licence.EventKind{licence.EventReminderLogon, licence.EventReminderPeriodic, licence.EventReminderHourly, licence.EventNotificationLogon} {
		p.Marks = append(p.Marks, htmlLegend{Label: reminderMarks[k].label, Colour: reminderMarks[k].colour})
	}
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
		row := htmlRow{Name: sc.Name, Anchor: anchor, Outcome: string(o), Colour: outcomeColour[o]}
		hs := htmlScenario{Name: sc.Name, Anchor: anchor, File: sc.File, Description: sc.Description, Outcome: string(o),
			Colour: outcomeColour[o], Duration: duration(sc.Duration), Error: sc.Error, Artifacts: sc.Artifacts}
		c := countSteps(sc)
		hs.Boots = c.boots
		hs.Counts = fmt.Sprintf("%d steps: %d passed, %d failed, %d error, %d skipped", len(sc.Steps), c.passed, c.failed, c.errors, c.skipped)
		for _, st := range sc.Steps {
			hst := buildStep(sc, st, anchor)
			hs.Steps = append(hs.Steps, hst)
			row.Cells = append(row.Cells, htmlCell{Anchor: hst.Anchor, Outcome: hst.Outcome, Colour: hst.Colour,
				Title: cellTitle(sc, st), Tag: kindTags[st.Kind]})
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

func buildStep(sc *runner.Scenario, st *runner.Step, anchor string) htmlStep {
	o := outcome(st.Outcome)
	h := htmlStep{
		Number: stepNumber(st), Anchor: fmt.Sprintf("%s-step%d", anchor, stepNumber(st)), Where: where(sc, st),
		Kind: st.Kind, Machine: st.Machine, Description: st.Description, Day: fmt.Sprintf("%.1f", st.Day),
		Outcome: string(o), Colour: outcomeColour[o], Duration: duration(st.Duration), OA: st.OA, Notes: st.Notes,
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
	fmt.Fprintf(&b, "%s\n%s\n%s, %s", stepName(st), where(sc, st), outcome(st.Outcome), day(st.Day))
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
