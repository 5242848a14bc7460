package runner_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/oemact/oemact/firmware/productkey"
	"github.com/oemact/oemact/fixtures"
	"github.com/oemact/oemact/harness/engine/inproc"
	"github.com/oemact/oemact/harness/internal/harnesstest"
	"github.com/oemact/oemact/harness/qemu"
	"github.com/oemact/oemact/harness/runner"
	"github.com/oemact/oemact/harness/scenario"
	"github.com/oemact/oemact/oemact/service"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	binDir    string
	buildOnce sync.Once
	bin       string
	binErr    error
)

func TestMain(m *testing.M) {
	var err error
	if binDir, err = os.MkdirTemp("", "oemact-runner-test-"); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(binDir)
	os.Exit(code)
}

func agent(t testing.TB) string {
	buildOnce.Do(func() { bin, binErr = harnesstest.BuildAgent(binDir) })
	require.NoError(t, binErr)
	return bin
}

func scenarios(t *testing.T, names ...string) []*scenario.Scenario {
	var out []*scenario.Scenario
	for _, n := range names {
		sc, err := scenario.Load(filepath.Join(harnesstest.RepoRoot(), "fixtures", "scenarios", n))
		require.NoError(t, err)
		out = append(out, sc)
	}
	return out
}

func options(t *testing.T) runner.Options {
	harnesstest.QEMU(t)
	return runner.Options{Kernel: harnesstest.Kernel(t), Agent: agent(t), Artifacts: t.TempDir(), Accel: qemu.TCG, KeepArtifacts: true}
}

// TestDefaultMatrix boots every scenario of fixtures/scenarios (CI runs them all; SCENARIO=a.yaml,b.yaml
// narrows it while developing) and requires each to pass, with nothing left running and no
// temporary file outside the artifacts folder.
func TestDefaultMatrix(t *testing.T) {
	o := options(t)
	o.KeepArtifacts = false
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var names []string
	if v := os.Getenv("SCENARIO"); v != "" {
		names = strings.Split(v, ",")
	} else {
		files, err := filepath.Glob(filepath.Join(harnesstest.RepoRoot(), "fixtures", "scenarios", "*.yaml"))
		require.NoError(t, err)
		for _, f := range files {
			names = append(names, filepath.Base(f))
		}
	}
	r, err := runner.Execute(context.Background(), scenarios(t, names...), o)
	require.NoError(t, err)
	for _, sc := range r.Scenarios {
		t.Logf("%s: %s in %s", sc.Name, sc.Outcome, sc.Duration.Round(time.Millisecond))
		for _, st := range sc.Steps {
			if st.Outcome == runner.Passed {
				continue
			}
			t.Errorf("%s step %d (%s, line %d): %s %s", sc.Name, st.Index, st.Description, st.Line, st.Outcome, st.Error)
			for _, c := range st.Checks {
				if !c.OK {
					t.Errorf("    %s: want %s, got %s", c.Name, c.Want, c.Got)
				}
			}
			for _, e := range st.Events {
				t.Logf("    event %s %s: %s", e.Time.Format(time.RFC3339), e.Kind, e.Message)
			}
		}
	}
	assert.Equal(t, 0, r.ExitCode())
	t.Logf("%d scenarios, %d boots and %d steps without a reboot in %s (%.1f boots/min, %s)", len(r.Scenarios), r.Boots, r.Resumed,
		r.Duration.Round(time.Millisecond), r.BootsPerMinute(), r.Accel)
	if os.Getenv("SCENARIO") == "" {
		assert.Positive(t, r.Resumed, "the matrix has boot steps that change only the clock")
	}
	for _, sc := range r.Scenarios {
		vmBoots(t, sc)
	}
	// One scenario language, one set of rules: the same scenarios on the in-process engine (what
	// oemact simulate runs) give the same step outcomes, checks and licence states.
	// A scenario that boots an OS image (none of the default matrix's) has no in-process run.
	scs := scenarios(t, names...)
	sim, err := runner.Execute(context.Background(), withoutImages(scs), runner.Options{Engine: inproc.Engine{}, Artifacts: t.TempDir()})
	require.NoError(t, err)
	assert.Empty(t, cmp.Diff(stepOutcomes(withoutImageResults(r, scs)), stepOutcomes(sim)), "QEMU (-) and in-process (+) outcomes differ")
	harnesstest.NoProcessIn(t, o.Artifacts)
	noProcessNaming(t, o.Artifacts)
	assert.Empty(t, harnesstest.Files(t, tmp), "temporary files outside the artifacts folder")
	assert.Equal(t, []string{".initramfs/"}, topLevel(harnesstest.Files(t, o.Artifacts)), "passed scenarios leave only the shared initramfs cache")
}

