package activation

import (
	"crypto/rsa"
	"fmt"

	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/fixtures"
	"github.com/oemact/oemact/oemact/catalog"
	"github.com/oemact/oemact/oemact/cert"
	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/oa"
)

// The OEM Activation versions.
const (
	OA21 = "2.1"
	OA30 = "3.0"
)

// ChooseOA says which OEM Activation applies to an installed key: OA 2.1 for an OEM:SLP key,
// OA 3.0 for an OEM:DM key, and with no key OA 3.0 for an edition that takes its key from the
// MSDM. Other keys activate without a marker: "" (unless always, which answers by the release:
// OA 2.1 where it reads SLIC markers, OA 3.0 where it does not, as `oemact verify` asks).
func ChooseOA(ed edition.Edition, key *catalog.Entry, always bool) string {
	switch {
	case key != nil && key.Channel == edition.OEMSLP:
		return OA21
	case key != nil && key.Channel == edition.OEMDM, key == nil && ed.Allows(edition.OEMDM):
		return OA30
	case !always:
		return ""
	case ed.ReleaseInfo().SLICVersion == 0:
		return OA30
	}
	return OA21
}

// OAInput is what OEM Activation is evaluated on.
type OAInput struct {
	Set     *firmware.Set
	Edition edition.Edition
	// Key is the installed key (nil: none); Catalog looks up the MSDM's key (OA 3.0).
	Key     *catalog.Entry
	Catalog *catalog.Catalog
	// Certificate and Authority are the image's OEM certificate and the authority it chains to
	// (OA 2.1; see CertificateFor).
	Certificate *cert.Certificate
	Authority   *rsa.PublicKey
	// Kind is OA21 or OA30 (see ChooseOA).
	Kind string
	// Firmware tunes the firmware checks (StrictFADT).
	Firmware firmware.Options
}

// EvaluateOA evaluates OEM Activation. For OA 3.0 the second result is the MSDM's key when the
// verdict is valid: the key Windows installs from the firmware.
func EvaluateOA(in OAInput) (*oa.Verdict, *catalog.Entry) {
	if in.Kind == OA30 {
		return oa.Evaluate30(oa.Input30{Set: in.Set, Catalog: in.Catalog, Edition: in.Edition})
	}
	return oa.Evaluate21(oa.Input21{Set: in.Set, Certificate: in.Certificate, Authority: in.Authority, Key: in.Key,
		Edition: in.Edition, Firmware: in.Firmware}), nil
}

// CertificateFor returns the OEM certificate an installation holds and the authority it must
// chain to. The certificate is part of the OEM's image, not of the firmware (DESIGN.md): the
// image's own (certificate, an .xrm-ms), else, for an OEM:SLP key of an OEM that has a built-in
// TEST certificate, that one. Never the firmware's OEM's: OEM A's image on OEM B's board carries
// A's certificate. No certificate is nil, not an error (OA rule 2 reports it); an unreadable one
// is an error. The authority is the given PEM public key, else the built-in TEST authority.
func CertificateFor(certificate, authority []byte, key *catalog.Entry) (*cert.Certificate, *rsa.PublicKey, error) {
	var auth *rsa.PublicKey
	var err error
	if len(authority) > 0 {
		auth, err = cert.ParsePublicKeyPEM(authority, "the image's authority")
	} else {
		auth, err = fixtures.Authority()
	}
	if err != nil {
		return nil, nil, err
	}
	if len(certificate) > 0 {
		c, err := cert.Parse(certificate)
		return c, auth, err
	}
	if key == nil || key.Channel != edition.OEMSLP || key.OEMID == "" {
		return nil, auth, nil
	}
	c, err := fixtures.Certificate(key.OEMID)
	if err != nil {
		return nil, auth, nil // no certificate known for this OEM: rule 2 says so
	}
	return c, auth, nil
}

// DefaultKey is the key an installation holds when none was given: a volume-only edition (Windows
// 7 Enterprise) installs its KMS client key (GVLK), as volume media do, and looks for a KMS host
// at boot ("KMS is the default for volume clients", DESIGN.md). Other editions install no key
// (nil), and run their grace until one is installed; an OA 3.0 edition reads its key from the
// MSDM instead (see ChooseOA).
func DefaultKey(ed edition.Edition, cat *catalog.Catalog) (*catalog.Entry, error) {
	if !ed.VolumeOnly() || !ed.Allows(edition.VolumeGVLK) {
		return nil, nil
	}
	e, err := cat.Label(catalog.ChannelWord(edition.VolumeGVLK) + "/" + ed.ID)
	if err != nil {
		return nil, fmt.Errorf("%s installs its KMS client key by default: %w", ed.Name, err)
	}
	return e, nil
}

// WindowsMarker reports whether a set holds a SLIC with a Windows marker (valid or not).
func WindowsMarker(set *firmware.Set) bool {
	t := set.First("SLIC")
	return t != nil && t.SLIC != nil && t.SLIC.HasMarker && t.SLIC.Marker.WindowsFlag == firmware.WindowsFlag
}
