package report

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/runner"
)

// splitFixture cuts the fixture run into shard runs as `oemact run --shard I/N` would report
// them: each shard holds the scenarios at the given positions of the whole run, its own boots and
// wall time, and says which shard it is and how many scenarios it was given.
func splitFixture(t *testing.T, parts [][]int) (*runner.Run, []*runner.Run) {
	t.Helper()
	whole := fixtureRun()
	for i, sc := range whole.Scenarios {
		sc.Position = i
	}
	var shards []*runner.Run
	for i, part := range parts {
		// Each shard is a copy: merging must not depend on sharing pointers with the whole run.
		copyOf := fixtureRun()
		r := &runner.Run{Started: whole.Started.Add(time.Duration(i) * time.Second), Accel: whole.Accel, Jobs: 1,
			Shard: &runner.Shard{Index: i + 1, Count: len(parts), Scenarios: len(part), Total: len(whole.Scenarios)}, Scenarios: []*runner.Scenario{}}
		for _, p := range part {
			sc := copyOf.Scenarios[p]
			sc.Position = p
			r.Scenarios = append(r.Scenarios, sc)
			r.Duration += sc.Duration
			c := countSteps(sc)
			r.Boots += c.boots
		}
		shards = append(shards, r)
	}
	return whole, shards
}

func inputs(runs ...*runner.Run) []ShardReport {
	var out []ShardReport
	for i, r := range runs {
		out = append(out, ShardReport{Path: "shard-" + itoa(i+1) + "/report.json", Run: r})
	}
	return out
}

func junitNames(t *testing.T, r *runner.Run) []string {
	t.Helper()
	var names []string
	for _, s := range parseJUnit(t, render(t, junitOut, r)).Suites {
		for _, c := range s.Cases {
			names = append(names, s.Name+" / "+c.Name)
		}
	}
	return names
}

// Three shards, given in any order, merge into the scenarios, steps, timelines and totals of the
// whole run, with the same JUnit test names; each shard keeps its own wall time.
func TestMergeIsTheWholeRun(t *testing.T) {
	whole, shards := splitFixture(t, [][]int{{0, 3}, {1, 4}, {2}})
	m := Merge(inputs(shards[2], shards[0], shards[1]))

	assert.Empty(t, cmp.Diff(whole.Scenarios, m.Scenarios), "scenarios, steps and timelines")
	assert.Equal(t, whole.Boots, m.Boots)
	assert.Equal(t, 3, m.Jobs)
	assert.Equal(t, whole.Started, m.Started)
	assert.Equal(t, whole.Accel, m.Accel)
	assert.Equal(t, whole.ExitCode(), m.ExitCode())
	assert.Empty(t, m.Error)
	assert.Equal(t, junitNames(t, whole), junitNames(t, m))

	require.Len(t, m.Shards, 3)
	for i, s := range m.Shards {
		assert.Equal(t, i+1, s.Index)
		assert.Equal(t, 3, s.Count)
		assert.Empty(t, s.Error)
		assert.Equal(t, shards[i].Duration, s.Duration, "shard %d keeps its own wall time", i+1)
		assert.Equal(t, len(shards[i].Scenarios), s.Given)
		assert.Equal(t, s.Given, s.Reported)
	}
	// The shards ran side by side: the merged wall time is the longest shard's.
	assert.Equal(t, max(shards[0].Duration, shards[1].Duration, shards[2].Duration), m.Duration)

	out := string(render(t, summary, m))
	assert.Contains(t, out, "scenarios    5: 3 passed, 1 failed, 1 error\n")
	assert.Regexp(t, `(?m)^shard 1/3 +2 +2 +\d+ +\S+$`, out)
	hi, lo, ok := ShardBalance(m)
	require.True(t, ok)
	assert.Contains(t, out, fmt.Sprintf("shard balance  %.2f (longest %s, shortest %s)\n", float64(hi)/float64(lo), duration(hi), duration(lo)))
	html := string(render(t, htmlOut, m))
	assert.Contains(t, html, "<h2>Shards</h2>")
	assert.Equal(t, 3, strings.Count(html, "✓ reported"))
}

