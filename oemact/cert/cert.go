package cert

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// The TEST labels every certificate carries; Verify rejects a certificate without them.
const (
	AuthorityName = "oemact TEST authority - not Microsoft"
	Title         = "oemact TEST OEM certificate - not Microsoft"
	TestLabel     = "TEST ONLY: issued by the oemact TEST authority, not by Microsoft. Windows does not accept this certificate."
)

// Algorithm identifiers recorded in SignedInfo. The canonicalisation is oemact's own (see doc.go);
// the signature and digest methods are the XML-DSig names of RSA PKCS#1 v1.5 with SHA-256 and SHA-256.
const (
	AlgCanonical    = "urn:oemact:xrml:c14n-fields:1"
	AlgRSASHA256    = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	AlgDigestSHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
)

// MaxSize bounds the documents Parse reads. A certificate is about 3 KB; real OEM certificates are
// under 10 KB.
const MaxSize = 1 << 20

// Errors that Parse and Verify wrap; test with errors.Is.
var (
	ErrMalformed      = errors.New("malformed certificate")
	ErrUnsigned       = errors.New("certificate is not signed")
	ErrTampered       = errors.New("certificate changed after signing")
	ErrWrongAuthority = errors.New("certificate signed by another authority")
	ErrBadSignature   = errors.New("certificate signature does not verify")
	ErrKeySize        = errors.New("wrong key size")
	ErrNotTest        = errors.New("certificate is not labelled TEST")
	ErrUnsupported    = errors.New("unsupported signature algorithm")
	ErrOEMIDs         = errors.New("invalid OEM IDs")
)

// codes are stable finding codes for the errors above, most specific first.
var codes = []struct {
	err  error
	code string
}{
	{ErrMalformed, "cert-malformed"},
	{ErrUnsigned, "cert-unsigned"},
	{ErrNotTest, "cert-not-test"},
	{ErrKeySize, "cert-key-size"},
	{ErrOEMIDs, "cert-oem-ids"},
	{ErrUnsupported, "cert-unsupported-algorithm"},
	{ErrWrongAuthority, "cert-wrong-authority"},
	{ErrTampered, "cert-tampered"},
	{ErrBadSignature, "cert-bad-signature"},
}

// ErrorCode returns the finding code for an error of this package ("cert-tampered", ...), or
// "cert-error" for any other error.
func ErrorCode(err error) string {
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return "cert-error"
}

// OEMIDs is one OEM ID pair as the SLIC Windows marker carries it: OEM ID (6 bytes) and OEM table
// ID (8 bytes). Values are kept without their trailing padding (spaces or NULs).
type OEMIDs struct {
	OEMID      string `json:"oem_id"`
	OEMTableID string `json:"oem_table_id"`
}

func (p OEMIDs) String() string { return p.OEMID + "/" + p.OEMTableID }

// TrimID removes the trailing spaces and NULs that pad ACPI ID fields.
func TrimID(s string) string { return strings.TrimRight(s, " \x00") }

// normalise trims padding and checks the lengths and characters an ACPI header can hold.
func (p OEMIDs) normalise() (OEMIDs, error) {
	out := OEMIDs{OEMID: TrimID(p.OEMID), OEMTableID: TrimID(p.OEMTableID)}
	if err := checkID("OEM ID", out.OEMID, 6); err != nil {
		return out, err
	}
	if err := checkID("OEM table ID", out.OEMTableID, 8); err != nil {
		return out, err
	}
	return out, nil
}

func checkID(what, s string, max int) error {
	if s == "" {
		return fmt.Errorf("%w: empty %s", ErrOEMIDs, what)
	}
	if len(s) > max {
		return fmt.Errorf("%w: %s %q is %d bytes, an ACPI header holds %d", ErrOEMIDs, what, s, len(s), max)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return fmt.Errorf("%w: %s %q: byte %d is 0x%02x, want printable ASCII", ErrOEMIDs, what, s, i, s[i])
		}
	}
	return nil
}

// Certificate is a decoded OEM certificate.
type Certificate struct {
	LicenseID string
	Title     string
	TestLabel string
	IssuedAt  time.Time
	// OEMKey is the OEM's public key, which must equal the SLIC's (OA 2.1 rule 2).
	OEMKey *rsa.PublicKey
	// IDs are the OEM ID pairs the certificate covers, in document order.
	IDs []OEMIDs
	// Signature is nil when the document has none.
	Signature *Signature
}

