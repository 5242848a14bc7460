package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

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

const inspectArgs = "[--json] [--release win7] [--show-keys] [--smbios PATH] [--acpi PATH]... [--dmesg FILE] [--tpm PATH] [-s KEYWORD | -t TYPE]... [--each] [PATH...]\n\n" +
	"Each PATH is read by what it holds, whatever its name: an ACPI table, a folder of them (laid out like\n" +
	"/sys/firmware/acpi/tables), acpidump text, SMBIOS data (a dmidecode --dump-bin file, a memory image\n" +
	"whose entry point kept the physical table address, a bare table such as a copy of\n" +
	"/sys/firmware/dmi/tables/DMI, a Windows RSMB blob, or a folder holding smbios_entry_point and DMI),\n" +
	"a firmware image (a UEFI volume or capsule, a flash image, a coreboot ROM, any file holding ACPI\n" +
	"tables: its tables are one set, each with where in the image it was found).\n" +
	"All PATHs together are one machine; with --each every PATH is a machine of its own, reported in one\n" +
	"line (one JSON document per line with --json). No PATH reads this machine.\n\n" +
	"-s and -t answer as dmidecode does: -s KEYWORD prints what 'dmidecode -s KEYWORD' prints, -t TYPE\n" +
	"prints the structures of a type number or keyword (" + "bios, system, baseboard, chassis, processor,\n" +
	"memory, cache, connector, slot) with their handles.\n"

type inspectFlags struct {
	fs                  *flagSet
	asJSON, showKeys    *bool
	strictFADT, each    *bool
	release, dmesg      *string
	tpmPath, keyword    *string
	smbios, acpi, types *[]string
}

func newInspectFlags(io stdio) *inspectFlags {
	fs := newFlagSet(io, "inspect", inspectArgs)
	f := &inspectFlags{fs: fs}
	f.asJSON = fs.Bool("json", false, "print one JSON document (with --each, one per line)")
	f.release = fs.String("release", "win7", "target Windows release for the SLIC version check (vista, server2008, win7, server2008r2, win8)")
	f.showKeys = fs.Bool("show-keys", false, "show MSDM product keys whole (masked by default)")
	f.smbios = fs.StringArray("smbios", nil, "read PATH as SMBIOS data, whatever it looks like")
	f.acpi = fs.StringArray("acpi", nil, "read PATH as ACPI tables, whatever it looks like (repeatable)")
	f.dmesg = fs.String("dmesg", "", "kernel log (dmesg output) whose 'ACPI: RSDP/RSDT/XSDT' lines give the root tables' OEM IDs (one table set only)")
	f.strictFADT = fs.Bool("strict-fadt", false, "a FADT whose OEM IDs differ from the marker's is an error, not a warning")
	f.tpmPath = fs.String("tpm", "", "TPM whose EK digest and binding PCR to show: a TPM device or a swtpm data socket (default "+tpm.DefaultPath+" when it exists; none skips it)")
	f.keyword = fs.StringP("string", "s", "", "print only the value of a dmidecode string KEYWORD (system-serial-number, system-uuid, bios-version, ...), as dmidecode -s does")
	f.types = fs.StringArrayP("type", "t", nil, "print only the SMBIOS structures of TYPE, a number or a dmidecode keyword, with their handles (repeatable)")
	f.each = fs.Bool("each", false, "inspect every PATH as a machine of its own: one summary line each")
	return f
}

func runInspect(io stdio, args []string) int {
	f := newInspectFlags(io)
	if code, done := parseFlags(f.fs, args); done {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintf(io.stderr, "oemact inspect: %v\n", err)
		return exitUsage
	}
	rel, err := edition.LookupRelease(*f.release)
	if err != nil {
		return fail(err)
	}
	opts := inspect.Options{Release: rel, ShowKeys: *f.showKeys, StrictFADT: *f.strictFADT}
	var kw *smbios.StringKeyword
	if *f.keyword != "" {
		k, err := smbios.LookupStringKeyword(*f.keyword)
		if err != nil {
			return fail(err)
		}
		kw = &k
	}
	var types []uint8
	for _, t := range *f.types {
		ts, err := smbios.ParseTypes(t)
		if err != nil {
			return fail(err)
		}
		types = append(types, ts...)
	}
	if kw != nil && len(types) > 0 {
		return fail(errors.New("-s and -t go one at a time, as in dmidecode"))
	}
	if *f.each {
		if kw != nil || len(types) > 0 || *f.dmesg != "" || *f.tpmPath != "" {
			return fail(errors.New("--each reports one line per input: leave out -s, -t, --dmesg and --tpm"))
		}
		return inspectEach(io, f, opts)
	}
	in := inspect.Input{Paths: f.fs.Args(), SMBIOS: *f.smbios, ACPI: *f.acpi, Dmesg: *f.dmesg}
	m, err := inspect.Inspect(in, opts)
	if err != nil {
		return fail(err)
	}
	switch {
	case kw != nil:
		return printKeyword(io, m, *kw, *f.asJSON)
	case len(types) > 0:
		return printTypes(io, m, types, *f.asJSON)
	}
	if err := m.Doc.AddTPMAt(*f.tpmPath, m.Sets, m.SMBIOS); err != nil {
		return fail(err)
	}
	m.Doc.Finish()
	if *f.asJSON {
		err = writeJSON(io.stdout, m.Doc)
	} else {
		err = inspect.WriteText(io.stdout, m.Doc)
	}
	if err != nil {
		return fail(err)
	}
	if m.Doc.Failed() {
		return exitFailed
	}
	return exitOK
}

