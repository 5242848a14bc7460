package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/oemact/oemact/harness/runner"
)

// The JUnit XML elements as Jenkins, GitLab and most CI servers read them (the schema that grew
// out of Ant's JUnit task): testsuites > testsuite > testcase with failure, error, skipped and
// system-out.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	File       string          `xml:"file,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitProblem `xml:"failure"`
	Error     *junitProblem `xml:"error"`
	Skipped   *junitSkipped `xml:"skipped"`
	SystemOut *junitText    `xml:"system-out"`
}

// junitText is text kept as written, newlines and all, in a CDATA section.
type junitText struct {
	Text string `xml:",cdata"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",cdata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr,omitempty"`
}

// WriteJUnit writes the run as JUnit XML: one testsuite per scenario, one testcase per step
// (classname the scenario, name the step's stable test name: its id, or its kind and machine). A failed step has a <failure> listing its
// failed checks; a step stopped by an infrastructure error has an <error> whose body holds the
// QEMU command line to reproduce it and the serial log; a step not run is <skipped/>. Times are in
// seconds. Each testcase's <system-out> holds the step's notes, verdicts and licence events.
func WriteJUnit(w io.Writer, r *runner.Run) error {
	doc := junitSuites{Name: "oemact run", Time: seconds(r.Duration)}
	for _, sc := range r.Scenarios {
		s := junitSuite{Name: sc.Name, Time: seconds(sc.Duration), File: sc.File}
		if !r.Started.IsZero() {
			// The schema's timestamp is ISO 8601 without a zone; it is UTC here.
			s.Timestamp = r.Started.UTC().Format("2006-01-02T15:04:05")
		}
		s.Properties = append(s.Properties, junitProperty{"accel", r.Accel})
		if r.Agent != "" {
			s.Properties = append(s.Properties, junitProperty{"agent", r.Agent})
		}
		if sc.Description != "" {
			s.Properties = append(s.Properties, junitProperty{"description", sc.Description})
		}
		if sc.Artifacts != "" {
			s.Properties = append(s.Properties, junitProperty{"artifacts", sc.Artifacts})
		}
		stepErr := false
		names := testNames(sc)
		for i, st := range sc.Steps {
			c := junitCase{Name: names[i], Classname: sc.Name, Time: seconds(st.Duration), File: sc.File, Line: st.Line,
				SystemOut: &junitText{xmlText(stepOutput(sc, st))}}
			switch outcome(st.Outcome) {
			case runner.Failed:
				c.Failure = failure(sc, st)
				s.Failures++
			case runner.Error:
				c.Error = &junitProblem{Message: orNone(stepError(sc, st)), Type: "infrastructure", Body: xmlText(errorBody(sc, st))}
				s.Errors++
				stepErr = true
			case runner.Skipped:
				c.Skipped = &junitSkipped{Message: "not run: an earlier step of the scenario had an infrastructure error"}
				s.Skipped++
			}
			s.Cases = append(s.Cases, c)
		}
		if outcome(sc.Outcome) == runner.Error && !stepErr {
			// An error outside any step would otherwise vanish from the report: give it a case.
			s.Cases = append(s.Cases, junitCase{Name: "scenario setup", Classname: sc.Name, Time: "0.000", File: sc.File,
				Error: &junitProblem{Message: orNone(sc.Error), Type: "infrastructure", Body: xmlText(scenarioErrorBody(sc))}})
			s.Errors++
		}
		doc.add(s)
	}
	if r.Error != "" {
		// Stopped before it ran a scenario: CI still gets a test result, and it says why.
		doc.add(errorSuite("oemact run", "run setup", r.Error, runErrorBody(r)))
	}
	for _, sh := range r.Shards {
		if sh.Error != "" {
			name := shardName(sh)
			doc.add(errorSuite(name, name, sh.Error, shardErrorBody(sh)))
		}
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func (doc *junitSuites) add(s junitSuite) {
	s.Tests = len(s.Cases)
	doc.Tests += s.Tests
	doc.Failures += s.Failures
	doc.Errors += s.Errors
	doc.Skipped += s.Skipped
	doc.Suites = append(doc.Suites, s)
}

// errorSuite is a suite of one infrastructure error case, for what stopped a run or a shard
// outside any scenario.
func errorSuite(suite, name, msg, body string) junitSuite {
	return junitSuite{Name: suite, Time: "0.000", Errors: 1, Cases: []junitCase{{Name: name, Classname: suite, Time: "0.000",
		Error: &junitProblem{Message: xmlText(msg), Type: "infrastructure", Body: xmlText(body)}}}}
}

func failure(sc *runner.Scenario, st *runner.Step) *junitProblem {
	bad := failedChecks(st)
	var msgs []string
	for _, c := range bad {
		msgs = append(msgs, checkText(c))
	}
	if st.Error != "" {
		msgs = append(msgs, st.Error)
	}
	msg := strings.Join(msgs, "; ")
	if msg == "" {
		msg = "the step failed"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", where(sc, st), st.Description)
	for _, m := range msgs {
		fmt.Fprintf(&b, "  %s\n", m)
	}
	reproduce(&b, sc, st)
	return &junitProblem{Message: msg, Type: "check", Body: xmlText(b.String())}
}

func errorBody(sc *runner.Scenario, st *runner.Step) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n  error: %s\n", where(sc, st), st.Description, orNone(stepError(sc, st)))
	reproduce(&b, sc, st)
	return b.String()
}

func scenarioErrorBody(sc *runner.Scenario) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n  error: %s\n", sc.File, orNone(sc.Error))
	if sc.Artifacts != "" {
		fmt.Fprintf(&b, "    artifacts: %s\n", sc.Artifacts)
	}
	return b.String()
}

// stepOutput is what the step showed besides its checks: passed checks, the guest's verdicts,
// the activation answer, the licence state, notes and events.
func stepOutput(sc *runner.Scenario, st *runner.Step) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s at %s (%s UTC)\n", where(sc, st), st.Kind, day(st.Day), st.Time.UTC().Format("2006-01-02 15:04"))
	if st.Boot != nil {
		switch {
		case st.Boot.Resumed:
			fmt.Fprintf(&b, "no reboot (only the clock changed): %s in the running machine, %s\n", duration(st.Boot.Wall), orNone(st.Boot.Outcome))
		case st.Boot.BootToAgent > 0:
			fmt.Fprintf(&b, "boot: %s, %s, %s; the OS's guest agent answered %s after QEMU's start\n", duration(st.Boot.Wall),
				orNone(st.Boot.Accel), orNone(st.Boot.Outcome), duration(st.Boot.BootToAgent))
		default:
			fmt.Fprintf(&b, "boot: %s, %s, %s\n", duration(st.Boot.Wall), orNone(st.Boot.Accel), orNone(st.Boot.Outcome))
		}
	}
	probeOutput(&b, st.Probe)
	for _, c := range st.Checks {
		if c.OK {
			fmt.Fprintf(&b, "ok   %s = %s\n", c.Name, orNone(c.Got))
		} else {
			fmt.Fprintf(&b, "FAIL %s\n", checkText(c))
		}
	}
	if st.OA != "" {
		fmt.Fprintf(&b, "oa: %s\n", st.OA)
	}
	if a := st.Activation; a != nil {
		fmt.Fprintf(&b, "activation: %s %s", a.Method, a.Result)
		if a.Code != "" {
			fmt.Fprintf(&b, " (%s)", a.Code)
		}
		if a.Message != "" {
			fmt.Fprintf(&b, ": %s", a.Message)
		}
		b.WriteString("\n")
	}
	if sn := st.Snapshot; sn != nil {
		fmt.Fprintf(&b, "licence: %s (LicenseStatus %d)", sn.Status, sn.LicenseStatus)
		if sn.GraceRemaining != "" {
			fmt.Fprintf(&b, ", %s of grace left", sn.GraceRemaining)
		}
		fmt.Fprintf(&b, ", rearms used %d\n", sn.Rearms)
	}
	for _, n := range st.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	for _, e := range eventLines(st) {
		fmt.Fprintf(&b, "event: %s\n", e)
	}
	return b.String()
}

