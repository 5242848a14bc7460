package cert

import (
	"path/filepath"
	"testing"
)

// FuzzParse: Parse never panics; what it accepts, Verify can check without panicking, and encodes
// back to a document that parses to the same canonical form. It uses the committed TEST keys:
// generating RSA keys in an instrumented fuzz worker takes minutes.
func FuzzParse(f *testing.F) {
	auth, err := ParsePublicKeyPEM(readFixture(f, "authority.pem"), "authority.pem")
	if err != nil {
		f.Fatal(err)
	}
	seeds, _ := filepath.Glob(fixture("*.xrm-ms"))
	if len(seeds) == 0 {
		f.Fatal("no certificates in fixtures/keys")
	}
	for _, p := range seeds {
		f.Add(readFixture(f, filepath.Base(p)))
	}
	f.Add([]byte(`<r:license xmlns:r="urn:mpeg:mpeg21:2003:01-REL-R-NS"/>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			return
		}
		_ = ErrorCode(c.Verify(auth))
		out, err := c.encode()
		if err != nil {
			t.Fatalf("encode of a parsed certificate: %v", err)
		}
		c2, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parse of an encoded certificate: %v\n%s", err, out)
		}
		if string(c.canonical()) != string(c2.canonical()) {
			t.Fatalf("canonical form changed in a round trip:\n%s\n%s", c.canonical(), c2.canonical())
		}
	})
}