// A shard with no report is an error in every report, never fewer tests without a word.
func TestMergeMissingShard(t *testing.T) {
	_, shards := splitFixture(t, [][]int{{0, 3}, {1, 4}, {2}})
	m := Merge(inputs(shards[0], shards[2]))
	require.Len(t, m.Shards, 3)
	assert.Equal(t, "no report for shard 2/3", m.Shards[1].Error)
	assert.Equal(t, 2, m.ExitCode())
	assert.Equal(t, 1, m.ShardErrors())
	assert.Len(t, m.Scenarios, 3)

	doc := parseJUnit(t, render(t, junitOut, m))
	last := doc.Suites[len(doc.Suites)-1]
	assert.Equal(t, "shard 2/3", last.Name)
	require.Len(t, last.Cases, 1)
	require.NotNil(t, last.Cases[0].Error)
	assert.Equal(t, "no report for shard 2/3", last.Cases[0].Error.Message)
	assert.Equal(t, "infrastructure", last.Cases[0].Error.Type)

	out := string(render(t, summary, m))
	assert.Contains(t, out, "  shard 2/3: no report for shard 2/3\n")
	assert.Contains(t, out, "exit code    2 (")
	assert.NotContains(t, out, "shard balance", "no balance with a shard missing")
	html := string(render(t, htmlOut, m))
	assert.Contains(t, html, "<b>⚠ error:</b> no report for shard 2/3")
	assert.Contains(t, html, "<title>oemact run: error</title>")
}

// Each way a shard's report can fall short is an error naming the shard or the file.
func TestMergeShardProblems(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    func(shards []*runner.Run) []ShardReport
		want  map[int]string // index in Shards -> error
		count int            // scenarios merged
	}{{
		name: "unreadable report",
		in: func(s []*runner.Run) []ShardReport {
			return append(inputs(s[0], s[1], s[2]), ShardReport{Path: "x/report.json", Err: errors.New("x/report.json: offset 4: not JSON")})
		},
		want:  map[int]string{3: "unreadable report: x/report.json: offset 4: not JSON"},
		count: 5,
	}, {
		name: "fewer scenarios than given",
		in: func(s []*runner.Run) []ShardReport {
			s[1].Scenarios = s[1].Scenarios[:1]
			return inputs(s...)
		},
		want:  map[int]string{1: "the shard was given 2 scenarios; its report holds 1"},
		count: 4,
	}, {
		name: "stopped before its scenarios ran",
		in: func(s []*runner.Run) []ShardReport {
			s[2].Scenarios, s[2].Error = []*runner.Scenario{}, "no guest kernel: run oemact kernel fetch"
			return inputs(s...)
		},
		want:  map[int]string{2: "the shard stopped before its scenarios ran: no guest kernel: run oemact kernel fetch"},
		count: 4,
	}, {
		name: "the same shard twice",
		in: func(s []*runner.Run) []ShardReport {
			return append(inputs(s...), ShardReport{Path: "again.json", Run: s[0]})
		},
		want:  map[int]string{3: "shard 1/3 again (first in shard-1/report.json)"},
		count: 5,
	}, {
		name: "a shard of another split",
		in: func(s []*runner.Run) []ShardReport {
			other := *s[2]
			other.Shard = &runner.Shard{Index: 2, Count: 4, Scenarios: 1, Total: 5}
			return append(inputs(s...), ShardReport{Path: "other.json", Run: &other})
		},
		want:  map[int]string{3: "this is shard 2/4; the other reports are of a split into 3"},
		count: 5,
	}, {
		name: "a shard split differently",
		in: func(s []*runner.Run) []ShardReport {
			for _, r := range s {
				r.Shard.Split = "a1"
			}
			s[1].Shard.Split = "b2"
			return inputs(s...)
		},
		want: map[int]string{1: "no report for shard 2/3",
			3: "shard 2/3 was split differently from the others (split b2, not a1): give every shard the same scenarios and the same --durations file"},
		count: 3,
	}, {
		name: "a stale shard of another split first",
		in: func(s []*runner.Run) []ShardReport {
			stale := *s[2]
			stale.Shard = &runner.Shard{Index: 1, Count: 2, Scenarios: 1, Total: 5}
			return append([]ShardReport{{Path: "stale.json", Run: &stale}}, inputs(s...)...)
		},
		want:  map[int]string{3: "this is shard 1/2; the other reports are of a split into 3"},
		count: 5,
	}, {
		name: "a stale shard split differently first",
		in: func(s []*runner.Run) []ShardReport {
			for _, r := range s {
				r.Shard.Split = "new"
			}
			stale := *s[0]
			stale.Shard = &runner.Shard{Index: 1, Count: 3, Scenarios: 2, Total: 5, Split: "old"}
			return append([]ShardReport{{Path: "stale.json", Run: &stale}}, inputs(s...)...)
		},
		want: map[int]string{3: "shard 1/3 was split differently from the others (split old, not new): " +
			"give every shard the same scenarios and the same --durations file"},
		count: 5,
	}, {
		name: "a merged report as input",
		in: func(s []*runner.Run) []ShardReport {
			return append(inputs(s...), ShardReport{Path: "merged.json", Run: Merge(inputs(s...))})
		},
		want:  map[int]string{3: "a merged report, not a shard's"},
		count: 5,
	}, {
		name: "a scenario in two shards",
		in: func(s []*runner.Run) []ShardReport {
			s[2].Scenarios = append(s[2].Scenarios, s[0].Scenarios[0])
			s[2].Shard.Scenarios++
			return inputs(s...)
		},
		want:  map[int]string{2: "scenario oem21-valid (fixtures/scenarios/oem21-valid.yaml) is in shard 1/3 too: the shards were split from different scenarios"},
		count: 6,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			_, shards := splitFixture(t, [][]int{{0, 3}, {1, 4}, {2}})
			m := Merge(tc.in(shards))
			got := map[int]string{}
			for i, s := range m.Shards {
				if s.Error != "" {
					got[i] = s.Error
				}
			}
			assert.Equal(t, tc.want, got)
			assert.Len(t, m.Scenarios, tc.count)
			assert.Equal(t, 2, m.ExitCode())
			doc := parseJUnit(t, render(t, junitOut, m))
			errs := 0
			for _, s := range doc.Suites {
				if strings.HasPrefix(s.Name, "shard ") {
					errs++
				}
			}
			assert.Equal(t, len(tc.want), errs, "a JUnit error suite per shard problem")
			assert.Equal(t, len(tc.want), m.ShardErrors())
		})
	}
}

