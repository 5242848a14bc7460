package report

import (
	"encoding/json"
	"io"
	"math"

	"github.com/oemact/oemact/harness/runner"
)

// jsonRun is the Run with its tallies, so that a machine reading the report need not recount.
type jsonRun struct {
	*runner.Run
	Summary jsonSummary `json:"summary"`
}

type jsonSummary struct {
	Passed         int     `json:"passed"`
	Failed         int     `json:"failed"`
	Error          int     `json:"error"`
	BootsPerMinute float64 `json:"boots_per_minute"` // to two decimals
	ExitCode       int     `json:"exit_code"`
}

// WriteJSON writes the Run with the snake_case field names of its struct tags, plus a "summary"
// object (scenarios passed, failed and in error, boots per minute, exit code). The model holds no
// product keys (licence snapshots carry the last five characters only), so neither does this.
func WriteJSON(w io.Writer, r *runner.Run) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(jsonRun{Run: r, Summary: jsonSummary{
		Passed: r.Count(runner.Passed), Failed: r.Count(runner.Failed), Error: r.Count(runner.Error),
		BootsPerMinute: math.Round(r.BootsPerMinute()*100) / 100, ExitCode: r.ExitCode(),
	}})
}
