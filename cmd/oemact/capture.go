package main

import (
	"fmt"

	"github.com/oemact/oemact/oemact/profile"
)

func init() {
	register(&command{
		name:    "capture",
		summary: "copy a machine's activation tables (SLIC, MSDM, FADT, SMBIOS) into a profile folder",
		run:     runCapture,
	})
}

func runCapture(io stdio, args []string) int {
	fs := newFlagSet(io, "capture", "[--acpi PATH]... | [--from IMAGE] [--smbios PATH] [--name NAME] [--json] -o DIR\n\n"+
		"Without --acpi, --from and --smbios it reads this machine (/sys/firmware/acpi/tables with the kernel\n"+
		"log, /sys/firmware/dmi/tables; root is needed). --from reads the markers (SLIC, MSDM) found in a\n"+
		"firmware image instead (UEFI volume or capsule, flash image, coreboot ROM; the image is only read).\n"+
		"The folder gets the tables byte for byte and a profile.yaml that 'oemact synth' and the harness\n"+
		"use as it is.\n")
	out := fs.StringP("output", "o", "", "output folder (created when missing)")
	acpi := fs.StringArray("acpi", nil, "ACPI tables to read instead of this machine's: a folder or table files (repeatable)")
	from := fs.String("from", "", "firmware image whose markers to capture instead of ACPI tables (no SMBIOS is read from this machine then)")
	smb := fs.String("smbios", "", "SMBIOS to read instead of this machine's: dump-bin, sysfs folder, bare table or RSMB blob")
	name := fs.String("name", "captured", "profile name")
	asJSON := fs.Bool("json", false, "print what was captured as JSON")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if *out == "" || fs.NArg() != 0 {
		fs.Usage()
		return exitUsage
	}
	c, err := profile.CaptureTo(*out, profile.CaptureOptions{ACPI: *acpi, Image: *from, SMBIOS: *smb, Name: *name})
	if err != nil {
		fmt.Fprintf(io.stderr, "oemact capture: %v\n", err)
		return exitUsage
	}
	if *asJSON {
		if err := writeJSON(io.stdout, struct {
			Profile string   `json:"profile"`
			Files   []string `json:"files"`
			Notes   []string `json:"notes"`
		}{c.Profile, c.Files, append([]string{}, c.Notes...)}); err != nil {
			fmt.Fprintf(io.stderr, "oemact capture: %v\n", err)
			return exitUsage
		}
		return exitOK
	}
	fmt.Fprintf(io.stdout, "captured into %s\n", c.Dir)
	for _, f := range c.Files {
		fmt.Fprintf(io.stdout, "  %s\n", f)
	}
	for _, n := range c.Notes {
		fmt.Fprintf(io.stdout, "note: %s\n", n)
	}
	return exitOK
}