// stepOutcome is what a step showed, as both engines must show it.
type stepOutcome struct {
	Step       string
	Outcome    runner.Outcome
	Checks     []runner.Check
	Status     string
	OA         string
	Activation string
	// Others are the other machines of a proxy step: each one's status and answer.
	Others []string
}

// withoutImageResults leaves out the results of the scenarios that boot an OS image
// (scenario.BootsImage).
func withoutImageResults(r *runner.Run, scs []*scenario.Scenario) *runner.Run {
	images := map[string]bool{}
	for _, sc := range scs {
		images[sc.Name] = sc.BootsImage()
	}
	out := *r
	out.Scenarios = nil
	for _, sc := range r.Scenarios {
		if !images[sc.Name] {
			out.Scenarios = append(out.Scenarios, sc)
		}
	}
	return &out
}

func stepOutcomes(r *runner.Run) map[string][]stepOutcome {
	out := map[string][]stepOutcome{}
	for _, sc := range r.Scenarios {
		for _, st := range sc.Steps {
			o := stepOutcome{Step: st.Description, Outcome: st.Outcome, Checks: st.Checks, OA: st.OA}
			if st.Snapshot != nil {
				o.Status = st.Snapshot.Status.String()
			}
			if a := st.Activation; a != nil {
				o.Activation = a.Method + " " + a.Result + " " + a.Code
			}
			for _, other := range st.Others {
				w := other.Machine + ": " + other.Error
				if other.Snapshot != nil {
					w += other.Snapshot.Status.String()
				}
				if a := other.Activation; a != nil {
					w += ", " + a.Method + " " + a.Result + " " + a.Code
				}
				o.Others = append(o.Others, w)
			}
			out[sc.Name] = append(out[sc.Name], o)
		}
	}
	return out
}

// vmBoots checks how a scenario's machines booted: a step that ran without a reboot continued its
// machine's previous boot (the same QEMU command), and a machine has a state disk exactly when it
// booted a VM more than once. The other machines of a proxy step count as booted by it.
func vmBoots(t *testing.T, sc *runner.Scenario) {
	t.Helper()
	type booted struct {
		machine string
		boot    *runner.Boot
	}
	of := func(st *runner.Step) []booted {
		var out []booted
		if st.Boot != nil {
			out = append(out, booted{st.Machine, st.Boot})
		}
		for _, o := range st.Others {
			if o.Boot != nil {
				out = append(out, booted{o.Machine, o.Boot})
			}
		}
		return out
	}
	last := map[string]*runner.Boot{}
	boots := map[string]int{}
	for _, st := range sc.Steps {
		for _, b := range of(st) {
			if b.boot.Resumed {
				require.NotNil(t, last[b.machine], "%s step %d resumed %s, which never booted", sc.Name, st.Index, b.machine)
				assert.Equal(t, last[b.machine].Command, b.boot.Command, "%s step %d", sc.Name, st.Index)
			} else {
				boots[b.machine]++
			}
			last[b.machine] = b.boot
		}
	}
	for _, st := range sc.Steps {
		for _, b := range of(st) {
			assert.Equal(t, boots[b.machine] > 1, strings.Contains(b.boot.Command, "serial=oemact-state"),
				"%s step %d: %s boots %d time(s); its state disk", sc.Name, st.Index, b.machine, boots[b.machine])
		}
	}
}

