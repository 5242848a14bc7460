// Package bench measures how long oemact's harness takes to reach a verdict, side by side with a
// plain QEMU boot: the kinds of boot alternate within one run, so that a shared, loaded host slows
// them alike, and the result is medians and ratios. It is a measuring tool (make bench-boot), not a
// test: speed targets live in its output, never in assertions.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/oemact/oemact/harness/kernel"
	"github.com/oemact/oemact/harness/qemu"
	"github.com/oemact/oemact/harness/runner"
	"github.com/oemact/oemact/harness/scenario"
)

// Kind is a kind of boot the benchmark measures.
type Kind string

const (
	// Naive is the boot people script by hand: QEMU's q35 machine with its default devices and
	// firmware (SeaBIOS), the guest kernel, and an initramfs holding only an init that powers off
	// at once. Timed from starting QEMU to its exit.
	Naive Kind = "n"
	// Floor is the harness's own machine exactly as the runner boots the default profile (QEMU
	// options, firmware, kernel, command line, devices, tables, the same initramfs) except that
	// /init powers off at once: the least a boot of that machine costs. Timed like Naive.
	Floor Kind = "a"
	// Verdict is a runner boot of the default profile to a verdict: a one-boot scenario through
	// runner.Execute, from the call to its result (service, tables, initramfs, QEMU, the agent's
	// plan, collection, evaluation and report, the checks).
	Verdict Kind = "b"
)

// Label is how the report names the kind.
func (k Kind) Label() string {
	switch k {
	case Naive:
		return "(n) naive: q35, SeaBIOS, power-off init"
	case Floor:
		return "(a) floor: harness machine, power-off init"
	case Verdict:
		return "(b) verdict: runner boot, default profile"
	}
	if args, ok := strings.CutPrefix(string(k), qemuVariant); ok {
		return "(a) + QEMU " + args
	}
	if extra, ok := strings.CutPrefix(string(k), string(Floor)+"+"); ok {
		return "(a) + " + extra
	}
	return string(k)
}

// qemuVariant starts the kind of a floor variant with extra QEMU arguments.
const qemuVariant = string(Floor) + "+qemu:"

// Defaults.
const (
	// DefaultRuns is how many boots of each kind a run measures: the issue asks for at least 10.
	DefaultRuns = 10
	// DefaultProfile is the default profile, relative to the repository.
	DefaultProfile = "fixtures/profiles/tstoem-desktop.yaml"
	// ScenarioDir holds the default matrix, relative to the repository.
	ScenarioDir = "fixtures/scenarios"
	// NaiveMemoryMB is the naive boot's memory: the default profile's, so that only the way the
	// machine is put together differs.
	NaiveMemoryMB = 256
	// NaiveAppend is the naive boot's kernel command line: a serial console, and quiet as most
	// scripts have it (a kernel log on the emulated UART costs time under TCG, and a slower
	// baseline would flatter the ratios).
	NaiveAppend = "console=ttyS0 panic=-1 quiet"
)

// Options tune Run.
type Options struct {
	// Repo is the repository root (fixtures/profiles, fixtures/scenarios).
	Repo string
	// Kernel is the harness's guest kernel, for the floor and the verdict boots.
	Kernel *kernel.Kernel
	// NaiveKernel is the naive boot's: Debian's cloud kernel as people boot it by hand (its
	// vmlinuz); default Kernel.
	NaiveKernel *kernel.Kernel
	// Agent is the static binary the harness boots as /init (oemact-agent, or oemact).
	Agent string
	// PowerOff is the static power-off init; built from internal/poweroff (with the go command)
	// when empty.
	PowerOff string
	// Dir is the work folder: initramfs archives, each boot's artifacts.
	Dir string
	// Runs is the number of boots of each kind; default DefaultRuns.
	Runs int
	// Kinds to measure, in the order they alternate; default Naive, Floor, Verdict.
	Kinds []Kind
	// TryAppend adds a floor variant per entry, with these words added to the kernel command
	// line, alternated with the rest: to measure a kernel option alone before adopting it.
	TryAppend []string
	// TryQEMU adds a floor variant per entry, with these QEMU arguments (split on spaces) added
	// after the harness's: a later -machine merges with the first, so "-machine sata=off" works.
	TryQEMU []string
	// Matrix also runs the default matrix (every scenario in ScenarioDir) once, after the boots.
	Matrix bool
	// Jobs is the matrix's parallelism (default 1).
	Jobs int
	// Accel is the accelerator for every kind; "" chooses as the harness does (qemu.ChooseAccel).
	Accel qemu.Accel
	// Timeout bounds each boot; default runner.DefaultBootTimeout.
	Timeout time.Duration
	// Log receives progress lines; nil is quiet.
	Log io.Writer
}

