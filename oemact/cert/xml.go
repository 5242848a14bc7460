package cert

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
)

// Namespaces of the certificate. r: and dsig: are XrML 2.0's and XML-DSig's; oa: is oemact's own,
// for what a real OEM certificate keeps in Microsoft's namespaces (the OEM IDs, the TEST label).
const (
	NamespaceXrML   = "urn:mpeg:mpeg21:2003:01-REL-R-NS"
	NamespaceDSig   = "http://www.w3.org/2000/09/xmldsig#"
	NamespaceOemact = "urn:oemact:xrml:oem:1"
)

// prefixes maps each namespace the certificate uses to the prefix its element names are written
// with in the structs below.
var prefixes = map[string]string{NamespaceXrML: "r", NamespaceDSig: "dsig", NamespaceOemact: "oa"}

// The structs below describe the document once, for both directions. encoding/xml writes a tag
// like "r:license" as written, but when reading it resolves prefixes to namespace URLs; the
// prefixer below turns each resolved name back into the fixed prefix, so the same structs read a
// document whatever prefixes it declares, and an element in a foreign namespace does not match.

type xLicense struct {
	XMLName   xml.Name     `xml:"r:license"`
	NSR       string       `xml:"xmlns:r,attr,omitempty"`
	NSDSig    string       `xml:"xmlns:dsig,attr,omitempty"`
	NSOA      string       `xml:"xmlns:oa,attr,omitempty"`
	LicenseID string       `xml:"licenseId,attr"`
	Title     []string     `xml:"r:title"`
	Grant     []xGrant     `xml:"r:grant"`
	Issuer    []xIssuer    `xml:"r:issuer"`
	OtherInfo []xOtherInfo `xml:"r:otherInfo"`
}

type xGrant struct {
	KeyHolder       []xKeyHolder     `xml:"r:keyHolder"`
	PossessProperty []struct{}       `xml:"r:possessProperty"`
	OEMProperties   []xOEMProperties `xml:"oa:oemProperties"`
}

type xKeyHolder struct {
	Info []xInfo `xml:"r:info"`
}

type xInfo struct {
	KeyValue []xKeyValue `xml:"dsig:KeyValue"`
}

type xKeyValue struct {
	RSA []xRSAKeyValue `xml:"dsig:RSAKeyValue"`
}

// xRSAKeyValue holds XML-DSig CryptoBinary values: base64 of the big-endian unsigned integer.
type xRSAKeyValue struct {
	Modulus  string `xml:"dsig:Modulus"`
	Exponent string `xml:"dsig:Exponent"`
}

type xOEMProperties struct {
	Pairs []xOEMIDs `xml:"oa:oemIds"`
}

type xOEMIDs struct {
	OEMID      string `xml:"OEMID,attr"`
	OEMTableID string `xml:"OEMTableID,attr"`
}

type xIssuer struct {
	Signature []xSignature `xml:"dsig:Signature"`
	Details   []xDetails   `xml:"r:details"`
}

type xDetails struct {
	TimeOfIssue string `xml:"r:timeOfIssue"`
}

type xSignature struct {
	SignedInfo     []xSignedInfo `xml:"dsig:SignedInfo"`
	SignatureValue []string      `xml:"dsig:SignatureValue"`
	KeyInfo        []xKeyInfo    `xml:"dsig:KeyInfo"`
}

type xSignedInfo struct {
	Canonicalization xAlgorithm   `xml:"dsig:CanonicalizationMethod"`
	SignatureMethod  xAlgorithm   `xml:"dsig:SignatureMethod"`
	Reference        []xReference `xml:"dsig:Reference"`
}

type xReference struct {
	DigestMethod xAlgorithm `xml:"dsig:DigestMethod"`
	DigestValue  string     `xml:"dsig:DigestValue"`
}

type xKeyInfo struct {
	KeyName  string      `xml:"dsig:KeyName"`
	KeyValue []xKeyValue `xml:"dsig:KeyValue"`
}

type xAlgorithm struct {
	Algorithm string `xml:"Algorithm,attr"`
}

type xOtherInfo struct {
	TestOnly []string `xml:"oa:testOnly"`
}

// prefixer is an xml.TokenReader that renames every element and attribute in a known namespace to
// "prefix:local" (with the prefixes above) and drops the namespace declarations, so that the
// structs' literal "r:license" tags match. A name in an unknown namespace becomes "{url}local".
type prefixer struct{ d *xml.Decoder }

func (p prefixer) Token() (xml.Token, error) {
	t, err := p.d.Token()
	if err != nil {
		return t, err
	}
	switch e := t.(type) {
	case xml.StartElement:
		e.Name = prefixed(e.Name)
		attrs := e.Attr[:0:0]
		for _, a := range e.Attr {
			if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
				continue
			}
			a.Name = prefixed(a.Name)
			attrs = append(attrs, a)
		}
		e.Attr = attrs
		return e, nil
	case xml.EndElement:
		e.Name = prefixed(e.Name)
		return e, nil
	}
	return t, nil
}

func prefixed(n xml.Name) xml.Name {
	if n.Space == "" {
		return n
	}
	if p, ok := prefixes[n.Space]; ok {
		return xml.Name{Local: p + ":" + n.Local}
	}
	return xml.Name{Local: "{" + n.Space + "}" + n.Local}
}

// decodeLicense reads the document's root element into v and checks that only comments, processing
// instructions and white space follow it.
func decodeLicense(r io.Reader, v *xLicense) error {
	d := xml.NewDecoder(r)
	d.Strict = true
	td := xml.NewTokenDecoder(prefixer{d})
	if err := td.Decode(v); err != nil {
		return err
	}
	for {
		t, err := td.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch e := t.(type) {
		case xml.StartElement:
			line, _ := d.InputPos()
			return fmt.Errorf("line %d: element <%s> after the end of <r:license>: a certificate is one license", line, e.Name.Local)
		case xml.CharData:
			if len(bytes.TrimSpace(e)) > 0 {
				line, _ := d.InputPos()
				return fmt.Errorf("line %d: text after the end of <r:license>", line)
			}
		}
	}
}
