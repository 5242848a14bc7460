package shard

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/report"
	"github.com/oemact/oemact/harness/runner"
	"github.com/oemact/oemact/harness/scenario"
)

func TestParseSpec(t *testing.T) {
	s, err := ParseSpec("2/3")
	require.NoError(t, err)
	assert.Equal(t, Spec{2, 3}, s)
	assert.Equal(t, "2/3", s.String())
	for _, bad := range []string{"", "3", "0/3", "4/3", "1/0", "a/b", "1/3/4", "-1/3", "1/1001", " 1/3"} {
		_, err := ParseSpec(bad)
		assert.ErrorContains(t, err, "want I/N with 1 <= I <= N <= 1000", bad)
	}
}

// defaultMatrix loads the scenarios of the default matrix, in the order a run takes them.
func defaultMatrix(t *testing.T) []*scenario.Scenario {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "fixtures", "scenarios", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var scs []*scenario.Scenario
	for _, f := range files {
		sc, err := scenario.Load(f)
		require.NoError(t, err)
		scs = append(scs, sc)
	}
	return scs
}

func TestItems(t *testing.T) {
	items := Items(defaultMatrix(t))
	byName := map[string]Item{}
	for _, it := range items {
		byName[it.Name] = it
	}
	assert.Equal(t, 8, byName["tpm-binding"].Boots, "8 sequential TPM boots")
	assert.Equal(t, 2, byName["oem-21-valid"].Boots)
	assert.Equal(t, filepath.Join("..", "..", "fixtures", "scenarios", "01-oem-21-valid.yaml"), byName["oem-21-valid"].File)
}

// covers checks that every scenario is in exactly one shard.
func covers(t *testing.T, p *Plan, n int) {
	t.Helper()
	var all []int
	for i := 1; i <= p.Count; i++ {
		all = append(all, p.Positions(i)...)
	}
	sort.Ints(all)
	want := make([]int, n)
	for i := range want {
		want[i] = i
	}
	assert.Equal(t, want, all, "every scenario in exactly one shard")
}

func TestSplitByBoots(t *testing.T) {
	items := Items(defaultMatrix(t))
	for n := 1; n <= 20; n++ {
		p, err := Split(items, n, nil)
		require.NoError(t, err)
		covers(t, p, len(items))
		assert.False(t, p.ByDuration)
		load := p.Load()
		// Longest first onto the least loaded: no shard is behind another by more than one
		// scenario's weight unless that shard holds a single scenario.
		hi, lo := slicesMax(load), slicesMin(load)
		if n < len(items) {
			assert.LessOrEqual(t, hi-lo, int64(8), "n=%d loads %v", n, load)
		}
	}
	p, err := Split(items, 3, nil)
	require.NoError(t, err)
	// Every boot step of the matrix is in one shard's load.
	total := int64(0)
	for _, it := range items {
		total += int64(max(it.Boots, 1))
	}
	load := p.Load()
	assert.Equal(t, total, load[0]+load[1]+load[2])
}

// The split depends only on the scenarios, the durations and the count: the same inputs in
// another order put every scenario in the same shard, and the split's ID is the same.
func TestSplitDeterministic(t *testing.T) {
	items := Items(defaultMatrix(t))
	p1, err := Split(items, 4, nil)
	require.NoError(t, err)
	rng := rand.New(rand.NewSource(1))
	for round := 0; round < 20; round++ {
		perm := rng.Perm(len(items))
		shuffled := make([]Item, len(items))
		for i, j := range perm {
			shuffled[i] = items[j]
		}
		p2, err := Split(shuffled, 4, nil)
		require.NoError(t, err)
		for i, j := range perm {
			assert.Equal(t, p1.Shard[j], p2.Shard[i], "%s", items[j].Name)
		}
	}
	again, err := Split(items, 4, nil)
	require.NoError(t, err)
	assert.Equal(t, p1, again)
	other, err := Split(items, 3, nil)
	require.NoError(t, err)
	assert.NotEqual(t, p1.ID, other.ID)
}