// Sample is one measured boot.
type Sample struct {
	Kind Kind          `json:"kind"`
	Wall time.Duration `json:"wall_ns"`
	// Guest is what the guest's console said: the agent's timings (verdict boots), when /init
	// started and when the kernel powered off (every boot whose log has them).
	Guest *GuestTimes `json:"guest,omitempty"`
}

// Report is a benchmark run's result.
type Report struct {
	Started time.Time  `json:"started"`
	Accel   string     `json:"accel"`
	CPUs    int        `json:"cpus"`
	Load    [2]LoadAvg `json:"load"` // at the start and the end
	Kernel  string     `json:"kernel"`
	// NaiveKernel is the naive boot's kernel when it differs from Kernel.
	NaiveKernel string           `json:"naive_kernel,omitempty"`
	Agent       string           `json:"agent"`
	AgentMB     float64          `json:"agent_mb"`
	Runs        int              `json:"runs"`
	Kinds       []Kind           `json:"kinds"`
	Samples     []Sample         `json:"samples"`
	Command     map[Kind]string  `json:"commands"` // one QEMU command of each kind, to reproduce it
	Stats       map[Kind]Stats   `json:"stats"`
	Matrix      *MatrixResult    `json:"matrix,omitempty"`
	Duration    time.Duration    `json:"duration_ns"`
	Steps       map[string]Stats `json:"agent_steps,omitempty"` // the agent's steps in verdict boots
}

// Stats summarise one kind's walls.
type Stats struct {
	N      int           `json:"n"`
	Median time.Duration `json:"median_ns"`
	Min    time.Duration `json:"min_ns"`
	Max    time.Duration `json:"max_ns"`
}

// MatrixResult is one run of the default matrix.
type MatrixResult struct {
	Scenarios      int           `json:"scenarios"`
	Passed         int           `json:"passed"`
	Boots          int           `json:"boots"`
	Jobs           int           `json:"jobs"`
	Wall           time.Duration `json:"wall_ns"`
	BootsPerMinute float64       `json:"boots_per_minute"`
	// Failures names the scenarios that did not pass, with why.
	Failures []string `json:"failures,omitempty"`
}

// Ratio is a/b of two kinds' medians, 0 when either is missing.
func (r *Report) Ratio(a, b Kind) float64 {
	sa, sb := r.Stats[a], r.Stats[b]
	if sa.N == 0 || sb.N == 0 || sb.Median == 0 {
		return 0
	}
	return float64(sa.Median) / float64(sb.Median)
}

// Run measures the boots o asks for.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	logf := func(format string, args ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, format+"\n", args...)
		}
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	rep, err := newReport(&o)
	if err != nil {
		return nil, err
	}
	accel := qemu.AccelChoice{Accel: o.Accel, Reason: "chosen by the caller"}
	if o.Accel == qemu.AccelAuto {
		accel = qemu.ChooseAccel(ctx, o.Kernel.Vmlinuz, dir)
	}
	rep.Accel = fmt.Sprintf("%s (%s)", accel.Accel, accel.Reason)
	o.Accel = accel.Accel

	if o.PowerOff == "" {
		logf("building the power-off init")
		if o.PowerOff, err = BuildPowerOff(ctx, o.Repo, filepath.Join(dir, "poweroff")); err != nil {
			return nil, err
		}
	}
	verdict, err := newVerdict(o, filepath.Join(dir, "verdict"))
	if err != nil {
		return nil, err
	}
	// A first verdict boot, not counted: it warms the caches (the initramfs archive, the page
	// cache) and gives the floor its machine, exactly as the runner built it.
	logf("warm-up verdict boot")
	warm, err := verdict.boot(ctx)
	if err != nil {
		return nil, err
	}
	machines, err := machinesFor(o, warm, dir, rep)
	if err != nil {
		return nil, err
	}
	if err := runRounds(ctx, o, verdict, machines, rep, logf); err != nil {
		return nil, err
	}
	if o.Matrix {
		logf("running the default matrix with %d job(s)", o.Jobs)
		if rep.Matrix, err = runMatrix(ctx, o, filepath.Join(dir, "matrix")); err != nil {
			return nil, err
		}
	}
	rep.Load[1] = ReadLoadAvg()
	rep.Duration = time.Since(rep.Started)
	return rep, nil
}

