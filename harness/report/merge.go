package report

import (
	"fmt"
	"sort"
	"strings"

	"github.com/oemact/oemact/harness/runner"
)

// ShardReport is one input of a merge: a shard's JSON report, or why it could not be read.
type ShardReport struct {
	Path string
	Run  *runner.Run // nil when Err is set
	Err  error
}

// ReadShardReports reads the JSON reports of a split run's shards. A report that cannot be read
// is kept with its error: the merge shows it, it does not drop it.
func ReadShardReports(paths []string) []ShardReport {
	out := make([]ShardReport, len(paths))
	for i, p := range paths {
		r, err := ReadJSONFile(p)
		out[i] = ShardReport{Path: p, Run: r, Err: err}
	}
	return out
}

// Merge makes one run of the reports of a split run's shards (oemact run --shard I/N), with the
// content an unsharded run of the same scenarios reports: every scenario with its steps and
// timelines in the order of the whole selection (Scenario.Position), boots added up, and a
// ShardResult per shard with its own wall time.
//
// The merged run's wall time is the longest shard's (the shards run side by side) and its jobs
// the shards' jobs added up. A shard that is missing (no report for one of 1..N), whose report
// could not be read, that stopped before its scenarios ran, that holds fewer scenarios than it was
// given, or that repeats another shard or scenario is a ShardResult with an Error: the merged
// run's exit code is then 2 and each report shows the error. Scenarios are never silently
// fewer. The split the reports are checked against is the one most shards report (reference).
func Merge(in []ShardReport) *runner.Run {
	m := &runner.Run{Scenarios: []*runner.Scenario{}}
	count, split := reference(in)
	byIndex := map[int]*runner.ShardResult{}
	runs := map[int]*runner.Run{}
	var others []*runner.ShardResult
	for _, s := range in {
		res, run := shardResult(s)
		switch {
		case res.Error != "":
		case res.Count != count:
			res.Error = fmt.Sprintf("this is shard %d/%d; the other reports are of a split into %d", res.Index, res.Count, count)
		case shardOf(run).Split != split:
			res.Error = fmt.Sprintf("shard %d/%d was split differently from the others (split %s, not %s): "+
				"give every shard the same scenarios and the same --durations file", res.Index, res.Count, orNone(shardOf(run).Split), orNone(split))
		case byIndex[res.Index] != nil:
			res.Error = fmt.Sprintf("shard %d/%d again (first in %s)", res.Index, res.Count, byIndex[res.Index].Report)
		default:
			byIndex[res.Index] = res
			runs[res.Index] = run
			continue
		}
		others = append(others, res)
	}
	seen := map[string]string{} // scenario file and name -> the shard that had it
	total := 0
	for i := 1; i <= count; i++ {
		res := byIndex[i]
		if res == nil {
			res = &runner.ShardResult{Index: i, Count: count, Error: fmt.Sprintf("no report for shard %d/%d", i, count)}
			m.Shards = append(m.Shards, res)
			continue
		}
		m.Shards = append(m.Shards, res)
		run := runs[i]
		res.Error = shortfall(res, run)
		if run.Shard != nil {
			total = max(total, run.Shard.Total)
		}
		for _, sc := range run.Scenarios {
			key := sc.File + "\x00" + sc.Name
			if first, dup := seen[key]; dup && res.Error == "" {
				res.Error = fmt.Sprintf("scenario %s (%s) is in %s too: the shards were split from different scenarios", sc.Name, sc.File, first)
			}
			seen[key] = shardName(res)
		}
		m.Scenarios = append(m.Scenarios, run.Scenarios...)
		m.Boots += run.Boots
		m.Resumed += run.Resumed
		m.Jobs += run.Jobs
		m.Duration = max(m.Duration, run.Duration)
		if !run.Started.IsZero() && (m.Started.IsZero() || run.Started.Before(m.Started)) {
			m.Started = run.Started
		}
	}
	m.Shards = append(m.Shards, others...)
	sort.SliceStable(m.Scenarios, func(a, b int) bool { return m.Scenarios[a].Position < m.Scenarios[b].Position })
	m.Accel = accels(m.Shards)
	given := 0
	for _, res := range m.Shards {
		given += res.Given
	}
	if total > given && m.ShardErrors() == 0 {
		// Every shard reported in full, yet together they were given fewer scenarios than the
		// selection held: the shards disagree about the split.
		m.Error = fmt.Sprintf("the shards were given %d scenarios between them, the selection held %d", given, total)
	}
	return m
}

