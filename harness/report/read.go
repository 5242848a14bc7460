package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/oemact/oemact/firmware/fileio"
	"github.com/oemact/oemact/harness/runner"
)

// maxJSONSize bounds a JSON report read back (256 MiB). The fixture run's report is 0.1 MB for
// 5 scenarios, so this holds thousands of scenarios.
var maxJSONSize int64 = 256 << 20

// FormatError is a JSON report that cannot be read back: the file, the byte offset where reading
// stopped (-1 when the problem is not at one place) or the field, and why.
type FormatError struct {
	File  string
	Off   int64
	Field string // JSON path, e.g. "scenarios[2].steps[0].kind"
	Msg   string
}

func (e *FormatError) Error() string {
	switch {
	case e.Field != "":
		return fmt.Sprintf("%s: %s: %s", e.File, e.Field, e.Msg)
	case e.Off >= 0:
		return fmt.Sprintf("%s: offset %d: %s", e.File, e.Off, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// ReadJSONFile reads a JSON report that WriteJSON wrote: a run, a shard of one, or a merge. The
// path must be a regular file of at most 256 MiB.
func ReadJSONFile(path string) (*runner.Run, error) {
	b, err := fileio.ReadFile(path, maxJSONSize)
	if err != nil {
		return nil, err
	}
	return decodeJSON(b, path)
}

// ReadJSON reads a JSON report from r; name is the file named in errors. It reads at most
// 256 MiB, refuses fields a report does not have and anything after the report, and
// checks what a merge relies on (names, outcomes, counts that cannot be negative, a shard's
// place within its split), so a file that is not a report is an error, never an empty run.
func ReadJSON(r io.Reader, name string) (*runner.Run, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxJSONSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(b)) > maxJSONSize {
		return nil, &FormatError{File: name, Off: maxJSONSize, Msg: fmt.Sprintf("larger than %d MiB: not a report", maxJSONSize>>20)}
	}
	return decodeJSON(b, name)
}

// decodeJSON decodes and checks a whole JSON report held in b (see ReadJSON); name is the file
// named in errors.
func decodeJSON(b []byte, name string) (*runner.Run, error) {
	run := &runner.Run{}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&jsonRun{Run: run}); err != nil {
		return nil, decodeError(name, int64(len(b)), err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &FormatError{File: name, Off: dec.InputOffset(), Msg: "more data after the report"}
	}
	if err := checkRun(run); err != nil {
		var fe *FormatError
		if errors.As(err, &fe) {
			fe.File = name
		}
		return nil, err
	}
	return run, nil
}

func decodeError(name string, size int64, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return &FormatError{File: name, Off: syn.Offset, Msg: "not JSON: " + syn.Error()}
	case errors.As(err, &typ):
		field := strings.TrimPrefix(typ.Field, "Run.")
		return &FormatError{File: name, Off: typ.Offset, Msg: fmt.Sprintf("%s: want %s, not a JSON %s", orNone(field), typ.Type, typ.Value)}
	case errors.Is(err, io.EOF):
		return &FormatError{File: name, Off: 0, Msg: "empty: not a report"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &FormatError{File: name, Off: size, Msg: "ends in the middle of the report"}
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if strings.HasPrefix(msg, "unknown field") {
		// The decoder does not say where; the field's name finds it.
		return &FormatError{File: name, Off: -1, Msg: msg + " (not a field of an oemact run report)"}
	}
	return &FormatError{File: name, Off: -1, Msg: msg}
}

var outcomes = map[runner.Outcome]bool{runner.Passed: true, runner.Failed: true, runner.Error: true, runner.Skipped: true}

// checkRun checks what the reports and a merge rely on.
func checkRun(r *runner.Run) error {
	bad := func(field, format string, a ...any) error {
		return &FormatError{Off: -1, Field: field, Msg: fmt.Sprintf(format, a...)}
	}
	if r.Started.IsZero() {
		return bad("started", "missing: not an oemact run report")
	}
	if r.Scenarios == nil {
		return bad("scenarios", "missing: not an oemact run report")
	}
	for f, n := range map[string]int64{"duration_ns": int64(r.Duration), "jobs": int64(r.Jobs), "boots": int64(r.Boots), "resumed": int64(r.Resumed)} {
		if n < 0 {
			return bad(f, "%d is negative", n)
		}
	}
	if s := r.Shard; s != nil {
		switch {
		case s.Count < 1 || s.Count > runner.MaxShards || s.Index < 1 || s.Index > s.Count:
			return bad("shard", "shard %d/%d: want 1 <= index <= count <= %d", s.Index, s.Count, runner.MaxShards)
		case s.Scenarios < 0 || s.Total < s.Scenarios:
			return bad("shard", "given %d of %d scenarios: want 0 <= given <= total", s.Scenarios, s.Total)
		case len(r.Shards) > 0:
			return bad("shards", "a shard's report that is also a merge")
		}
	}
	for i, sh := range r.Shards {
		if sh == nil || sh.Index < 0 || sh.Count < 0 || sh.Count > runner.MaxShards || sh.Given < 0 || sh.Reported < 0 || sh.Duration < 0 || sh.Boots < 0 || sh.Resumed < 0 || sh.Jobs < 0 {
			return bad(fmt.Sprintf("shards[%d]", i), "missing or negative counts")
		}
	}
	for i, sc := range r.Scenarios {
		field := fmt.Sprintf("scenarios[%d]", i)
		switch {
		case sc == nil:
			return bad(field, "null")
		case sc.Name == "":
			return bad(field+".name", "missing")
		case !outcomes[sc.Outcome]:
			return bad(field+".outcome", "%q: want passed, failed, error or skipped", sc.Outcome)
		case sc.Duration < 0 || sc.Position < 0:
			return bad(field, "negative duration or position")
		}
		for j, st := range sc.Steps {
			sf := fmt.Sprintf("%s.steps[%d]", field, j)
			switch {
			case st == nil:
				return bad(sf, "null")
			case st.Kind == "":
				return bad(sf+".kind", "missing")
			case st.Outcome != "" && !outcomes[st.Outcome]:
				return bad(sf+".outcome", "%q: want passed, failed, error or skipped", st.Outcome)
			case st.Index < 0 || st.Duration < 0:
				return bad(sf, "negative index or duration")
			case !plausibleDay(st.Day):
				return bad(sf+".day", "%g: want -1e6 to 1e6", st.Day)
			}
		}
		for j, m := range sc.Machines {
			mf := fmt.Sprintf("%s.machines[%d]", field, j)
			if m == nil || m.Name == "" {
				return bad(mf, "a machine without a name")
			}
			for k, p := range m.Timeline {
				if !plausibleDay(p.Day) || !plausibleDay(p.GraceRemaining) {
					return bad(fmt.Sprintf("%s.timeline[%d]", mf, k), "day %g or grace %g days: want -1e6 to 1e6", p.Day, p.GraceRemaining)
				}
			}
		}
	}
	return nil
}

// plausibleDay bounds a scenario day read from a report: scenarios span days to years, and a
// drawing of a billion days is not a report.
func plausibleDay(d float64) bool { return d >= -1e6 && d <= 1e6 }
