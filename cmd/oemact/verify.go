package main

import (
	"crypto/rsa"
	"fmt"
	"io"
	"strings"

	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/firmware/fileio"
	"github.com/oemact/oemact/fixtures"
	"github.com/oemact/oemact/oemact/activation"
	"github.com/oemact/oemact/oemact/catalog"
	"github.com/oemact/oemact/oemact/cert"
	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/inspect"
	"github.com/oemact/oemact/oemact/oa"
	"github.com/oemact/oemact/oemact/profile"
)

func init() {
	register(&command{
		name:    "verify",
		summary: "OEM Activation verdict (OA 2.1 or 3.0) for tables or a profile, a certificate, a key and an edition",
		run:     runVerify,
	})
}

func runVerify(io stdio, args []string) int {
	fs := newFlagSet(io, "verify", "--edition ID [--key LABEL|KEY] [--cert FILE] [--authority FILE] [--catalog FILE] [--oa 2.1|3.0] [--json] [--show-keys] PATH...\n\n"+
		"PATH is a firmware profile (.yaml), a tables folder, acpidump text, table files or a firmware image\n"+
		"(as for inspect).\n"+
		"--key takes a key label (oem-slp/TSTOEM/win7-professional, any OEM ID: see 'oemact key derive') or a\n"+
		"key; the catalog, the TEST authority and the TEST certificate of the key's OEM are built in;\n"+
		"--catalog adds to the catalog.\n")
	edID := fs.String("edition", "", "installed edition ('oemact editions' lists them: win7-professional, server2008r2-standard, win8-pro, ...)")
	keyArg := fs.String("key", "", "installed product key: a key label or a 5x5 key (OA 2.1)")
	certFile := fs.String("cert", "", "OEM certificate (.xrm-ms) of the image; default: the built-in TEST certificate of the --key's OEM (an OEM:SLP key), as the OEM's image carries it, never the firmware's OEM's")
	authFile := fs.String("authority", "", "authority key (PEM) the certificate must chain to; default: the built-in TEST authority")
	catFiles := fs.StringArray("catalog", nil, "key catalog (YAML) to add to the built-in TEST catalog (repeatable)")
	kind := fs.String("oa", "auto", "which OEM Activation to evaluate: 2.1, 3.0, or auto (3.0 for Windows 8 editions)")
	asJSON := fs.Bool("json", false, "print the verdict as JSON")
	showKeys := fs.Bool("show-keys", false, "show product keys whole (masked by default)")
	strictFADT := fs.Bool("strict-fadt", false, "a FADT whose OEM IDs differ from the marker's fails rule 3")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(io.stderr, "oemact verify: "+format+"\n", a...)
		return exitUsage
	}
	if *edID == "" || fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	ed, err := edition.Lookup(*edID)
	if err != nil {
		return fail("%v", err)
	}
	cat, err := fixtures.CatalogWith(*catFiles...)
	if err != nil {
		return fail("%v", err)
	}
	set, err := verifySet(fs.Args())
	if err != nil {
		return fail("%v", err)
	}
	var key *catalog.Entry
	if *keyArg != "" {
		if key, err = cat.Resolve(*keyArg); err != nil {
			return fail("--key: %v", err)
		}
	}
	in := activation.OAInput{Set: set, Edition: ed, Key: key, Catalog: cat, Kind: *kind,
		Firmware: firmware.Options{StrictFADT: *strictFADT}}
	switch *kind {
	case "auto":
		in.Kind = activation.ChooseOA(ed, key, true)
	case activation.OA21, activation.OA30:
	default:
		return fail("--oa %q: want 2.1, 3.0 or auto", *kind)
	}
	if in.Kind == activation.OA21 {
		if in.Authority, err = loadAuthority(*authFile); err != nil {
			return fail("%v", err)
		}
		if in.Certificate, err = loadCertificate(*certFile, key); err != nil {
			return fail("%v", err)
		}
	}
	v, dm := activation.EvaluateOA(in)
	if dm != nil {
		key = dm // OA 3.0: the MSDM's key
	}
	if *asJSON {
		doc := struct {
			*oa.Verdict
			Edition string `json:"edition"`
			Key     string `json:"product_key,omitempty"`
			Channel string `json:"channel,omitempty"`
			// Tables: for a firmware image, the tables found in it, as inspect reports them.
			Tables []inspect.Table `json:"tables,omitempty"`
		}{Verdict: v, Edition: ed.ID}
		if set.Kind == firmware.SetImage {
			doc.Tables = inspect.Tables(set, *showKeys)
		}
		if key != nil {
			doc.Key, doc.Channel = key.Key.Show(*showKeys), string(key.Channel)
		}
		if err := writeJSON(io.stdout, doc); err != nil {
			return fail("%v", err)
		}
	} else {
		if set.Kind == firmware.SetImage {
			writeImageTables(io.stdout, set)
		}
		writeVerdict(io.stdout, v, ed, key, *showKeys)
	}
	if !v.Valid {
		return exitFailed
	}
	return exitOK
}