// Signature is the issuer's signature block.
type Signature struct {
	Canonicalization string
	Method           string
	DigestMethod     string
	Digest           []byte
	Value            []byte
	KeyName          string
	// Key is the issuer's public key from KeyInfo; nil when KeyInfo has none.
	Key *rsa.PublicKey
}

// Covers reports whether one of the certificate's pairs equals the given IDs, ignoring the
// trailing spaces or NULs that pad them in ACPI tables.
func (c *Certificate) Covers(oemID, oemTableID string) bool {
	for _, p := range c.IDs {
		if p.OEMID == TrimID(oemID) && p.OEMTableID == TrimID(oemTableID) {
			return true
		}
	}
	return false
}

// canonical is the byte string that is digested and signed (doc.go, "Signing"): one line per
// field, "name=" and the value as a Go-quoted string, in a fixed order.
func (c *Certificate) canonical() []byte {
	var b bytes.Buffer
	field := func(name, value string) { fmt.Fprintf(&b, "%s=%s\n", name, strconv.Quote(value)) }
	b.WriteString("oemact-xrm-c14n/1\n")
	field("license_id", c.LicenseID)
	field("title", c.Title)
	field("test_label", c.TestLabel)
	field("time_of_issue", c.IssuedAt.UTC().Format(time.RFC3339))
	field("oem_key_modulus", hex.EncodeToString(c.OEMKey.N.Bytes()))
	field("oem_key_exponent", strconv.Itoa(c.OEMKey.E))
	for _, p := range c.IDs {
		field("oem_id", p.OEMID)
		field("oem_table_id", p.OEMTableID)
	}
	var keyName, issuer string
	if c.Signature != nil {
		keyName = c.Signature.KeyName
		if c.Signature.Key != nil {
			issuer = Fingerprint(c.Signature.Key)
		}
	}
	field("issuer_name", keyName)
	field("issuer_key_sha256", issuer)
	return b.Bytes()
}

// Verify checks the certificate against the authority's public key: TEST labels, key sizes, the
// issuer, the digest of the content and the signature, in that order, so that the error names the
// first thing wrong. Errors wrap the Err* values above.
func (c *Certificate) Verify(authority *rsa.PublicKey) error {
	if err := checkPublicKey(RoleAuthority, authority); err != nil {
		return fmt.Errorf("authority key: %w", err)
	}
	s := c.Signature
	if s == nil || len(s.Value) == 0 {
		return fmt.Errorf("%w: no <dsig:Signature> with a SignatureValue in <r:issuer>; issue it with: oemact cert issue", ErrUnsigned)
	}
	if c.Title != Title || c.TestLabel != TestLabel {
		return fmt.Errorf("%w: want title %q and <oa:testOnly> %q", ErrNotTest, Title, TestLabel)
	}
	if err := checkPublicKey(RoleOEM, c.OEMKey); err != nil {
		return fmt.Errorf("certificate's OEM key: %w", err)
	}
	for _, alg := range []struct{ what, got, want string }{
		{"CanonicalizationMethod", s.Canonicalization, AlgCanonical},
		{"SignatureMethod", s.Method, AlgRSASHA256},
		{"DigestMethod", s.DigestMethod, AlgDigestSHA256},
	} {
		if alg.got != alg.want {
			return fmt.Errorf("%w: %s %q, oemact verifies only %q", ErrUnsupported, alg.what, alg.got, alg.want)
		}
	}
	if s.Key == nil {
		return fmt.Errorf("%w: <dsig:KeyInfo> has no issuer key", ErrUnsigned)
	}
	if !s.Key.Equal(authority) {
		return fmt.Errorf("%w: issuer %q has key SHA-256 %s, the authority given has %s",
			ErrWrongAuthority, s.KeyName, Fingerprint(s.Key), Fingerprint(authority))
	}
	sum := sha256.Sum256(c.canonical())
	if !bytes.Equal(sum[:], s.Digest) {
		return fmt.Errorf("%w: the content (OEM key, OEM IDs, labels, time of issue) hashes to %s, the signed digest is %s",
			ErrTampered, hex.EncodeToString(sum[:]), hex.EncodeToString(s.Digest))
	}
	if err := rsa.VerifyPKCS1v15(authority, crypto.SHA256, sum[:], s.Value); err != nil {
		return fmt.Errorf("%w with the authority key %s: %v", ErrBadSignature, Fingerprint(authority), err)
	}
	return nil
}

