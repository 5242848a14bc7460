package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/internal/harnesstest"
	"github.com/oemact/oemact/harness/qemu"
	"github.com/oemact/oemact/harness/runner"
	"github.com/oemact/oemact/harness/scenario"
)

// The reports of a real run: the grace-expiry scenario of the default matrix booted in QEMU, with
// the CI progress printer as the runner's observer. Whatever the run's verdict, every report reads
// back and agrees with the Run.
func TestReportsOfARealRun(t *testing.T) {
	harnesstest.QEMU(t)
	k := harnesstest.Kernel(t)
	bin, err := harnesstest.BuildAgent(t.TempDir())
	require.NoError(t, err)
	sc, err := scenario.Load(filepath.Join(harnesstest.RepoRoot(), "fixtures", "scenarios", "12-grace-expiry.yaml"))
	require.NoError(t, err)

	var progress bytes.Buffer
	p := NewProgress(&progress, false)
	r, err := runner.Execute(context.Background(), []*scenario.Scenario{sc},
		runner.Options{Kernel: k, Agent: bin, Artifacts: t.TempDir(), Accel: qemu.TCG, Observer: p})
	require.NoError(t, err)
	p.Finish()
	require.NoError(t, p.Err())
	require.Len(t, r.Scenarios, 1)
	res := r.Scenarios[0]
	t.Logf("%s: %s, %d boots in %s", res.Name, res.Outcome, r.Boots, duration(r.Duration))

	// Progress: a line per step and one for the scenario.
	lines := strings.Split(strings.TrimSuffix(progress.String(), "\n"), "\n")
	stepLine := regexp.MustCompile(`^\[grace-expiry\] step \d+ .+  day \d+\.\d  (passed|failed|error|skipped)  \S+( \(no reboot\))?$`)
	n, noReboot := 0, 0
	for _, l := range lines {
		if stepLine.MatchString(l) {
			n++
		}
		if strings.HasSuffix(l, " (no reboot)") {
			noReboot++
		}
	}
	assert.Equal(t, len(res.Steps), n, "%s", progress.String())
	// Boot, advance, boot, advance, boot: the machine boots once and takes the two later boot
	// steps without a reboot (only the clock moved).
	assert.Equal(t, 1, r.Boots)
	assert.Equal(t, 2, r.Resumed)
	assert.Equal(t, 2, noReboot, "%s", progress.String())
	c := countSteps(res)
	assert.Regexp(t, fmt.Sprintf(`^\[grace-expiry\] %s: %d steps \(%d passed, %d failed, %d error, %d skipped\), %d boots, \S+$`,
		res.Outcome, len(res.Steps), c.passed, c.failed, c.errors, c.skipped, c.boots), lines[len(lines)-1])

	var out bytes.Buffer
	require.NoError(t, WriteSummary(&out, r))
	assert.Regexp(t, `(?m)^grace-expiry +`+string(res.Outcome)+` +5 `, out.String())
	assert.Contains(t, out.String(), "boots        1, ")
	assert.Contains(t, out.String(), "; 2 steps without a reboot (only the clock changed)")

	out.Reset()
	require.NoError(t, WriteJUnit(&out, r))
	doc := parseJUnit(t, out.Bytes())
	require.Len(t, doc.Suites, 1)
	require.Len(t, doc.Suites[0].Cases, len(res.Steps))
	for i, c := range doc.Suites[0].Cases {
		assert.Equal(t, testNames(res)[i], c.Name)
	}

	out.Reset()
	require.NoError(t, WriteJSON(&out, r))
	var back runner.Run
	require.NoError(t, json.Unmarshal(out.Bytes(), &back))
	assert.Equal(t, r.Boots, back.Boots)
	assert.Equal(t, r.Resumed, back.Resumed)

	out.Reset()
	require.NoError(t, WriteHTML(&out, r))
	assert.Equal(t, 1, strings.Count(out.String(), `<svg class="timeline"`))
	if res.Outcome == runner.Passed {
		// The scenario expects the grace to run out: the drawing shows it.
		tl := buildTimeline(res, res.Machines[0])
		var statuses []string
		for _, b := range tl.Bands {
			statuses = append(statuses, strings.Fields(b.Title)[0])
		}
		assert.Equal(t, []string{"OOBGrace", "Notification"}, statuses)
		assert.NotEmpty(t, tl.Reminders)
		assert.NotEmpty(t, tl.Grace)
	}
}