// With RebootEveryStep every boot step boots its machine afresh (with a state disk to carry the
// licence between boots), and the verdicts are those of the machine kept running.
func TestRebootEveryStep(t *testing.T) {
	o := options(t)
	o.RebootEveryStep = true
	r, err := runner.Execute(context.Background(), scenarios(t, "12-grace-expiry.yaml"), o)
	require.NoError(t, err)
	sc := r.Scenarios[0]
	assert.Equal(t, runner.Passed, sc.Outcome, "%+v", sc.Steps)
	assert.Equal(t, 3, r.Boots)
	assert.Zero(t, r.Resumed)
	vmBoots(t, sc)

	o = options(t)
	r, err = runner.Execute(context.Background(), scenarios(t, "12-grace-expiry.yaml"), o)
	require.NoError(t, err)
	assert.Equal(t, runner.Passed, r.Scenarios[0].Outcome)
	assert.Equal(t, 1, r.Boots)
	assert.Equal(t, 2, r.Resumed)
	for i, st := range r.Scenarios[0].Steps {
		if st.Snapshot != nil {
			assert.Equal(t, sc.Steps[i].Snapshot.Status, st.Snapshot.Status, "step %d", st.Index)
			assert.Equal(t, sc.Steps[i].Snapshot.GraceRemainingMinutes, st.Snapshot.GraceRemainingMinutes, "step %d", st.Index)
			assert.Equal(t, len(sc.Steps[i].Events), len(st.Events), "step %d", st.Index)
		}
	}
}

// noProcessNaming fails the test if a process (a swtpm: its state folder is in its command line,
// not its working directory) names dir in its command line.
func noProcessNaming(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if cmd := strings.ReplaceAll(string(b), "\x00", " "); strings.Contains(cmd, dir) {
			t.Errorf("process %s still runs: %s", e.Name(), cmd)
		}
	}
}

func topLevel(files []string) []string {
	var out []string
	for _, f := range files {
		if !strings.Contains(strings.TrimSuffix(f, "/"), "/") {
			out = append(out, f)
		}
	}
	return out
}

// writeScenario writes a scenario beside a copy of nothing: profiles are named absolutely.
func writeScenario(t *testing.T, body string) *scenario.Scenario {
	t.Helper()
	prof := filepath.Join(harnesstest.RepoRoot(), "fixtures", "profiles", "tstoem-desktop.yaml")
	p := filepath.Join(t.TempDir(), "s.yaml")
	require.NoError(t, os.WriteFile(p, []byte(strings.ReplaceAll(body, "PROFILE", prof)), 0o644))
	sc, err := scenario.Load(p)
	require.NoError(t, err)
	return sc
}

const failing = `name: wrong-expectation
machines:
  pc: {profile: PROFILE, edition: win7-ultimate, key: retail/win7-ultimate}
steps:
  - boot: pc
    expect: {status: Licensed, grace_days: 30}
  - advance: 1d
  - boot: pc
    expect: {status: OOBGrace, grace_days: 29}
`

// A failed expectation is a test verdict: exit 1, the check says what was wanted and got, later
// steps still run, the artifacts (serial logs) are kept.
func TestFailedExpectation(t *testing.T) {
	o := options(t)
	o.KeepArtifacts = false
	r, err := runner.Execute(context.Background(), []*scenario.Scenario{writeScenario(t, failing)}, o)
	require.NoError(t, err)
	assert.Equal(t, 1, r.ExitCode())
	sc := r.Scenarios[0]
	assert.Equal(t, runner.Failed, sc.Outcome)
	require.Len(t, sc.Steps, 3)
	assert.Equal(t, runner.Failed, sc.Steps[0].Outcome)
	var bad []runner.Check
	for _, c := range sc.Steps[0].Checks {
		if !c.OK {
			bad = append(bad, c)
		}
	}
	require.Len(t, bad, 1)
	assert.Equal(t, "status", bad[0].Name)
	assert.Equal(t, "Licensed", bad[0].Want)
	assert.Equal(t, "OOBGrace", bad[0].Got)
	assert.NotEmpty(t, bad[0].Why, "a failed check says why")
	assert.Equal(t, runner.Passed, sc.Steps[2].Outcome, "the steps after a failed check still run")
	require.NotNil(t, sc.Steps[0].Boot)
	assert.FileExists(t, sc.Steps[0].Boot.SerialLog, "a failed scenario keeps its serial logs")
	assert.Contains(t, sc.Steps[0].Boot.Command, "qemu-system-x86_64")
	// boot, advance, boot: the second boot step runs in the machine kept running.
	assert.Equal(t, 1, r.Boots)
	assert.Equal(t, 1, r.Resumed)
	require.NotNil(t, sc.Steps[2].Boot)
	assert.True(t, sc.Steps[2].Boot.Resumed)
}