// KeySummary describes a public key for people and JSON.
type KeySummary struct {
	Bits     int    `json:"bits"`
	Exponent int    `json:"exponent"`
	SHA256   string `json:"sha256"`
}

// Summarize describes a key; nil gives nil.
func Summarize(pub *rsa.PublicKey) *KeySummary {
	if pub == nil || pub.N == nil {
		return nil
	}
	return &KeySummary{Bits: pub.N.BitLen(), Exponent: pub.E, SHA256: Fingerprint(pub)}
}

func (k *KeySummary) String() string {
	if k == nil {
		return "none"
	}
	return fmt.Sprintf("RSA-%d, exponent %d, SHA-256 %s", k.Bits, k.Exponent, k.SHA256)
}

type jsonCertificate struct {
	LicenseID string         `json:"license_id"`
	Title     string         `json:"title"`
	TestLabel string         `json:"test_label"`
	IssuedAt  time.Time      `json:"issued_at"`
	OEMKey    *KeySummary    `json:"oem_key"`
	IDs       []OEMIDs       `json:"oem_ids"`
	Signature *jsonSignature `json:"signature"`
}

type jsonSignature struct {
	Canonicalization string      `json:"canonicalization"`
	Method           string      `json:"method"`
	DigestMethod     string      `json:"digest_method"`
	Digest           string      `json:"digest"`
	KeyName          string      `json:"issuer_name"`
	Key              *KeySummary `json:"issuer_key"`
}

// MarshalJSON describes the certificate with keys as summaries (size, exponent, fingerprint).
func (c *Certificate) MarshalJSON() ([]byte, error) {
	j := jsonCertificate{LicenseID: c.LicenseID, Title: c.Title, TestLabel: c.TestLabel,
		IssuedAt: c.IssuedAt, OEMKey: Summarize(c.OEMKey), IDs: c.IDs}
	if s := c.Signature; s != nil {
		j.Signature = &jsonSignature{Canonicalization: s.Canonicalization, Method: s.Method,
			DigestMethod: s.DigestMethod, Digest: hex.EncodeToString(s.Digest), KeyName: s.KeyName, Key: Summarize(s.Key)}
	}
	return json.Marshal(j)
}

// Parse decodes a certificate. It checks the document's shape, not its signature: call Verify.
func Parse(b []byte) (*Certificate, error) {
	if len(b) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, more than the %d a certificate may have", ErrMalformed, len(b), MaxSize)
	}
	var x xLicense
	if err := decodeLicense(bytes.NewReader(b), &x); err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("no XML element: an .xrm-ms certificate is an XML <r:license> document")
		}
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	c, err := x.certificate()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return c, nil
}

