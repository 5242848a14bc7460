// Package shard splits the scenarios of a run into N shards for a CI job matrix (oemact run
// --shard I/N): every scenario in exactly one shard, the same split on every machine that is
// given the same scenarios and the same durations, balanced by the wall times of an earlier run
// or, without them, by boot count.
//
// It chooses which scenarios a shard runs; running them is package runner's job and merging the
// shards' reports package report's.
package shard

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/oemact/oemact/harness/runner"
	"github.com/oemact/oemact/harness/scenario"
)

// Spec is the shard a job runs: Index of Count, from 1.
type Spec struct{ Index, Count int }

func (s Spec) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// ParseSpec reads I/N ("2/3"): 1 <= I <= N <= runner.MaxShards.
func ParseSpec(s string) (Spec, error) {
	i, n, ok := strings.Cut(s, "/")
	index, err1 := strconv.Atoi(i)
	count, err2 := strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil || count < 1 || count > runner.MaxShards || index < 1 || index > count {
		return Spec{}, fmt.Errorf("--shard %q: want I/N with 1 <= I <= N <= %d, such as 2/3", s, runner.MaxShards)
	}
	return Spec{Index: index, Count: count}, nil
}

// Item is one scenario as the split sees it.
type Item struct {
	Name  string
	File  string
	Boots int // machines booted by its steps: the weight when no duration is known
}

// Items describes the scenarios of a run, in the run's order.
func Items(scs []*scenario.Scenario) []Item {
	out := make([]Item, len(scs))
	for i, sc := range scs {
		out[i] = Item{Name: sc.Name, File: sc.Path}
		for _, st := range sc.Steps {
			out[i].Boots += len(st.Booted()) // a proxy activation boots its batch's machines
		}
	}
	return out
}

// key identifies a scenario across machines: its name and its file with forward slashes, as
// given on the command line (the same checkout gives the same relative paths).
func (it Item) key() string { return it.Name + "\x00" + filepath.ToSlash(it.File) }

// Plan is a split of a run's scenarios into shards.
type Plan struct {
	Count int
	// Shard holds, for each scenario in the run's order, its shard (from 1).
	Shard []int
	// Weight is what the split balanced, per scenario: nanoseconds of an earlier run (estimated
	// for a scenario that run did not have), or boots.
	Weight []int64
	// ByDuration says the weights are durations, not boot counts.
	ByDuration bool
	// ID names the split: the same scenarios, weights and shard count give the same ID, so
	// shards split differently (one job had the durations, another had not) can be told apart.
	ID string
}

// Split assigns every scenario to one of count shards: heaviest first, each onto the shard with
// the least weight so far (the lowest-numbered among equals), ties between scenarios broken by
// name, then file, then place in the run, so the split depends only on the scenarios, the
// durations (nil: by boot count) and count. A scenario with no boot weighs as one.
func Split(items []Item, count int, d *Durations) (*Plan, error) {
	if count < 1 || count > runner.MaxShards {
		return nil, fmt.Errorf("shard: %d shards: want 1 to %d", count, runner.MaxShards)
	}
	p := &Plan{Count: count, Shard: make([]int, len(items)), Weight: make([]int64, len(items)), ByDuration: d != nil}
	for i, it := range items {
		if d != nil {
			p.Weight[i] = int64(d.estimate(it))
		} else {
			p.Weight[i] = int64(max(it.Boots, 1))
		}
	}
	order := make([]int, len(items))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		x, y := order[a], order[b]
		if p.Weight[x] != p.Weight[y] {
			return p.Weight[x] > p.Weight[y]
		}
		return items[x].key() < items[y].key()
	})
	load := make([]int64, count)
	for _, i := range order {
		least := 0
		for s := 1; s < count; s++ {
			if load[s] < load[least] {
				least = s
			}
		}
		p.Shard[i] = least + 1
		load[least] += p.Weight[i]
	}
	h := sha256.New()
	fmt.Fprintf(h, "oemact shard split 1\n%d\n", count)
	for i, it := range items {
		fmt.Fprintf(h, "%q %d %d\n", it.key(), p.Weight[i], p.Shard[i])
	}
	p.ID = hex.EncodeToString(h.Sum(nil))[:16]
	return p, nil
}

// Positions are the places, in the run's order, of the scenarios shard index (from 1) runs.
func (p *Plan) Positions(index int) []int {
	var out []int
	for i, s := range p.Shard {
		if s == index {
			out = append(out, i)
		}
	}
	return out
}

// Load is the weight each shard was given, from shard 1.
func (p *Plan) Load() []int64 {
	out := make([]int64, p.Count)
	for i, s := range p.Shard {
		out[s-1] += p.Weight[i]
	}
	return out
}

// Label marks the result of running shard index: which shard it is, how many scenarios it was
// given out of how many, the split's ID, and each scenario's place in the whole run (the order
// a merged report lists them in). run.Scenarios are the shard's, in the order Positions gave.
func (p *Plan) Label(run *runner.Run, index int) error {
	pos := p.Positions(index)
	if len(run.Scenarios) > len(pos) {
		return fmt.Errorf("shard %d/%d: %d scenarios in the result, %d given", index, p.Count, len(run.Scenarios), len(pos))
	}
	run.Shard = &runner.Shard{Index: index, Count: p.Count, Scenarios: len(pos), Total: len(p.Shard), Split: p.ID}
	for i, sc := range run.Scenarios {
		sc.Position = pos[i]
	}
	return nil
}

