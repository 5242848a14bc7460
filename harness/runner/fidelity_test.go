package runner_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oemact/oemact/fixtures"
	"github.com/oemact/oemact/harness/engine/inproc"
	"github.com/oemact/oemact/harness/internal/harnesstest"
	"github.com/oemact/oemact/harness/runner"
	"github.com/oemact/oemact/harness/scenario"
	"github.com/oemact/oemact/oemact/licence"
	"github.com/oemact/oemact/oemact/service"
	"github.com/oemact/oemact/oemact/service/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func inProcess(t *testing.T) runner.Options {
	return runner.Options{Engine: inproc.Engine{}, Artifacts: t.TempDir()}
}

// What the licence model sees of power does not depend on whether the engine keeps a machine
// running between steps: with RebootEveryStep every step boots afresh and the reminders, statuses
// and graces are the same as with the machines kept running.
func TestPowerFollowsTheScenarioNotTheEngine(t *testing.T) {
	names := []string{"12-grace-expiry.yaml", "20-reminders-while-running.yaml", "18-refused-activation-notifies.yaml"}
	kept, err := runner.Execute(context.Background(), scenarios(t, names...), inProcess(t))
	require.NoError(t, err)
	o := inProcess(t)
	o.RebootEveryStep = true
	rebooted, err := runner.Execute(context.Background(), scenarios(t, names...), o)
	require.NoError(t, err)
	assert.Positive(t, kept.Resumed)
	assert.Zero(t, rebooted.Resumed)
	for i, sc := range kept.Scenarios {
		other := rebooted.Scenarios[i]
		assert.Equal(t, runner.Passed, sc.Outcome, sc.Name)
		assert.Equal(t, runner.Passed, other.Outcome, sc.Name)
		for j, st := range sc.Steps {
			if st.Snapshot == nil {
				continue
			}
			ot := other.Steps[j]
			require.NotNil(t, ot.Snapshot)
			assert.Equal(t, st.Snapshot.Status, ot.Snapshot.Status, "%s step %d", sc.Name, j)
			assert.Equal(t, st.Snapshot.GraceRemainingMinutes, ot.Snapshot.GraceRemainingMinutes, "%s step %d", sc.Name, j)
			assert.Equal(t, kinds(st.Events), kinds(ot.Events), "%s step %d", sc.Name, j)
		}
	}
}

func scenariosOf(scs ...*scenario.Scenario) []*scenario.Scenario { return scs }

func kinds(events []licence.Event) []licence.EventKind {
	out := make([]licence.EventKind, len(events))
	for i, e := range events {
		out[i] = e.Kind
	}
	return out
}

// A machine kept on reports the reminders of the gap (12 four-hourly and 5 hourly ones to day 29
// 04:00; then 19 hourly ones and the logon dialog of Notification); one shut down for it reports
// none of them, only what its logon brings.
func TestKeptOnAndShutDown(t *testing.T) {
	const body = `name: power
machines:
  on: {profile: PROFILE, edition: win7-ultimate, key: retail/win7-ultimate}
  off: {profile: PROFILE, edition: win7-ultimate, key: retail/win7-ultimate}
steps:
  - boot: on
  - boot: off
  - shutdown: off
  - advance: 29d4h
  - boot: on
    expect: {reminders: 17}
  - boot: off
    expect: {reminders: 0}
  - shutdown: off
  - advance: 1d
  - boot: on
    expect: {status: Notification, reminders: 20}
  - boot: off
    expect: {status: Notification, reminders: 1}
`
	r, err := runner.Execute(context.Background(), scenariosOf(writeScenario(t, body)), inProcess(t))
	require.NoError(t, err)
	sc := r.Scenarios[0]
	for _, st := range sc.Steps {
		for _, c := range st.Checks {
			assert.True(t, c.OK, "step %d %s: want %s, got %s (%s)", st.Index, c.Name, c.Want, c.Got, c.Why)
		}
	}
	assert.Equal(t, runner.Passed, sc.Outcome)
}