// A random set of weights: every scenario once, and the greedy bound holds.
func TestSplitRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for round := 0; round < 200; round++ {
		n := 1 + rng.Intn(60)
		items := make([]Item, n)
		maxW := int64(0)
		for i := range items {
			items[i] = Item{Name: string(rune('a'+i%26)) + string(rune('a'+i/26)), File: "s.yaml", Boots: 1 + rng.Intn(9)}
			maxW = max(maxW, int64(items[i].Boots))
		}
		count := 1 + rng.Intn(8)
		p, err := Split(items, count, nil)
		require.NoError(t, err)
		covers(t, p, n)
		load := p.Load()
		if n >= count {
			assert.LessOrEqual(t, slicesMax(load)-slicesMin(load), maxW, "loads %v", load)
		}
	}
	_, err := Split(nil, 0, nil)
	assert.ErrorContains(t, err, "0 shards")
}

// writeReport writes a JSON report of an earlier run with the given scenario wall times.
func writeReport(t *testing.T, items []Item, took map[string]time.Duration) string {
	t.Helper()
	r := &runner.Run{Started: time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC), Scenarios: []*runner.Scenario{}}
	for _, it := range items {
		d, ok := took[it.Name]
		if !ok {
			continue
		}
		sc := &runner.Scenario{Name: it.Name, File: it.File, Outcome: runner.Passed, Duration: d, Steps: []*runner.Step{}}
		for b := 0; b < it.Boots; b++ {
			sc.Steps = append(sc.Steps, &runner.Step{Index: b, Kind: "boot", Machine: "pc", Outcome: runner.Passed})
		}
		r.Scenarios = append(r.Scenarios, sc)
	}
	var b bytes.Buffer
	require.NoError(t, report.WriteJSON(&b, r))
	p := filepath.Join(t.TempDir(), "run.json")
	require.NoError(t, os.WriteFile(p, b.Bytes(), 0o644))
	return p
}

// Durations change the split: a scenario that boots once but ran long weighs what it took; one
// the earlier run did not have is estimated from its boots.
func TestSplitByDurations(t *testing.T) {
	items := []Item{
		{Name: "a", File: "s/a.yaml", Boots: 4}, {Name: "b", File: "s/b.yaml", Boots: 1},
		{Name: "c", File: "s/c.yaml", Boots: 2}, {Name: "d", File: "s/d.yaml", Boots: 2},
		{Name: "new", File: "s/new.yaml", Boots: 3},
	}
	byBoots, err := Split(items, 2, nil)
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2, 2, 1, 2}, byBoots.Shard) // a 4 | new 3 ... loads 6, 6

	path := writeReport(t, items, map[string]time.Duration{"a": 4 * time.Second, "b": 20 * time.Second, "c": 2 * time.Second, "d": 2 * time.Second})
	d, err := ReadDurations(path)
	require.NoError(t, err)
	assert.Equal(t, 4, d.Len())
	// 28 s over 9 boots is 3.111 s a boot; new boots 3 times.
	assert.Equal(t, 3*(28*time.Second/9), d.estimate(items[4]))

	byTime, err := Split(items, 2, d)
	require.NoError(t, err)
	assert.True(t, byTime.ByDuration)
	covers(t, byTime, len(items))
	assert.Equal(t, []int{2, 1, 2, 2, 2}, byTime.Shard, "b (20 s) alone; the rest together")
	assert.NotEqual(t, byBoots.Shard, byTime.Shard)
	assert.NotEqual(t, byBoots.ID, byTime.ID)
	assert.Equal(t, []int64{int64(20 * time.Second), int64(4*time.Second + 2*time.Second + 2*time.Second + 3*(28*time.Second/9))}, byTime.Load())
}

