package runner_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/engine/inproc"
	"github.com/oemact/oemact/harness/internal/harnesstest"
	"github.com/oemact/oemact/harness/runner"
)

// The default matrix on the in-process engine: every fixture scenario passes, with no VM.
func TestDefaultMatrixInProcess(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(harnesstest.RepoRoot(), "fixtures", "scenarios", "*.yaml"))
	require.NoError(t, err)
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	r, err := runner.Execute(context.Background(), scenarios(t, names...), runner.Options{Engine: inproc.Engine{}, Artifacts: t.TempDir()})
	require.NoError(t, err)
	for _, sc := range r.Scenarios {
		assert.Equal(t, runner.Passed, sc.Outcome, "%s: %s", sc.Name, sc.Error)
		for _, st := range sc.Steps {
			for _, c := range st.Checks {
				assert.True(t, c.OK, "%s step %d: %s: want %s, got %s", sc.Name, st.Index, c.Name, c.Want, c.Got)
			}
			assert.Empty(t, st.Error, "%s step %d", sc.Name, st.Index)
		}
	}
	t.Logf("%d scenarios, %d boots, %d resumed in %s", len(r.Scenarios), r.Boots, r.Resumed, r.Duration)
}