// check checks the options and fills in the defaults.
func (o *Options) check() error {
	if o.Kernel == nil {
		return errors.New("bench: no kernel (oemact kernel fetch, or make kernel)")
	}
	if o.Agent == "" {
		return errors.New("bench: no agent binary (make build makes bin/oemact-agent)")
	}
	if o.Dir == "" || o.Repo == "" {
		return errors.New("bench: Options.Dir and Options.Repo are required")
	}
	if o.Runs <= 0 {
		o.Runs = DefaultRuns
	}
	if len(o.Kinds) == 0 {
		o.Kinds = []Kind{Naive, Floor, Verdict}
	}
	for _, w := range o.TryAppend {
		o.Kinds = append(o.Kinds, Kind(string(Floor)+"+"+w))
	}
	for _, a := range o.TryQEMU {
		o.Kinds = append(o.Kinds, Kind(qemuVariant+a))
	}
	if o.Timeout <= 0 {
		o.Timeout = runner.DefaultBootTimeout
	}
	if o.Jobs < 1 {
		o.Jobs = 1
	}
	if o.NaiveKernel == nil {
		o.NaiveKernel = o.Kernel
	}
	return nil
}

// newReport starts the report: the machine, the kernels, the agent binary.
func newReport(o *Options) (*Report, error) {
	rep := &Report{Started: time.Now(), CPUs: runtime.NumCPU(), Kernel: o.Kernel.Vmlinuz, Agent: o.Agent,
		Runs: o.Runs, Kinds: o.Kinds, Command: map[Kind]string{}, Stats: map[Kind]Stats{}}
	rep.Load[0] = ReadLoadAvg()
	if o.Kernel.Release != "" {
		rep.Kernel = o.Kernel.Release
	}
	if o.NaiveKernel.Vmlinuz != o.Kernel.Vmlinuz {
		rep.NaiveKernel = o.NaiveKernel.Vmlinuz
		if o.NaiveKernel.Release != "" {
			rep.NaiveKernel = o.NaiveKernel.Release
		}
	}
	st, err := os.Stat(o.Agent)
	if err != nil {
		return nil, fmt.Errorf("bench: agent: %w", err)
	}
	rep.AgentMB = float64(st.Size()) / 1e6
	return rep, nil
}

// machinesFor makes the machine of each kind but the verdict's (the runner boots that one).
func machinesFor(o Options, warm *verdictBoot, dir string, rep *Report) (map[Kind]*machine, error) {
	machines := map[Kind]*machine{}
	for i, k := range o.Kinds {
		// Short folder names: the floor's unix sockets live there (108 bytes at most).
		floorDir := filepath.Join(dir, fmt.Sprintf("floor-%d", i))
		var m *machine
		var err error
		switch {
		case k == Naive:
			m, err = naiveMachine(o, filepath.Join(dir, "naive"))
		case strings.HasPrefix(string(k), qemuVariant):
			m, err = floorMachine(o, warm, floorDir, "", strings.Fields(strings.TrimPrefix(string(k), qemuVariant)))
		case k == Floor || strings.HasPrefix(string(k), string(Floor)+"+"):
			m, err = floorMachine(o, warm, floorDir, strings.TrimPrefix(strings.TrimPrefix(string(k), string(Floor)), "+"), nil)
		case k == Verdict:
			continue
		default:
			err = fmt.Errorf("bench: unknown kind %q", k)
		}
		if err != nil {
			return nil, err
		}
		machines[k] = m
		rep.Command[k] = m.command()
	}
	rep.Command[Verdict] = warm.command
	return machines, nil
}

