package inspect

import (
	"fmt"
	"strings"

	"github.com/oemact/oemact/firmware/finding"
	"github.com/oemact/oemact/smbios"
)

// SMBIOS is the report's SMBIOS section: where the data came from, the identity summary
// (smbios.Summary's JSON: version, entry_point, bios, system, ...) and, through the document's
// findings, the lint results.
type SMBIOS struct {
	Path   string `json:"path"`
	Format string `json:"format"`
	// Structures is how many structures the table holds (up to any damage).
	Structures int `json:"structures"`
	*smbios.Summary
}

// AddSMBIOS decodes and lints SMBIOS data into the document's SMBIOS section and findings. An
// unreadable source is an error; damaged data is reported as findings.
func (d *Document) AddSMBIOS(in *smbios.Info, err error, path string) error {
	if in == nil {
		return err
	}
	in.Path = path
	d.SMBIOS = &SMBIOS{Path: path, Format: in.Format.String(), Structures: len(in.Structures), Summary: smbios.Summarize(in)}
	fs := smbios.Lint(in, nil)
	for i := range fs {
		if fs[i].Path == "" {
			fs[i].Path = path
		}
	}
	d.Findings = append(d.Findings, fs...)
	d.Findings.Sort()
	d.Finish()
	return nil
}

func writeSMBIOS(b *strings.Builder, s *SMBIOS, l finding.List) {
	fmt.Fprintf(b, "\n== SMBIOS %s (%s)\n", s.Path, s.Format)
	b.WriteString(s.Summary.Text())
	writeFindings(b, "Findings", l)
	fmt.Fprintf(b, "Result: %s\n", result(l))
}
