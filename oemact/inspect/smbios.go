package inspect

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/firmware/fileio"
	"github.com/oemact/oemact/firmware/finding"
	"github.com/oemact/oemact/smbios"
)

// SMBIOS is the report's SMBIOS section: where the data came from, the identity summary
// (smbios.Summary's JSON: version, entry_point, bios, system, ...) and, through the document's
// findings, the lint results.
type SMBIOS struct {
	Path   string `json:"path"`
	Format string `json:"format"`
	*smbios.Summary
}

// Sources are a command line's paths split by what they hold.
type Sources struct {
	ACPI   []string
	SMBIOS []string
}

// Classify splits paths into ACPI and SMBIOS sources, by content:
//   - a folder holding smbios_entry_point and DMI is SMBIOS (a copy of /sys/firmware/dmi/tables);
//   - any other folder is ACPI; an SMBIOS dump inside it (a file starting with _SM_, _SM3_ or
//     _DMI_, as 'oemact synth' writes smbios.bin) is SMBIOS too;
//   - a file starting with an ACPI signature is ACPI; one starting with an SMBIOS anchor, or an
//     RSMB blob, is SMBIOS; anything else goes to the ACPI loader, which reports what it is.
func Classify(paths []string) (Sources, error) {
	var s Sources
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return s, fmt.Errorf("reading %s: %w", p, err)
		}
		if !st.IsDir() {
			if err := fileio.CheckRegular(p, st); err != nil {
				return s, err
			}
		}
		if st.IsDir() {
			if exists(filepath.Join(p, smbios.SysfsEntryPointFile)) && exists(filepath.Join(p, smbios.SysfsTableFile)) {
				s.SMBIOS = append(s.SMBIOS, p)
				continue
			}
			s.ACPI = append(s.ACPI, p)
			ents, err := os.ReadDir(p)
			if err != nil {
				return s, fmt.Errorf("reading %s: %w", p, err)
			}
			for _, e := range ents {
				f := filepath.Join(p, e.Name())
				if e.Type().IsRegular() && hasSMBIOSAnchor(f) {
					s.SMBIOS = append(s.SMBIOS, f)
				}
			}
			continue
		}
		if isSMBIOSFile(p) {
			s.SMBIOS = append(s.SMBIOS, p)
		} else {
			s.ACPI = append(s.ACPI, p)
		}
	}
	sort.Strings(s.SMBIOS)
	return s, nil
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func head(path string, n int) []byte {
	b, _ := fileio.Head(path, n)
	return b
}

func hasSMBIOSAnchor(path string) bool {
	b := head(path, 5)
	return bytes.HasPrefix(b, []byte("_SM_")) || bytes.HasPrefix(b, []byte("_SM3_")) || bytes.HasPrefix(b, []byte("_DMI_"))
}

// isSMBIOSFile: an anchor, or not an ACPI table and decodable as an RSMB blob.
func isSMBIOSFile(path string) bool {
	if hasSMBIOSAnchor(path) {
		return true
	}
	b := head(path, 4)
	if len(b) == 4 && (firmware.ValidSignature(b) || string(b) == "RSD ") {
		return false
	}
	in, err := smbios.Read(path)
	return in != nil && in.Format == smbios.FormatRSMB && err == nil
}

// AddSMBIOS decodes and lints SMBIOS data into the document's SMBIOS section and findings. An
// unreadable source is an error; damaged data is reported as findings.
func (d *Document) AddSMBIOS(in *smbios.Info, err error, path string) error {
	if in == nil {
		return err
	}
	in.Path = path
	d.SMBIOS = &SMBIOS{Path: path, Format: in.Format.String(), Summary: smbios.Summarize(in)}
	fs := smbios.Lint(in, nil)
	for i := range fs {
		if fs[i].Path == "" {
			fs[i].Path = path
		}
	}
	d.Findings = append(d.Findings, fs...)
	d.Findings.Sort()
	return nil
}

func writeSMBIOS(b *strings.Builder, s *SMBIOS, l finding.List) {
	fmt.Fprintf(b, "\n== SMBIOS %s (%s)\n", s.Path, s.Format)
	b.WriteString(s.Summary.Text())
	writeFindings(b, "Findings", l)
	fmt.Fprintf(b, "Result: %s\n", result(l))
}
