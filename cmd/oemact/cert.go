package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/oemact/oemact/firmware/fileio"
	"github.com/oemact/oemact/oemact/cert"
)

func init() {
	register(&command{name: "cert", summary: "issue, show and verify TEST OEM certificates (.xrm-ms)", subs: []string{"issue", "show", "verify"}, run: runCert})
}

const certUsage = `usage: oemact cert issue --authority KEY --oem-key KEY --oem-id ID --oem-table-id TID [--oem-id ID --oem-table-id TID ...] -o FILE
       oemact cert show [--json] FILE
       oemact cert verify --authority KEY [--json] FILE`

func runCert(io stdio, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(io.stderr, certUsage)
		return exitUsage
	}
	switch args[0] {
	case "issue":
		return runCertIssue(io, args[1:])
	case "show":
		return runCertShow(io, args[1:])
	case "verify":
		return runCertVerify(io, args[1:])
	case "-h", "--help", "help":
		return helpSubs(io, commands["cert"])
	}
	fmt.Fprintf(io.stderr, "oemact cert: unknown subcommand %q\n%s\n", args[0], certUsage)
	return exitUsage
}

func runCertIssue(io stdio, args []string) int {
	fs := newFlagSet(io, "cert issue", "--authority KEY --oem-key KEY --oem-id ID --oem-table-id TID [...] -o FILE")
	authPath := fs.String("authority", "", "TEST authority private key (PEM, from oemact keygen --authority)")
	oemPath := fs.String("oem-key", "", "OEM key (PEM, private or public; RSA-1024, the SLIC's key)")
	idsFlag := fs.StringArray("oem-id", nil, "OEM ID (up to 6 characters); repeat with --oem-table-id for several pairs")
	tidsFlag := fs.StringArray("oem-table-id", nil, "OEM table ID (up to 8 characters), paired in order with --oem-id")
	out := fs.StringP("output", "o", "", "certificate file to write (required)")
	force := fs.Bool("force", false, "overwrite FILE if it exists")
	issued := fs.String("issued", "", "time of issue, RFC 3339 (default now), for reproducible certificates")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	ids, tids := *idsFlag, *tidsFlag
	if *authPath == "" || *oemPath == "" || *out == "" || len(ids) == 0 || fs.NArg() != 0 {
		fs.Usage()
		return exitUsage
	}
	if len(ids) != len(tids) {
		fmt.Fprintf(io.stderr, "oemact cert issue: %d --oem-id but %d --oem-table-id: give them in pairs\n", len(ids), len(tids))
		return exitUsage
	}
	pairs := make([]cert.OEMIDs, len(ids))
	for i := range ids {
		pairs[i] = cert.OEMIDs{OEMID: ids[i], OEMTableID: tids[i]}
	}
	authKey, err := cert.LoadPrivateKey(*authPath)
	if err != nil {
		fmt.Fprintf(io.stderr, "oemact cert issue: authority key: %v\n", err)
		return exitUsage
	}
	oemKey, err := cert.LoadPublicKey(*oemPath)
	if err != nil {
		fmt.Fprintf(io.stderr, "oemact cert issue: OEM key: %v\n", err)
		return exitUsage
	}
	for _, p := range []string{*authPath, *oemPath} {
		if b, err := fileio.ReadFile(p, fileio.YAMLLimit); err == nil && !cert.IsTestLabelled(b) {
			fmt.Fprintf(io.stderr, "oemact cert issue: warning: %s has no TEST label; oemact's test keys come from oemact keygen\n", p)
		}
	}
	auth, err := cert.NewAuthority(authKey)
	if err != nil {
		fmt.Fprintf(io.stderr, "oemact cert issue: %s: %v\n", *authPath, err)
		return exitUsage
	}
	if *issued != "" {
		t, err := time.Parse(time.RFC3339, *issued)
		if err != nil {
			fmt.Fprintf(io.stderr, "oemact cert issue: --issued %q: want an RFC 3339 time such as 2026-01-01T00:00:00Z\n", *issued)
			return exitUsage
		}
		auth.Now = func() time.Time { return t }
	}
	doc, err := auth.Issue(oemKey, pairs)
	if err != nil {
		fmt.Fprintf(io.stderr, "oemact cert issue: %v\n", err)
		return exitUsage
	}
	if err := writeNewFile(*out, doc, 0o644, *force); err != nil {
		fmt.Fprintf(io.stderr, "oemact cert issue: %v\n", err)
		return exitUsage
	}
	names := make([]string, len(pairs))
	for i, p := range pairs {
		names[i] = cert.OEMIDs{OEMID: cert.TrimID(p.OEMID), OEMTableID: cert.TrimID(p.OEMTableID)}.String()
	}
	fmt.Fprintf(io.stdout, "wrote TEST OEM certificate %s for %s\nOEM key SHA-256:       %s\nauthority key SHA-256: %s\n",
		*out, strings.Join(names, ", "), cert.Fingerprint(oemKey), cert.Fingerprint(auth.PublicKey()))
	return exitOK
}

