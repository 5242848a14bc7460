package runner

import (
	"context"

	"github.com/oemact/oemact/harness/channel"
	"github.com/oemact/oemact/harness/scenario"
)

// stepFunc runs one step of a kind into st.
type stepFunc func(sr *scenarioRun, ctx context.Context, i int, s *scenario.Step, st *Step)

// stepRunners runs each step kind the scenario language has (scenario.Kinds; a test checks the
// two lists agree).
var stepRunners = map[scenario.Kind]stepFunc{
	scenario.Boot:       (*scenarioRun).bootStep,
	scenario.Activate:   (*scenarioRun).bootStep,
	scenario.Rearm:      (*scenarioRun).bootStep,
	scenario.InstallKey: (*scenarioRun).bootStep,
	scenario.Advance: func(sr *scenarioRun, _ context.Context, _ int, s *scenario.Step, _ *Step) {
		sr.setNow(sr.now.Add(s.Advance))
	},
	scenario.AddKMS: func(sr *scenarioRun, ctx context.Context, _ int, s *scenario.Step, st *Step) {
		if err := sr.kmsClients(ctx, s.KMS); err != nil {
			st.Outcome, st.Error = Error, err.Error()
		}
	},
	scenario.Change: func(sr *scenarioRun, _ context.Context, _ int, s *scenario.Step, st *Step) {
		if err := sr.change(s); err != nil {
			st.Outcome, st.Error = Error, err.Error()
		}
	},
	scenario.Check: func(sr *scenarioRun, ctx context.Context, _ int, s *scenario.Step, st *Step) {
		sr.checkService(ctx, s.Expect, st)
	},
	// A shutdown is in the plan of the machine's previous boot (it powers off at this step's
	// time); the VM may run on for the next boot step, which the licence model sees as a boot.
	scenario.Shutdown: func(*scenarioRun, context.Context, int, *scenario.Step, *Step) {},
	scenario.KMSHost: func(sr *scenarioRun, _ context.Context, _ int, s *scenario.Step, _ *Step) {
		sr.kmsDown = s.KMSHost == "down"
	},
	scenario.Probe: (*scenarioRun).probeStep,
}

// bootPlans adds what a booting kind asks of the guest to its plan.
var bootPlans = map[scenario.Kind]func(m *machine, s *scenario.Step, plan *channel.Plan){
	scenario.InstallKey: func(m *machine, s *scenario.Step, _ *channel.Plan) { m.key, m.install = s.Key, true },
	scenario.Activate: func(_ *machine, s *scenario.Step, plan *channel.Plan) {
		plan.Actions = []string{map[string]string{scenario.MethodOnline: channel.ActionActivateOnline,
			scenario.MethodTelephone: channel.ActionActivateTelephone, scenario.MethodProxy: channel.ActionActivateProxy}[s.Method]}
		if s.IP != "" {
			plan.IP = s.IP
		}
	},
	scenario.Rearm: func(_ *machine, _ *scenario.Step, plan *channel.Plan) { plan.Actions = []string{channel.ActionRearm} },
}
