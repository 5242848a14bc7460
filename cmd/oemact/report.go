package main

import (
	"fmt"
	"path/filepath"

	"github.com/oemact/oemact/harness/report"
)

func init() {
	register(&command{name: "report", summary: "merge the JSON reports of a split run (run --shard I/N) into one set of reports",
		subs: []string{"merge"}, run: runReport})
}

const (
	reportMergeArgs = "-o DIR [--junit FILE] [--html FILE] [--json FILE] REPORT.json..."
	reportUsage     = "usage: oemact report merge " + reportMergeArgs
)

func runReport(io stdio, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(io.stderr, reportUsage)
		return exitUsage
	}
	switch args[0] {
	case "merge":
		return runReportMerge(io, args[1:])
	case "-h", "--help", "help":
		return helpSubs(io, commands["report"])
	}
	fmt.Fprintf(io.stderr, "oemact report: unknown subcommand %q\n%s\n", args[0], reportUsage)
	return exitUsage
}

func runReportMerge(io stdio, args []string) int {
	fs := newFlagSet(io, "report merge", reportMergeArgs+`

Read the JSON reports of the shards of one run (oemact run --shard I/N --json FILE) and write the
reports an unsharded run would have written: DIR/report.json, DIR/junit.xml and DIR/report.html
(or the files --json, --junit and --html name), with each shard's wall time. A shard with no
report, a report that cannot be read, or a shard that stopped before its scenarios ran is an
error in every report, and the exit code is 2. Exit 0 when every expectation held, 1 when one
failed.
`)
	dir := fs.StringP("output", "o", "", "folder for the merged reports (report.json, junit.xml, report.html)")
	junit := fs.String("junit", "", "write the JUnit XML report to FILE instead of DIR/junit.xml")
	html := fs.String("html", "", "write the HTML report to FILE instead of DIR/report.html")
	jsonOut := fs.String("json", "", "write the JSON report to FILE instead of DIR/report.json")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if *dir == "" || fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	files := report.Files{JSON: *jsonOut, JUnit: *junit, HTML: *html}
	for _, f := range []struct {
		path *string
		name string
	}{{&files.JSON, "report.json"}, {&files.JUnit, "junit.xml"}, {&files.HTML, "report.html"}} {
		if *f.path == "" {
			*f.path = filepath.Join(*dir, f.name)
		}
	}
	in := report.ReadShardReports(fs.Args())
	for _, r := range in {
		if r.Err != nil {
			fmt.Fprintf(io.stderr, "oemact report merge: %v\n", r.Err)
		}
	}
	merged := report.Merge(in)
	if err := report.WriteSummary(io.stdout, merged); err != nil {
		fmt.Fprintf(io.stderr, "oemact report merge: %v\n", err)
		return exitUsage
	}
	if err := files.Write(merged); err != nil {
		fmt.Fprintf(io.stderr, "oemact report merge: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(io.stdout, "reports: %s, %s, %s\n", files.JSON, files.JUnit, files.HTML)
	return merged.ExitCode()
}