// Shards that together were given fewer scenarios than the selection held disagree about the split.
func TestMergeSelectionMismatch(t *testing.T) {
	_, shards := splitFixture(t, [][]int{{0, 3}, {1, 4}})
	m := Merge(inputs(shards...))
	assert.Equal(t, "the shards were given 4 scenarios between them, the selection held 5", m.Error)
	assert.Equal(t, 2, m.ExitCode())
}

// No readable report at all is still a merged run that says so.
func TestMergeNothingReadable(t *testing.T) {
	m := Merge([]ShardReport{{Path: "a.json", Err: errors.New("a.json: no such file")}})
	require.Len(t, m.Shards, 1)
	assert.Equal(t, "unreadable report: a.json: no such file", m.Shards[0].Error)
	assert.Equal(t, 2, m.ExitCode())
	assert.Empty(t, m.Scenarios)
	doc := parseJUnit(t, render(t, junitOut, m))
	require.Len(t, doc.Suites, 1)
	assert.Equal(t, "shard report a.json", doc.Suites[0].Name)
}

// The shards' JSON reports, written and read back from files, merge like the runs themselves.
func TestMergeFromFiles(t *testing.T) {
	whole, shards := splitFixture(t, [][]int{{4, 0}, {2, 1, 3}})
	dir := t.TempDir()
	var paths []string
	for i, s := range shards {
		p := filepath.Join(dir, "shard-"+itoa(i+1), "report.json")
		require.NoError(t, Files{JSON: p}.Write(s))
		paths = append(paths, p)
	}
	paths = append(paths, filepath.Join(dir, "missing.json"))
	m := Merge(ReadShardReports(paths))
	assert.Empty(t, cmp.Diff(whole.Scenarios, m.Scenarios))
	require.Len(t, m.Shards, 3)
	assert.Equal(t, paths[0], m.Shards[0].Report)
	assert.Contains(t, m.Shards[2].Error, "missing.json")
	assert.True(t, errors.Is(ReadShardReports(paths[2:])[0].Err, os.ErrNotExist))
}

// A run that stopped before any boot still gives every report, and the JUnit report a test case
// with the reason.
func TestRunErrorReports(t *testing.T) {
	r := &runner.Run{Started: runStart, Scenarios: []*runner.Scenario{}, Error: "no guest kernel in /cache: run oemact kernel fetch",
		Shard: &runner.Shard{Index: 2, Count: 3, Scenarios: 5, Total: 15}}
	assert.Equal(t, 2, r.ExitCode())
	doc := parseJUnit(t, render(t, junitOut, r))
	require.Len(t, doc.Suites, 1)
	c := doc.Suites[0].Cases[0]
	assert.Equal(t, "run setup", c.Name)
	require.NotNil(t, c.Error)
	assert.Equal(t, r.Error, c.Error.Message)
	assert.Contains(t, c.Error.Body, "shard 2/3, given 5 of 15 scenarios")
	assert.Contains(t, string(render(t, summary, r)), "  the run stopped before it booted a machine\n    error: no guest kernel")
	assert.Contains(t, string(render(t, htmlOut, r)), "(the run stopped before it booted a machine): no guest kernel")

	var b bytes.Buffer
	require.NoError(t, WriteJSON(&b, r))
	back, err := ReadJSON(&b, "run.json")
	require.NoError(t, err)
	assert.Equal(t, r.Error, back.Error)
	assert.Equal(t, r.Shard, back.Shard)
}
