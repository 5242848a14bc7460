package main

import (
	"bytes"
	"fmt"

	"github.com/oemact/oemact/harness/engine/inproc"
	"github.com/oemact/oemact/harness/report"
	"github.com/oemact/oemact/harness/runner"
)

func init() {
	register(&command{name: "simulate", summary: "run scenarios in-process, with no VM: the same agent code and rules as run, in milliseconds", run: runSimulate})
}

func runSimulate(io stdio, args []string) int {
	fs := newFlagSet(io, "simulate", "[-j N|auto] [--svg FILE] [--all] [--junit FILE] [--json FILE] [--html FILE] [--catalog FILE]... PATH...\n\n"+
		"PATH is a scenario file or a folder of them (*.yaml), as for 'oemact run'. The machines run on the\n"+
		"in-process engine: the guest agent's own code on the tables and devices QEMU would show, with the\n"+
		"same activation service, expectations and reports, and no kernel or VM. After the summary it prints\n"+
		"each machine's licence timeline. Exit codes as for run.\n")
	v := addScenarioFlags(fs, "simulate")
	svg := fs.String("svg", "", "draw every machine's licence timeline into this SVG file (- for stdout)")
	all := fs.Bool("all", false, "print every licence event instead of folding runs of reminders")
	quiet := fs.Bool("no-timeline", false, "do not print the machines' timelines after the summary")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if *svg == stdoutName && reportsToStdout(*v.jsonOut, *v.junit, *v.htm) > 0 {
		return v.fail(io, "only one of --svg, --json, --junit and --html can be - (stdout)")
	}
	return v.run(io, fs, func(_ string, o *runner.Options) error {
		o.Engine = inproc.Engine{}
		return nil
	}, func(res *runner.Run) error {
		if !*quiet {
			if err := report.WriteTimelines(io.stdout, res, *all); err != nil {
				return err
			}
		}
		if *svg == "" {
			return nil
		}
		var b bytes.Buffer
		if err := report.WriteTimelineSVG(&b, res); err != nil {
			return fmt.Errorf("--svg: %w", err)
		}
		return writeOutput(io, *svg, b.Bytes(), 0o644)
	})
}