// printKeyword prints what dmidecode -s prints: the bare values, one a line.
func printKeyword(io stdio, m *inspect.Machine, k smbios.StringKeyword, asJSON bool) int {
	if m.SMBIOS == nil {
		fmt.Fprintf(io.stderr, "oemact inspect: -s %s: no SMBIOS data among the inputs\n", k.Name)
		return exitUsage
	}
	values := k.Values(m.SMBIOS)
	if asJSON {
		if values == nil {
			values = []string{}
		}
		return printJSONIndent(io, struct {
			Keyword string   `json:"keyword"`
			Path    string   `json:"path"`
			Values  []string `json:"values"`
		}{k.Name, m.Doc.SMBIOS.Path, values})
	}
	for _, v := range values {
		fmt.Fprintln(io.stdout, v)
	}
	return exitOK
}

// printTypes prints the structures of the types asked for, as dmidecode -t does.
func printTypes(io stdio, m *inspect.Machine, types []uint8, asJSON bool) int {
	if m.SMBIOS == nil {
		fmt.Fprintln(io.stderr, "oemact inspect: -t: no SMBIOS data among the inputs")
		return exitUsage
	}
	structs := m.SMBIOS.Select(types)
	rs := make([]smbios.Rendering, len(structs))
	for i, s := range structs {
		rs[i] = smbios.Render(s, m.SMBIOS.Version)
	}
	if asJSON {
		return printJSONIndent(io, struct {
			Path       string             `json:"path"`
			Version    string             `json:"version"`
			Structures []smbios.Rendering `json:"structures"`
		}{m.Doc.SMBIOS.Path, m.SMBIOS.Version.String(), rs})
	}
	fmt.Fprintf(io.stdout, "SMBIOS %s (%s, %s)\n", m.SMBIOS.Version, m.Doc.SMBIOS.Format, m.Doc.SMBIOS.Path)
	for _, r := range rs {
		fmt.Fprintf(io.stdout, "\n%s", r)
	}
	return exitOK
}

// inspectEach inspects every input on its own and prints one line (or one JSON document) each.
// Nothing is kept from one input to the next, so the memory used does not grow with their
// number. The exit code is the worst: 2 if an input could not be read, else 1 if one failed.
func inspectEach(io stdio, f *inspectFlags, opts inspect.Options) int {
	var inputs []inspect.Input
	for _, p := range f.fs.Args() {
		inputs = append(inputs, inspect.Input{Paths: []string{p}})
	}
	for _, p := range *f.smbios {
		inputs = append(inputs, inspect.Input{SMBIOS: []string{p}})
	}
	for _, p := range *f.acpi {
		inputs = append(inputs, inspect.Input{ACPI: []string{p}})
	}
	if len(inputs) == 0 {
		fmt.Fprintln(io.stderr, "oemact inspect: --each needs the inputs to go through, one per machine")
		return exitUsage
	}
	code := exitOK
	enc := json.NewEncoder(io.stdout)
	for _, in := range inputs {
		name := strings.Join(append(append(append([]string{}, in.Paths...), in.SMBIOS...), in.ACPI...), " ")
		m, err := inspect.Inspect(in, opts)
		if err != nil {
			code = exitUsage
			if *f.asJSON {
				_ = enc.Encode(inspect.EachError(name, err))
			} else {
				fmt.Fprintf(io.stdout, "%s: ERROR %v\n", name, err)
			}
			continue
		}
		if m.Doc.Failed() && code == exitOK {
			code = exitFailed
		}
		if *f.asJSON {
			doc := struct {
				Input string `json:"input"`
				*inspect.Document
			}{name, m.Doc}
			if err := enc.Encode(doc); err != nil {
				fmt.Fprintf(io.stderr, "oemact inspect: %v\n", err)
				return exitUsage
			}
			continue
		}
		fmt.Fprintln(io.stdout, m.Doc.SummaryLine(name))
	}
	return code
}