const unlistedLabels = `name: unlisted-labels
catalog: CATALOG
machines:
  tst: {profile: PROFILE, edition: win7-ultimate, key: oem-slp/TSTOEM/win7-ultimate}
  acme: {profile: PROFILE, edition: win7-professional, key: oem-slp/ACMEPC/win7-professional}
service:
  mak_used: {mak/win8-pro: 1}
steps:
  - boot: tst
    expect: {status: Licensed, oa: valid}
  - boot: acme
    expect: {oa: invalid, oa_rules_failed: [2, 5]}
  - check: true
    expect: {mak_remaining: {mak/win8-pro: 2}}
`

// Keys that no catalog lists are named by the label grammar, and reach the guest and the service:
// TSTOEM's SLP key for an edition the built-in catalog does not list activates on TSTOEM's board;
// a new OEM's SLP key fails rule 5 there, and rule 2 (its image has no certificate of that OEM,
// and never takes the board's). A scenario's catalog adds a MAK to the built-in ones.
func TestUnlistedLabelsReachGuestAndService(t *testing.T) {
	o := options(t)
	cat := filepath.Join(t.TempDir(), "more.yaml")
	require.NoError(t, os.WriteFile(cat, []byte("keys:\n  - label: mak/win8-pro\n    key: "+productkey.Derive("mak/win8-pro").Reveal()+
		"\n    channel: Volume:MAK\n    edition: win8-pro\n    mak_limit: 3\n"), 0o644))
	r, err := runner.Execute(context.Background(), []*scenario.Scenario{writeScenario(t, strings.ReplaceAll(unlistedLabels, "CATALOG", cat))}, o)
	require.NoError(t, err)
	for _, st := range r.Scenarios[0].Steps {
		assert.Equal(t, runner.Passed, st.Outcome, "step %d: %s", st.Index, st.Error)
		for _, c := range st.Checks {
			assert.True(t, c.OK, "step %d %s: want %s, got %s", st.Index, c.Name, c.Want, c.Got)
		}
	}
	assert.Equal(t, 0, r.ExitCode())
}

const twoBoots = `name: infra
machines:
  pc: {profile: PROFILE, edition: win7-ultimate, key: retail/win7-ultimate}
steps:
  - boot: pc
  - boot: pc
`