// reference is the split the shards' reports are checked against: the shard count and split ID
// that the most shards (distinct indices) report, the first seen among equals. A stale report,
// left over from an earlier split, is then the one in error, not the good shards beside it,
// whatever the order of the files.
func reference(in []ShardReport) (count int, split string) {
	type key struct {
		count int
		split string
	}
	indices := map[key]map[int]bool{}
	var order []key
	for _, s := range in {
		if s.Run == nil || len(s.Run.Shards) > 0 {
			continue
		}
		sh := shardOf(s.Run)
		k := key{sh.Count, sh.Split}
		if indices[k] == nil {
			indices[k] = map[int]bool{}
			order = append(order, k)
		}
		indices[k][sh.Index] = true
	}
	best := key{}
	for _, k := range order {
		if len(indices[k]) > len(indices[best]) {
			best = k
		}
	}
	return best.count, best.split
}

// shardOf is a report's shard: a run without one is the whole of a split into one.
func shardOf(r *runner.Run) runner.Shard {
	if r.Shard != nil {
		return *r.Shard
	}
	return runner.Shard{Index: 1, Count: 1, Scenarios: len(r.Scenarios), Total: len(r.Scenarios)}
}

// shardResult describes one input; its Error is set when the input is not a shard's report.
func shardResult(s ShardReport) (*runner.ShardResult, *runner.Run) {
	res := &runner.ShardResult{Report: s.Path}
	if s.Err != nil {
		res.Error = "unreadable report: " + s.Err.Error()
		return res, nil
	}
	r := s.Run
	sh := shardOf(r)
	res.Index, res.Count, res.Given, res.Reported = sh.Index, sh.Count, sh.Scenarios, len(r.Scenarios)
	res.Started, res.Duration, res.Jobs, res.Boots, res.Resumed, res.Accel = r.Started, r.Duration, r.Jobs, r.Boots, r.Resumed, r.Accel
	if len(r.Shards) > 0 {
		res.Error = "a merged report, not a shard's"
	}
	return res, r
}

// shortfall is why a shard's report, in its place, does not hold all the shard was given.
func shortfall(res *runner.ShardResult, r *runner.Run) string {
	switch {
	case r.Error != "":
		return "the shard stopped before its scenarios ran: " + r.Error
	case res.Reported < res.Given:
		return fmt.Sprintf("the shard was given %d scenarios; its report holds %d", res.Given, res.Reported)
	}
	return ""
}

// accels is the accelerators the shards used, each once, in shard order.
func accels(shards []*runner.ShardResult) string {
	var out []string
	seen := map[string]bool{}
	for _, s := range shards {
		if s.Accel != "" && !seen[s.Accel] {
			seen[s.Accel] = true
			out = append(out, s.Accel)
		}
	}
	return strings.Join(out, "; ")
}

// shardName is "shard 2/3", or the report's file when its place is unknown.
func shardName(s *runner.ShardResult) string {
	if s.Index > 0 {
		return fmt.Sprintf("shard %d/%d", s.Index, s.Count)
	}
	return "shard report " + s.Report
}

func shardErrorBody(s *runner.ShardResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", shardName(s), s.Error)
	if s.Report != "" {
		fmt.Fprintf(&b, "  report: %s\n", s.Report)
	}
	if s.Given > 0 || s.Reported > 0 {
		fmt.Fprintf(&b, "  scenarios given %d, reported %d\n", s.Given, s.Reported)
	}
	return b.String()
}

func runErrorBody(r *runner.Run) string {
	var b strings.Builder
	fmt.Fprintf(&b, "the run stopped before it booted a machine: %s\n", r.Error)
	if s := r.Shard; s != nil {
		fmt.Fprintf(&b, "  shard %d/%d, given %d of %d scenarios\n", s.Index, s.Count, s.Scenarios, s.Total)
	}
	return b.String()
}
