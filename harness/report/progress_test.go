package report

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/runner"
)

// replay calls the progress the way the runner does for one scenario.
func replay(p *Progress, sc *runner.Scenario) {
	p.ScenarioStarted(sc, len(sc.Steps))
	for _, st := range sc.Steps {
		p.StepStarted(sc, st)
		p.StepDone(sc, st)
	}
	p.ScenarioDone(sc)
}

func TestProgressPlain(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, false)
	r := fixtureRun()
	replay(p, r.Scenarios[1])
	replay(p, r.Scenarios[2])
	p.Finish()
	require.NoError(t, p.Err())
	out := b.String()
	assert.NotContains(t, out, "\r")
	assert.NotContains(t, out, "\x1b")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	assert.Equal(t, "[retail-hardware-change] step 1 boot pc  day 0.0  passed  2.1s", lines[0])
	assert.Equal(t, "[retail-hardware-change] step 2 advance 2d  day 2.0  passed  1ms", lines[1])
	assert.Contains(t, lines, "[retail-hardware-change] step 8 boot pc  day 12.0  failed  2.3s")
	assert.Contains(t, lines, "    reminders: want 6, got 12 (fixtures/scenarios/retail-hardware-change.yaml:33)")
	assert.Contains(t, lines, "[retail-hardware-change] failed: 10 steps (9 passed, 1 failed, 0 error, 0 skipped), 5 boots, 11.6s")
	assert.Contains(t, lines, "[kms-threshold] step 5 activate kms-1 (online)  day 0.0  error  1m0s")
	assert.Contains(t, lines, "[kms-threshold] step 6 boot kms-2  day 0.0  skipped  0s")
	assert.Contains(t, lines, "[kms-threshold] error: 7 steps (4 passed, 0 failed, 1 error, 2 skipped), 2 boots, 1m2.6s")
	assert.Contains(t, lines, "    error: step 5: qemu: the guest did not power off within 60s and was killed (timeout)")
	// A line per step (plus one per failed check or error) and per scenario.
	assert.Len(t, lines, 10+1+1+7+1+2)
}

func TestProgressTerminal(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	var b bytes.Buffer
	p := NewProgress(&b, true)
	p.Width = 60
	r := fixtureRun()
	sc := r.Scenarios[1]
	p.ScenarioStarted(sc, len(sc.Steps))
	assert.Equal(t, "\r1 running: retail-hardware-change 0/10", b.String())
	b.Reset()
	p.StepStarted(sc, sc.Steps[0])
	assert.Equal(t, "\r1 running: retail-hardware-change 1/10 boot pc", b.String())
	b.Reset()
	p.StepDone(sc, sc.Steps[0]) // passed: only the status line changes
	// The shorter line is padded with spaces over the end of the longer one.
	assert.Equal(t, "\r1 running: retail-hardware-change 1/10"+strings.Repeat(" ", len(" boot pc")), b.String())
	for _, st := range sc.Steps[1:] {
		p.StepStarted(sc, st)
		p.StepDone(sc, st)
	}
	p.ScenarioDone(sc)
	p.Finish()
	out := b.String()
	assert.NotContains(t, out, "\x1b", "NO_COLOR turns colours off")
	// The failed step and the scenario's end are printed above the status line, on clean lines.
	assert.Contains(t, out, "\r[retail-hardware-change] step 8 boot pc  day 12.0  failed  2.3s\n")
	assert.Contains(t, out, "[retail-hardware-change] failed: 10 steps")
	assert.NotContains(t, out, "step 7 advance 2d  day", "passed steps have no line of their own")
	// Every status line (what follows a carriage return or a printed line) fits the width, and
	// the last thing written blanks it.
	for _, seg := range strings.Split(out, "\r") {
		if i := strings.LastIndex(seg, "\n"); i >= 0 {
			seg = seg[i+1:]
		}
		assert.LessOrEqual(t, len([]rune(seg)), 59, "%q", seg)
	}
	assert.True(t, strings.HasSuffix(out, "\r"), "Finish leaves the cursor at the start of a blank line")
	assert.Contains(t, out, "done 1: 1 failed")
}

func TestProgressColours(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	var b bytes.Buffer
	p := NewProgress(&b, true)
	r := fixtureRun()
	replay(p, r.Scenarios[2])
	p.Finish()
	assert.Contains(t, b.String(), "\x1b[35;1merror\x1b[0m")

	// Never colours off a terminal, whatever NO_COLOR says.
	b.Reset()
	p = NewProgress(&b, false)
	replay(p, r.Scenarios[2])
	assert.NotContains(t, b.String(), "\x1b")
}

func TestProgressTruncates(t *testing.T) {
	assert.Equal(t, "abc", truncate("abc", 3))
	assert.Equal(t, "ab…", truncate("abcd", 3))
	assert.Equal(t, "…", truncate("abcd", 0))
	assert.Equal(t, "é…", truncate("éééé", 2), "cut by characters, not bytes")
}

// Scenarios in parallel: every line comes out whole (run with -race to check the locking).
func TestProgressConcurrent(t *testing.T) {
	for _, term := range []bool{false, true} {
		t.Run(fmt.Sprint("terminal=", term), func(t *testing.T) {
			t.Setenv("NO_COLOR", "1")
			var b bytes.Buffer
			p := NewProgress(&b, term)
			var wg sync.WaitGroup
			for i := 0; i < 8; i++ {
				r := fixtureRun()
				for _, sc := range r.Scenarios {
					sc.Name = fmt.Sprintf("%s-%d", sc.Name, i)
					wg.Add(1)
					go func() {
						defer wg.Done()
						replay(p, sc)
					}()
				}
			}
			wg.Wait()
			p.Finish()
			whole := regexp.MustCompile(`^(\[[a-z0-9-]+\] .*|    .*)$`)
			n := 0
			for _, seg := range strings.Split(b.String(), "\n") {
				// On a terminal a line starts after the status line's last carriage return.
				if i := strings.LastIndex(seg, "\r"); i >= 0 {
					seg = seg[i+1:]
				}
				if seg == "" {
					continue
				}
				assert.Regexp(t, whole, seg)
				if strings.HasSuffix(seg, "boots, 1m2.6s") || strings.Contains(seg, " steps (") {
					n++
				}
			}
			assert.Equal(t, 8*5, n, "a line per scenario")
		})
	}
}