// Durations are the wall times of the scenarios of an earlier run, read from its JSON report.
type Durations struct {
	byKey  map[string]time.Duration
	byName map[string][]time.Duration
	// perBoot is the mean time per boot over the report's scenarios (a proxy activation's batch
	// counted as Items counts it), for scenarios it does not have.
	perBoot time.Duration
}

// estimate is the duration of a scenario: the report's for it (by name and file, else by name
// when the report has one scenario of that name), else its boots at the report's mean per boot.
func (d *Durations) estimate(it Item) time.Duration {
	if t, ok := d.byKey[it.key()]; ok {
		return t
	}
	if ts := d.byName[it.Name]; len(ts) == 1 {
		return ts[0]
	}
	return time.Duration(max(it.Boots, 1)) * d.perBoot
}

// Len is the number of scenarios with a duration.
func (d *Durations) Len() int { return len(d.byKey) }

// Selection is the part of a run one job runs: every scenario, or one shard of them.
type Selection struct {
	Plan  *Plan // nil when the run is not split
	Index int   // the shard, from 1 (0 when not split)
	// Scenarios are the selected ones, in the run's order.
	Scenarios []*scenario.Scenario
	// Of is how many scenarios the run was given before the shard was taken (after Filter.Run).
	Of int
}

// Filter is how a job chooses the scenarios it runs: those whose name matches Run, then shard
// Shard of them.
type Filter struct {
	Run       string // a regular expression a scenario's name must match, anywhere ("" for all)
	Shard     string // "I/N" ("" for all)
	Durations string // a JSON report to balance the shards by ("" to balance boot counts)
}

// Select picks the scenarios a job runs (see Filter), in the run's order.
func Select(scs []*scenario.Scenario, f Filter) (*Selection, error) {
	if f.Run != "" {
		re, err := regexp.Compile(f.Run)
		if err != nil {
			return nil, fmt.Errorf("--run %q: %w", f.Run, err)
		}
		var kept []*scenario.Scenario
		for _, sc := range scs {
			if re.MatchString(sc.Name) {
				kept = append(kept, sc)
			}
		}
		if len(kept) == 0 {
			return nil, fmt.Errorf("--run %q matches none of the %d scenarios' names", f.Run, len(scs))
		}
		scs = kept
	}
	if f.Shard == "" {
		if f.Durations != "" {
			return nil, fmt.Errorf("--durations balances shards: give --shard I/N with it")
		}
		return &Selection{Scenarios: scs, Of: len(scs)}, nil
	}
	spec, err := ParseSpec(f.Shard)
	if err != nil {
		return nil, err
	}
	var d *Durations
	if f.Durations != "" {
		if d, err = ReadDurations(f.Durations); err != nil {
			return nil, fmt.Errorf("--durations: %w", err)
		}
	}
	p, err := Split(Items(scs), spec.Count, d)
	if err != nil {
		return nil, err
	}
	sel := &Selection{Plan: p, Index: spec.Index, Scenarios: []*scenario.Scenario{}, Of: len(scs)}
	for _, i := range p.Positions(spec.Index) {
		sel.Scenarios = append(sel.Scenarios, scs[i])
	}
	return sel, nil
}

// Label marks a run of the selection: each scenario's place in the whole run and, for a shard,
// which shard it is (Plan.Label).
func (s *Selection) Label(run *runner.Run) error {
	if s.Plan != nil {
		return s.Plan.Label(run, s.Index)
	}
	for i, sc := range run.Scenarios {
		sc.Position = i
	}
	return nil
}

// WriteList prints what a run of the selection would execute (oemact run --list): a line on the
// selection, then each scenario with its file and its steps' test names, as reports name them.
func (s *Selection) WriteList(w io.Writer) error {
	var b strings.Builder
	if s.Plan == nil {
		fmt.Fprintf(&b, "# %d scenarios\n", len(s.Scenarios))
	} else {
		by := "boot count"
		if s.Plan.ByDuration {
			by = "durations"
		}
		load := s.Plan.Load()[s.Index-1]
		total := int64(0)
		for _, l := range s.Plan.Load() {
			total += l
		}
		weight := fmt.Sprintf("%d of %d boot steps", load, total)
		if s.Plan.ByDuration {
			weight = fmt.Sprintf("%s of %s", time.Duration(load).Round(100*time.Millisecond), time.Duration(total).Round(100*time.Millisecond))
		}
		fmt.Fprintf(&b, "# shard %d/%d: %d of %d scenarios, balanced by %s (%s), split %s\n",
			s.Index, s.Plan.Count, len(s.Scenarios), s.Of, by, weight, s.Plan.ID)
	}
	for _, sc := range s.Scenarios {
		fmt.Fprintf(&b, "%s  %s\n", sc.Name, sc.Path)
		if sc.LoadError != nil {
			fmt.Fprintf(&b, "  (does not load: %v)\n", sc.LoadError)
		}
		for _, n := range sc.StepNames() {
			fmt.Fprintf(&b, "  %s\n", n)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