func TestReadDurationsErrors(t *testing.T) {
	items := []Item{{Name: "a", File: "s/a.yaml", Boots: 1}}
	_, err := ReadDurations(writeReport(t, items, map[string]time.Duration{}))
	assert.ErrorContains(t, err, "no scenario that ran, so no durations to balance the shards by")
	_, err = ReadDurations(filepath.Join(t.TempDir(), "missing.json"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	bad := filepath.Join(t.TempDir(), "junit.xml")
	require.NoError(t, os.WriteFile(bad, []byte("<testsuites/>"), 0o644))
	_, err = ReadDurations(bad)
	assert.ErrorContains(t, err, "junit.xml: offset 1: not JSON")

	twice := writeReport(t, []Item{{Name: "a", File: "s/a.yaml", Boots: 1}, {Name: "a", File: "s/a.yaml", Boots: 1}},
		map[string]time.Duration{"a": time.Second})
	_, err = ReadDurations(twice)
	assert.ErrorContains(t, err, "scenario a (s/a.yaml) is in the report twice")
}

// A proxy activation boots its batch's machines too: the report's boots per step are counted as
// Items counts them (mak-proxy boots 4 machines in 3 boot steps), so the mean time per boot is
// in the unit that estimate multiplies.
func TestReadDurationsCountsProxyBoots(t *testing.T) {
	sc, err := scenario.Load(filepath.Join("..", "..", "fixtures", "scenarios", "22-mak-proxy.yaml"))
	require.NoError(t, err)
	items := Items([]*scenario.Scenario{sc})
	require.Equal(t, 4, items[0].Boots, "pc and pc2 in the proxy batch, pc2, pc")
	r := &runner.Run{Started: time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC), Scenarios: []*runner.Scenario{}}
	res := &runner.Scenario{Name: sc.Name, File: sc.Path, Outcome: runner.Passed, Duration: 12 * time.Second, Steps: []*runner.Step{}}
	bootSteps := 0
	for i, st := range sc.Steps {
		rs := &runner.Step{Index: i, Kind: string(st.Kind), Outcome: runner.Passed}
		if st.Machine != nil { // advance has none
			rs.Machine = st.Machine.Name
		}
		if st.Kind.Boots() {
			bootSteps++
			rs.Boot = &runner.Boot{}
			for _, m := range st.With {
				rs.Others = append(rs.Others, &runner.Other{Machine: m.Name, Boot: &runner.Boot{}})
			}
		}
		res.Steps = append(res.Steps, rs)
	}
	require.Equal(t, 3, bootSteps)
	r.Scenarios = append(r.Scenarios, res)
	var b bytes.Buffer
	require.NoError(t, report.WriteJSON(&b, r))
	path := filepath.Join(t.TempDir(), "run.json")
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))

	d, err := ReadDurations(path)
	require.NoError(t, err)
	assert.Equal(t, 3*time.Second, d.perBoot, "12 s over 4 boots")
	assert.Equal(t, 12*time.Second, d.estimate(items[0]))
	assert.Equal(t, 6*time.Second, d.estimate(Item{Name: "new", File: "s/new.yaml", Boots: 2}))
}

// A merged report of an earlier split run gives durations too.
func TestReadDurationsFromMerged(t *testing.T) {
	items := Items(defaultMatrix(t))
	p, err := Split(items, 2, nil)
	require.NoError(t, err)
	var paths []string
	for s := 1; s <= 2; s++ {
		r := &runner.Run{Started: time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC), Jobs: 1, Scenarios: []*runner.Scenario{}}
		for _, i := range p.Positions(s) {
			r.Scenarios = append(r.Scenarios, &runner.Scenario{Name: items[i].Name, File: items[i].File, Outcome: runner.Passed,
				Duration: time.Duration(items[i].Boots) * time.Second, Steps: []*runner.Step{{Kind: "boot"}}})
		}
		require.NoError(t, p.Label(r, s))
		f := filepath.Join(t.TempDir(), "shard.json")
		require.NoError(t, report.Files{JSON: f}.Write(r))
		paths = append(paths, f)
	}
	m := report.Merge(report.ReadShardReports(paths))
	require.Zero(t, m.ExitCode())
	f := filepath.Join(t.TempDir(), "merged.json")
	require.NoError(t, report.Files{JSON: f}.Write(m))
	d, err := ReadDurations(f)
	require.NoError(t, err)
	assert.Equal(t, len(items), d.Len())
	for _, it := range items {
		assert.Equal(t, time.Duration(it.Boots)*time.Second, d.estimate(it))
	}
}

