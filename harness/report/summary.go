package report

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/oemact/oemact/harness/runner"
)

// WriteSummary prints the closing summary of a run: a table of scenarios, the totals (boots per
// minute, wall time, accelerator), then every failed check and every infrastructure error with the
// QEMU command line that reproduces it and the serial log. The output depends only on the Run.
func WriteSummary(w io.Writer, r *runner.Run) error {
	var b strings.Builder
	t := table{right: []bool{false, false, true, true, true, true, true, true, true}}
	t.add("SCENARIO", "OUTCOME", "STEPS", "PASSED", "FAILED", "ERROR", "SKIPPED", "BOOTS", "WALL")
	for _, sc := range r.Scenarios {
		c := countSteps(sc)
		t.add(sc.Name, string(outcome(sc.Outcome)), itoa(len(sc.Steps)), itoa(c.passed), itoa(c.failed),
			itoa(c.errors), itoa(c.skipped), itoa(c.boots), duration(sc.Duration))
	}
	t.write(&b)

	b.WriteString("\n")
	fmt.Fprintf(&b, "scenarios    %d: %d passed, %d failed, %d error\n", len(r.Scenarios),
		r.Count(runner.Passed), r.Count(runner.Failed), r.Count(runner.Error))
	fmt.Fprintf(&b, "boots        %d, %.1f per minute", r.Boots, r.BootsPerMinute())
	if r.Resumed > 0 {
		fmt.Fprintf(&b, "; %s without a reboot (only the clock changed)", plural(r.Resumed, "step"))
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "wall time    %s with %s\n", duration(r.Duration), plural(r.Jobs, "job"))
	fmt.Fprintf(&b, "accelerator  %s\n", orNone(r.Accel))
	if r.Agent != "" {
		fmt.Fprintf(&b, "guest /init  %s\n", r.Agent)
	}
	fmt.Fprintf(&b, "exit code    %d (%s)\n", r.ExitCode(), exitWords(r.ExitCode()))
	writeShards(&b, r)

	var failed, errs strings.Builder
	nFailed, nErr := 0, 0
	for _, sc := range r.Scenarios {
		stepErr := false
		for _, s := range sc.Steps {
			switch outcome(s.Outcome) {
			case runner.Failed:
				nFailed++
				fmt.Fprintf(&failed, "  %s step %d (%s): %s\n", sc.Name, stepNumber(s), where(sc, s), s.Description)
				for _, c := range failedChecks(s) {
					fmt.Fprintf(&failed, "    %s\n", checkText(c))
				}
				if s.Error != "" {
					fmt.Fprintf(&failed, "    %s\n", s.Error)
				}
				reproduce(&failed, sc, s)
			case runner.Error:
				nErr++
				stepErr = true
				fmt.Fprintf(&errs, "  %s step %d (%s): %s\n", sc.Name, stepNumber(s), where(sc, s), s.Description)
				fmt.Fprintf(&errs, "    error: %s\n", orNone(stepError(sc, s)))
				reproduce(&errs, sc, s)
			}
		}
		if outcome(sc.Outcome) == runner.Error && !stepErr {
			// The scenario stopped before or between steps (a profile that would not synthesize, a
			// service that would not start): no step carries it.
			nErr++
			fmt.Fprintf(&errs, "  %s (%s)\n", sc.Name, sc.File)
			fmt.Fprintf(&errs, "    error: %s\n", orNone(sc.Error))
			if sc.Artifacts != "" {
				fmt.Fprintf(&errs, "    artifacts: %s\n", sc.Artifacts)
			}
		}
	}
	if r.Error != "" {
		nErr++
		fmt.Fprintf(&errs, "  the run stopped before it booted a machine\n    error: %s\n", r.Error)
	}
	for _, sh := range r.Shards {
		if sh.Error != "" {
			nErr++
			fmt.Fprintf(&errs, "  %s", strings.ReplaceAll(shardErrorBody(sh), "\n  ", "\n    "))
		}
	}
	if nFailed > 0 {
		fmt.Fprintf(&b, "\nFailed checks (%s):\n%s", plural(nFailed, "step"), failed.String())
	}
	if nErr > 0 {
		fmt.Fprintf(&b, "\nInfrastructure errors (%d), not test verdicts:\n%s", nErr, errs.String())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// reproduce prints how to boot the step again and where its serial log is kept.
func reproduce(b *strings.Builder, sc *runner.Scenario, s *runner.Step) {
	if s.Boot == nil {
		if sc.Artifacts != "" {
			fmt.Fprintf(b, "    artifacts: %s\n", sc.Artifacts)
		}
		return
	}
	if s.Boot.Command != "" {
		fmt.Fprintf(b, "    reproduce: %s\n", s.Boot.Command)
	}
	if s.Boot.SerialLog != "" {
		fmt.Fprintf(b, "    serial log: %s\n", s.Boot.SerialLog)
	}
}

// writeShards lists a merged run's shards with their own wall times, and how evenly the split
// spread the work: the longest shard's wall time over the shortest's.
func writeShards(b *strings.Builder, r *runner.Run) {
	if len(r.Shards) == 0 {
		return
	}
	b.WriteString("\n")
	t := table{right: []bool{false, true, true, true, true, false}}
	t.add("SHARD", "GIVEN", "REPORTED", "BOOTS", "WALL", "")
	for _, s := range r.Shards {
		wall, boots := duration(s.Duration), itoa(s.Boots)
		problem := ""
		if s.Error != "" {
			problem = "error: see below"
			if s.Reported == 0 {
				wall, boots = "-", "-"
			}
		}
		t.add(shardName(s), itoa(s.Given), itoa(s.Reported), boots, wall, problem)
	}
	t.write(b)
	if hi, lo, ok := ShardBalance(r); ok {
		fmt.Fprintf(b, "shard balance  %.2f (longest %s, shortest %s)\n", float64(hi)/float64(lo), duration(hi), duration(lo))
	}
}

// ShardBalance is the longest and shortest wall time of a merged run's shards; ok is false when a
// shard has no report or no wall time (no balance to speak of).
func ShardBalance(r *runner.Run) (longest, shortest time.Duration, ok bool) {
	if len(r.Shards) == 0 {
		return 0, 0, false
	}
	for i, s := range r.Shards {
		if s.Error != "" && s.Reported == 0 || s.Duration <= 0 {
			return 0, 0, false
		}
		if i == 0 || s.Duration > longest {
			longest = s.Duration
		}
		if i == 0 || s.Duration < shortest {
			shortest = s.Duration
		}
	}
	return longest, shortest, true
}

func exitWords(code int) string {
	switch code {
	case 0:
		return "every expectation held"
	case 1:
		return "an expectation failed"
	}
	return "an infrastructure error stopped a scenario, a shard or the run"
}

func itoa(n int) string { return fmt.Sprint(n) }

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// table lays out columns two spaces apart, each left or right aligned. (text/tabwriter aligns
// every column the same way; names read best on the left, numbers on the right.)
type table struct {
	rows  [][]string
	right []bool
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(b *strings.Builder) {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for _, r := range t.rows {
		var line strings.Builder
		for i, c := range r {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i > 0 {
				line.WriteString("  ")
			}
			if i < len(t.right) && t.right[i] {
				line.WriteString(pad + c)
			} else {
				line.WriteString(c + pad)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteString("\n")
	}
}
