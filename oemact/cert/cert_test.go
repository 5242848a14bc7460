package cert

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"math/big"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var issueTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type testKeys struct {
	authority, other *Authority
	oem, oem2        *rsa.PrivateKey
	big              *rsa.PrivateKey // RSA-2048: too large for an OEM key
	small            *rsa.PrivateKey // RSA-1024: too small for an authority
}

// keys are generated once per test binary: RSA key generation is the slow part.
var keys = sync.OnceValue(func() testKeys {
	gen := func(r Role, bits int) *rsa.PrivateKey {
		k, err := GenerateKey(r, bits)
		if err != nil {
			panic(err)
		}
		return k
	}
	auth := func() *Authority {
		a, err := NewAuthority(gen(RoleAuthority, 2048))
		if err != nil {
			panic(err)
		}
		a.Now = func() time.Time { return issueTime }
		return a
	}
	k := testKeys{authority: auth(), other: auth(), oem: gen(RoleOEM, 1024), oem2: gen(RoleOEM, 1024)}
	k.big = k.authority.key
	k.small = k.oem
	return k
})

func issue(t *testing.T, ids ...OEMIDs) []byte {
	t.Helper()
	if len(ids) == 0 {
		ids = []OEMIDs{{"TSTOEM", "TSTBOARD"}}
	}
	b, err := keys().authority.Issue(&keys().oem.PublicKey, ids)
	require.NoError(t, err)
	return b
}

func TestIssueParseVerify(t *testing.T) {
	k := keys()
	b, err := k.authority.Issue(&k.oem.PublicKey, []OEMIDs{{"TSTOEM", "TSTBOARD"}, {"TSTOEM ", "TSTLAP\x00\x00"}})
	require.NoError(t, err)
	c, err := Parse(b)
	require.NoError(t, err)
	require.NoError(t, c.Verify(k.authority.PublicKey()))

	assert.True(t, c.OEMKey.Equal(&k.oem.PublicKey))
	assert.Equal(t, []OEMIDs{{"TSTOEM", "TSTBOARD"}, {"TSTOEM", "TSTLAP"}}, c.IDs)
	assert.Equal(t, issueTime, c.IssuedAt)
	assert.Equal(t, Title, c.Title)
	assert.Equal(t, TestLabel, c.TestLabel)
	assert.Equal(t, AuthorityName, c.Signature.KeyName)
	assert.Regexp(t, `^\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}$`, c.LicenseID)

	// The marker pads IDs with spaces or NULs; Covers ignores the padding, not the content.
	assert.True(t, c.Covers("TSTOEM", "TSTBOARD"))
	assert.True(t, c.Covers("TSTOEM", "TSTLAP  "))
	assert.True(t, c.Covers("TSTOEM\x00\x00", "TSTBOARD"))
	assert.False(t, c.Covers("OTHOEM", "TSTBOARD"))
	assert.False(t, c.Covers("TSTOEM", "TSTBOAR"))
	assert.False(t, c.Covers("tstoem", "TSTBOARD"))

	// The visible TEST labels are in the file itself.
	for _, want := range []string{"<!-- TEST ONLY", "<r:title>" + Title, "<dsig:KeyName>" + AuthorityName, "<oa:testOnly>TEST ONLY"} {
		assert.Contains(t, string(b), want)
	}
}

// Signing is deterministic (PKCS#1 v1.5) and the license ID is derived from the content, so the
// same key, IDs and time give the same bytes.
func TestIssueIsReproducible(t *testing.T) {
	assert.Equal(t, string(issue(t)), string(issue(t)))
	other := issue(t, OEMIDs{"TSTOEM", "OTHER"})
	assert.NotEqual(t, string(issue(t)), string(other))
}

// The signature covers decoded fields, so formatting, prefixes and comments do not matter.
func TestVerifyIgnoresFormatting(t *testing.T) {
	b := string(issue(t))
	auth := keys().authority.PublicKey()
	variants := map[string]string{
		"no indentation": regexp.MustCompile(`>\s+<`).ReplaceAllString(b, "><"),
		"other prefix":   strings.NewReplacer("<r:", "<rel:", "</r:", "</rel:", "xmlns:r=", "xmlns:rel=").Replace(b),
		"default namespace for dsig": strings.NewReplacer("<dsig:", "<", "</dsig:", "</",
			`xmlns:dsig=`, `xmlns=`).Replace(b),
		"wrapped base64": edit(b, "<dsig:Modulus>", "<dsig:Modulus>\n    "),
		"no header":      b[strings.Index(b, "<r:license"):],
		"trailing comment and an unknown element": edit(b, "</r:license>",
			"<oa:note>ignored</oa:note></r:license>\n<!-- end -->"),
	}
	for name, v := range variants {
		c, err := Parse([]byte(v))
		if !assert.NoError(t, err, name) {
			continue
		}
		assert.NoError(t, c.Verify(auth), name)
	}
	// The dsig default-namespace variant must really have dropped the prefix.
	assert.NotContains(t, variants["default namespace for dsig"], "dsig:")
}

