package runner_test

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/engine/inproc"
	"github.com/oemact/oemact/harness/internal/harnesstest"
	"github.com/oemact/oemact/harness/runner"
	"github.com/oemact/oemact/harness/scenario"
)

// The default matrix on the in-process engine: every fixture scenario passes, with no VM.
func TestDefaultMatrixInProcess(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(harnesstest.RepoRoot(), "fixtures", "scenarios", "*.yaml"))
	require.NoError(t, err)
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	r, err := runner.Execute(context.Background(), withoutImages(scenarios(t, names...)), runner.Options{Engine: inproc.Engine{}, Artifacts: t.TempDir()})
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
	exempt := map[string]string{}
	for k, v := range notYetCovered {
		exempt[k] = v
	}
	for _, k := range imageOnly {
		exempt[k] = "only a probe of an OS image takes it: the image scenarios cover it (TestImageScenarios)"
	}
	covered(t, scenarios(t, names...), exempt)
}

// withoutImages leaves out the scenarios that boot an OS image (scenario.BootsImage): the
// in-process engine runs no firmware and no OS, and refuses them.
func withoutImages(scs []*scenario.Scenario) []*scenario.Scenario {
	var out []*scenario.Scenario
	for _, sc := range scs {
		if !sc.BootsImage() {
			out = append(out, sc)
		}
	}
	return out
}

// imageOnly are the step kind and the expectations only a machine that boots an OS image takes
// (the probe step's; TestProbeErrors shows other steps refuse them). The default matrix cannot
// have them: the image scenarios (fixtures/images/scenarios) do, and TestImageScenarios checks
// that they cover them.
var imageOnly = []string{"probe", "Identity", "LicenseStatus", "Channel", "PartialKey", "RemainingGrace", "ExecOutput"}

// notYetCovered are the expectations no fixture scenario uses, with the reason. Every other
// expectation and every step kind must appear in fixtures/scenarios, so that the matrix (in
// process here, in QEMU in CI) exercises each.
var notYetCovered = map[string]string{
	"SameTables": "every boot already checks the synthesized tables; same_tables: true only restates it",
}

// covered fails unless the scenarios use every step kind and every expectation field, but for
// those exempt (by kind or field name, with the reason).
func covered(t *testing.T, scs []*scenario.Scenario, exempt map[string]string) {
	t.Helper()
	kinds := map[scenario.Kind]bool{}
	fields := map[string]bool{}
	for _, sc := range scs {
		for _, st := range sc.Steps {
			kinds[st.Kind] = true
			if st.Expect == nil {
				continue
			}
			v := reflect.ValueOf(*st.Expect)
			for i := 0; i < v.NumField(); i++ {
				if !v.Field(i).IsZero() {
					fields[v.Type().Field(i).Name] = true
				}
			}
			if h := st.Expect.Hardware; h != nil {
				hv := reflect.ValueOf(*h)
				for i := 0; i < hv.NumField(); i++ {
					if !hv.Field(i).IsZero() {
						fields["Hardware."+hv.Type().Field(i).Name] = true
					}
				}
			}
		}
	}
	for _, k := range scenario.Kinds() {
		if _, ok := exempt[string(k.Kind)]; !ok {
			assert.True(t, kinds[k.Kind], "no fixture scenario has a %s step", k.Kind)
		}
	}
	check := func(name string) {
		if _, ok := exempt[name]; !ok {
			assert.True(t, fields[name], "no fixture scenario expects %s", name)
		}
	}
	et := reflect.TypeOf(scenario.Expect{})
	for i := 0; i < et.NumField(); i++ {
		check(et.Field(i).Name)
	}
	ht := reflect.TypeOf(scenario.HardwareExpect{})
	for i := 0; i < ht.NumField(); i++ {
		check("Hardware." + ht.Field(i).Name)
	}
}