// probeOutput is what the OS of a probe step saw, besides the checks.
func probeOutput(b *strings.Builder, p *runner.Probe) {
	if p == nil {
		return
	}
	fmt.Fprintf(b, "os: %s", p.OS)
	if p.KernelRelease != "" {
		fmt.Fprintf(b, ", kernel %s", p.KernelRelease)
	}
	fmt.Fprintf(b, "; read from %s: %s; SMBIOS %d structures\n", p.Source, strings.Join(p.Tables, ", "), p.SMBIOS)
	for _, f := range p.Findings {
		fmt.Fprintf(b, "finding: %s %s: %s\n", f.Severity, f.Code, f.Message)
	}
	if l := p.Licence; l != nil {
		fmt.Fprintf(b, "windows licence: %s, %s channel, partial key %s\n", l.LicenseStatus, orNone(l.Channel), orNone(l.PartialKey))
	}
	if e := p.Exec; e != nil {
		fmt.Fprintf(b, "exec %s: exit status %d\n%s", strings.Join(e.Command, " "), e.ExitCode, e.Stdout)
		if e.Stdout != "" && !strings.HasSuffix(e.Stdout, "\n") {
			b.WriteString("\n")
		}
	}
}

// xmlText replaces the characters XML 1.0 cannot carry (control characters other than tab, newline
// and carriage return, such as the escape sequences of a guest's serial output) with U+FFFD.
// encoding/xml does this for attributes and escaped text, not for CDATA sections.
func xmlText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r',
			r >= 0x20 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
			return r
		}
		return '\uFFFD'
	}, s)
}
