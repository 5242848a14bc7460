package shard

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/internal/harnesstest"
	"github.com/oemact/oemact/harness/qemu"
	"github.com/oemact/oemact/harness/report"
	"github.com/oemact/oemact/harness/runner"
	"github.com/oemact/oemact/harness/scenario"
)

// stepResult is what a step showed, without its times.
type stepResult struct {
	Name, Kind, Machine string
	Outcome             runner.Outcome
	Checks              []runner.Check
}

type scenarioResult struct {
	Name    string
	Outcome runner.Outcome
	Steps   []stepResult
}

// results are a run's scenario and step results in the run's order, with each step's test name.
func results(r *runner.Run) []scenarioResult {
	var out []scenarioResult
	for _, sc := range r.Scenarios {
		res := scenarioResult{Name: sc.Name, Outcome: sc.Outcome}
		refs := make([]scenario.StepRef, len(sc.Steps))
		for i, st := range sc.Steps {
			refs[i] = scenario.StepRef{ID: st.ID, Kind: st.Kind, Machine: st.Machine}
		}
		names := scenario.StepNames(refs)
		for i, st := range sc.Steps {
			res.Steps = append(res.Steps, stepResult{Name: names[i], Kind: st.Kind, Machine: st.Machine, Outcome: st.Outcome, Checks: st.Checks})
		}
		out = append(out, res)
	}
	return out
}

var junitCase = regexp.MustCompile(`<testcase name="([^"]*)" classname="([^"]*)"`)

// junitCases lists a JUnit report's test cases as "classname / name".
func junitCases(t *testing.T, r *runner.Run) []string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, report.WriteJUnit(&b, r))
	var out []string
	for _, m := range junitCase.FindAllSubmatch(b.Bytes(), -1) {
		out = append(out, string(m[2])+" / "+string(m[1]))
	}
	return out
}

// The default matrix booted in QEMU as one run and as three shards merged: the same scenarios,
// steps and results in the same order, and the same JUnit test names. The durations of the
// unsharded run change the split and still put every scenario in exactly one shard, and a merge
// that lacks a shard's report says so as an error. Set OEMACT_SHARD_REPORTS to a folder to keep
// the reports.
func TestDefaultMatrixShardedAndMerged(t *testing.T) {
	harnesstest.QEMU(t)
	k := harnesstest.Kernel(t)
	agent, err := harnesstest.BuildAgent(t.TempDir())
	require.NoError(t, err)
	keep := os.Getenv("OEMACT_SHARD_REPORTS")
	if keep == "" {
		keep = t.TempDir()
	}
	scs := defaultMatrix(t)
	execute := func(scs []*scenario.Scenario) *runner.Run {
		t.Helper()
		r, err := runner.Execute(context.Background(), scs, runner.Options{Kernel: k, Agent: agent, Artifacts: t.TempDir(), Accel: qemu.TCG})
		require.NoError(t, err)
		return r
	}
	write := func(r *runner.Run, name string) string {
		t.Helper()
		p := filepath.Join(keep, name)
		require.NoError(t, report.Files{JSON: p}.Write(r))
		return p
	}

	whole := execute(scs)
	wholeReport := write(whole, "whole.json")
	t.Logf("unsharded: %s, %d boots, %s", outcomeOf(whole), whole.Boots, whole.Duration)

	var shards []string
	for i := 1; i <= 3; i++ {
		sel, err := Select(scs, Filter{Shard: strconv.Itoa(i) + "/3"})
		require.NoError(t, err)
		r := execute(sel.Scenarios)
		require.NoError(t, sel.Label(r))
		shards = append(shards, write(r, "shard-"+strconv.Itoa(i)+"-of-3.json"))
		t.Logf("shard %d/3: %d scenarios, %s, %s", i, len(r.Scenarios), outcomeOf(r), r.Duration)
	}
	merged := report.Merge(report.ReadShardReports(shards))
	write(merged, "merged-3.json")
	require.Zero(t, merged.ShardErrors(), "%+v", merged.Shards)
	assert.Empty(t, merged.Error)
	assert.Equal(t, results(whole), results(merged), "the same scenarios, steps and results, in the same order")
	assert.Equal(t, junitCases(t, whole), junitCases(t, merged), "the same JUnit test names")
	assert.Equal(t, whole.Boots, merged.Boots)
	assert.Equal(t, whole.Resumed, merged.Resumed)
	assert.Equal(t, whole.ExitCode(), merged.ExitCode())
	if hi, lo, ok := report.ShardBalance(merged); ok {
		t.Logf("3 shards by boot count: balance %.2f (longest %s, shortest %s)", float64(hi)/float64(lo), hi, lo)
	}

	// The unsharded run's durations change the split; every scenario is still in one shard.
	d, err := ReadDurations(wholeReport)
	require.NoError(t, err)
	assert.Equal(t, len(scs), d.Len())
	byBoots, err := Split(Items(scs), 3, nil)
	require.NoError(t, err)
	byTime, err := Split(Items(scs), 3, d)
	require.NoError(t, err)
	assert.NotEqual(t, byBoots.Shard, byTime.Shard, "durations change the split")
	covers(t, byTime, len(scs))
	byTime4, err := Split(Items(scs), 4, d)
	require.NoError(t, err)
	covers(t, byTime4, len(scs))

	// A shard's report missing: an error in the merged report, not fewer tests without a word.
	partial := report.Merge(report.ReadShardReports([]string{shards[0], shards[2]}))
	require.Len(t, partial.Shards, 3)
	assert.Equal(t, "no report for shard 2/3", partial.Shards[1].Error)
	assert.Equal(t, 2, partial.ExitCode())
	assert.Contains(t, junitCases(t, partial), "shard 2/3 / shard 2/3")
}

func outcomeOf(r *runner.Run) string {
	return map[int]string{0: "passed", 1: "failed", 2: "error"}[r.ExitCode()]
}
