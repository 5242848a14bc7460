package shard

import (
	"fmt"
	"time"

	"github.com/oemact/oemact/harness/report"
	"github.com/oemact/oemact/harness/scenario"
)

// ReadDurations reads the scenario wall times of an earlier run from its JSON report (oemact run
// --json, or a merged report): the time of each scenario that ran (not of one skipped or stopped
// before it started, whose time says nothing of its length).
func ReadDurations(path string) (*Durations, error) {
	run, err := report.ReadJSONFile(path)
	if err != nil {
		return nil, err
	}
	d := &Durations{byKey: map[string]time.Duration{}, byName: map[string][]time.Duration{}}
	var total time.Duration
	boots := 0
	for _, sc := range run.Scenarios {
		if sc.Duration <= 0 || len(sc.Steps) == 0 {
			continue
		}
		it := Item{Name: sc.Name, File: sc.File}
		for _, st := range sc.Steps {
			if scenario.Kind(st.Kind).Boots() {
				// The step's machine and the others it booted (a proxy activation's batch),
				// counted as Items counts a scenario's boots, since estimate multiplies
				// perBoot by Items' count.
				it.Boots += 1 + len(st.Others)
			}
		}
		if _, dup := d.byKey[it.key()]; dup {
			return nil, fmt.Errorf("%s: scenario %s (%s) is in the report twice", path, sc.Name, sc.File)
		}
		d.byKey[it.key()] = sc.Duration
		d.byName[sc.Name] = append(d.byName[sc.Name], sc.Duration)
		total += sc.Duration
		boots += max(it.Boots, 1)
	}
	if len(d.byKey) == 0 {
		return nil, fmt.Errorf("%s: no scenario that ran, so no durations to balance the shards by", path)
	}
	d.perBoot = total / time.Duration(boots)
	return d, nil
}
