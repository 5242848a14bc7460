package main

import (
	"fmt"

	"github.com/oemact/oemact/harness/engine"
	"github.com/oemact/oemact/harness/engine/qemuvm"
	"github.com/oemact/oemact/oemact/profile"
)

func init() {
	register(&command{
		name:    "synth",
		summary: "write a firmware profile's tables (SLIC, MSDM, SMBIOS), QEMU arguments and libvirt XML",
		run:     runSynth,
	})
}

func runSynth(io stdio, args []string) int {
	fs := newFlagSet(io, "synth", "[--json] [--show-keys] -o DIR PROFILE.yaml")
	out := fs.StringP("output", "o", "", "output folder (created when missing)")
	asJSON := fs.Bool("json", false, "print what was written as JSON")
	showKeys := fs.Bool("show-keys", false, "show the MSDM product key whole (masked by default)")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() != 1 || *out == "" {
		fs.Usage()
		return exitUsage
	}
	p, err := profile.Load(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(io.stderr, "oemact synth: %v\n", err)
		return exitUsage
	}
	t, err := p.Synthesize()
	if err != nil {
		fmt.Fprintf(io.stderr, "oemact synth: %v\n", err)
		return exitUsage
	}
	files, err := t.Write(*out)
	if err != nil {
		fmt.Fprintf(io.stderr, "oemact synth: %v\n", err)
		return exitUsage
	}
	argsFile, qemuArgs, err := qemuvm.WriteSynthArgs(*out, t, files)
	if err != nil {
		fmt.Fprintf(io.stderr, "oemact synth: %v\n", err)
		return exitUsage
	}
	hw := engine.FromProfile(t, p.VM, p.VM.TPM).WithDefaults()
	key := ""
	if !t.MSDMKey.IsZero() {
		key = t.MSDMKey.Show(*showKeys)
	}
	if *asJSON {
		doc := struct {
			Profile   string   `json:"profile"`
			SLIC      string   `json:"slic,omitempty"`
			MSDM      string   `json:"msdm,omitempty"`
			MSDMKey   string   `json:"msdm_product_key,omitempty"`
			SMBIOS    []string `json:"smbios_structures"`
			DumpBin   string   `json:"smbios_dump_bin"`
			Sysfs     string   `json:"smbios_sysfs"`
			QEMUArgs  []string `json:"qemu_args"`
			ArgsFile  string   `json:"qemu_args_file"`
			Libvirt   string   `json:"libvirt_xml"`
			OEMID     string   `json:"oem_id"`
			OEMTable  string   `json:"oem_table_id"`
			Machine   string   `json:"machine"`
			Firmware  string   `json:"firmware"`
			MemoryMB  int      `json:"memory_mb"`
			CPUs      int      `json:"cpus"`
			NICs      int      `json:"nics"`
			Disks     int      `json:"disks"`
			TPM       bool     `json:"tpm"`
			ProfileAt string   `json:"profile_file"`
		}{p.Name, files.SLIC, files.MSDM, key, files.SMBIOS, files.DumpBin, files.Sysfs, qemuArgs,
			argsFile, files.Libvirt, p.ACPI.OEMID, p.ACPI.OEMTableID, hw.Chipset, hw.Firmware,
			hw.MemoryMB, hw.CPUs, len(hw.NICs), len(hw.Disks), hw.TPM, p.Path}
		if err := writeJSON(io.stdout, doc); err != nil {
			fmt.Fprintf(io.stderr, "oemact synth: %v\n", err)
			return exitUsage
		}
		return exitOK
	}
	fmt.Fprintf(io.stdout, "profile %s (%s)\n", p.Name, p.Path)
	if files.SLIC != "" {
		fmt.Fprintf(io.stdout, "  SLIC    %s (%d bytes)\n", files.SLIC, len(t.SLIC))
	}
	if files.MSDM != "" {
		fmt.Fprintf(io.stdout, "  MSDM    %s (%d bytes", files.MSDM, len(t.MSDM))
		if key != "" {
			fmt.Fprintf(io.stdout, ", product key %s", key)
		}
		fmt.Fprintln(io.stdout, ")")
	}
	fmt.Fprintf(io.stdout, "  SMBIOS  %s (dump-bin), %s (sysfs pair), %d structure files\n", files.DumpBin, files.Sysfs, len(files.SMBIOS))
	fmt.Fprintf(io.stdout, "  QEMU    %s\n", argsFile)
	fmt.Fprintf(io.stdout, "  libvirt %s\n", files.Libvirt)
	return exitOK
}
