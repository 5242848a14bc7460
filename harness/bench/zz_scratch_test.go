package bench

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemact/oemact/harness/internal/harnesstest"
	"github.com/oemact/oemact/harness/qemu"
	"github.com/oemact/oemact/harness/runner"
	"github.com/oemact/oemact/harness/scenario"
)

func TestZZScenario(t *testing.T) {
	k := harnesstest.Kernel(t)
	repo := harnesstest.RepoRoot()
	var scs []*scenario.Scenario
	for _, n := range strings.Split(os.Getenv("SCN"), ",") {
		sc, err := scenario.Load(filepath.Join(repo, "fixtures", "scenarios", n))
		if err != nil {
			t.Fatal(err)
		}
		scs = append(scs, sc)
	}
	r, err := runner.Execute(context.Background(), scs, runner.Options{Kernel: k, Agent: os.Getenv("AGENT"), Artifacts: os.Getenv("ART"), KeepArtifacts: true, Accel: qemu.TCG, Timeout: 40e9})
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range r.Scenarios {
		t.Logf("%s: %s %s", sc.Name, sc.Outcome, sc.Error)
		for _, st := range sc.Steps {
			t.Logf("  step %d %s %s %v", st.Index, st.Outcome, firstLine(st.Error), st.Duration)
		}
	}
}
