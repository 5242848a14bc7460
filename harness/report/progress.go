package report

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/oemact/oemact/harness/runner"
)

// Progress shows a run as it happens. The runner calls ScenarioStarted, StepStarted, StepDone and
// ScenarioDone as work starts and ends (from as many goroutines as it runs scenarios in
// parallel), then Finish before the summary is printed.
//
// On a terminal it keeps one status line, rewritten in place with a carriage return, naming each
// running scenario and its current step, and prints a line for each failed step and each finished
// scenario above it. Elsewhere (CI logs, pipes, files) it prints one plain line per finished step
// and one per finished scenario, with no control characters.
type Progress struct {
	mu       sync.Mutex
	w        io.Writer
	terminal bool
	colour   bool
	// Width bounds the status line on a terminal (columns); set it before the run starts.
	Width int

	running []*liveScenario
	done    map[runner.Outcome]int
	shown   int // runes of the status line now on screen
	err     error
}

type liveScenario struct {
	sc       *runner.Scenario
	total    int
	finished int
	step     *runner.Step
}

// The runner calls a Progress through its Observer interface.
var _ runner.Observer = (*Progress)(nil)

// DefaultWidth is the status line's width when the terminal's is unknown: the classic 80 columns.
const DefaultWidth = 80

// NewProgress writes progress to w, in the live form when terminal is set. Colours are used only
// on a terminal and only when the NO_COLOR environment variable is unset or empty
// (https://no-color.org).
func NewProgress(w io.Writer, terminal bool) *Progress {
	return &Progress{
		w: w, terminal: terminal, colour: terminal && os.Getenv("NO_COLOR") == "",
		Width: DefaultWidth, done: map[runner.Outcome]int{},
	}
}

// NewProgressFor is NewProgress for a standard stream: the live form when f is a terminal, at the
// terminal's width.
func NewProgressFor(f *os.File) *Progress {
	term, width := terminalInfo(f)
	p := NewProgress(f, term)
	if width > 0 {
		p.Width = width
	}
	return p
}

// Err is the first error writing the progress, if any; progress never stops a run.
func (p *Progress) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// ScenarioStarted says a scenario began; steps is how many steps it has.
func (p *Progress) ScenarioStarted(sc *runner.Scenario, steps int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running = append(p.running, &liveScenario{sc: sc, total: steps})
	p.redraw()
}

// StepStarted says a step began (its Index, Kind, Machine and Description are read).
func (p *Progress) StepStarted(sc *runner.Scenario, st *runner.Step) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if l := p.find(sc); l != nil {
		l.step = st
	}
	p.redraw()
}

// StepDone says a step ended with its outcome, checks and duration filled in.
func (p *Progress) StepDone(sc *runner.Scenario, st *runner.Step) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if l := p.find(sc); l != nil {
		l.finished++
		if l.step == st {
			l.step = nil
		}
	}
	o := outcome(st.Outcome)
	if p.terminal && (o == runner.Passed || o == runner.Skipped) {
		// On a terminal the status line stands for steps that went well.
		p.redraw()
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] step %d %s  %s  %s  %s", sc.Name, stepNumber(st), st.Description, day(st.Day),
		p.paint(o, string(o)), duration(st.Duration))
	if st.Boot != nil && st.Boot.Resumed {
		b.WriteString(" (no reboot)")
	}
	if st.Boot != nil && st.Boot.BootToAgent > 0 {
		b.WriteString(" (guest agent after " + duration(st.Boot.BootToAgent) + ")")
	}
	b.WriteString("\n")
	for _, c := range failedChecks(st) {
		fmt.Fprintf(&b, "    %s (%s)\n", checkText(c), where(sc, st))
	}
	if o == runner.Error {
		fmt.Fprintf(&b, "    error: %s\n", stepError(sc, st))
	}
	p.print(b.String())
}

// ScenarioDone says a scenario ended with its outcome and duration filled in.
func (p *Progress) ScenarioDone(sc *runner.Scenario) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, l := range p.running {
		if l.sc == sc {
			p.running = append(p.running[:i], p.running[i+1:]...)
			break
		}
	}
	o := outcome(sc.Outcome)
	p.done[o]++
	c := countSteps(sc)
	line := fmt.Sprintf("[%s] %s: %d steps (%d passed, %d failed, %d error, %d skipped), %d boots, %s\n",
		sc.Name, p.paint(o, string(o)), len(sc.Steps), c.passed, c.failed, c.errors, c.skipped, c.boots, duration(sc.Duration))
	if o == runner.Error && sc.Error != "" {
		line += "    error: " + sc.Error + "\n"
	}
	p.print(line)
}

// Finish clears the status line so that what follows starts on a clean line.
func (p *Progress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
}

func (p *Progress) find(sc *runner.Scenario) *liveScenario {
	for _, l := range p.running {
		if l.sc == sc {
			return l
		}
	}
	return nil
}

// print writes whole lines; on a terminal above the status line, which it then redraws.
func (p *Progress) print(s string) {
	p.clear()
	p.write(s)
	p.redraw()
}

func (p *Progress) write(s string) {
	if p.err != nil {
		return
	}
	if _, err := io.WriteString(p.w, s); err != nil {
		p.err = err
	}
}

// clear blanks the status line: a carriage return, spaces over what was shown, a carriage return.
// Spaces rather than an erase-line escape, so that dumb terminals show it right too.
func (p *Progress) clear() {
	if !p.terminal || p.shown == 0 {
		return
	}
	p.write("\r" + strings.Repeat(" ", p.shown) + "\r")
	p.shown = 0
}

func (p *Progress) redraw() {
	if !p.terminal {
		return
	}
	line := p.statusLine()
	pad := p.shown - utf8.RuneCountInString(line)
	if pad < 0 {
		pad = 0
	}
	p.write("\r" + line + strings.Repeat(" ", pad))
	p.shown = utf8.RuneCountInString(line)
}

// statusLine is "2 running: retail-hw 3/7 boot pc · kms 1/4 advance 30d | done 3: 2 passed, 1 failed",
// cut to the width.
func (p *Progress) statusLine() string {
	var parts []string
	for _, l := range p.running {
		s := fmt.Sprintf("%s %d/%d", l.sc.Name, l.finished, l.total)
		if l.step != nil {
			s = fmt.Sprintf("%s %d/%d %s", l.sc.Name, stepNumber(l.step), l.total, l.step.Description)
		}
		parts = append(parts, s)
	}
	line := ""
	if len(parts) > 0 {
		line = fmt.Sprintf("%d running: %s", len(parts), strings.Join(parts, " · "))
	}
	n := 0
	var done []string
	for _, o := range []runner.Outcome{runner.Passed, runner.Failed, runner.Error} {
		if p.done[o] > 0 {
			n += p.done[o]
			done = append(done, fmt.Sprintf("%d %s", p.done[o], o))
		}
	}
	if n > 0 {
		if line != "" {
			line += " | "
		}
		line += fmt.Sprintf("done %d: %s", n, strings.Join(done, ", "))
	}
	return truncate(line, p.Width-1)
}

func truncate(s string, width int) string {
	if width < 1 {
		width = 1
	}
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)
	return string(r[:width-1]) + "…"
}

// ANSI colours of the outcomes on a terminal.
var outcomeANSI = map[runner.Outcome]string{
	runner.Passed: "\x1b[32m", runner.Failed: "\x1b[31;1m", runner.Error: "\x1b[35;1m", runner.Skipped: "\x1b[2m",
}

func (p *Progress) paint(o runner.Outcome, s string) string {
	if !p.colour {
		return s
	}
	return outcomeANSI[o] + s + "\x1b[0m"
}
