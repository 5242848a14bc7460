package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/oemact/oemact/harness/kernel"
	"github.com/oemact/oemact/harness/report"
	"github.com/oemact/oemact/harness/runner"
	"github.com/oemact/oemact/harness/scenario"
	"github.com/oemact/oemact/harness/shard"
)

// scenarioVerb is what run and simulate share: the scenario files and their selection, how many
// run at once, the reports, the artifacts folder.
type scenarioVerb struct {
	name                      string
	jobs, junit, jsonOut, htm *string
	keep                      *bool
	artifacts                 *string
	catFiles                  *[]string
	confine, reboot           *bool
	list                      *bool
	runRE                     *string
	shardSpec, durations      *string
}

func addScenarioFlags(fs *flagSet, name string) *scenarioVerb {
	return &scenarioVerb{name: name,
		jobs:      fs.StringP("jobs", "j", "1", "scenarios to run at once: a number, or auto (the CPUs this process may use)"),
		junit:     fs.String("junit", "", "write a JUnit XML report to FILE (- for stdout, after the summary)"),
		jsonOut:   fs.String("json", "", "write the results as JSON to FILE (- for stdout, after the summary)"),
		htm:       fs.String("html", "", "write an HTML report (scenario matrix, licence timelines) to FILE (- for stdout)"),
		keep:      fs.Bool("keep-artifacts", false, "keep the artifacts of passed scenarios too (failed ones are always kept)"),
		artifacts: fs.String("artifacts", "", "artifacts folder (default: a new folder under the cache, printed at the end)"),
		catFiles:  fs.StringArray("catalog", nil, "key catalog (YAML) to add to the built-in TEST catalog, before each scenario's own catalog: (repeatable)"),
		confine:   fs.Bool("confine", os.Getenv("CI") == "true", "keep the files scenarios name (profile:, board:, catalog:, and the files those profiles name) inside the current folder's tree, symbolic links resolved; on by default when CI=true, for scenario files from pull requests"),
		list:      fs.Bool("list", false, "print the scenarios a run would execute (after --run and --shard) and their steps' test names, and run nothing"),
		runRE:     fs.String("run", "", "run only the scenarios whose name matches this regular expression"),
		shardSpec: fs.String("shard", "", "run shard I of N (I/N, such as 2/3): a split of the scenarios that is the same on every machine, "+
			"for a CI job matrix; merge the shards' --json reports with 'oemact report merge'"),
		durations: fs.String("durations", "", "with --shard: balance the shards by the scenario wall times in an earlier run's JSON report "+
			"(default: by boot count)"),
		reboot: fs.Bool("reboot-every-step", false, "boot a machine afresh at every boot step (default: a machine whose next step changes only the clock stays running)"),
	}
}

func (v *scenarioVerb) fail(io stdio, format string, a ...any) int {
	return fail(io, v.name, format, a...)
}

// run loads and selects the scenarios, lets engine fill in the options of the verb's engine,
// runs them, and prints the progress, the summary and the reports; after, when set, prints more
// from the result.
func (v *scenarioVerb) run(io stdio, fs *flagSet, engine func(cache string, o *runner.Options) error, after func(*runner.Run) error) int {
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	if reportsToStdout(*v.jsonOut, *v.junit, *v.htm) > 1 {
		return v.fail(io, "only one of --json, --junit and --html can be - (stdout)")
	}
	n, err := parseJobs(*v.jobs)
	if err != nil {
		return v.fail(io, "%v", err)
	}
	files := report.Files{JSON: *v.jsonOut, JUnit: *v.junit, HTML: *v.htm}
	started := time.Now()
	// Stopped before any boot: the reports asked for are still written, saying why, so that CI
	// never finds no test results.
	var sel *shard.Selection
	stopped := func(scs []*scenario.Scenario, err error) int {
		fmt.Fprintf(io.stderr, "oemact %s: %v\n", v.name, err)
		r := runner.NotStarted(started, scs, err)
		if sel != nil {
			sel.Label(r) // the shard's own scenarios: it cannot fail
		}
		if werr := writeReports(io, files, r); werr != nil {
			fmt.Fprintf(io.stderr, "oemact %s: %v\n", v.name, werr)
		}
		return exitUsage
	}
	opts := scenario.Options{Catalogs: *v.catFiles}
	if *v.confine {
		wd, err := os.Getwd()
		if err != nil {
			return v.fail(io, "--confine: %v", err)
		}
		opts.Confine = wd
	}
	scs, err := loadScenarios(fs.Args(), opts, io.stderr, v.name)
	if err != nil {
		return stopped(nil, err)
	}
	s, err := shard.Select(scs, shard.Filter{Run: *v.runRE, Shard: *v.shardSpec, Durations: *v.durations})
	if err != nil {
		return stopped(nil, err)
	}
	if *v.list {
		if err := s.WriteList(io.stdout); err != nil {
			return v.fail(io, "%v", err)
		}
		return exitOK
	}
	sel, scs = s, s.Scenarios
	cache, err := kernel.CacheDir()
	if err != nil {
		return stopped(scs, err)
	}
	o := runner.Options{Jobs: n, KeepArtifacts: *v.keep, RebootEveryStep: *v.reboot}
	if err := engine(cache, &o); err != nil {
		return stopped(scs, err)
	}
	chosen := *v.artifacts != ""
	if o.Artifacts = *v.artifacts; !chosen {
		if o.Artifacts, err = runner.NewRunDir(filepath.Join(cache, "runs"), time.Now()); err != nil {
			return stopped(scs, err)
		}
	}
	ctx, interrupt, stop := runner.NotifyInterrupt(context.Background())
	defer stop()
	progress := newProgress(io)
	o.Observer = progress
	res, err := runner.Execute(ctx, scs, o)
	progress.Finish()
	if err != nil {
		return interrupt.ExitCode(stopped(scs, err))
	}
	if err := sel.Label(res); err != nil {
		return v.fail(io, "%v", err)
	}
	if err := report.WriteSummary(io.stdout, res); err != nil {
		return v.fail(io, "%v", err)
	}
	if after != nil {
		if err := after(res); err != nil {
			return v.fail(io, "%v", err)
		}
	}
	if err := writeReports(io, files, res); err != nil {
		return v.fail(io, "%v", err)
	}
	showArtifacts(io, res, o.Artifacts, chosen)
	return interrupt.ExitCode(res.ExitCode())
}