// loadCert reads and parses a certificate file; a file that is not a certificate is a failed
// check (exit 1), a file that cannot be read is an environment error (exit 2).
func loadCert(io stdio, verb, path string) (*cert.Certificate, int) {
	b, err := fileio.ReadFile(path, fileio.YAMLLimit)
	if err != nil {
		fmt.Fprintf(io.stderr, "oemact %s: %v\n", verb, err)
		return nil, exitUsage
	}
	c, err := cert.Parse(b)
	if err != nil {
		fmt.Fprintf(io.stderr, "oemact %s: %s: %v\n", verb, path, err)
		return nil, exitFailed
	}
	return c, exitOK
}

func runCertShow(io stdio, args []string) int {
	fs := newFlagSet(io, "cert show", "[--json] FILE")
	asJSON := fs.Bool("json", false, "print as JSON")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitUsage
	}
	c, code := loadCert(io, "cert show", fs.Arg(0))
	if c == nil {
		return code
	}
	if *asJSON {
		return printJSONIndent(io, c)
	}
	w := io.stdout
	fmt.Fprintf(w, "file:        %s\n", fs.Arg(0))
	fmt.Fprintf(w, "title:       %s\n", c.Title)
	fmt.Fprintf(w, "license id:  %s\n", c.LicenseID)
	fmt.Fprintf(w, "issued:      %s\n", c.IssuedAt.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "OEM key:     %s\n", cert.Summarize(c.OEMKey))
	for _, p := range c.IDs {
		fmt.Fprintf(w, "OEM IDs:     OEM ID %q, OEM table ID %q\n", p.OEMID, p.OEMTableID)
	}
	if s := c.Signature; s != nil {
		fmt.Fprintf(w, "issuer:      %s\n", s.KeyName)
		fmt.Fprintf(w, "issuer key:  %s\n", cert.Summarize(s.Key))
		fmt.Fprintf(w, "signature:   %s over %s (not checked here: run oemact cert verify)\n", s.Method, s.Canonicalization)
	} else {
		fmt.Fprintf(w, "signature:   none\n")
	}
	fmt.Fprintf(w, "label:       %s\n", c.TestLabel)
	return exitOK
}

func runCertVerify(io stdio, args []string) int {
	fs := newFlagSet(io, "cert verify", "--authority KEY [--json] FILE")
	authPath := fs.String("authority", "", "TEST authority key (PEM, public or private)")
	asJSON := fs.Bool("json", false, "print the verdict as JSON")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if *authPath == "" || fs.NArg() != 1 {
		fs.Usage()
		return exitUsage
	}
	path := fs.Arg(0)
	auth, err := cert.LoadPublicKey(*authPath)
	if err != nil {
		fmt.Fprintf(io.stderr, "oemact cert verify: authority key: %v\n", err)
		return exitUsage
	}
	b, err := fileio.ReadFile(path, fileio.YAMLLimit)
	if err != nil {
		fmt.Fprintf(io.stderr, "oemact cert verify: %v\n", err)
		return exitUsage
	}
	verdict := struct {
		File         string            `json:"file"`
		Valid        bool              `json:"valid"`
		Code         string            `json:"code,omitempty"`
		Error        string            `json:"error,omitempty"`
		AuthorityKey string            `json:"authority_key_sha256"`
		Certificate  *cert.Certificate `json:"certificate,omitempty"`
	}{File: path, AuthorityKey: cert.Fingerprint(auth)}
	c, err := cert.Parse(b)
	if err == nil {
		verdict.Certificate = c
		err = c.Verify(auth)
	}
	if err != nil {
		verdict.Code, verdict.Error = cert.ErrorCode(err), err.Error()
	}
	verdict.Valid = err == nil
	if *asJSON {
		if code := printJSONIndent(io, verdict); code != exitOK {
			return code
		}
	} else if err != nil {
		fmt.Fprintf(io.stdout, "FAIL %s %s: %v\n", verdict.Code, path, err)
	} else {
		ids := make([]string, len(c.IDs))
		for i, p := range c.IDs {
			ids[i] = p.String()
		}
		fmt.Fprintf(io.stdout, "ok %s: signed by the TEST authority %s\nOEM key: %s\nOEM IDs: %s\n",
			path, verdict.AuthorityKey, cert.Summarize(c.OEMKey), strings.Join(ids, ", "))
	}
	if err != nil {
		return exitFailed
	}
	return exitOK
}