// A guest that does not finish in time is killed and reported as an infrastructure error (exit
// 2), not a failed expectation; the remaining steps are skipped; nothing is left running and no
// temporary file is left outside the artifacts folder.
func TestHungGuestIsAnInfrastructureError(t *testing.T) {
	o := options(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	o.Timeout = 400 * time.Millisecond // far below a TCG boot (0.85 s at the fastest): the guest is still booting when killed
	r, err := runner.Execute(context.Background(), []*scenario.Scenario{writeScenario(t, twoBoots)}, o)
	require.NoError(t, err)
	assert.Equal(t, 2, r.ExitCode())
	sc := r.Scenarios[0]
	assert.Equal(t, runner.Error, sc.Outcome)
	assert.Equal(t, runner.Error, sc.Steps[0].Outcome)
	assert.Contains(t, sc.Steps[0].Error, "timeout")
	assert.Contains(t, sc.Steps[0].Error, "reproduce:")
	assert.Equal(t, runner.Skipped, sc.Steps[1].Outcome)
	require.NotNil(t, sc.Steps[0].Boot)
	assert.Equal(t, "timeout", sc.Steps[0].Boot.Outcome)
	harnesstest.NoProcessIn(t, o.Artifacts)
	assert.Empty(t, harnesstest.Files(t, tmp), "temporary files outside the artifacts folder")
}

// A QEMU that cannot start is an infrastructure error with its message.
func TestQEMUFailingToStart(t *testing.T) {
	o := options(t)
	fake := filepath.Join(t.TempDir(), "qemu")
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\necho 'qemu-system-x86_64: -machine q35: unsupported machine type' >&2\nexit 1\n"), 0o755))
	t.Setenv("OEMACT_QEMU", fake)
	r, err := runner.Execute(context.Background(), []*scenario.Scenario{writeScenario(t, twoBoots)}, o)
	require.NoError(t, err)
	assert.Equal(t, 2, r.ExitCode())
	st := r.Scenarios[0].Steps[0]
	assert.Equal(t, runner.Error, st.Outcome)
	assert.Contains(t, st.Error, "unsupported machine type")
	assert.Equal(t, runner.Skipped, r.Scenarios[0].Steps[1].Outcome)
	harnesstest.NoProcessIn(t, o.Artifacts)
}

// With --service, the guests' requests go to a running service over HTTP (here one started in
// the test with client time trusted, as 'oemact serve --trust-client-time', on a unix socket
// with a token for every route): KMS counts come from the host's answers at the scenario's time.
func TestExternalService(t *testing.T) {
	o := options(t)
	cat, err := fixtures.Catalog()
	require.NoError(t, err)
	dir := t.TempDir()
	const token = "runner-test-service-token"
	srv, err := service.Open(context.Background(), service.Config{DBPath: filepath.Join(dir, "svc.db"), Catalog: cat,
		TrustClientTime: true, Token: token})
	require.NoError(t, err)
	defer srv.Close()
	ln, url, err := service.Listen("unix:" + filepath.Join(dir, "svc.sock"))
	require.NoError(t, err)
	hs := &httptest.Server{Listener: ln, Config: srv.HTTPServer()}
	hs.Start()
	defer hs.Close()
	o.ServiceURL, o.ServiceToken = url, token
	r, err := runner.Execute(context.Background(), scenarios(t, "10-kms-client-threshold.yaml"), o)
	require.NoError(t, err)
	for _, st := range r.Scenarios[0].Steps {
		for _, c := range st.Checks {
			assert.True(t, c.OK, "step %d %s: want %s, got %s", st.Index, c.Name, c.Want, c.Got)
		}
	}
	assert.Equal(t, 0, r.ExitCode())
}

// An interrupted run (Ctrl-C after the first boot) is not reported as passed: the scenario is an
// error and the steps that did not run are skipped.
func TestInterruptedRun(t *testing.T) {
	o := options(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o.Observer = cancelAfterFirstStep{cancel}
	r, err := runner.Execute(ctx, []*scenario.Scenario{writeScenario(t, twoBoots)}, o)
	require.NoError(t, err)
	sc := r.Scenarios[0]
	assert.Equal(t, runner.Passed, sc.Steps[0].Outcome)
	assert.Equal(t, runner.Skipped, sc.Steps[1].Outcome)
	assert.Equal(t, runner.Error, sc.Outcome)
	assert.Contains(t, sc.Error, "interrupted")
	assert.Equal(t, 2, r.ExitCode())
	harnesstest.NoProcessIn(t, o.Artifacts)
}

type cancelAfterFirstStep struct{ cancel context.CancelFunc }

func (c cancelAfterFirstStep) ScenarioStarted(*runner.Scenario, int)      {}
func (c cancelAfterFirstStep) StepStarted(*runner.Scenario, *runner.Step) {}
func (c cancelAfterFirstStep) StepDone(*runner.Scenario, *runner.Step)    { c.cancel() }
func (c cancelAfterFirstStep) ScenarioDone(*runner.Scenario)              {}

// SIGINT after the first boot, as Ctrl-C: the machines stop, nothing is left running, and the
// run's exit code is 130.
func TestSIGINTEndsRunWith130(t *testing.T) {
	o := options(t)
	ctx, in, stop := runner.NotifyInterrupt(context.Background())
	defer stop()
	o.Observer = signalAfterFirstStep{}
	r, err := runner.Execute(ctx, []*scenario.Scenario{writeScenario(t, twoBoots)}, o)
	require.NoError(t, err)
	sc := r.Scenarios[0]
	assert.Equal(t, runner.Passed, sc.Steps[0].Outcome)
	// The signal arrives a moment after the first step: the second is skipped or cut short.
	assert.Contains(t, []runner.Outcome{runner.Skipped, runner.Error}, sc.Steps[1].Outcome)
	assert.Equal(t, syscall.SIGINT, in.Signal())
	assert.Equal(t, 130, in.ExitCode(r.ExitCode()))
	harnesstest.NoProcessIn(t, o.Artifacts)
}

type signalAfterFirstStep struct{}

func (signalAfterFirstStep) ScenarioStarted(*runner.Scenario, int)      {}
func (signalAfterFirstStep) StepStarted(*runner.Scenario, *runner.Step) {}
func (signalAfterFirstStep) StepDone(*runner.Scenario, *runner.Step) {
	syscall.Kill(syscall.Getpid(), syscall.SIGINT)
}
func (signalAfterFirstStep) ScenarioDone(*runner.Scenario) {}
