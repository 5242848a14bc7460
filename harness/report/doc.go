// Package report renders the result of `oemact run` (a runner.Run): live progress on a terminal or
// one line per step in CI, the closing summary, and the JSON, JUnit XML and HTML reports; it reads
// JSON reports back and merges the reports of a split run's shards into one.
//
// It only presents results; it runs nothing and decides no verdict (a merge adds none: it reports
// missing or short shards as errors). Step numbers shown to people
// are 1-based (Step.Index + 1, as scenario.Step.Index is 0-based); product keys are not in the
// model and so never in a report.
package report
