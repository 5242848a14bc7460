package report

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/oemact/oemact/harness/runner"
)

func steps(specs ...string) *runner.Scenario {
	sc := &runner.Scenario{Name: "s"}
	for i, s := range specs {
		var kind, machine, id string
		fmt.Sscanf(s, "%s %s %s", &kind, &machine, &id)
		if machine == "-" {
			machine = ""
		}
		sc.Steps = append(sc.Steps, &runner.Step{Index: i, Kind: kind, Machine: machine, ID: id})
	}
	return sc
}

func TestTestNames(t *testing.T) {
	assert.Equal(t, []string{"boot pc", "advance", "boot pc #2", "activate pc", "advance #2", "boot pc #3", "boot laptop"},
		testNames(steps("boot pc", "advance -", "boot pc", "activate pc", "advance -", "boot pc", "boot laptop")))
	// An id is the name, whatever its place; the others are numbered among themselves.
	assert.Equal(t, []string{"boot pc", "after-swap", "boot pc #2"},
		testNames(steps("boot pc", "boot pc after-swap", "boot pc")))
	// Ids given twice (a hand-edited report) are still made unique.
	assert.Equal(t, []string{"x", "x #2"}, testNames(steps("boot pc x", "check - x")))
	// A generated name never takes an id's name.
	assert.Equal(t, []string{"advance #2", "advance"}, testNames(steps("advance -", "boot pc advance")))
}

// Inserting a step anywhere renames no other step, as long as it is not the unnamed equal of a
// later step (a kind and machine not seen after it, or a step with an id).
func TestTestNamesStableUnderInsertion(t *testing.T) {
	base := []string{"boot pc", "advance -", "activate pc", "change pc", "boot pc", "advance -", "boot pc", "rearm pc"}
	before := testNames(steps(base...))
	for _, ins := range []string{"boot laptop", "install_key pc", "check -", "boot pc new-boot", "advance - wait-a-week", "kms_clients -"} {
		for at := 0; at <= len(base); at++ {
			specs := append(append(append([]string{}, base[:at]...), ins), base[at:]...)
			after := testNames(steps(specs...))
			others := append(append([]string{}, after[:at]...), after[at+1:]...)
			assert.Equal(t, before, others, "inserting %q at %d", ins, at)
		}
	}
	// An unnamed equal of later steps inserted after them renames nothing either.
	after := testNames(steps(append(append([]string{}, base...), "boot pc")...))
	assert.Equal(t, before, after[:len(base)])
	assert.Equal(t, "boot pc #4", after[len(base)])
}
