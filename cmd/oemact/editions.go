package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/oemact/oemact/oemact/licence"
)

func init() {
	register(&command{name: "editions", summary: "the editions the model knows: channels, KMS class and threshold, grace days, markets", run: runEditions})
}

func runEditions(io stdio, args []string) int {
	fs := newFlagSet(io, "editions", "[--json]\n\nThe edition IDs are what --edition, scenarios and key labels (retail/EDITION) take.\n")
	asJSON := fs.Bool("json", false, "print the editions as JSON")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(io.stderr, "oemact editions: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	cfg := licence.DefaultConfig()
	terms := licence.EditionTerms(cfg)
	if *asJSON {
		if err := writeJSON(io.stdout, terms); err != nil {
			fmt.Fprintf(io.stderr, "oemact editions: %v\n", err)
			return exitUsage
		}
		return exitOK
	}
	w := tabwriter.NewWriter(io.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "EDITION\tNAME\tCHANNELS\tSLIC\tKMS\tGRACE\tMARKETS")
	for _, t := range terms {
		chs := make([]string, len(t.Channels))
		for i, c := range t.Channels {
			chs[i] = string(c)
		}
		kms, slic, markets := "-", "-", "all"
		if t.KMSClass != "" {
			kms = fmt.Sprintf("%s, %d", t.KMSClass, t.KMSThreshold)
		}
		if t.SLICVersion != "" {
			slic = t.SLICVersion
		}
		if len(t.Markets) > 0 {
			markets = strings.Join(t.Markets, " ")
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%dd\t%s\n", t.ID, t.Name, strings.Join(chs, " "), slic, kms, t.GraceDays, markets)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintf(io.stderr, "oemact editions: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(io.stdout, "\nSLIC: the marker version OA 2.x needs (-: OA 3.0, the MSDM). KMS: what the host counts the edition as\n"+
		"and how many of that class it must have seen before it activates. GRACE: out-of-box grace, %d rearms;\n"+
		"after a hardware or firmware change %d days, after a blocked key %d days, after a KMS activation expires %d days.\n",
		cfg.MaxRearms, int(cfg.OOTGrace/licence.Day), int(cfg.NonGenuineGrace/licence.Day), int(cfg.KMSGrace/licence.Day))
	return exitOK
}
