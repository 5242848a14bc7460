package scenario

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/oemact/oemact/firmware/fileio"
	"github.com/oemact/oemact/fixtures"
	"github.com/oemact/oemact/oemact/catalog"
	"github.com/oemact/oemact/oemact/cert"
	"github.com/oemact/oemact/oemact/edition"
)

// The OEM certificate (.xrm-ms) is part of the OEM's Windows image, like the OEM:SLP key, not of
// the firmware (DESIGN.md): a machine's image carries the certificate its certificate: names, or
// the TEST certificate of its OEM:SLP key's OEM (beside a catalog, else built in), never the one
// of the board's OEM.

// BuiltInPrefix starts a certificate: value that names a built-in TEST certificate by OEM ID
// ("built-in:TSTOEM") instead of a file.
const BuiltInPrefix = "built-in:"

// Image is what a machine's Windows image carries for OEM Activation 2.1 besides its key.
type Image struct {
	// Certificate is the OEM certificate (.xrm-ms) the machine's certificate: names; nil when it
	// names none, and the image then carries its key's OEM's (see Scenario.Certificate).
	Certificate []byte
	// CertificateFrom says where Certificate came from: a file, or "the built-in TEST
	// certificate of OEMID".
	CertificateFrom string
	// Authority is the PEM public key of the authority the certificate must chain to (the
	// machine's authority:); nil: the built-in TEST authority.
	Authority     []byte
	AuthorityFrom string
}

// OEMCertificate is an OEM's TEST certificate found beside a catalog file.
type OEMCertificate struct {
	Path  string
	Bytes []byte
}

// Certificate is the OEM certificate a machine's image carries with key installed: the machine's
// certificate:, else for an OEM:SLP key the certificate of the key's OEM found beside a catalog
// (nil when there is none: the guest then takes the built-in TEST certificate of that OEM, if
// any). Never the board's OEM's.
func (sc *Scenario) Certificate(m *Machine, key *catalog.Entry) []byte {
	if m.Image.Certificate != nil {
		return m.Image.Certificate
	}
	if key != nil && key.Channel == edition.OEMSLP {
		if c := sc.OEMCertificates[key.OEMID]; c != nil {
			return c.Bytes
		}
	}
	return nil
}

// image reads a machine's certificate: and authority:.
func (p *parser) image(field string, r rawMachine) (Image, error) {
	var im Image
	switch {
	case r.Certificate == "":
	case strings.HasPrefix(r.Certificate, BuiltInPrefix):
		id := strings.TrimPrefix(r.Certificate, BuiltInPrefix)
		have := fixtures.CertificateOEMs()
		if !slices.Contains(have, id) {
			return im, p.doc.Errorf(field+".certificate", "no built-in TEST certificate of OEM %q (there are for %s); or name a file", id, strings.Join(have, ", "))
		}
		b, err := fixtures.Keys.ReadFile(fixtures.CertificateFile(id))
		if err != nil {
			return im, p.doc.Errorf(field+".certificate", "%v", err)
		}
		im.Certificate, im.CertificateFrom = b, "the built-in TEST certificate of "+id
	default:
		path, b, err := p.readReferenced(field+".certificate", r.Certificate)
		if err != nil {
			return im, err
		}
		if _, err := cert.Parse(b); err != nil {
			return im, p.doc.Errorf(field+".certificate", "%s is not an OEM certificate oemact can read (an .xrm-ms from oemact cert issue; oemact cert show %s says what is wrong)", r.Certificate, r.Certificate)
		}
		im.Certificate, im.CertificateFrom = b, path
	}
	if r.Authority == "" {
		return im, nil
	}
	path, b, err := p.readReferenced(field+".authority", r.Authority)
	if err != nil {
		return im, err
	}
	pub, err := cert.ParsePublicKeyPEM(b, path)
	if err != nil {
		return im, p.doc.Errorf(field+".authority", "%s is not a PEM RSA key: want the TEST authority's key as oemact keygen --authority writes it, or its public key", r.Authority)
	}
	// The guest needs only the public half: a private key never leaves the host.
	if im.Authority, err = cert.EncodePublicKeyPEM(pub, cert.RoleAuthority); err != nil {
		return im, p.doc.Errorf(field+".authority", "%v", err)
	}
	im.AuthorityFrom = path
	return im, nil
}

// readReferenced reads a small file the scenario names (a certificate, a key), bounded and, when
// confined, inside the folder tree.
func (p *parser) readReferenced(field, name string) (string, []byte, error) {
	path, err := p.reference(field, name)
	if err != nil {
		return "", nil, err
	}
	b, err := fileio.ReadFile(path, fileio.YAMLLimit)
	if err != nil {
		return "", nil, p.doc.Errorf(field, "%v", err)
	}
	return path, b, nil
}

// catalogFolder is a folder whose catalog file the scenario uses; confined says files found there
// must stay inside the confinement (the scenario's own catalog:, not --catalog's).
type catalogFolder struct {
	dir      string
	confined bool
}

// oemCertificate finds the TEST certificate of an OEM:SLP key's OEM beside the catalogs: a file
// oem-OEMID.xrm-ms in the folder of the scenario's catalog: or of a --catalog file. Two
// different ones are an error naming both.
func (p *parser) oemCertificate(field string, e *catalog.Entry) error {
	if e.Channel != edition.OEMSLP || e.OEMID == "" {
		return nil
	}
	if _, done := p.sc.OEMCertificates[e.OEMID]; done {
		return nil
	}
	var found *OEMCertificate
	for _, f := range p.catalogFolders {
		path := filepath.Join(f.dir, "oem-"+e.OEMID+".xrm-ms")
		if _, err := os.Lstat(path); err != nil {
			continue
		}
		if f.confined && p.confine != "" {
			if in, err := inside(p.confine, path); err != nil || !in {
				return p.doc.Errorf(field, "%s, beside the catalog, is outside %s: with --confine, scenarios name files inside that folder tree only", path, p.confine)
			}
		}
		b, err := fileio.ReadFile(path, fileio.YAMLLimit)
		if err != nil {
			return p.doc.Errorf(field, "%v", err)
		}
		if _, err := cert.Parse(b); err != nil {
			return p.doc.Errorf(field, "%s, beside the catalog, is not an OEM certificate oemact can read (oemact cert show %s says what is wrong)", path, path)
		}
		switch {
		case found == nil:
			found = &OEMCertificate{Path: path, Bytes: b}
		case !bytes.Equal(found.Bytes, b):
			return p.doc.Errorf(field, "two different TEST certificates of %s beside the catalogs: %s and %s; keep one, or name it with certificate:", e.OEMID, found.Path, path)
		}
	}
	if p.sc.OEMCertificates == nil {
		p.sc.OEMCertificates = map[string]*OEMCertificate{}
	}
	p.sc.OEMCertificates[e.OEMID] = found // nil: none beside the catalogs
	return nil
}
