package inspect

import (
	"fmt"
	"io"
	"strings"

	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/firmware/finding"
)

// WriteText prints the document for people: per set, each table's field-by-field dump (offsets,
// raw values, meanings, like `iasl -d` with the SLIC decoded), then the set's findings; findings
// that belong to no set last; then a summary.
func WriteText(w io.Writer, d *Document) error {
	var b strings.Builder
	rel := d.Release.Name
	if rel == "" {
		rel = "none"
	}
	if len(d.Sets) == 0 && d.SMBIOS != nil {
		b.WriteString("oemact inspect: SMBIOS only, no ACPI tables\n")
	} else {
		fmt.Fprintf(&b, "oemact inspect: %d table set(s), %d table(s); target release %s", len(d.Sets), len(d.Tables), rel)
		if v := d.Release.SLICVersion; v != 0 {
			fmt.Fprintf(&b, " (needs SLIC %d.%d)", v>>16, v&0xFFFF)
		}
		b.WriteString("\n")
	}

	owner := map[string]int{} // path -> set index
	for i, s := range d.Sets {
		owner[s.Name] = i
		for _, f := range s.Files {
			owner[f] = i
		}
	}
	for _, t := range d.Tables {
		for i, s := range d.Sets {
			if s.Name == t.Set {
				if t.Path != "" {
					owner[t.Path] = i
				}
			}
		}
	}
	perSet := make([]finding.List, len(d.Sets))
	var other, smb finding.List
	for _, f := range d.Findings {
		if d.SMBIOS != nil && f.Path == d.SMBIOS.Path {
			smb = append(smb, f)
			continue
		}
		if i, ok := owner[f.Path]; ok {
			perSet[i] = append(perSet[i], f)
		} else {
			other = append(other, f)
		}
	}

	for i, s := range d.Sets {
		var tables []Table
		for _, t := range d.Tables {
			if t.Set == s.Name {
				tables = append(tables, t)
			}
		}
		fmt.Fprintf(&b, "\n== %s (%s, %d table(s))\n", s.Name, s.Kind, len(tables))
		for _, t := range tables {
			writeTable(&b, t)
		}
		writeFindings(&b, "Findings", perSet[i])
		fmt.Fprintf(&b, "Result: %s\n", result(perSet[i]))
	}
	if d.SMBIOS != nil {
		writeSMBIOS(&b, d.SMBIOS, smb)
	}
	if d.TPM != nil {
		writeTPM(&b, d.TPM)
	}
	if len(other) > 0 {
		writeFindings(&b, "\nOther findings", other)
	}
	b.WriteString("\n" + summary(d) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeTable(b *strings.Builder, t Table) {
	fmt.Fprintf(b, "\n-- %s  %s", t.Name, t.Path)
	switch {
	case t.Path == "":
		b.WriteString("(" + t.Source + ")")
	case t.Source != "file":
		fmt.Fprintf(b, " (%s)", t.Source)
	}
	b.WriteString("\n")
	if w := t.Where(); w != "" {
		fmt.Fprintf(b, "   %s\n", w)
	}
	if len(t.Fields) == 0 {
		fmt.Fprintf(b, "   (%d bytes: no ACPI header to decode)\n", t.Bytes)
		return
	}
	firmware.WriteDump(b, t.Fields)
}

// Where says where a table found in a firmware image is ("found in PATH, file offset 0x..."),
// or "" for a table that was not.
func (t Table) Where() string {
	l := t.Location
	if l == nil {
		return ""
	}
	where := fmt.Sprintf("file offset 0x%X", l.Offset)
	if l.Decompressed {
		where = fmt.Sprintf("offset 0x%X of the data decompressed from file offset 0x%X", l.DataOffset, l.Offset)
	}
	if l.Path == "" {
		return fmt.Sprintf("found at %s by the scan (no image structure around it)", where)
	}
	return fmt.Sprintf("found in %s, %s", l.Path, where)
}

func writeFindings(b *strings.Builder, title string, l finding.List) {
	if len(l) == 0 {
		fmt.Fprintf(b, "\n%s: none\n", title)
		return
	}
	fmt.Fprintf(b, "\n%s:\n", title)
	for _, f := range l {
		where := f.Table
		if f.Offset != finding.NoOffset {
			where += fmt.Sprintf("+0x%X", f.Offset)
		}
		fmt.Fprintf(b, "  %-7s %-28s %-12s %s\n", f.Severity, f.Code, where, f.Message)
	}
}

func result(l finding.List) string {
	verdict := "PASS"
	if l.Failed() {
		verdict = "FAIL"
	}
	return fmt.Sprintf("%s (%d error(s), %d warning(s), %d info)", verdict, l.Count(finding.Error), l.Count(finding.Warning), l.Count(finding.Info))
}

func summary(d *Document) string {
	slics, verified := 0, 0
	for _, t := range d.Tables {
		if t.Signature == "SLIC" {
			slics++
			if t.SLIC != nil && t.SLIC.SignatureValid {
				verified++
			}
		}
	}
	verdict := "PASS"
	if d.Failed() {
		verdict = "FAIL"
	}
	return fmt.Sprintf("Summary: %s. %d of %d SLIC marker signature(s) verify; %d error(s), %d warning(s), %d info.",
		verdict, verified, slics, d.Findings.Count(finding.Error), d.Findings.Count(finding.Warning), d.Findings.Count(finding.Info))
}

// SummaryLine is the document in one line, for `oemact inspect --each`: the verdict, the
// markers, the SMBIOS identity and the finding counts.
func (d *Document) SummaryLine(input string) string {
	parts := []string{strings.ToUpper(d.Result)}
	var markers []string
	for _, t := range d.Tables {
		switch {
		case t.SLIC != nil:
			state := "does not verify"
			if t.SLIC.SignatureValid {
				state = "verifies"
			}
			version := "version " + t.SLIC.SLICVersionString
			if t.SLIC.SLICVersion == 0 {
				version = "version unset"
			}
			markers = append(markers, fmt.Sprintf("SLIC %s %s/%s %s", version,
				lineText(t.SLIC.MarkerOEMID), lineText(t.SLIC.MarkerOEMTableID), state))
		case t.Signature == "SLIC":
			markers = append(markers, "SLIC without a marker")
		case t.MSDM != nil:
			markers = append(markers, "MSDM "+lineText(t.MSDM.ProductKey))
		}
	}
	switch {
	case len(markers) > 0:
		parts = append(parts, strings.Join(markers, ", "))
	case len(d.Tables) > 0:
		parts = append(parts, fmt.Sprintf("%d table(s), no marker", len(d.Tables)))
	}
	if s := d.SMBIOS; s != nil {
		id := fmt.Sprintf("SMBIOS %s %s", s.Version, s.Format)
		if y := s.System; y != nil {
			id += fmt.Sprintf(": %s %s, serial %s", lineText(y.Manufacturer), lineText(y.ProductName), lineText(y.SerialNumber))
		}
		parts = append(parts, id)
	}
	parts = append(parts, fmt.Sprintf("%d error(s), %d warning(s), %d info", d.Counts.Errors, d.Counts.Warnings, d.Counts.Info))
	return input + ": " + strings.Join(parts, " | ")
}

// EachError is the JSON line `oemact inspect --each --json` prints for an input that could not
// be read at all.
func EachError(input string, err error) any {
	return struct {
		Input         string `json:"input"`
		SchemaVersion int    `json:"schema_version"`
		Result        string `json:"result"`
		Error         string `json:"error"`
	}{input, SchemaVersion, "error", err.Error()}
}

// lineText is a table string fit for one line: padding trimmed, bytes outside printable ASCII
// as dots, "-" when nothing is left.
func lineText(s string) string {
	b := []byte(strings.TrimRight(s, " \x00"))
	for i, c := range b {
		if c < 0x20 || c > 0x7E {
			b[i] = '.'
		}
	}
	if len(b) == 0 {
		return "-"
	}
	return string(b)
}
