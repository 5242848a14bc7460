package report

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/engine/inproc"
	"github.com/oemact/oemact/harness/internal/harnesstest"
	"github.com/oemact/oemact/harness/runner"
	"github.com/oemact/oemact/harness/scenario"
)

// junitCaseNames runs a scenario file on the in-process engine and returns the JUnit test case
// names of its steps.
func junitCaseNames(t *testing.T, path string) []string {
	t.Helper()
	sc, err := scenario.Load(path)
	require.NoError(t, err)
	r, err := runner.Execute(context.Background(), []*scenario.Scenario{sc}, runner.Options{Engine: inproc.Engine{}, Artifacts: t.TempDir()})
	require.NoError(t, err)
	require.Len(t, r.Scenarios, 1)
	require.NotEqual(t, runner.Error, r.Scenarios[0].Outcome, r.Scenarios[0].Error)
	var b bytes.Buffer
	require.NoError(t, WriteJUnit(&b, r))
	doc := parseJUnit(t, b.Bytes())
	require.Len(t, doc.Suites, 1)
	var names []string
	for _, c := range doc.Suites[0].Cases {
		names = append(names, c.Name)
	}
	return names
}

// A step inserted into a scenario file leaves the JUnit names of the others as they were: the
// scenario runs (in process, no VM) before and after, and the reports' test cases are compared.
func TestJUnitNamesSurviveAnInsertedStep(t *testing.T) {
	src := filepath.Join(harnesstest.RepoRoot(), "fixtures", "scenarios", "06-retail-hardware-reactivation.yaml")
	before := junitCaseNames(t, src)
	require.Len(t, before, 7)
	b, err := os.ReadFile(src)
	require.NoError(t, err)
	for _, ins := range []struct {
		at   int
		step string
	}{
		{0, "  - kms_clients: {count: 1, edition: win7-enterprise}\n"},
		{4, "  - boot: pc\n    id: before-reactivation\n"},
		{7, "  - rearm: pc\n"},
	} {
		lines := strings.SplitAfter(string(b), "\n")
		n, cut := -1, len(lines)
		for j, l := range lines {
			if strings.HasPrefix(l, "  - ") {
				if n++; n == ins.at {
					cut = j
					break
				}
			}
		}
		text := strings.Join(lines[:cut], "") + ins.step + strings.Join(lines[cut:], "")
		// The copy names the profile by its full path, its relative one being the original's.
		text = strings.ReplaceAll(text, "../profiles/", filepath.Join(filepath.Dir(src), "..", "profiles")+"/")
		path := filepath.Join(t.TempDir(), filepath.Base(src))
		require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
		after := junitCaseNames(t, path)
		require.Len(t, after, len(before)+1)
		others := append(append([]string{}, after[:ins.at]...), after[ins.at+1:]...)
		assert.Equal(t, before, others, "%q inserted before step %d", ins.step, ins.at+1)
	}
}
