package runner

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/oemact/oemact/harness/scenario"
)

// Every kind of the scenario language runs, and the runner runs no kind the language lacks.
func TestEveryStepKindRuns(t *testing.T) {
	known := map[scenario.Kind]bool{}
	for _, k := range scenario.Kinds() {
		known[k.Kind] = true
		assert.Contains(t, stepRunners, k.Kind, "no runner for %s steps", k.Kind)
	}
	for k := range stepRunners {
		assert.True(t, known[k], "the runner runs %s steps, which the scenario language does not have", k)
	}
	for k := range bootPlans {
		spec, _ := k.Spec()
		assert.True(t, spec.Boots, "%s has a boot plan but does not boot", k)
	}
}
