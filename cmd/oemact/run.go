package main

import (
	"context"
	"fmt"
	goio "io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/oemact/oemact/harness/kernel"
	"github.com/oemact/oemact/harness/qemu"
	"github.com/oemact/oemact/harness/report"
	"github.com/oemact/oemact/harness/runner"
	"github.com/oemact/oemact/harness/scenario"
	"github.com/oemact/oemact/harness/shard"
	"github.com/oemact/oemact/oemact/service"
)

func init() {
	register(&command{
		name:    "run",
		summary: "run scenarios: boot QEMU guests carrying the firmware tables and check what activation did",
		run:     runRun,
	})
}

func runRun(io stdio, args []string) int {
	fs := newFlagSet(io, "run", "[-j N|auto] [--junit FILE] [--json FILE] [--html FILE] [--list] [--run REGEXP] [--shard I/N [--durations FILE]] [--keep-artifacts] [--artifacts DIR] [--catalog FILE]... PATH...\n\n"+
		"PATH is a scenario file or a folder of them (*.yaml). Exit 0 when every expectation held, 1 when one\n"+
		"failed, 2 on an infrastructure error (QEMU died, a guest hung) or a usage error.\n")
	jobs := fs.StringP("jobs", "j", "1", "scenarios to run at once: a number, or auto (the CPUs this process may use)")
	junit := fs.String("junit", "", "write a JUnit XML report to FILE (- for stdout, after the summary)")
	jsonOut := fs.String("json", "", "write the results as JSON to FILE (- for stdout, after the summary)")
	html := fs.String("html", "", "write an HTML report (scenario matrix, licence timelines) to FILE (- for stdout)")
	keep := fs.Bool("keep-artifacts", false, "keep the artifacts of passed scenarios too (failed ones are always kept)")
	artifacts := fs.String("artifacts", "", "artifacts folder (default: a new folder under the cache, printed at the end)")
	kernelPath := fs.String("kernel", "", "guest kernel (vmlinuz or a fetched kernel folder); default OEMACT_KERNEL, then the cache")
	serviceURL := fs.String("service", "", "use a running 'oemact serve --trust-client-time' at URL (http://HOST:PORT or unix:PATH) instead of an in-process service")
	serviceToken := fs.String("service-token-file", "", "file holding the token of the running service (its --token-file)")
	timeout := fs.Duration("timeout", runner.DefaultBootTimeout, "bound on each boot")
	accel := fs.String("accel", "", "tcg or kvm (default: probe KVM once, fall back to TCG)")
	catFiles := fs.StringArray("catalog", nil, "key catalog (YAML) to add to the built-in TEST catalog, before each scenario's own catalog: (repeatable)")
	confine := fs.Bool("confine", os.Getenv("CI") == "true", "keep the files scenarios name (profile:, board:, catalog:, and the files those profiles name) inside the current folder's tree, symbolic links resolved; on by default when CI=true, for scenario files from pull requests")
	list := fs.Bool("list", false, "print the scenarios a run would execute (after --run and --shard) and their steps' test names, and run nothing")
	runRE := fs.String("run", "", "run only the scenarios whose name matches this regular expression")
	shardSpec := fs.String("shard", "", "run shard I of N (I/N, such as 2/3): a split of the scenarios that is the same on every machine, "+
		"for a CI job matrix; merge the shards' --json reports with 'oemact report merge'")
	durations := fs.String("durations", "", "with --shard: balance the shards by the scenario wall times in an earlier run's JSON report "+
		"(default: by boot count)")
	reboot := fs.Bool("reboot-every-step", false, "boot a machine afresh at every boot step (default: a machine whose next step changes only the clock stays running)")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(io.stderr, "oemact run: "+format+"\n", a...)
		return exitUsage
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	if reportsToStdout(*jsonOut, *junit, *html) > 1 {
		return fail("only one of --json, --junit and --html can be - (stdout)")
	}
	n, err := parseJobs(*jobs)
	if err != nil {
		return fail("%v", err)
	}
	switch *accel {
	case "", "tcg", "kvm":
	default:
		return fail("--accel %q: want tcg or kvm", *accel)
	}
	var token string
	if *serviceToken != "" {
		if *serviceURL == "" {
			return fail("--service-token-file needs --service")
		}
		var err error
		if token, err = service.ReadTokenFile(*serviceToken); err != nil {
			return fail("--service-token-file: %v", err)
		}
	}
	files := report.Files{JSON: *jsonOut, JUnit: *junit, HTML: *html}
	started := time.Now()
	// Stopped before any boot: the reports asked for are still written, saying why, so that CI
	// never finds no test results.
	var sel *shard.Selection
	stopped := func(scs []*scenario.Scenario, err error) int {
		fmt.Fprintf(io.stderr, "oemact run: %v\n", err)
		r := runner.NotStarted(started, scs, err)
		if sel != nil {
			sel.Label(r) // the shard's own scenarios: it cannot fail
		}
		if werr := writeReports(io, files, r); werr != nil {
			fmt.Fprintf(io.stderr, "oemact run: %v\n", werr)
		}
		return exitUsage
	}
	opts := scenario.Options{Catalogs: *catFiles}
	if *confine {
		wd, err := os.Getwd()
		if err != nil {
			return fail("--confine: %v", err)
		}
		opts.Confine = wd
	}
	scs, err := loadScenarios(fs.Args(), opts)
	if err != nil {
		return stopped(nil, err)
	}
	s, err := shard.Select(scs, shard.Filter{Run: *runRE, Shard: *shardSpec, Durations: *durations})
	if err != nil {
		return stopped(nil, err)
	}
	if *list {
		if err := s.WriteList(io.stdout); err != nil {
			return fail("%v", err)
		}
		return exitOK
	}
	sel, scs = s, s.Scenarios
	cache, err := kernel.CacheDir()
	if err != nil {
		return stopped(scs, err)
	}
	k, err := kernel.Locate(cache, *kernelPath)
	if err != nil {
		return stopped(scs, err)
	}
	if note := kernel.CloudNote(cache, k); note != "" {
		fmt.Fprintf(io.stderr, "oemact run: %s\n", note)
	}
	chosen := *artifacts != ""
	if !chosen {
		if *artifacts, err = runner.NewRunDir(filepath.Join(cache, "runs"), time.Now()); err != nil {
			return stopped(scs, err)
		}
	}
	ctx, interrupt, stop := runner.NotifyInterrupt(context.Background())
	defer stop()
	progress := newProgress(io)
	res, err := runner.Execute(ctx, scs, runner.Options{Jobs: n, Kernel: k, Artifacts: *artifacts, KeepArtifacts: *keep, RebootEveryStep: *reboot,
		Timeout: *timeout, ServiceURL: *serviceURL, ServiceToken: token, Observer: progress, Accel: qemu.Accel(*accel),
		InitramfsDir: filepath.Join(cache, "initramfs")})
	progress.Finish()
	if err != nil {
		return interrupt.ExitCode(stopped(scs, err))
	}
	if err := sel.Label(res); err != nil {
		return fail("%v", err)
	}
	if err := report.WriteSummary(io.stdout, res); err != nil {
		return fail("%v", err)
	}
	if err := writeReports(io, files, res); err != nil {
		fmt.Fprintf(io.stderr, "oemact run: %v\n", err)
		return exitUsage
	}
	showArtifacts(io, res, *artifacts, chosen)
	return interrupt.ExitCode(res.ExitCode())
}

