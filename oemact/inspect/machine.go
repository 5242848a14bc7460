package inspect

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/firmware/fileio"
	"github.com/oemact/oemact/firmware/finding"
	"github.com/oemact/oemact/firmware/sniff"
	"github.com/oemact/oemact/smbios"
)

// Input is one machine's inputs, as `oemact inspect` takes them. With nothing given, the machine
// inspect runs on is read.
type Input struct {
	// Paths are read by what they hold (sniff.Classify).
	Paths []string
	// SMBIOS are read as SMBIOS data whatever they hold (--smbios).
	SMBIOS []string
	// ACPI are read as ACPI tables whatever they hold (--acpi).
	ACPI []string
	// Dmesg is a kernel log whose "ACPI: RSDP/RSDT/XSDT" lines stand for the root tables.
	Dmesg string
}

// Live reports whether the input names nothing, so that this machine is read.
func (in Input) Live() bool { return len(in.Paths) == 0 && len(in.SMBIOS) == 0 && len(in.ACPI) == 0 }

// Machine is one machine inspected: the report, and what it was made from.
type Machine struct {
	Doc    *Document
	Sets   []*firmware.Set
	SMBIOS *smbios.Info
}

// UsageError is an input inspect cannot take (two machines' SMBIOS at once, a kernel log for
// several table sets): the user must change the command line.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Inspect reads one machine's inputs, decodes and checks them, and returns the report. Files
// nothing recognizes, damaged tables and damaged SMBIOS are findings; the error is for inputs
// that cannot be read at all or that do not make one machine (a *UsageError).
func Inspect(in Input, opts Options) (*Machine, error) {
	srcs, err := sniff.Classify(in.Paths)
	if err != nil {
		return nil, err
	}
	smbSrcs := append(append([]string{}, srcs.SMBIOS...), in.SMBIOS...)
	if len(smbSrcs) > 1 {
		return nil, &UsageError{fmt.Sprintf("%d SMBIOS sources (%s); inspect one machine's SMBIOS at a time, or each input on its own with --each",
			len(smbSrcs), strings.Join(smbSrcs, ", "))}
	}
	m := &Machine{}
	if in.Live() || len(srcs.ACPI) > 0 {
		if m.Sets, err = firmware.Load(srcs.ACPI...); err != nil {
			return nil, err
		}
	}
	if len(in.ACPI) > 0 {
		sets, err := firmware.LoadAsTables(in.ACPI...)
		if err != nil {
			return nil, err
		}
		m.Sets = append(m.Sets, sets...)
	}
	for _, p := range srcs.Images {
		set, err := firmware.LoadImage(p)
		if err != nil {
			return nil, err
		}
		m.Sets = append(m.Sets, set)
	}
	if in.Dmesg != "" {
		if err := addKernelLog(m.Sets, in.Dmesg); err != nil {
			return nil, err
		}
	}
	m.Doc = Build(m.Sets, opts)
	for _, u := range srcs.Unrecognized {
		m.Doc.Findings = append(m.Doc.Findings, finding.Finding{Code: sniff.CodeUnrecognized, Severity: finding.Error,
			Table: filepath.Base(u.Path), Path: u.Path, Offset: finding.NoOffset, Message: u.Message})
	}
	switch {
	case len(smbSrcs) == 1:
		info, err := smbios.Read(smbSrcs[0])
		if err := m.Doc.AddSMBIOS(info, err, smbSrcs[0]); err != nil {
			return nil, err
		}
		m.SMBIOS = info
	case in.Live():
		info, err := smbios.ReadLive()
		if info == nil {
			m.Doc.Findings = append(m.Doc.Findings, liveSMBIOSUnavailable(err))
		} else {
			_ = m.Doc.AddSMBIOS(info, err, smbios.SysfsDir)
			m.SMBIOS = info
		}
	}
	m.Doc.Findings.Sort()
	m.Doc.Finish()
	return m, nil
}

// liveSMBIOSUnavailable is the finding for this machine's SMBIOS when it cannot be read. The
// advice to run as root is given only when permission was the reason.
func liveSMBIOSUnavailable(err error) finding.Finding {
	msg := fmt.Sprintf("this machine's SMBIOS could not be read (%v)", err)
	if !errors.Is(err, fs.ErrPermission) {
		msg += "; pass a dmidecode --dump-bin file or a copy of " + smbios.SysfsDir
	}
	return finding.Finding{Code: "smbios-unavailable", Severity: finding.Info, Table: "SMBIOS", Path: smbios.SysfsDir,
		Offset: finding.NoOffset, Message: msg}
}

func addKernelLog(sets []*firmware.Set, path string) error {
	b, err := fileio.ReadFile(path, fileio.TableLimit)
	if err != nil {
		return fmt.Errorf("--dmesg: %w", err)
	}
	if len(sets) != 1 {
		return &UsageError{fmt.Sprintf("--dmesg belongs to one machine, but the paths make %d table sets; inspect one folder at a time", len(sets))}
	}
	hs, err := firmware.ParseKernelLog(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("--dmesg %s: %w", path, err)
	}
	sets[0].AddKernelLog(hs, path)
	return nil
}
