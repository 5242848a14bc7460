package cert

import "testing"

func BenchmarkParseVerify(b *testing.B) {
	auth, err := ParsePublicKeyPEM(readFixture(b, "authority.pem"), "authority.pem")
	if err != nil {
		b.Fatal(err)
	}
	doc := readFixture(b, "oem-TSTOEM.xrm-ms")
	b.ReportAllocs()
	for b.Loop() {
		c, err := Parse(doc)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Verify(auth); err != nil {
			b.Fatal(err)
		}
	}
}
