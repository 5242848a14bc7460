package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/oemact/oemact/firmware/fileio"
	"github.com/oemact/oemact/oemact/hwid"
)

func init() {
	register(&command{name: "hwid", summary: "capture this machine's hardware inventory; diff two inventories under a policy", subs: []string{"capture", "diff"}, run: runHwid})
}

const hwidUsage = `usage: oemact hwid capture [--json] [-o FILE] [--root DIR] [--tpm-ek-digest HEX] [--skip-disk SERIAL] [--redact]
       oemact hwid diff [--policy vote|kms-disk] [--json] BASELINE.json CURRENT.json`

func runHwid(io stdio, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(io.stderr, hwidUsage)
		return exitUsage
	}
	switch args[0] {
	case "capture":
		return runHwidCapture(io, args[1:])
	case "diff":
		return runHwidDiff(io, args[1:])
	case "-h", "--help", "help":
		return helpSubs(io, commands["hwid"])
	}
	fmt.Fprintf(io.stderr, "oemact hwid: unknown subcommand %q\n%s\n", args[0], hwidUsage)
	return exitUsage
}

func runHwidCapture(io stdio, args []string) int {
	fs := newFlagSet(io, "hwid capture", "[--json] [-o FILE] [--root DIR] [--tpm-ek-digest HEX] [--skip-disk SERIAL] [--redact]")
	asJSON := fs.Bool("json", false, "print the inventory as JSON (what hwid diff reads)")
	out := fs.StringP("output", "o", "", "write the inventory as JSON to FILE (replacing it; - for stdout) instead of printing it")
	root := fs.String("root", "/", "read /proc and /sys under DIR instead of this machine's")
	ek := fs.String("tpm-ek-digest", "", "digest of the TPM endorsement key's public area, when the machine has a TPM")
	skip := fs.StringArray("skip-disk", nil, "disk serial that is not part of the machine (repeatable), such as the harness state disk")
	redact := fs.Bool("redact", false, "keep digests only: drop the raw values, sources and notes (what may leave the machine)")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return exitUsage
	}
	inv, err := hwid.Collect(*root, hwid.Options{TPMEKDigest: *ek, SkipDiskSerials: *skip})
	if err != nil {
		fmt.Fprintf(io.stderr, "oemact hwid capture: %v\n", err)
		return exitUsage
	}
	if *redact {
		inv = inv.Redacted()
	}
	if *out != "" {
		b, err := json.MarshalIndent(inv, "", "  ")
		if err == nil {
			err = writeOutput(io, *out, append(b, '\n'), 0o644)
		}
		if err != nil {
			fmt.Fprintf(io.stderr, "oemact hwid capture: %v\n", err)
			return exitUsage
		}
		if *out == stdoutName {
			return exitOK
		}
		fmt.Fprintf(io.stdout, "wrote %d components to %s (dockable: %s, %d notes)\n", len(inv.Components), *out, hwidYesNo(inv.Dockable), len(inv.Notes))
		return exitOK
	}
	if *asJSON {
		return printJSONIndent(io, inv)
	}
	fmt.Fprintf(io.stdout, "hardware inventory of %s (a model: an activation request carries the digests, not the values)\n", *root)
	fmt.Fprintf(io.stdout, "dockable: %s\n", hwidYesNo(inv.Dockable))
	tw := tabwriter.NewWriter(io.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "class\tdigest\tvalue\tsource")
	for _, c := range inv.Components {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Class, c.Digest, c.Value, c.Source)
	}
	tw.Flush()
	for _, n := range inv.Notes {
		fmt.Fprintf(io.stdout, "note: %s\n", n)
	}
	return exitOK
}

func hwidYesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func runHwidDiff(io stdio, args []string) int {
	fs := newFlagSet(io, "hwid diff", "[--policy vote|kms-disk] [--json] BASELINE.json CURRENT.json")
	policyName := fs.String("policy", hwid.VotePolicy.Name, "tolerance policy: vote (retail/MAK model) or kms-disk (KMS client model)")
	asJSON := fs.Bool("json", false, "print the verdict as JSON")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return exitUsage
	}
	policy, err := hwid.LookupPolicy(*policyName)
	if err != nil {
		fmt.Fprintf(io.stderr, "oemact hwid diff: %v\n", err)
		return exitUsage
	}
	var invs [2]hwid.Inventory
	for i, path := range fs.Args() {
		b, err := fileio.ReadFile(path, fileio.YAMLLimit)
		if err == nil {
			invs[i], err = hwid.ParseInventory(b, path)
		}
		if err != nil {
			fmt.Fprintf(io.stderr, "oemact hwid diff: %v\n", err)
			return exitUsage
		}
	}
	d := policy.Compare(invs[0], invs[1])
	code := exitOK
	if !d.InTolerance {
		code = exitFailed
	}
	if *asJSON {
		if c := printJSONIndent(io, d); c != exitOK {
			return c
		}
		return code
	}
	// Show values where the inventories have them: a digest alone says little to a person.
	values := map[string]string{}
	for _, inv := range invs {
		for _, c := range inv.Components {
			if c.Value != "" {
				values[c.Digest] = c.Value
			}
		}
	}
	show := func(digests []string) string {
		if len(digests) == 0 {
			return "(none)"
		}
		out := make([]string, len(digests))
		for i, dg := range digests {
			out[i] = dg
			if v, ok := values[dg]; ok {
				out[i] = v
			}
		}
		return strings.Join(out, ", ")
	}
	fmt.Fprintf(io.stdout, "policy %s: %s\n", policy.Name, policy.Description)
	fmt.Fprintln(io.stdout, d.String())
	tw := tabwriter.NewWriter(io.stdout, 0, 0, 2, ' ', 0)
	for _, c := range d.Changes {
		fmt.Fprintf(tw, "  %s\t%d vote(s)\twas %s\tnow %s\n", c.Class, c.Votes, show(c.Old), show(c.New))
	}
	tw.Flush()
	fmt.Fprintf(io.stdout, "votes: %d total, %d lost, %d match, %d required (dockable: %s), %d remaining\n",
		d.Total, d.Lost, d.Matching, d.Required, hwidYesNo(invs[1].Dockable), d.Remaining)
	return code
}