func TestVerifyRejects(t *testing.T) {
	k := keys()
	b := string(issue(t))
	auth := k.authority.PublicKey()
	// Modulus of the OEM key, as written.
	oemMod := regexp.MustCompile(`<r:info>\s*<dsig:KeyValue>\s*<dsig:RSAKeyValue>\s*<dsig:Modulus>([^<]+)<`).FindStringSubmatch(b)[1]
	tamperedMod := flipBase64(oemMod)

	fromOther, err := k.other.Issue(&k.oem.PublicKey, []OEMIDs{{"TSTOEM", "TSTBOARD"}})
	require.NoError(t, err)

	tests := []struct {
		name string
		doc  string
		auth *rsa.PublicKey
		want error
		msg  string
	}{
		{"tampered OEM ID", edit(b, `OEMID="TSTOEM"`, `OEMID="OTHOEM"`), auth, ErrTampered, "changed after signing"},
		{"tampered OEM table ID", edit(b, `OEMTableID="TSTBOARD"`, `OEMTableID="TSTLAP"`), auth, ErrTampered, "signed digest"},
		{"added OEM ID pair", edit(b, "</oa:oemProperties>", `<oa:oemIds OEMID="DELL" OEMTableID="WN09"/></oa:oemProperties>`), auth, ErrTampered, ""},
		{"tampered modulus", edit(b, oemMod, tamperedMod), auth, ErrTampered, ""},
		{"tampered time of issue", edit(b, "2026-03-01T12:00:00Z", "2026-03-02T12:00:00Z"), auth, ErrTampered, ""},
		{"signed by another authority", string(fromOther), auth, ErrWrongAuthority, "oemact TEST authority - not Microsoft"},
		{"verified against another authority", b, k.other.PublicKey(), ErrWrongAuthority, "SHA-256"},
		{"missing signature", cut(b, "<dsig:Signature>", "</dsig:Signature>"), auth, ErrUnsigned, "no <dsig:Signature>"},
		{"empty signature value", regexp.MustCompile(`<dsig:SignatureValue>[^<]*<`).ReplaceAllString(b, "<dsig:SignatureValue><"), auth, ErrUnsigned, ""},
		{"no issuer key", cut(b, "<dsig:KeyInfo>", "</dsig:KeyInfo>"), auth, ErrUnsigned, "KeyInfo"},
		{"TEST label removed", cut(b, "<r:otherInfo>", "</r:otherInfo>"), auth, ErrNotTest, "testOnly"},
		{"title changed", edit(b, "<r:title>"+Title, "<r:title>OEM Certificate"), auth, ErrNotTest, ""},
		{"SHA-1 signature method", edit(b, AlgRSASHA256, "http://www.w3.org/2000/09/xmldsig#rsa-sha1"), auth, ErrUnsupported, "rsa-sha1"},
		{"other canonicalisation", edit(b, AlgCanonical, "http://www.w3.org/2001/10/xml-exc-c14n#"), auth, ErrUnsupported, "CanonicalizationMethod"},
		{"authority key too small", b, &k.small.PublicKey, ErrKeySize, "RSA-1024"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.doc))
			require.NoError(t, err)
			err = c.Verify(tc.auth)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want, err.Error())
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