// A proxy activation sends one batch through the service's proxy path for the step's machines,
// from the proxy's address; each machine gets its own answer.
func TestProxyActivationIsOneBatch(t *testing.T) {
	cat, err := fixtures.Catalog()
	require.NoError(t, err)
	srv, err := service.Open(context.Background(), service.Config{DBPath: filepath.Join(t.TempDir(), "svc.db"), Catalog: cat,
		TrustClientTime: true, TrustClientIP: true})
	require.NoError(t, err)
	defer srv.Close()
	var mu sync.Mutex
	var batches []api.BatchRequest
	h := srv.Handler()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == api.PathProxyBatch {
			b, _ := io.ReadAll(r.Body)
			var req api.BatchRequest
			assert.NoError(t, json.Unmarshal(b, &req)) // not require: this is the server's goroutine
			mu.Lock()
			batches = append(batches, req)
			mu.Unlock()
			r.Body = io.NopCloser(strings.NewReader(string(b)))
		}
		h.ServeHTTP(w, r)
	}))
	defer hs.Close()
	const body = `name: proxy
machines:
  a: {profile: PROFILE, edition: win7-professional, key: mak/win7-professional, ip: 198.51.100.9}
  b: {profile: PROFILE, edition: win7-professional, key: mak/win7-professional}
  c: {profile: PROFILE, edition: win7-professional, key: mak/win7-professional}
  d: {profile: PROFILE, edition: win7-professional, key: retail/win7-professional}
steps:
  - change: b
    nic: "52:54:00:4f:45:0b"
  - change: c
    nic: "52:54:00:4f:45:0c"
    network: false
  - activate: a
    method: proxy
    with: [b, c, d]
    expect: {status: Licensed, activation: success}
`
	o := inProcess(t)
	o.ServiceURL = hs.URL
	r, err := runner.Execute(context.Background(), scenariosOf(writeScenario(t, body)), o)
	require.NoError(t, err)
	sc := r.Scenarios[0]
	require.Equal(t, runner.Passed, sc.Outcome, "%+v", sc.Steps[2])
	require.Len(t, batches, 1, "one batch for the step")
	assert.Len(t, batches[0].Items, 3, "a, b and the retail machine d; c has no network, so the proxy does not reach it")
	assert.Equal(t, "198.51.100.9", batches[0].ClientIP, "from the proxy's address")
	st := sc.Steps[2]
	require.Len(t, st.Others, 3)
	got := map[string]string{}
	for _, o := range st.Others {
		got[o.Machine] = o.Activation.Result + " " + o.Activation.Code
		assert.NotNil(t, o.Boot)
	}
	assert.Equal(t, map[string]string{"b": "success ", "c": "failure no-network", "d": "failure wrong-channel"}, got)
	assert.Equal(t, 4, r.Boots, "four machines booted in one step")
}

// findings: [] and surfaces: [] check there are none: they fail when there are some.
func TestEmptyListsCheckThereAreNone(t *testing.T) {
	insyde := filepath.Join(harnesstest.RepoRoot(), "fixtures", "profiles", "tstoem-insyde.yaml")
	body := `name: empty-lists
machines:
  clean: {profile: PROFILE, edition: win7-professional, key: oem-slp/TSTOEM/win7-professional}
  odd: {profile: INSYDE, edition: win7-professional, key: oem-slp/TSTOEM/win7-professional}
  blocked: {profile: PROFILE, edition: win7-ultimate, key: retail/win7-ultimate/blocked}
steps:
  - boot: clean
    expect: {findings: [], surfaces: []}
  - boot: odd
    expect: {findings: []}
  - activate: blocked
    expect: {surfaces: []}
`
	r, err := runner.Execute(context.Background(), scenariosOf(writeScenario(t, strings.ReplaceAll(body, "INSYDE", insyde))), inProcess(t))
	require.NoError(t, err)
	steps := r.Scenarios[0].Steps
	assert.Equal(t, runner.Passed, steps[0].Outcome, "%+v", steps[0].Checks)
	byName := func(st *runner.Step, name string) runner.Check {
		for _, c := range st.Checks {
			if c.Name == name {
				return c
			}
		}
		t.Fatalf("step %d has no check %q", st.Index, name)
		return runner.Check{}
	}
	assert.Equal(t, runner.Failed, steps[1].Outcome)
	c := byName(steps[1], "findings")
	assert.Equal(t, "none", c.Want)
	assert.Contains(t, c.Got, "slic-marker-header-mismatch")
	assert.Equal(t, runner.Failed, steps[2].Outcome)
	c = byName(steps[2], "surfaces")
	assert.Equal(t, "logon-dialog, tray-notice, black-desktop, app-reminder", c.Got)
}

// A scenario file that does not load is an error for that file; the others run.
func TestUnloadableScenarioIsItsOwnError(t *testing.T) {
	bad := scenario.Unloadable("fixtures/broken.yaml", errors.New("broken.yaml:3: steps: want a list"))
	assert.Equal(t, "broken", bad.Name)
	scs := append([]*scenario.Scenario{bad}, scenarios(t, "01-oem-21-valid.yaml")...)
	r, err := runner.Execute(context.Background(), scs, inProcess(t))
	require.NoError(t, err)
	require.Len(t, r.Scenarios, 2)
	assert.Equal(t, runner.Error, r.Scenarios[0].Outcome)
	assert.Equal(t, "the scenario file does not load: broken.yaml:3: steps: want a list", r.Scenarios[0].Error)
	assert.Equal(t, "fixtures/broken.yaml", r.Scenarios[0].File)
	assert.Empty(t, r.Scenarios[0].Steps)
	assert.Equal(t, runner.Passed, r.Scenarios[1].Outcome)
	assert.Equal(t, 2, r.ExitCode())

	stopped := runner.NotStarted(time.Now(), scs, errors.New("no kernel"))
	assert.Equal(t, "the scenario file does not load: broken.yaml:3: steps: want a list", stopped.Scenarios[0].Error)
	assert.Equal(t, "not run: no kernel", stopped.Scenarios[1].Error)
}