func writeVerdict(w io.Writer, v *oa.Verdict, ed edition.Edition, key *catalog.Entry, showKeys bool) {
	fmt.Fprintf(w, "%s verdict for %s", v.Kind, ed.Name)
	if key != nil {
		fmt.Fprintf(w, ", key %s (%s", key.Key.Show(showKeys), key.Channel)
		if key.OEMID != "" {
			fmt.Fprintf(w, " of %s", key.OEMID)
		}
		fmt.Fprint(w, ")")
	}
	fmt.Fprintln(w)
	if v.Marker != "" {
		fmt.Fprintf(w, "marker: %s\n", v.Marker)
	}
	for _, r := range v.Rules {
		state := "ok  "
		if !r.OK {
			state = "FAIL"
		}
		fmt.Fprintf(w, "  rule %d %s  %s: %s\n", r.Number, state, r.Name, r.Reason)
	}
	var shown []string
	for _, f := range v.Findings {
		if f.Severity != 0 {
			shown = append(shown, "  "+f.String())
		}
	}
	if len(shown) > 0 {
		fmt.Fprintln(w, "findings:")
		fmt.Fprintln(w, strings.Join(shown, "\n"))
	}
	if v.Valid {
		fmt.Fprintln(w, "Result: VALID")
	} else {
		fmt.Fprintln(w, "Result: NOT VALID")
	}
}

// writeImageTables says where the tables of a firmware image were found.
func writeImageTables(w io.Writer, set *firmware.Set) {
	fmt.Fprintf(w, "tables in %s (%s):\n", set.Name, set.ImageKind)
	for _, t := range inspect.Tables(set, false) {
		fmt.Fprintf(w, "  %-5s %s\n", t.Name, t.Where())
	}
}

// verifySet reads one machine's tables: a profile is synthesized in memory, anything else is
// loaded as inspect loads it.
func verifySet(paths []string) (*firmware.Set, error) {
	if len(paths) == 1 && (strings.HasSuffix(paths[0], ".yaml") || strings.HasSuffix(paths[0], ".yml")) {
		p, err := profile.Load(paths[0])
		if err != nil {
			return nil, err
		}
		t, err := p.Synthesize()
		if err != nil {
			return nil, err
		}
		s := firmware.NewSet(paths[0], firmware.SetBytes)
		for _, m := range t.Markers() {
			s.AddBytes(m.Name, m.Data)
		}
		return s, nil
	}
	sets, err := firmware.Load(paths...)
	if err != nil {
		return nil, err
	}
	if len(sets) != 1 {
		return nil, fmt.Errorf("the paths make %d table sets; verify one machine at a time", len(sets))
	}
	return sets[0], nil
}

func loadAuthority(path string) (*rsa.PublicKey, error) {
	if path == "" {
		return fixtures.Authority()
	}
	b, err := fileio.ReadFile(path, fileio.YAMLLimit)
	if err != nil {
		return nil, err
	}
	if pub, err := cert.ParsePublicKeyPEM(b, path); err == nil {
		return pub, nil
	}
	priv, err := cert.ParsePrivateKeyPEM(b, path)
	if err != nil {
		return nil, err
	}
	return &priv.PublicKey, nil
}

// loadCertificate reads --cert, or takes the certificate the image of an OEM:SLP key's OEM carries
// (the built-in TEST one), never the firmware's OEM's (DESIGN.md). None is not an error: rule 2
// reports it.
func loadCertificate(path string, key *catalog.Entry) (*cert.Certificate, error) {
	if path == "" {
		c, _, err := activation.CertificateFor(nil, nil, key)
		return c, err
	}
	b, err := fileio.ReadFile(path, fileio.YAMLLimit)
	if err != nil {
		return nil, err
	}
	return cert.Parse(b)
}
