package main

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/firmware/fileio"
	"github.com/oemact/oemact/firmware/finding"
	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/inspect"
	"github.com/oemact/oemact/oemact/tpm"
	"github.com/oemact/oemact/smbios"
)

func init() {
	register(&command{
		name:    "inspect",
		summary: "decode and check the activation markers (SLIC, MSDM) and SMBIOS identity of this machine or of files",
		run:     runInspect,
	})
}

func runInspect(io stdio, args []string) int {
	fs := newFlagSet(io, "inspect", "[--json] [--release win7] [--show-keys] [--dmesg FILE] [--tpm PATH] [PATH...]\n\n"+
		"PATH is a folder laid out like /sys/firmware/acpi/tables (one table set), an acpidump text file\n"+
		"(one set), or raw table files (all of them together form one set). No PATH reads this machine.\n")
	asJSON := fs.Bool("json", false, "print one JSON document")
	release := fs.String("release", "win7", "target Windows release for the SLIC version check (vista, server2008, win7, server2008r2, win8)")
	showKeys := fs.Bool("show-keys", false, "show MSDM product keys whole (masked by default)")
	smbiosPath := fs.String("smbios", "", "SMBIOS data to inspect: a dmidecode --dump-bin file, a sysfs-style folder, a bare table or an RSMB blob (found among PATHs too)")
	dmesg := fs.String("dmesg", "", "kernel log (dmesg output) whose 'ACPI: RSDT/XSDT' lines give the root tables' OEM IDs (one table set only)")
	strictFADT := fs.Bool("strict-fadt", false, "a FADT whose OEM IDs differ from the marker's is an error, not a warning")
	tpmPath := fs.String("tpm", "", "TPM whose EK digest and binding PCR to show: a TPM device or a swtpm data socket (default "+tpm.DefaultPath+" when it exists; none skips it)")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	rel, err := edition.LookupRelease(*release)
	if err != nil {
		fmt.Fprintf(io.stderr, "oemact inspect: %v\n", err)
		return exitUsage
	}
	live := fs.NArg() == 0 && *smbiosPath == ""
	srcs, err := inspect.Classify(fs.Args())
	if err != nil {
		fmt.Fprintf(io.stderr, "oemact inspect: %v\n", err)
		return exitUsage
	}
	if *smbiosPath != "" {
		srcs.SMBIOS = append(srcs.SMBIOS, *smbiosPath)
	}
	if len(srcs.SMBIOS) > 1 {
		fmt.Fprintf(io.stderr, "oemact inspect: %d SMBIOS sources (%s); inspect one machine's SMBIOS at a time\n", len(srcs.SMBIOS), strings.Join(srcs.SMBIOS, ", "))
		return exitUsage
	}
	var sets []*firmware.Set
	if live || len(srcs.ACPI) > 0 {
		if sets, err = firmware.Load(srcs.ACPI...); err != nil {
			fmt.Fprintf(io.stderr, "oemact inspect: %v\n", err)
			return exitUsage
		}
	}
	if *dmesg != "" {
		if len(sets) != 1 {
			fmt.Fprintf(io.stderr, "oemact inspect: --dmesg belongs to one machine, but the paths make %d table sets; inspect one folder at a time\n", len(sets))
			return exitUsage
		}
		b, err := fileio.ReadFile(*dmesg, fileio.TableLimit)
		if err != nil {
			fmt.Fprintf(io.stderr, "oemact inspect: --dmesg: %v\n", err)
			return exitUsage
		}
		hs, err := firmware.ParseKernelLog(bytes.NewReader(b))
		if err != nil {
			fmt.Fprintf(io.stderr, "oemact inspect: --dmesg %s: %v\n", *dmesg, err)
			return exitUsage
		}
		sets[0].AddKernelLog(hs, *dmesg)
	}
	doc := inspect.Build(sets, inspect.Options{Release: rel, ShowKeys: *showKeys, StrictFADT: *strictFADT})
	var smb *smbios.Info
	switch {
	case len(srcs.SMBIOS) == 1:
		in, err := smbios.Read(srcs.SMBIOS[0])
		smb = in
		if err := doc.AddSMBIOS(in, err, srcs.SMBIOS[0]); err != nil {
			fmt.Fprintf(io.stderr, "oemact inspect: %v\n", err)
			return exitUsage
		}
	case live:
		in, err := smbios.ReadLive()
		if in == nil {
			doc.Findings = append(doc.Findings, finding.Finding{Code: "smbios-unavailable", Severity: finding.Info,
				Table: "SMBIOS", Path: smbios.SysfsDir, Offset: finding.NoOffset,
				Message: fmt.Sprintf("this machine's SMBIOS could not be read (%v): run as root, or pass a dmidecode --dump-bin file", err)})
		} else {
			smb = in
			_ = doc.AddSMBIOS(in, err, smbios.SysfsDir)
		}
	}
	if err := doc.AddTPMAt(*tpmPath, sets, smb); err != nil {
		fmt.Fprintf(io.stderr, "oemact inspect: %v\n", err)
		return exitUsage
	}
	if *asJSON {
		if err := writeJSON(io.stdout, doc); err != nil {
			fmt.Fprintf(io.stderr, "oemact inspect: %v\n", err)
			return exitUsage
		}
	} else if err := inspect.WriteText(io.stdout, doc); err != nil {
		fmt.Fprintf(io.stderr, "oemact inspect: %v\n", err)
		return exitUsage
	}
	if doc.Failed() {
		return exitFailed
	}
	return exitOK
}
