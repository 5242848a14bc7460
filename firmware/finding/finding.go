// Package finding is the diagnostic that every oemact check reports: a stable code, a severity,
// the table and offset it is about, and a message for people.
//
// It holds no checks itself; firmware, smbios and the activation model produce findings. It is the
// one package the formats (firmware, smbios) and the model share: a leaf that imports nothing of
// oemact.
package finding

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Severity says how much a finding matters. Only Error makes a check fail.
type Severity int

const (
	Info Severity = iota
	Warning
	Error
)

var severityNames = [...]string{Info: "info", Warning: "warning", Error: "error"}

func (s Severity) String() string {
	if s >= 0 && int(s) < len(severityNames) {
		return severityNames[s]
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// ParseSeverity reads the names String prints.
func ParseSeverity(s string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(s, n) {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want info, warning or error)", s)
}

func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

func (s *Severity) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return err
	}
	v, err := ParseSeverity(str)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// NoOffset marks a finding about a whole table or a relation between tables.
const NoOffset int64 = -1

// Finding is one diagnostic. Code is stable across releases (kebab-case, prefixed by what it is
// about: "acpi-", "slic-", "msdm-", "smbios-", "oa-", ...); Message is for people and may change.
type Finding struct {
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	// Table names what the finding is about as the source names it: "SLIC", "SLIC2", "MSDM",
	// "SMBIOS type 1", or a file name when the signature is unknown.
	Table string `json:"table"`
	// Path is the file the table came from, when there is one.
	Path string `json:"path,omitempty"`
	// Offset is the byte offset inside the table, or NoOffset.
	Offset  int64  `json:"offset"`
	Message string `json:"message"`
}

func (f Finding) String() string {
	where := f.Table
	if f.Offset != NoOffset {
		where += fmt.Sprintf("+0x%x", f.Offset)
	}
	return fmt.Sprintf("%-7s %s %s: %s", f.Severity, f.Code, where, f.Message)
}

// List is an ordered set of findings.
type List []Finding

// Failed reports whether any finding is an Error.
func (l List) Failed() bool { return l.Count(Error) > 0 }

// Count returns how many findings have severity s.
func (l List) Count(s Severity) int {
	n := 0
	for _, f := range l {
		if f.Severity == s {
			n++
		}
	}
	return n
}

// Has reports whether a finding with the code is in the list.
func (l List) Has(code string) bool {
	for _, f := range l {
		if f.Code == code {
			return true
		}
	}
	return false
}

// Codes returns the codes in order, for tests and summaries.
func (l List) Codes() []string {
	out := make([]string, len(l))
	for i, f := range l {
		out[i] = f.Code
	}
	return out
}

// Sort orders findings by path, table, offset and code, so reports are stable.
func (l List) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Table != b.Table {
			return a.Table < b.Table
		}
		if a.Offset != b.Offset {
			return a.Offset < b.Offset
		}
		return a.Code < b.Code
	})
}
