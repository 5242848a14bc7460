package runner

import (
	"time"

	"github.com/oemact/oemact/harness/scenario"
)

// roundKey is one machine at one boot step (a proxy activation boots several machines).
type roundKey struct {
	step    int
	machine string
}

// roundPlan is how a scenario's machines boot and power off, decided from the scenario before it
// runs.
type roundPlan struct {
	// resumes marks the boot steps that run in the machine kept running since its previous boot
	// step (no VM boot); stays the boot steps after which the engine keeps the machine running.
	resumes, stays map[roundKey]bool
	// on marks the boot steps after which the machine stays on for the licence model, until
	// offAt if set: it has a later boot step, and it powers off at the first shutdown or
	// hardware change between (the engine reboots or not, as resumes says).
	on    map[roundKey]bool
	offAt map[roundKey]time.Time
	// last is each machine's last boot step; boots how many times each boots a VM.
	last  map[string]int
	boots map[string]int
}

// planRounds decides, for every boot step and machine, whether the VM keeps running into the
// next boot step (the firmware and hardware unchanged, no TPM, not rebootEveryStep), and what the
// licence model sees: a machine is on from a boot to its next boot step, unless a shutdown step
// or a hardware change (made with the machine off) comes between, which powers it off at that
// step's time. A machine that boots once needs no state disk (boots counts VM boots).
func planRounds(sc *scenario.Scenario, rebootEveryStep bool) *roundPlan {
	rp := &roundPlan{resumes: map[roundKey]bool{}, stays: map[roundKey]bool{}, on: map[roundKey]bool{},
		offAt: map[roundKey]time.Time{}, last: map[string]int{}, boots: map[string]int{}}
	prev := map[string]int{}      // each machine's last boot step so far
	changed := map[string]bool{}  // a hardware change since it
	off := map[string]time.Time{} // when it powered off since it
	now := sc.Start
	for i, s := range sc.Steps {
		switch {
		case s.Kind == scenario.Advance:
			now = now.Add(s.Advance)
		case s.Kind == scenario.Change && s.Change.Hardware():
			changed[s.Machine.Name] = true
			if _, ok := off[s.Machine.Name]; !ok {
				off[s.Machine.Name] = now
			}
		case s.Kind == scenario.Shutdown:
			if _, ok := off[s.Machine.Name]; !ok {
				off[s.Machine.Name] = now
			}
			// An OS image's machine really powers off: its next probe boots the OS again.
			changed[s.Machine.Name] = changed[s.Machine.Name] || s.Machine.BootsImage()
		case s.Kind.Boots():
			for _, m := range s.Booted() {
				rp.boot(i, m, prev, changed, off, rebootEveryStep)
			}
		}
	}
	return rp
}

func (rp *roundPlan) boot(i int, m *scenario.Machine, prev map[string]int, changed map[string]bool, off map[string]time.Time, rebootEveryStep bool) {
	name := m.Name
	if p, booted := prev[name]; booted {
		k := roundKey{p, name}
		rp.on[k] = true
		if t, ok := off[name]; ok {
			rp.offAt[k] = t
		}
		if !changed[name] && !rebootEveryStep && !m.TPM {
			rp.resumes[roundKey{i, name}], rp.stays[k] = true, true
		} else {
			rp.boots[name]++
		}
	} else {
		rp.boots[name]++
	}
	prev[name], changed[name], rp.last[name] = i, false, i
	delete(off, name)
}
