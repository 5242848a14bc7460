package runner_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/oemact/oemact/harness/internal/harnesstest"
	"github.com/oemact/oemact/harness/qemu"
	"github.com/oemact/oemact/harness/runner"
	"github.com/oemact/oemact/harness/scenario"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	binDir    string
	buildOnce sync.Once
	bin       string
	binErr    error
)

func TestMain(m *testing.M) {
	var err error
	if binDir, err = os.MkdirTemp("", "oemact-runner-test-"); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(binDir)
	os.Exit(code)
}

func agent(t testing.TB) string {
	buildOnce.Do(func() { bin, binErr = harnesstest.BuildOemact(binDir) })
	require.NoError(t, binErr)
	return bin
}

func scenarios(t *testing.T, names ...string) []*scenario.Scenario {
	var out []*scenario.Scenario
	for _, n := range names {
		sc, err := scenario.Load(filepath.Join(harnesstest.RepoRoot(), "fixtures", "scenarios", n))
		require.NoError(t, err)
		out = append(out, sc)
	}
	return out
}

func options(t *testing.T) runner.Options {
	harnesstest.QEMU(t)
	return runner.Options{Kernel: harnesstest.Kernel(t), Agent: agent(t), Artifacts: t.TempDir(), Accel: qemu.TCG, KeepArtifacts: true}
}

func dump(t *testing.T, r *runner.Run) {
	b, _ := json.MarshalIndent(r, "", "  ")
	t.Logf("%s", b)
}

func TestRunOneScenario(t *testing.T) {
	o := options(t)
	var names []string
	if v := os.Getenv("SCENARIO"); v == "all" {
		files, _ := filepath.Glob(filepath.Join(harnesstest.RepoRoot(), "fixtures", "scenarios", "*.yaml"))
		for _, f := range files {
			names = append(names, filepath.Base(f))
		}
	} else {
		names = strings.Split(v, ",")
	}
	r, err := runner.Execute(context.Background(), scenarios(t, names...), o)
	require.NoError(t, err)
	for _, sc := range r.Scenarios {
		t.Logf("%s: %s %s", sc.Name, sc.Outcome, sc.Duration)
		for _, st := range sc.Steps {
			t.Logf("   %d %s: %s %s %v", st.Index, st.Description, st.Outcome, st.Error, st.Checks)
			if st.Outcome != runner.Passed && st.Snapshot != nil {
				for _, e := range st.Events {
					t.Logf("      event %s %s %s", e.Time, e.Kind, e.Message)
				}
				t.Logf("      notes %v oa %s", st.Notes, st.OA)
			}
		}
	}
	assert.Equal(t, 0, r.ExitCode())
}
