package main

import (
	"bytes"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/oemact/oemact/fixtures"
	"github.com/oemact/oemact/oemact/licence"
)

func init() {
	register(&command{name: "simulate", summary: "play a licence's life over N days (grace, reminders, rearm, KMS, hardware changes)", run: runSimulate})
}

func runSimulate(io stdio, args []string) int {
	fs := newFlagSet(io, "simulate", "[--channel CH] [--edition ID] [--days N] [--event 'day N: ACTION']... [--events FILE] [--json] [--svg FILE]")
	channel := fs.String("channel", "", "licence channel: Retail (default), OEM:SLP, OEM:COA, OEM:DM, Volume:GVLK, Volume:MAK")
	edID := fs.String("edition", "", "edition ID (default win7-professional, or the first edition sold through the channel)")
	days := fs.Int("days", 0, "days to simulate (default 35)")
	start := fs.String("start", "", "start time, RFC 3339 (default 2009-10-22T08:00:00Z)")
	events := fs.StringArray("event", nil, "an action, 'day N[ HH:MM]: ACTION' (repeatable; see the list below)")
	file := fs.String("events", "", "YAML scenario file (channel, edition, days, start, kms_count, ip, marker, events, config, countries); flags override it")
	kmsCount := fs.Int("kms-count", -1, "KMS host count at the start (default: the edition's threshold)")
	kmsDown := fs.Bool("kms-down", false, "the KMS host is unreachable at the start")
	ip := fs.String("ip", "", "address activation requests come from (default 203.0.113.10, 'US' in the default country table)")
	marker := fs.String("marker", "", "firmware marker at the start: valid (default), none, other, v2.0")
	catFiles := fs.StringArray("catalog", nil, "key catalog (YAML) to add to the built-in TEST catalog for --key (repeatable)")
	key := fs.String("key", "", "key label or key: its channel, edition and blocked flag set the product")
	all := fs.Bool("all", false, "print every event instead of folding runs of reminders")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	svg := fs.String("svg", "", "draw the reminders over the grace period into this SVG file (- for stdout)")
	expect := fs.String("expect", "", "exit 1 unless the final status is this one (name or LicenseStatus number)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: oemact simulate [flags]\n\nflags:\n")
		printFlags(fs.FlagSet)
		fmt.Fprintln(fs.Output(), "\n"+licence.ActionHelp)
	}
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(io.stderr, "oemact simulate: unexpected argument %q (actions go in --event)\n", fs.Arg(0))
		return exitUsage
	}
	fail := func(err error) int {
		fmt.Fprintf(io.stderr, "oemact simulate: %v\n", err)
		return exitUsage
	}

	spec := &licence.Spec{}
	if *file != "" {
		s, err := licence.LoadSpec(*file)
		if err != nil {
			return fail(err)
		}
		spec = s
	}
	set := map[string]bool{}
	fs.Visit(func(f *pflag.Flag) { set[f.Name] = true })
	if set["channel"] {
		spec.Channel = *channel
	}
	if set["edition"] {
		spec.Edition = *edID
	}
	if set["days"] {
		spec.Days = *days
		if *days <= 0 {
			return fail(fmt.Errorf("--days must be positive, got %d", *days))
		}
	}
	if set["start"] {
		spec.Start = *start
	}
	if set["kms-count"] {
		spec.KMSCount = kmsCount
	}
	if set["kms-down"] {
		spec.KMSDown = *kmsDown
	}
	if set["ip"] {
		spec.IP = *ip
	}
	if set["marker"] {
		spec.Marker = *marker
	}
	for i, e := range *events {
		spec.AddEvent(e, fmt.Sprintf("--event %d", i+1))
	}
	if len(*catFiles) > 0 && *key == "" {
		return fail(fmt.Errorf("--catalog is where --key comes from: give --key too"))
	}
	if *key != "" {
		if set["channel"] || set["edition"] {
			return fail(fmt.Errorf("--key sets the channel and edition: drop --channel and --edition"))
		}
		cat, err := fixtures.CatalogWith(*catFiles...)
		if err != nil {
			return fail(err)
		}
		entry, err := cat.Resolve(*key)
		if err != nil {
			return fail(fmt.Errorf("--key: %w", err))
		}
		p := licence.ProductOf(entry)
		spec.Product, spec.Blocked = &p, entry.Blocked
	}
	var want licence.Status
	if *expect != "" {
		s, err := licence.ParseStatus(*expect)
		if err != nil {
			return fail(err)
		}
		want = s
	}
	sc, err := spec.Scenario()
	if err != nil {
		return fail(err)
	}
	res, err := licence.Simulate(sc)
	if err != nil {
		return fail(err)
	}
	if *svg != "" {
		var b bytes.Buffer
		if err := res.WriteSVG(&b); err != nil {
			return fail(err)
		}
		if err := writeOutput(io, *svg, b.Bytes(), 0o644); err != nil {
			return fail(fmt.Errorf("writing the SVG: %w", err))
		}
	}
	if *svg == stdoutName {
		// The drawing is the output.
	} else if *asJSON {
		if err := writeJSON(io.stdout, res); err != nil {
			return fail(err)
		}
	} else if err := res.WriteText(io.stdout, *all); err != nil {
		return fail(err)
	}
	if *expect != "" && res.Final.Status != want {
		fmt.Fprintf(io.stderr, "oemact simulate: final status is %s, expected %s\n", res.Final.Status, want)
		return exitFailed
	}
	return exitOK
}