// A forger who keeps the authority's name and key in KeyInfo and a correct digest, but signs with
// another key, fails on the signature; one who signs a 2048-bit OEM key fails on the key size.
func TestVerifyRejectsForgeries(t *testing.T) {
	k := keys()
	auth := k.authority.PublicKey()

	c, err := Parse(issue(t))
	require.NoError(t, err)
	c.Signature.Value = reSign(t, c, k.other.key)
	b, err := c.encode()
	require.NoError(t, err)
	c, err = Parse(b)
	require.NoError(t, err)
	err = c.Verify(auth)
	assert.ErrorIs(t, err, ErrBadSignature)
	assert.ErrorContains(t, err, "with the authority key "+Fingerprint(auth))

	// An OEM key that a SLIC cannot hold, properly signed.
	c, err = Parse(issue(t))
	require.NoError(t, err)
	c.OEMKey = &k.big.PublicKey
	c.Signature.Value = reSign(t, c, k.authority.key)
	b, err = c.encode()
	require.NoError(t, err)
	c, err = Parse(b)
	require.NoError(t, err)
	err = c.Verify(auth)
	assert.ErrorIs(t, err, ErrKeySize)
	assert.ErrorContains(t, err, "RSA-2048, want RSA-1024")
}

func reSign(t *testing.T, c *Certificate, key *rsa.PrivateKey) []byte {
	t.Helper()
	sum := sha256.Sum256(c.canonical())
	c.Signature.Digest = sum[:]
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	require.NoError(t, err)
	return sig
}

