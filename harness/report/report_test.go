package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/fixtures"
	"github.com/oemact/oemact/harness/runner"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(p, got, 0o644))
	}
	want, err := os.ReadFile(p)
	require.NoError(t, err, "run 'go test ./harness/report -update' to create %s", p)
	assert.Equal(t, string(want), string(got), "%s differs; if the change is intended, rerun with -update", p)
}

func render(t *testing.T, write func(*bytes.Buffer, *runner.Run) error, r *runner.Run) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, write(&b, r))
	return b.Bytes()
}

func summary(b *bytes.Buffer, r *runner.Run) error  { return WriteSummary(b, r) }
func jsonOut(b *bytes.Buffer, r *runner.Run) error  { return WriteJSON(b, r) }
func junitOut(b *bytes.Buffer, r *runner.Run) error { return WriteJUnit(b, r) }
func htmlOut(b *bytes.Buffer, r *runner.Run) error  { return WriteHTML(b, r) }

func TestSummaryGolden(t *testing.T) {
	got := render(t, summary, fixtureRun())
	golden(t, "summary.txt", got)
	// Rendering twice gives the same bytes: nothing depends on map order or the clock.
	assert.Equal(t, string(got), string(render(t, summary, fixtureRun())))
}

func TestSummaryContent(t *testing.T) {
	r := fixtureRun()
	out := string(render(t, summary, r))
	lines := strings.Split(out, "\n")
	require.Greater(t, len(lines), 6)
	assert.Regexp(t, `^SCENARIO +OUTCOME +STEPS +PASSED +FAILED +ERROR +SKIPPED +BOOTS +WALL$`, lines[0])
	assert.Regexp(t, `^kms-threshold +error +7 +4 +0 +1 +2 +2 +1m2\.6s$`, lines[3])
	assert.Contains(t, out, "scenarios    5: 3 passed, 1 failed, 1 error\n")
	assert.Contains(t, out, "boots        16, 11.8 per minute\n") // 16 boots in 81.37 s
	assert.Contains(t, out, "accelerator  tcg (the KVM canary boot did not finish within 10s)\n")
	assert.Contains(t, out, "exit code    2 (")

	// The failed check: where, what was wanted and got, how to reproduce it.
	failed := out[strings.Index(out, "Failed checks"):strings.Index(out, "Infrastructure errors")]
	assert.Contains(t, failed, "retail-hardware-change step 8 (fixtures/scenarios/retail-hardware-change.yaml:33): boot pc\n")
	assert.Contains(t, failed, "    reminders: want 6, got 12\n")
	assert.Contains(t, failed, "    reproduce: qemu-system-x86_64 ")
	assert.Contains(t, failed, "    serial log: artifacts/retail-hardware-change/step-8/serial.log\n")
	assert.NotContains(t, failed, "want 12, got 12", "checks that held are not listed")

	// The infrastructure error, apart from the verdicts, with its command line and serial log.
	errs := out[strings.Index(out, "Infrastructure errors"):]
	assert.Contains(t, errs, "kms-threshold step 5 (fixtures/scenarios/kms-threshold.yaml:24): activate kms-1 (online)\n")
	assert.Contains(t, errs, "    error: qemu: the guest did not power off within 60s")
	assert.Contains(t, errs, "    reproduce: qemu-system-x86_64 -machine q35,accel=tcg")
	assert.Contains(t, errs, "    serial log: artifacts/kms-threshold/step-5/serial.log\n")
}

// A scenario stopped outside any step still shows its error, in the summary and in JUnit.
func TestScenarioErrorWithoutStep(t *testing.T) {
	r := &runner.Run{Accel: "tcg", Jobs: 1, Scenarios: []*runner.Scenario{{
		Name: "broken", File: "s/broken.yaml", Outcome: runner.Error, Artifacts: "artifacts/broken",
		Error: "synthesizing the tables of machine pc: profile tstoem-desktop: SLIC key file missing",
	}}}
	out := string(render(t, summary, r))
	assert.Contains(t, out, "Infrastructure errors (1)")
	assert.Contains(t, out, "  broken (s/broken.yaml)\n    error: synthesizing the tables")
	assert.Contains(t, out, "    artifacts: artifacts/broken\n")

	doc := parseJUnit(t, render(t, junitOut, r))
	require.Len(t, doc.Suites, 1)
	s := doc.Suites[0]
	assert.Equal(t, "1", s.Tests)
	assert.Equal(t, "1", s.Errors)
	require.Len(t, s.Cases, 1)
	require.NotNil(t, s.Cases[0].Error)
	assert.Contains(t, s.Cases[0].Error.Message, "SLIC key file missing")
}

func TestSummaryEmptyRun(t *testing.T) {
	out := string(render(t, summary, &runner.Run{}))
	assert.Contains(t, out, "scenarios    0: 0 passed, 0 failed, 0 error\n")
	assert.Contains(t, out, "boots        0, 0.0 per minute\n")
	assert.Contains(t, out, "exit code    0 (every expectation held)\n")
	assert.NotContains(t, out, "Failed checks")
}

func TestJSON(t *testing.T) {
	r := fixtureRun()
	b := render(t, jsonOut, r)
	golden(t, "run.json", b)

	// It reads back into the same Run.
	var back runner.Run
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Empty(t, cmp.Diff(r, &back))

	// Stable snake_case names and the tallies.
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	for _, k := range []string{"started", "duration_ns", "accel", "jobs", "boots", "scenarios", "summary"} {
		assert.Contains(t, m, k)
	}
	assert.Equal(t, map[string]any{"passed": 3.0, "failed": 1.0, "error": 1.0, "boots_per_minute": 11.8, "exit_code": 2.0}, m["summary"])
	keys := regexp.MustCompile(`"([A-Za-z_]+)":`).FindAllStringSubmatch(string(b), -1)
	for _, k := range keys {
		assert.Regexp(t, `^[a-z][a-z0-9_]*$`, k[1], "JSON field names are snake_case")
	}
}

// No report shows a product key: the catalog's TEST keys appear nowhere whole, and whatever is
// shaped like a key is masked (the licence model names keys masked in its messages).
func TestNoProductKeys(t *testing.T) {
	cat, err := fixtures.Catalog()
	require.NoError(t, err)
	r := fixtureRun()
	shape := regexp.MustCompile(`[A-Z0-9]{5}(-[A-Z0-9]{5}){4}`)
	for name, out := range map[string][]byte{
		"summary": render(t, summary, r), "json": render(t, jsonOut, r),
		"junit": render(t, junitOut, r), "html": render(t, htmlOut, r),
	} {
		s := string(out)
		masked := 0
		for _, k := range shape.FindAllString(s, -1) {
			assert.True(t, strings.HasPrefix(k, "XXXXX-XXXXX-XXXXX-XXXXX-"), "%s shows %s", name, k)
			masked++
		}
		if name != "summary" { // the summary shows no licence events
			assert.Positive(t, masked, "%s: the fixture's messages name masked keys", name)
		}
		for _, e := range cat.Entries() {
			assert.NotContains(t, s, e.Key.Reveal(), "%s shows the key of %s", name, e.Label)
		}
	}
}