func (x *xLicense) certificate() (*Certificate, error) {
	c := &Certificate{LicenseID: strings.TrimSpace(x.LicenseID)}
	var err error
	if c.Title, err = optional(x.Title, "<r:license>", "<r:title>"); err != nil {
		return nil, err
	}
	grant, err := one(x.Grant, "<r:license>", "<r:grant>")
	if err != nil {
		return nil, err
	}
	holder, err := one(grant.KeyHolder, "<r:grant>", "<r:keyHolder>")
	if err != nil {
		return nil, err
	}
	info, err := one(holder.Info, "<r:keyHolder>", "<r:info>")
	if err != nil {
		return nil, err
	}
	if c.OEMKey, err = keyValue(info.KeyValue, "OEM key in <r:keyHolder>"); err != nil {
		return nil, err
	}
	if _, err := one(grant.PossessProperty, "<r:grant>", "<r:possessProperty>"); err != nil {
		return nil, err
	}
	props, err := one(grant.OEMProperties, "<r:grant>", "<oa:oemProperties>")
	if err != nil {
		return nil, err
	}
	if len(props.Pairs) == 0 {
		return nil, errors.New("<oa:oemProperties> lists no <oa:oemIds> pair")
	}
	for i, p := range props.Pairs {
		n, err := OEMIDs(p).normalise()
		if err != nil {
			return nil, fmt.Errorf("<oa:oemIds> %d: %v", i+1, err)
		}
		c.IDs = append(c.IDs, n)
	}

	issuer, err := one(x.Issuer, "<r:license>", "<r:issuer>")
	if err != nil {
		return nil, err
	}
	details, err := one(issuer.Details, "<r:issuer>", "<r:details>")
	if err != nil {
		return nil, err
	}
	ts := strings.TrimSpace(details.TimeOfIssue)
	if c.IssuedAt, err = time.Parse(time.RFC3339, ts); err != nil {
		return nil, fmt.Errorf("<r:timeOfIssue> %q is not an RFC 3339 time", ts)
	}
	if len(issuer.Signature) > 1 {
		return nil, fmt.Errorf("<r:issuer> has %d <dsig:Signature> elements, want one", len(issuer.Signature))
	}
	if len(issuer.Signature) == 1 {
		if c.Signature, err = issuer.Signature[0].signature(); err != nil {
			return nil, err
		}
	}

	if len(x.OtherInfo) > 1 {
		return nil, fmt.Errorf("<r:license> has %d <r:otherInfo> elements, want one", len(x.OtherInfo))
	}
	if len(x.OtherInfo) == 1 {
		if c.TestLabel, err = optional(x.OtherInfo[0].TestOnly, "<r:otherInfo>", "<oa:testOnly>"); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (x *xSignature) signature() (*Signature, error) {
	si, err := one(x.SignedInfo, "<dsig:Signature>", "<dsig:SignedInfo>")
	if err != nil {
		return nil, err
	}
	ref, err := one(si.Reference, "<dsig:SignedInfo>", "<dsig:Reference>")
	if err != nil {
		return nil, err
	}
	s := &Signature{
		Canonicalization: strings.TrimSpace(si.Canonicalization.Algorithm),
		Method:           strings.TrimSpace(si.SignatureMethod.Algorithm),
		DigestMethod:     strings.TrimSpace(ref.DigestMethod.Algorithm),
	}
	if s.Digest, err = decodeBase64(ref.DigestValue, "<dsig:DigestValue>"); err != nil {
		return nil, err
	}
	value, err := optional(x.SignatureValue, "<dsig:Signature>", "<dsig:SignatureValue>")
	if err != nil {
		return nil, err
	}
	if s.Value, err = decodeBase64(value, "<dsig:SignatureValue>"); err != nil {
		return nil, err
	}
	if len(x.KeyInfo) > 1 {
		return nil, fmt.Errorf("<dsig:Signature> has %d <dsig:KeyInfo> elements, want one", len(x.KeyInfo))
	}
	if len(x.KeyInfo) == 1 {
		ki := x.KeyInfo[0]
		s.KeyName = strings.TrimSpace(ki.KeyName)
		if len(ki.KeyValue) > 0 {
			if s.Key, err = keyValue(ki.KeyValue, "issuer key in <dsig:KeyInfo>"); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

func keyValue(kv []xKeyValue, what string) (*rsa.PublicKey, error) {
	v, err := one(kv, what, "<dsig:KeyValue>")
	if err != nil {
		return nil, err
	}
	r, err := one(v.RSA, what, "<dsig:RSAKeyValue>")
	if err != nil {
		return nil, err
	}
	n, err := decodeBase64(r.Modulus, what+" <dsig:Modulus>")
	if err != nil {
		return nil, err
	}
	e, err := decodeBase64(r.Exponent, what+" <dsig:Exponent>")
	if err != nil {
		return nil, err
	}
	if len(n) == 0 || len(e) == 0 || len(e) > 4 {
		return nil, fmt.Errorf("%s: modulus of %d bytes and exponent of %d bytes; want both present, the exponent at most 4 bytes", what, len(n), len(e))
	}
	exp := new(big.Int).SetBytes(e).Int64()
	if exp > 1<<31-1 {
		return nil, fmt.Errorf("%s: exponent %d is too large", what, exp)
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exp)}, nil
}

// decodeBase64 reads an XML-DSig base64 value, which may be wrapped over several lines.
func decodeBase64(s, what string) ([]byte, error) {
	s = strings.Join(strings.Fields(s), "")
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%s is not base64: %v", what, err)
	}
	return b, nil
}

// one returns the only element of list; parent and child name the elements for the error.
func one[T any](list []T, parent, child string) (T, error) {
	var zero T
	switch len(list) {
	case 1:
		return list[0], nil
	case 0:
		return zero, fmt.Errorf("%s has no %s", parent, child)
	}
	return zero, fmt.Errorf("%s has %d %s elements, want one", parent, len(list), child)
}

// optional returns the trimmed text of the element, "" when absent, an error when repeated.
func optional(list []string, parent, child string) (string, error) {
	if len(list) > 1 {
		return "", fmt.Errorf("%s has %d %s elements, want one", parent, len(list), child)
	}
	if len(list) == 0 {
		return "", nil
	}
	return strings.TrimSpace(list[0]), nil
}
