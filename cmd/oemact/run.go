package main

import (
	"errors"
	"fmt"
	goio "io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/oemact/oemact/harness/engine/qemuvm"
	"github.com/oemact/oemact/harness/kernel"
	"github.com/oemact/oemact/harness/qemu"
	"github.com/oemact/oemact/harness/report"
	"github.com/oemact/oemact/harness/runner"
	"github.com/oemact/oemact/harness/scenario"
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
	v := addScenarioFlags(fs, "run")
	kernelPath := fs.String("kernel", "", "guest kernel (vmlinuz or a fetched kernel folder); default OEMACT_KERNEL, then the cache")
	serviceURL := fs.String("service", "", "use a running 'oemact serve --trust-client-time' at URL (http://HOST:PORT or unix:PATH) instead of an in-process service")
	serviceToken := fs.String("service-token-file", "", "file holding the token of the running service (its --token-file)")
	timeout := fs.Duration("timeout", runner.DefaultBootTimeout, "bound on each boot, and on each probe of an OS image")
	agentTimeout := fs.Duration("agent-timeout", qemuvm.DefaultAgentTimeout, "bound on an OS image's boot, from QEMU's start to its guest agent's first answer")
	accel := fs.String("accel", "", "tcg or kvm (default: probe KVM once, fall back to TCG)")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	switch *accel {
	case "", "tcg", "kvm":
	default:
		return v.fail(io, "--accel %q: want tcg or kvm", *accel)
	}
	var token string
	if *serviceToken != "" {
		if *serviceURL == "" {
			return v.fail(io, "--service-token-file needs --service")
		}
		var err error
		if token, err = service.ReadTokenFile(*serviceToken); err != nil {
			return v.fail(io, "--service-token-file: %v", err)
		}
	}
	return v.run(io, fs, func(cache string, o *runner.Options) error {
		k, err := kernel.Locate(cache, *kernelPath)
		if err != nil {
			return err
		}
		if note := kernel.CloudNote(cache, k); note != "" {
			fmt.Fprintf(io.stderr, "oemact run: %s\n", note)
		}
		o.Kernel, o.Timeout, o.AgentTimeout, o.ServiceURL, o.ServiceToken = k, *timeout, *agentTimeout, *serviceURL, token
		o.Accel, o.InitramfsDir = qemu.Accel(*accel), filepath.Join(cache, "initramfs")
		return nil
	}, nil)
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

// loadScenarios loads the scenario files and folders of the command line, in order. A file that
// does not load (or a path that is not there) is a scenario of its own that reports the error
// (scenario.Unloadable), said on warn too, so that the others still run; a folder with no
// scenario files is an error.
func loadScenarios(args []string, opts scenario.Options, warn goio.Writer, verb string) ([]*scenario.Scenario, error) {
	var scs []*scenario.Scenario
	for _, path := range args {
		paths, err := scenarioFiles(path)
		if errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(warn, "oemact %s: %v; the other scenarios still run\n", verb, err)
			scs = append(scs, scenario.Unloadable(path, err))
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, f := range paths {
			sc, err := scenario.LoadWith(f, opts)
			if err != nil {
				fmt.Fprintf(warn, "oemact %s: %v; the other scenarios still run\n", verb, err)
				sc = scenario.Unloadable(f, err)
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