func TestLabel(t *testing.T) {
	items := Items(defaultMatrix(t))
	p, err := Split(items, 3, nil)
	require.NoError(t, err)
	pos := p.Positions(2)
	r := &runner.Run{}
	for _, i := range pos {
		r.Scenarios = append(r.Scenarios, &runner.Scenario{Name: items[i].Name})
	}
	require.NoError(t, p.Label(r, 2))
	assert.Equal(t, &runner.Shard{Index: 2, Count: 3, Scenarios: len(pos), Total: len(items), Split: p.ID}, r.Shard)
	for i, sc := range r.Scenarios {
		assert.Equal(t, pos[i], sc.Position)
		assert.Equal(t, items[pos[i]].Name, sc.Name)
	}
	r.Scenarios = append(r.Scenarios, &runner.Scenario{Name: "extra"})
	assert.ErrorContains(t, p.Label(r, 2), "scenarios in the result")
}

func slicesMax(v []int64) int64 {
	m := v[0]
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

func slicesMin(v []int64) int64 {
	m := v[0]
	for _, x := range v {
		m = min(m, x)
	}
	return m
}

func TestSelect(t *testing.T) {
	scs := defaultMatrix(t)
	all, err := Select(scs, Filter{})
	require.NoError(t, err)
	assert.Equal(t, scs, all.Scenarios)
	assert.Equal(t, len(scs), all.Of)
	assert.Nil(t, all.Plan)

	kms, err := Select(scs, Filter{Run: "^kms-"})
	require.NoError(t, err)
	var names []string
	for _, sc := range kms.Scenarios {
		names = append(names, sc.Name)
	}
	assert.Equal(t, []string{"kms-client-threshold", "kms-server-threshold", "kms-host-down"}, names)

	// The shards of the selection --run leaves: together they are that selection, once each.
	seen := map[string]int{}
	for i := 1; i <= 3; i++ {
		s, err := Select(scs, Filter{Run: "oem|grace", Shard: Spec{i, 3}.String()})
		require.NoError(t, err)
		assert.Equal(t, i, s.Index)
		for _, sc := range s.Scenarios {
			seen[sc.Name]++
		}
		assert.Equal(t, s.Of, len(s.Plan.Shard))
	}
	for _, sc := range scs {
		matched := regexp.MustCompile("oem|grace").MatchString(sc.Name)
		if matched {
			assert.Equal(t, 1, seen[sc.Name], sc.Name)
		} else {
			assert.Zero(t, seen[sc.Name], sc.Name)
		}
	}

	for _, tc := range []struct {
		f    Filter
		want string
	}{
		{Filter{Run: "("}, "--run \"(\": error parsing regexp"},
		{Filter{Run: "^nothing$"}, fmt.Sprintf("--run \"^nothing$\" matches none of the %d scenarios' names", len(scs))},
		{Filter{Durations: "x.json"}, "--durations balances shards: give --shard I/N with it"},
		{Filter{Shard: "3/2"}, "--shard \"3/2\": want I/N"},
		{Filter{Shard: "1/2", Durations: filepath.Join(t.TempDir(), "none.json")}, "--durations: open "},
	} {
		_, err := Select(scs, tc.f)
		assert.ErrorContains(t, err, tc.want)
	}
}

func TestWriteList(t *testing.T) {
	scs := defaultMatrix(t)
	s, err := Select(scs, Filter{Run: "^(oem-21-valid|grace-expiry)$"})
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, s.WriteList(&b))
	dir := filepath.Join("..", "..", "fixtures", "scenarios")
	assert.Equal(t, "# 2 scenarios\n"+
		"oem-21-valid  "+filepath.Join(dir, "01-oem-21-valid.yaml")+"\n  boot pc\n  advance\n  boot pc #2\n"+
		"grace-expiry  "+filepath.Join(dir, "12-grace-expiry.yaml")+"\n  boot pc\n  advance\n  boot pc #2\n  advance #2\n  boot pc #3\n", b.String())

	s, err = Select(scs, Filter{Shard: "2/3"})
	require.NoError(t, err)
	b.Reset()
	require.NoError(t, s.WriteList(&b))
	first := strings.SplitN(b.String(), "\n", 2)[0]
	load := s.Plan.Load()
	assert.Equal(t, fmt.Sprintf("# shard 2/3: %d of %d scenarios, balanced by boot count (%d of %d boot steps), split %s",
		len(s.Scenarios), len(scs), load[1], load[0]+load[1]+load[2], s.Plan.ID), first)
}
