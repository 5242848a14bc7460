package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/oemact/oemact/fixtures"
	"github.com/oemact/oemact/oemact/catalog"
)

func init() {
	register(&command{name: "key", summary: "derive the TEST product key of a key label (any OEM ID)", subs: []string{"derive"}, run: runKey})
}

const keyUsage = `usage: oemact key derive [--show-keys] [--json] [--catalog FILE]... LABEL...`

func runKey(io stdio, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(io.stderr, keyUsage)
		return exitUsage
	}
	switch args[0] {
	case "derive":
		return runKeyDerive(io, args[1:])
	case "-h", "--help", "help":
		return helpSubs(io, commands["key"])
	}
	fmt.Fprintf(io.stderr, "oemact key: unknown subcommand %q\n%s\n", args[0], keyUsage)
	return exitUsage
}

func runKeyDerive(io stdio, args []string) int {
	fs := newFlagSet(io, "key derive", "[--show-keys] [--json] [--catalog FILE]... LABEL...\n\n"+
		"LABEL is a key label: retail/EDITION, oem-slp/OEMID/EDITION, oem-coa/EDITION, oem-dm/EDITION,\n"+
		"gvlk/EDITION or mak/EDITION, with an optional /TAG; OEMID is any ACPI OEM ID (1 to 6 characters),\n"+
		"EDITION an ID from 'oemact editions'. A label no catalog lists is still a TEST key: its channel,\n"+
		"OEM ID and edition are the label's. Keys are masked unless --show-keys.\n")
	showKeys := fs.Bool("show-keys", false, "show the keys whole (masked by default)")
	asJSON := fs.Bool("json", false, "print the keys as JSON")
	catFiles := fs.StringArray("catalog", nil, "key catalog (YAML) to add to the built-in TEST catalog (repeatable)")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	cat, err := fixtures.CatalogWith(*catFiles...)
	if err != nil {
		fmt.Fprintf(io.stderr, "oemact key derive: %v\n", err)
		return exitUsage
	}
	var out []*catalog.Derivation
	for _, label := range fs.Args() {
		d, err := cat.Derive(label)
		if err != nil {
			fmt.Fprintf(io.stderr, "oemact key derive: %v\n", err)
			return exitUsage
		}
		out = append(out, d)
	}
	if *asJSON {
		type shown struct {
			*catalog.Derivation
			Key string `json:"product_key"`
		}
		docs := make([]shown, len(out))
		for i, d := range out {
			docs[i] = shown{d, d.Key.Show(*showKeys)}
		}
		if err := writeJSON(io.stdout, docs); err != nil {
			fmt.Fprintf(io.stderr, "oemact key derive: %v\n", err)
			return exitUsage
		}
		return exitOK
	}
	w := tabwriter.NewWriter(io.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "LABEL\tKEY\tCHANNEL\tOEM ID\tEDITION\tSERVICE\tDEFINED")
	for _, d := range out {
		oem, service := d.OEMID, "-"
		if oem == "" {
			oem = "-"
		}
		switch {
		case d.Blocked:
			service = "blocked"
		case d.MAKLimit > 0:
			service = fmt.Sprintf("pool of %d", d.MAKLimit)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Label, d.Key.Show(*showKeys), d.Channel, oem, d.Edition, service, d.Defined)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintf(io.stderr, "oemact key derive: %v\n", err)
		return exitUsage
	}
	for _, d := range out {
		if d.Note != "" {
			fmt.Fprintf(io.stdout, "%s: %s\n", d.Label, d.Note)
		}
	}
	return exitOK
}
