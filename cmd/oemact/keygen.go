package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/oemact/oemact/oemact/cert"
)

func init() {
	register(&command{name: "keygen", summary: "make a TEST OEM key (RSA-1024) or TEST authority key, as PEM", run: runKeygen})
}

func runKeygen(io stdio, args []string) int {
	fs := newFlagSet(io, "keygen", "[--authority] [--bits N] [--force] [--json] -o FILE")
	authority := fs.Bool("authority", false, "make a TEST authority key (signs OEM certificates) instead of an OEM key (signs SLIC markers)")
	bits := fs.Int("bits", 0, "key size: OEM keys are 1024 (the SLIC holds a 1024-bit modulus); authority keys 2048 (default), 3072 or 4096")
	out := fs.StringP("output", "o", "", "file to write (required)")
	force := fs.Bool("force", false, "overwrite FILE if it exists")
	asJSON := fs.Bool("json", false, "print what was written as JSON")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if *out == "" || fs.NArg() != 0 {
		fs.Usage()
		return exitUsage
	}
	role := cert.RoleOEM
	if *authority {
		role = cert.RoleAuthority
	}
	key, err := cert.GenerateKey(role, *bits)
	if err != nil {
		fmt.Fprintf(io.stderr, "oemact keygen: %v\n", err)
		return exitUsage
	}
	cmdline := "oemact keygen"
	if *authority {
		cmdline += " --authority"
	}
	cmdline += fmt.Sprintf(" --bits %d", key.N.BitLen())
	pemBytes, err := cert.EncodePrivateKeyPEM(key, role, "Made with: "+cmdline)
	if err != nil {
		fmt.Fprintf(io.stderr, "oemact keygen: %v\n", err)
		return exitUsage
	}
	if err := writeNewFile(*out, pemBytes, 0o600, *force); err != nil {
		fmt.Fprintf(io.stderr, "oemact keygen: %v\n", err)
		return exitUsage
	}
	summary := struct {
		File string `json:"file"`
		Role string `json:"role"`
		Bits int    `json:"bits"`
		// SHA256 is the public key's fingerprint (SHA-256 of its PKIX DER).
		SHA256 string `json:"sha256"`
	}{*out, role.String(), key.N.BitLen(), cert.Fingerprint(&key.PublicKey)}
	if *asJSON {
		return printJSONIndent(io, summary)
	}
	fmt.Fprintf(io.stdout, "wrote TEST %s key (RSA-%d) to %s\npublic key SHA-256: %s\n", summary.Role, summary.Bits, summary.File, summary.SHA256)
	return exitOK
}

// writeNewFile writes a file, refusing to replace an existing one unless force is set.
func writeNewFile(path string, b []byte, perm os.FileMode, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, perm)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists: choose another name or pass --force to overwrite it", path)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

func printJSONIndent(io stdio, v any) int {
	if err := writeJSON(io.stdout, v); err != nil {
		fmt.Fprintf(io.stderr, "oemact: %v\n", err)
		return exitUsage
	}
	return exitOK
}