// newProgress prints a run's progress on stdout: live on a terminal, a line per step elsewhere.
func newProgress(io stdio) *report.Progress {
	if f, ok := io.stdout.(*os.File); ok {
		return report.NewProgressFor(f)
	}
	return report.NewProgress(io.stdout, false)
}

// showArtifacts names the artifacts folder when it holds something or was chosen, and removes it
// when it is empty.
func showArtifacts(io stdio, res *runner.Run, dir string, chosen bool) {
	kept := false
	for _, sc := range res.Scenarios {
		kept = kept || sc.Artifacts != ""
	}
	if kept || chosen {
		fmt.Fprintf(io.stdout, "artifacts: %s\n", dir)
	} else {
		os.Remove(dir) // empty: every scenario passed and cleaned up after itself
	}
}

// reportsToStdout counts the report files named "-".
func reportsToStdout(paths ...string) int {
	n := 0
	for _, p := range paths {
		if p == stdoutName {
			n++
		}
	}
	return n
}

// writeReports writes the report named "-" to stdout and the others to their files.
func writeReports(io stdio, files report.Files, res *runner.Run) error {
	if err := writeReportToStdout(io, &files, res); err != nil {
		return err
	}
	return files.Write(res)
}

// writeReportToStdout writes the report named "-" to stdout and takes it out of files.
func writeReportToStdout(io stdio, files *report.Files, res *runner.Run) error {
	for _, r := range []struct {
		path  *string
		write func(goio.Writer, *runner.Run) error
	}{{&files.JSON, report.WriteJSON}, {&files.JUnit, report.WriteJUnit}, {&files.HTML, report.WriteHTML}} {
		if *r.path == stdoutName {
			*r.path = ""
			return r.write(io.stdout, res)
		}
	}
	return nil
}

// parseJobs reads -j: a positive number, or auto.
func parseJobs(s string) (int, error) {
	if s == "auto" {
		return runner.AutoJobs(), nil
	}
	if v, err := strconv.Atoi(s); err == nil && v >= 1 {
		return v, nil
	}
	return 0, fmt.Errorf("-j %q: want a positive number or auto", s)
}

// loadScenarios loads the scenario files and folders of the command line, in order.
func loadScenarios(args []string, opts scenario.Options) ([]*scenario.Scenario, error) {
	var scs []*scenario.Scenario
	for _, path := range args {
		paths, err := scenarioFiles(path)
		if err != nil {
			return nil, err
		}
		for _, f := range paths {
			sc, err := scenario.LoadWith(f, opts)
			if err != nil {
				return nil, err
			}
			scs = append(scs, sc)
		}
	}
	return scs, nil
}

// scenarioFiles expands a folder into its *.yaml files, sorted.
func scenarioFiles(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	files, err := filepath.Glob(filepath.Join(path, "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s holds no scenario files (*.yaml)", path)
	}
	return files, nil
}