// runRounds boots every kind once a round, o.Runs rounds, and sums up the samples.
func runRounds(ctx context.Context, o Options, verdict *verdict, machines map[Kind]*machine, rep *Report, logf func(string, ...any)) error {
	steps := map[string][]time.Duration{}
	for i := 0; i < o.Runs; i++ {
		// Rotate the order each round, so that no kind always follows the same one.
		for j := range o.Kinds {
			k := o.Kinds[(i+j)%len(o.Kinds)]
			var s Sample
			if k == Verdict {
				v, err := verdict.boot(ctx)
				if err != nil {
					return err
				}
				s = Sample{Kind: k, Wall: v.wall, Guest: v.guest}
				if v.guest != nil {
					for _, st := range v.guest.Steps {
						steps[st.Name] = append(steps[st.Name], st.Took)
					}
				}
			} else {
				wall, err := machines[k].boot(ctx, o.Timeout)
				if err != nil {
					return err
				}
				s = Sample{Kind: k, Wall: wall}
				if g, err := ReadPowerOffTimes(filepath.Join(machines[k].dir, machines[k].serial)); err == nil {
					s.Guest = g
				}
			}
			rep.Samples = append(rep.Samples, s)
			logf("%-3s run %2d: %s", k, i+1, s.Wall.Round(time.Millisecond))
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
	for _, k := range o.Kinds {
		var walls []time.Duration
		for _, s := range rep.Samples {
			if s.Kind == k {
				walls = append(walls, s.Wall)
			}
		}
		rep.Stats[k] = Summarize(walls)
	}
	if len(steps) > 0 {
		rep.Steps = map[string]Stats{}
		for name, d := range steps {
			rep.Steps[name] = Summarize(d)
		}
	}
	return nil
}

// runMatrix runs every scenario of the default matrix once through the runner.
func runMatrix(ctx context.Context, o Options, dir string) (*MatrixResult, error) {
	files, err := filepath.Glob(filepath.Join(o.Repo, ScenarioDir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	var scs []*scenario.Scenario
	for _, f := range files {
		sc, err := scenario.Load(f)
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		scs = append(scs, sc)
	}
	if len(scs) == 0 {
		return nil, fmt.Errorf("bench: no scenarios in %s", filepath.Join(o.Repo, ScenarioDir))
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	r, err := runner.Execute(ctx, scs, runner.Options{Jobs: o.Jobs, Kernel: o.Kernel, Agent: o.Agent, Artifacts: dir,
		Timeout: o.Timeout, Accel: o.Accel})
	if err != nil {
		return nil, fmt.Errorf("bench: matrix: %w", err)
	}
	m := &MatrixResult{Scenarios: len(r.Scenarios), Passed: r.Count(runner.Passed), Boots: r.Boots, Jobs: r.Jobs,
		Wall: r.Duration, BootsPerMinute: r.BootsPerMinute()}
	for _, sc := range r.Scenarios {
		if sc.Outcome != runner.Passed {
			m.Failures = append(m.Failures, fmt.Sprintf("%s: %s%s", sc.Name, sc.Outcome, firstProblem(sc)))
		}
	}
	return m, nil
}

// firstProblem says why a scenario did not pass: its error or its first bad step.
func firstProblem(sc *runner.Scenario) string {
	if sc.Error != "" {
		return ": " + sc.Error
	}
	for _, st := range sc.Steps {
		if st.Outcome == runner.Passed {
			continue
		}
		if st.Error != "" {
			return fmt.Sprintf(" (step %d: %s)", st.Index, firstLine(st.Error))
		}
		for _, c := range st.Checks {
			if !c.OK {
				return fmt.Sprintf(" (step %d: %s: want %s, got %s)", st.Index, c.Name, c.Want, c.Got)
			}
		}
	}
	return ""
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