func TestParseRejectsMalformed(t *testing.T) {
	b := string(issue(t))
	tests := []struct {
		name, doc, msg string
	}{
		{"empty", "", "no XML element"},
		{"PEM file", string(readFixture(t, "authority.pem")), "no XML element"},
		{"not XML", "SLIC\x76\x01\x00\x00", "syntax error"},
		{"truncated", b[:len(b)/2], "unexpected EOF"},
		{"wrong root", `<r:licenseGroup xmlns:r="urn:mpeg:mpeg21:2003:01-REL-R-NS"/>`, "expected element type <r:license>"},
		{"root in another namespace", edit(b, `xmlns:r="urn:mpeg:mpeg21:2003:01-REL-R-NS"`, `xmlns:r="urn:example"`), "expected element type <r:license>"},
		{"no grant", cut(b, "<r:grant>", "</r:grant>"), "no <r:grant>"},
		{"two grants", edit(b, "</r:grant>", "</r:grant><r:grant></r:grant>"), "2 <r:grant> elements"},
		{"no OEM IDs", cut(b, "<oa:oemProperties>", "</oa:oemProperties>"), "no <oa:oemProperties>"},
		{"empty OEM ID list", regexp.MustCompile(`<oa:oemIds[^>]*></oa:oemIds>`).ReplaceAllString(b, ""), "no <oa:oemIds> pair"},
		{"OEM ID too long", edit(b, `OEMID="TSTOEM"`, `OEMID="TSTOEMX"`), "7 bytes"},
		{"OEM table ID empty", edit(b, `OEMTableID="TSTBOARD"`, `OEMTableID=""`), "empty OEM table ID"},
		{"OEM ID not ASCII", edit(b, `OEMID="TSTOEM"`, `OEMID="TSTÉ"`), "byte 3 is 0xc3, want printable ASCII"},
		{"no key", cut(b, "<r:keyHolder>", "</r:keyHolder>"), "no <r:keyHolder>"},
		{"bad base64", edit(b, "<dsig:Exponent>AQAB", "<dsig:Exponent>A*AB"), "not base64"},
		{"huge exponent", edit(b, "<dsig:Exponent>AQAB", "<dsig:Exponent>AQIDBAU="), "exponent"},
		{"bad time", edit(b, "2026-03-01T12:00:00Z", "yesterday"), "RFC 3339"},
		{"second root", b + "<r:license/>", "after the end of <r:license>"},
		{"text after root", b + "junk", "text after the end"},
		{"undeclared entity", edit(b, "TSTBOARD", "&foo;"), "entity"},
		{"too large", b + strings.Repeat(" ", MaxSize), "more than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc))
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrMalformed)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestIssueRejects(t *testing.T) {
	k := keys()
	_, err := k.authority.Issue(&k.big.PublicKey, []OEMIDs{{"TSTOEM", "TSTBOARD"}})
	assert.ErrorIs(t, err, ErrKeySize)
	assert.ErrorContains(t, err, "SLIC holds a 1024-bit modulus")

	_, err = k.authority.Issue(&rsa.PublicKey{N: k.oem.N, E: 4}, []OEMIDs{{"TSTOEM", "TSTBOARD"}})
	assert.ErrorIs(t, err, ErrKeySize)
	assert.ErrorContains(t, err, "exponent 4")

	_, err = k.authority.Issue(&k.oem.PublicKey, nil)
	assert.ErrorIs(t, err, ErrOEMIDs)
	_, err = k.authority.Issue(&k.oem.PublicKey, []OEMIDs{{"TSTOEM", "TSTBOARD"}, {"TSTOEM ", "TSTBOARD"}})
	assert.ErrorContains(t, err, "given twice")
	_, err = k.authority.Issue(&k.oem.PublicKey, []OEMIDs{{"TOOLONGID", "TSTBOARD"}})
	assert.ErrorContains(t, err, "9 bytes, an ACPI header holds 6")

	_, err = NewAuthority(k.small)
	assert.ErrorIs(t, err, ErrKeySize)
	_, err = NewAuthority(nil)
	assert.ErrorIs(t, err, ErrKeySize)
}

func TestKeySizes(t *testing.T) {
	assert.NoError(t, CheckKeySize(RoleOEM, 1024))
	for _, bits := range []int{512, 2048, 4096} {
		assert.ErrorIs(t, CheckKeySize(RoleOEM, bits), ErrKeySize, bits)
	}
	for _, bits := range []int{2048, 3072, 4096} {
		assert.NoError(t, CheckKeySize(RoleAuthority, bits), bits)
	}
	for _, bits := range []int{1024, 2047, 8192} {
		assert.ErrorIs(t, CheckKeySize(RoleAuthority, bits), ErrKeySize, bits)
	}
	_, err := GenerateKey(RoleOEM, 2048)
	assert.ErrorIs(t, err, ErrKeySize)
}

func TestCertificateJSON(t *testing.T) {
	c, err := Parse(issue(t))
	require.NoError(t, err)
	b, err := json.Marshal(c)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(b, &got))
	assert.Equal(t, "2026-03-01T12:00:00Z", got["issued_at"])
	assert.Equal(t, float64(1024), got["oem_key"].(map[string]any)["bits"])
	assert.Equal(t, Fingerprint(&keys().oem.PublicKey), got["oem_key"].(map[string]any)["sha256"])
	assert.Equal(t, []any{map[string]any{"oem_id": "TSTOEM", "oem_table_id": "TSTBOARD"}}, got["oem_ids"])
	sig := got["signature"].(map[string]any)
	assert.Equal(t, AuthorityName, sig["issuer_name"])
	assert.Equal(t, float64(2048), sig["issuer_key"].(map[string]any)["bits"])
}

// edit replaces the first old with new, and panics when old is missing, so that a test case
// cannot silently test the unedited document.
func edit(s, old, new string) string {
	if !strings.Contains(s, old) {
		panic("edit: " + old + " not found")
	}
	return strings.Replace(s, old, new, 1)
}

// cut removes the first element that starts with open and ends with close.
func cut(s, open, close string) string {
	i := strings.Index(s, open)
	j := strings.Index(s, close)
	if i < 0 || j < i {
		panic("cut: " + open + " not found")
	}
	return s[:i] + s[j+len(close):]
}

// flipBase64 changes one character in the middle of a base64 value, keeping it valid and the
// number it encodes the same length.
func flipBase64(s string) string {
	i := len(s) / 2
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

func TestFlipBase64KeepsKeySize(t *testing.T) {
	// Guard for the "tampered modulus" case: the tampered key must still be RSA-1024, so the
	// error is the digest, not the size.
	b := string(issue(t))
	m := regexp.MustCompile(`<dsig:Modulus>([^<]+)<`).FindStringSubmatch(b)[1]
	orig, err := decodeBase64(m, "m")
	require.NoError(t, err)
	got, err := decodeBase64(flipBase64(m), "m")
	require.NoError(t, err)
	assert.Equal(t, 1024, new(big.Int).SetBytes(got).BitLen())
	assert.False(t, bytes.Equal(orig, got))
}

func TestErrorCode(t *testing.T) {
	b := string(issue(t))
	c, err := Parse([]byte(edit(b, `OEMID="TSTOEM"`, `OEMID="OTHOEM"`)))
	require.NoError(t, err)
	assert.Equal(t, "cert-tampered", ErrorCode(c.Verify(keys().authority.PublicKey())))
	assert.Equal(t, "cert-wrong-authority", ErrorCode(c.Verify(keys().other.PublicKey())))
	_, err = Parse([]byte("<x/>"))
	assert.Equal(t, "cert-malformed", ErrorCode(err))
	assert.Equal(t, "cert-error", ErrorCode(os.ErrNotExist))
}
