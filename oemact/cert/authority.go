package cert

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"math/big"
	"time"
)

// An Authority issues TEST OEM certificates. It plays Microsoft's role in the model and nothing
// else: its name says "not Microsoft" and every certificate it issues carries the TEST label.
type Authority struct {
	key *rsa.PrivateKey
	// Now gives the time of issue (time.Now when nil); set it for reproducible output.
	Now func() time.Time
}

// NewAuthority wraps a TEST authority key (RSA-2048, 3072 or 4096; see GenerateKey).
func NewAuthority(key *rsa.PrivateKey) (*Authority, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: no authority key", ErrKeySize)
	}
	if err := checkPublicKey(RoleAuthority, &key.PublicKey); err != nil {
		return nil, fmt.Errorf("authority key: %w", err)
	}
	return &Authority{key: key}, nil
}

// PublicKey is what Verify needs.
func (a *Authority) PublicKey() *rsa.PublicKey { return &a.key.PublicKey }

// Issue makes a signed certificate binding the OEM's RSA-1024 key to its OEM ID pairs. IDs are
// stored without trailing padding; duplicates are refused.
func (a *Authority) Issue(oemKey *rsa.PublicKey, ids []OEMIDs) ([]byte, error) {
	if err := checkPublicKey(RoleOEM, oemKey); err != nil {
		return nil, fmt.Errorf("OEM key: %w", err)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%w: a certificate needs at least one OEM ID pair", ErrOEMIDs)
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	c := &Certificate{
		Title:     Title,
		TestLabel: TestLabel,
		IssuedAt:  now().UTC().Truncate(time.Second),
		OEMKey:    &rsa.PublicKey{N: new(big.Int).Set(oemKey.N), E: oemKey.E},
	}
	seen := map[OEMIDs]bool{}
	for _, p := range ids {
		n, err := p.normalise()
		if err != nil {
			return nil, err
		}
		if seen[n] {
			return nil, fmt.Errorf("%w: pair %s given twice", ErrOEMIDs, n)
		}
		seen[n] = true
		c.IDs = append(c.IDs, n)
	}
	c.LicenseID = licenseID(c)
	c.Signature = &Signature{
		Canonicalization: AlgCanonical,
		Method:           AlgRSASHA256,
		DigestMethod:     AlgDigestSHA256,
		KeyName:          AuthorityName,
		Key:              a.PublicKey(),
	}
	sum := sha256.Sum256(c.canonical())
	sig, err := rsa.SignPKCS1v15(nil, a.key, crypto.SHA256, sum[:])
	if err != nil {
		return nil, fmt.Errorf("signing the certificate: %w", err)
	}
	c.Signature.Digest, c.Signature.Value = sum[:], sig
	return c.encode()
}

// licenseID derives the license's ID from what it binds, so issuing the same key and IDs at the
// same second gives the same document (fixtures can be regenerated and compared).
func licenseID(c *Certificate) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00%s", c.OEMKey.N.Text(16), c.OEMKey.E, c.IssuedAt.Format(time.RFC3339))
	for _, p := range c.IDs {
		fmt.Fprintf(h, "\x00%s\x00%s", p.OEMID, p.OEMTableID)
	}
	s := h.Sum(nil)
	return fmt.Sprintf("{%x-%x-%x-%x-%x}", s[0:4], s[4:6], s[6:8], s[8:10], s[10:16])
}

// header is written before the root element, for people who open the file.
const header = xml.Header + "<!-- " + TestLabel + " -->\n"

// encode writes the certificate in the layout of doc.go.
func (c *Certificate) encode() ([]byte, error) {
	props := xOEMProperties{}
	for _, p := range c.IDs {
		props.Pairs = append(props.Pairs, xOEMIDs(p))
	}
	issuer := xIssuer{Details: []xDetails{{TimeOfIssue: c.IssuedAt.UTC().Format(time.RFC3339)}}}
	if s := c.Signature; s != nil {
		issuer.Signature = []xSignature{{
			SignedInfo: []xSignedInfo{{
				Canonicalization: xAlgorithm{s.Canonicalization},
				SignatureMethod:  xAlgorithm{s.Method},
				Reference: []xReference{{
					DigestMethod: xAlgorithm{s.DigestMethod},
					DigestValue:  base64.StdEncoding.EncodeToString(s.Digest),
				}},
			}},
			SignatureValue: []string{base64.StdEncoding.EncodeToString(s.Value)},
			KeyInfo:        []xKeyInfo{{KeyName: s.KeyName, KeyValue: encodeKey(s.Key)}},
		}}
	}
	x := xLicense{
		NSR: NamespaceXrML, NSDSig: NamespaceDSig, NSOA: NamespaceOemact,
		LicenseID: c.LicenseID,
		Title:     []string{c.Title},
		Grant: []xGrant{{
			KeyHolder:       []xKeyHolder{{Info: []xInfo{{KeyValue: encodeKey(c.OEMKey)}}}},
			PossessProperty: []struct{}{{}},
			OEMProperties:   []xOEMProperties{props},
		}},
		Issuer:    []xIssuer{issuer},
		OtherInfo: []xOtherInfo{{TestOnly: []string{c.TestLabel}}},
	}
	var b bytes.Buffer
	b.WriteString(header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(x); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

func encodeKey(pub *rsa.PublicKey) []xKeyValue {
	if pub == nil {
		return nil
	}
	e := big.NewInt(int64(pub.E)).Bytes()
	return []xKeyValue{{RSA: []xRSAKeyValue{{
		Modulus:  base64.StdEncoding.EncodeToString(pub.N.Bytes()),
		Exponent: base64.StdEncoding.EncodeToString(e),
	}}}}
}
