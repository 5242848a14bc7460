// Package oa evaluates OEM Activation: OA 2.1 (the SLIC marker, the OEM certificate and an OEM:SLP
// key) and the offline part of OA 3.0 (the MSDM key), returning a verdict with the rule that
// decided it and the findings that explain it.
//
// It implements the model's rules from DESIGN.md, with TEST certificates; it is not Windows' code
// and nothing it accepts would activate a real Windows.
package oa

import (
	"crypto/rsa"
	"fmt"
	"strings"

	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/firmware/finding"
	"github.com/oemact/oemact/firmware/productkey"
	"github.com/oemact/oemact/oemact/catalog"
	"github.com/oemact/oemact/oemact/cert"
	"github.com/oemact/oemact/oemact/edition"
)

// Finding codes of the evaluation itself; firmware findings keep their own codes.
const (
	CodeNoSLIC           = "oa-no-slic"
	CodeMarkerInvalid    = "oa-marker-invalid"
	CodeNoCertificate    = "oa-no-certificate"
	CodeCertInvalid      = "oa-cert-invalid"
	CodeCertKeyMismatch  = "oa-cert-key-mismatch"
	CodeCertIDMismatch   = "oa-cert-id-mismatch"
	CodeMarkerIDs        = "oa-marker-ids"
	CodeVersionLow       = "oa-slic-version"
	CodeNoKey            = "oa-no-key"
	CodeKeyNotSLP        = "oa-key-not-slp"
	CodeKeyOtherOEM      = "oa-key-other-oem"
	CodeKeyOtherEdition  = "oa-key-other-edition"
	CodeEditionNoOEM     = "oa-edition-no-oem"
	CodeNoMSDM           = "oa-no-msdm"
	CodeMSDMInvalid      = "oa-msdm-invalid"
	CodeMSDMKeyUnknown   = "oa-msdm-key-unknown"
	CodeMSDMKeyNotDM     = "oa-msdm-key-not-dm"
	CodeMSDMOtherEdition = "oa-msdm-key-other-edition"
)

// Rule is one numbered condition of OA 2.1 (DESIGN.md, "OEM Activation 2.1").
type Rule struct {
	Number int    `json:"number"`
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	// Reason says why the rule holds or not, in one sentence.
	Reason string `json:"reason"`
	// Findings are the diagnostics behind a failed rule.
	Findings finding.List `json:"findings,omitempty"`
}

// Verdict is the result of an evaluation.
type Verdict struct {
	Kind  string `json:"kind"` // "OA 2.1" or "OA 3.0"
	Valid bool   `json:"valid"`
	Rules []Rule `json:"rules"`
	// Findings holds every finding: the firmware checks of the set and the evaluation's own.
	Findings finding.List `json:"findings"`
	// Marker identifies the marker the verdict is about (OEM ID/table ID/SLIC version/key digest),
	// the identity an OEM:SLP licence is bound to; "" without a SLIC.
	Marker string `json:"marker,omitempty"`
	// WindowsMarker: a SLIC with a "WINDOWS " flag is present, valid or not (KMS clients of
	// Windows 7 volume editions need one).
	WindowsMarker bool `json:"windows_marker"`
}

// Reasons lists the reasons of the failed rules, for a licence's event log.
func (v *Verdict) Reasons() []string {
	var out []string
	for _, r := range v.Rules {
		if !r.OK {
			out = append(out, fmt.Sprintf("rule %d (%s): %s", r.Number, r.Name, r.Reason))
		}
	}
	return out
}

// String is a one-line verdict.
func (v *Verdict) String() string {
	if v.Valid {
		return v.Kind + ": valid"
	}
	return v.Kind + ": not valid: " + strings.Join(v.Reasons(), "; ")
}

// Input21 is what OA 2.1 needs: the machine's tables, the OEM certificate installed with Windows
// (%windir%\System32\OEM\*.xrm-ms), the authority it must chain to, the installed key's catalog
// entry and the installed edition.
type Input21 struct {
	Set         *firmware.Set
	Certificate *cert.Certificate // nil when none is installed
	Authority   *rsa.PublicKey
	Key         *catalog.Entry // nil when no key is installed
	Edition     edition.Edition
	// Firmware tunes the firmware checks (StrictFADT...); Release and MinSLICVersion are set from
	// the edition.
	Firmware firmware.Options
}

// Codes of firmware findings that belong to rules 3 and 4; every other error on the SLIC is rule 1.
var (
	rule3Codes = map[string]bool{firmware.CodeMarkerHeader: true, firmware.CodeMarkerRSDT: true,
		firmware.CodeMarkerXSDT: true, firmware.CodeMarkerFADT: true}
	rule4Codes = map[string]bool{firmware.CodeSLICVersionLow: true, firmware.CodeSLICVersionUnset: true}
)

// Evaluate21 applies the five OA 2.1 rules. Every rule is evaluated even after one fails, so the
// verdict lists all that is wrong.
func Evaluate21(in Input21) *Verdict {
	rel := in.Edition.ReleaseInfo()
	opts := in.Firmware
	opts.Release, opts.MinSLICVersion = rel.Name, rel.SLICVersion
	v := &Verdict{Kind: "OA 2.1"}
	if in.Set == nil {
		in.Set = firmware.NewSet("", firmware.SetBytes)
	}
	all := firmware.Check(in.Set, opts)
	v.Findings = append(v.Findings, all...)

	slic := in.Set.First("SLIC")
	var slicFindings finding.List
	if slic != nil {
		for _, f := range all {
			if f.Table == slic.Name && f.Severity == finding.Error {
				slicFindings = append(slicFindings, f)
			}
		}
		if s := slic.SLIC; s != nil && s.HasMarker {
			v.WindowsMarker = s.Marker.WindowsFlag == firmware.WindowsFlag
			v.Marker = markerID(s)
		}
	}

	// Rule 1: a SLIC is present and its marker signature verifies.
	r1 := Rule{Number: 1, Name: "SLIC present, marker signed"}
	var r3f, r4f finding.List
	switch {
	case slic == nil:
		r1.Reason = "no SLIC table: the firmware carries no OA 2.x marker"
		r1.Findings = finding.List{v.add(CodeNoSLIC, "SLIC", "no SLIC table in the firmware: OEM Activation 2.1 needs one")}
	default:
		var r1f finding.List
		for _, f := range slicFindings {
			switch {
			case rule3Codes[f.Code]:
				r3f = append(r3f, f)
			case rule4Codes[f.Code]:
				r4f = append(r4f, f)
			default:
				r1f = append(r1f, f)
			}
		}
		if err := verify(slic); err != nil {
			r1.Reason = fmt.Sprintf("the marker does not verify with the SLIC's own key: %v", err)
		} else if len(r1f) > 0 {
			r1.Reason = fmt.Sprintf("the marker verifies but the SLIC has %d error(s): %s", len(r1f), r1f[0].Message)
		} else {
			r1.OK = true
			r1.Reason = "the Windows marker verifies with the SLIC's own RSA-1024 key"
		}
		if !r1.OK {
			r1.Findings = append(r1f, v.add(CodeMarkerInvalid, slic.Name, r1.Reason))
		}
	}
	v.Rules = append(v.Rules, r1)

	// Rule 2: the certificate chains to the authority, holds the SLIC key and the marker's IDs.
	v.Rules = append(v.Rules, v.rule2(in, slic))

	// Rule 3: the marker's IDs equal the SLIC header's and the RSDT/XSDT/FADT's.
	hasMarker := slic != nil && slic.SLIC != nil && slic.SLIC.HasMarker
	r3 := Rule{Number: 3, Name: "marker IDs match the tables", OK: hasMarker && len(r3f) == 0, Findings: r3f}
	switch {
	case slic == nil:
		r3.Reason, r3.Findings = "no SLIC", r1.Findings
	case !hasMarker:
		// A truncated or header-only SLIC has no marker IDs: nothing matches.
		r3.Reason, r3.Findings = "no Windows marker whose IDs could be compared with the tables", r1.Findings
	case len(r3f) > 0:
		r3.Reason = r3f[0].Message
	default:
		r3.Reason = "the marker's OEM ID and table ID equal the SLIC header's" + rootTablesChecked(in.Set)
	}
	v.Rules = append(v.Rules, r3)

	// Rule 4: the marker's SLIC version meets the release.
	r4 := Rule{Number: 4, Name: "SLIC version meets the release", OK: hasMarker && len(r4f) == 0, Findings: r4f}
	switch {
	case !hasMarker:
		r4.Reason, r4.Findings = "no Windows marker to read a SLIC version from", r1.Findings
	case len(r4f) > 0:
		r4.Reason = r4f[0].Message
	default:
		r4.Reason = fmt.Sprintf("SLIC version %s meets %s's %s", shortVersion(slic.SLIC.Marker.SLICVersion), rel.Name, shortVersion(rel.SLICVersion))
	}
	v.Rules = append(v.Rules, r4)

	// Rule 5: the installed key is an OEM:SLP key of this OEM and this edition.
	v.Rules = append(v.Rules, v.rule5(in, slic))

	v.Valid = true
	for _, r := range v.Rules {
		v.Valid = v.Valid && r.OK
	}
	v.Findings.Sort()
	return v
}

func verify(t *firmware.Table) error {
	if t.SLIC == nil {
		if t.Err != nil {
			return t.Err
		}
		return fmt.Errorf("the SLIC could not be decoded")
	}
	return t.SLIC.VerifyMarker()
}

func (v *Verdict) add(code, table, msg string) finding.Finding {
	f := finding.Finding{Code: code, Severity: finding.Error, Table: table, Offset: finding.NoOffset, Message: msg}
	v.Findings = append(v.Findings, f)
	return f
}

func (v *Verdict) rule2(in Input21, slic *firmware.Table) Rule {
	r := Rule{Number: 2, Name: "OEM certificate matches the marker"}
	fail := func(code, msg string) Rule {
		r.Reason = msg
		r.Findings = append(r.Findings, v.add(code, "certificate", msg))
		return r
	}
	c := in.Certificate
	if c == nil {
		return fail(CodeNoCertificate, "no OEM certificate is installed: OA 2.1 needs the OEM's .xrm-ms certificate")
	}
	if in.Authority == nil {
		return fail(CodeCertInvalid, "no authority key to check the certificate against")
	}
	if err := c.Verify(in.Authority); err != nil {
		return fail(CodeCertInvalid, fmt.Sprintf("the certificate does not chain to the authority (%s): %v", cert.ErrorCode(err), err))
	}
	if slic == nil || slic.SLIC == nil || !slic.SLIC.HasKey {
		return fail(CodeCertKeyMismatch, "the certificate is valid but there is no SLIC key to compare its key with")
	}
	key, err := slic.SLIC.Key()
	if err != nil {
		return fail(CodeCertKeyMismatch, fmt.Sprintf("certificate key does not match: the SLIC holds no usable key (%v)", err))
	}
	if !key.Equal(c.OEMKey) {
		return fail(CodeCertKeyMismatch, fmt.Sprintf(
			"certificate key does not match: the certificate holds the key %s (%d bits, exponent %d) but the SLIC holds %s (%d bits, exponent %d); the certificate belongs to another OEM key",
			cert.Fingerprint(c.OEMKey), c.OEMKey.N.BitLen(), c.OEMKey.E, cert.Fingerprint(key), key.N.BitLen(), key.E))
	}
	if !slic.SLIC.HasMarker {
		return fail(CodeCertIDMismatch, "the certificate's key matches but the SLIC has no marker whose IDs it could cover")
	}
	m := slic.SLIC.Marker
	if !c.Covers(string(m.OEMID[:]), string(m.OEMTableID[:])) {
		ids := make([]string, len(c.IDs))
		for i, p := range c.IDs {
			ids[i] = p.String()
		}
		return fail(CodeCertIDMismatch, fmt.Sprintf("the certificate covers %s, not the marker's %s/%s",
			strings.Join(ids, ", "), cert.TrimID(string(m.OEMID[:])), cert.TrimID(string(m.OEMTableID[:]))))
	}
	r.OK = true
	r.Reason = fmt.Sprintf("the certificate chains to the authority, holds the SLIC's key %s and covers %s/%s",
		cert.Fingerprint(key), cert.TrimID(string(m.OEMID[:])), cert.TrimID(string(m.OEMTableID[:])))
	return r
}

func (v *Verdict) rule5(in Input21, slic *firmware.Table) Rule {
	r := Rule{Number: 5, Name: "OEM:SLP key of this OEM and edition"}
	fail := func(code, msg string) Rule {
		r.Reason = msg
		r.Findings = append(r.Findings, v.add(code, "product key", msg))
		return r
	}
	k := in.Key
	switch {
	case k == nil:
		return fail(CodeNoKey, "no product key is installed")
	case !in.Edition.Allows(edition.OEMSLP):
		return fail(CodeEditionNoOEM, fmt.Sprintf("%s is not sold through OEM:SLP", in.Edition.Name))
	case k.Channel != edition.OEMSLP:
		return fail(CodeKeyNotSLP, fmt.Sprintf("the installed key %s is a %s key, not an OEM:SLP key", k.Key.Masked(), k.Channel))
	case k.Edition.ID != in.Edition.ID:
		return fail(CodeKeyOtherEdition, fmt.Sprintf("the installed key %s is for %s, not %s", k.Key.Masked(), k.Edition.Name, in.Edition.Name))
	}
	if slic == nil || slic.SLIC == nil || !slic.SLIC.HasMarker {
		return fail(CodeKeyOtherOEM, fmt.Sprintf("the installed key %s is OEM %s's, and there is no marker naming an OEM", k.Key.Masked(), k.OEMID))
	}
	markerOEM := cert.TrimID(string(slic.SLIC.Marker.OEMID[:]))
	if k.OEMID != markerOEM {
		return fail(CodeKeyOtherOEM, fmt.Sprintf("the installed key %s is OEM %s's SLP key, but the marker names OEM %s", k.Key.Masked(), k.OEMID, markerOEM))
	}
	r.OK = true
	r.Reason = fmt.Sprintf("the installed key %s is %s's OEM:SLP key for %s", k.Key.Masked(), k.OEMID, k.Edition.Name)
	return r
}

func rootTablesChecked(set *firmware.Set) string {
	var have []string
	for _, sig := range []string{"RSDT", "XSDT", "FACP"} {
		if set.First(sig) != nil {
			have = append(have, sig)
		}
	}
	if len(have) == 0 {
		return " (no RSDT, XSDT or FADT to compare with)"
	}
	return " and the " + strings.Join(have, ", ") + "'s"
}

// markerID is the identity an OEM:SLP licence binds to: the marker's IDs and SLIC version and a
// digest of the SLIC's key. A new board or BIOS with another marker gives another identity.
func markerID(s *firmware.SLIC) string {
	id := fmt.Sprintf("%s/%s/%s", cert.TrimID(string(s.Marker.OEMID[:])), cert.TrimID(string(s.Marker.OEMTableID[:])),
		shortVersion(s.Marker.SLICVersion))
	if key, err := s.Key(); err == nil {
		id += "/" + cert.Fingerprint(key)[:16]
	}
	return id
}

// Input30 is what the offline part of OA 3.0 needs: the tables (for the MSDM), the key catalog
// the service shares with the model, and the installed edition. Binding the key to the hardware
// is the activation service's part.
type Input30 struct {
	Set     *firmware.Set
	Catalog *catalog.Catalog
	Edition edition.Edition
}

// Evaluate30 checks the MSDM and its key: rule 1, an MSDM is present and well formed; rule 2, its
// key is a known OEM:DM key; rule 3, for the installed edition. The verdict's Key is the key to
// send to the activation service.
func Evaluate30(in Input30) (*Verdict, *catalog.Entry) {
	v := &Verdict{Kind: "OA 3.0"}
	if in.Set == nil {
		in.Set = firmware.NewSet("", firmware.SetBytes)
	}
	all := firmware.Check(in.Set, firmware.Options{})
	v.Findings = append(v.Findings, all...)
	t := in.Set.First("MSDM")

	r1 := Rule{Number: 1, Name: "MSDM present and well formed"}
	r2 := Rule{Number: 2, Name: "MSDM key is a known OEM:DM key"}
	r3 := Rule{Number: 3, Name: "key for the installed edition"}
	var entry *catalog.Entry
	switch {
	case t == nil:
		r1.Reason = "no MSDM table: the firmware carries no OA 3.0 key"
		r1.Findings = finding.List{v.add(CodeNoMSDM, "MSDM", r1.Reason)}
	case t.MSDM == nil || !t.MSDM.HasFields:
		r1.Reason = fmt.Sprintf("the MSDM could not be decoded: %v", t.Err)
		r1.Findings = finding.List{v.add(CodeMSDMInvalid, t.Name, r1.Reason)}
	default:
		for _, f := range all {
			if f.Table == t.Name && f.Severity == finding.Error {
				r1.Findings = append(r1.Findings, f)
			}
		}
		if len(r1.Findings) > 0 {
			r1.Reason = fmt.Sprintf("the MSDM has %d error(s): %s", len(r1.Findings), r1.Findings[0].Message)
			r1.Findings = append(r1.Findings, v.add(CodeMSDMInvalid, t.Name, r1.Reason))
		} else {
			r1.OK, r1.Reason = true, "the MSDM holds a well-formed 29-character key"
		}
	}
	if r1.OK {
		key, err := productkey.Parse(t.MSDM.Key())
		switch {
		case err != nil:
			r2.Reason = fmt.Sprintf("the MSDM key %s is not a product key: %v", productkey.Mask(t.MSDM.Key()), err)
			r2.Findings = finding.List{v.add(CodeMSDMKeyUnknown, t.Name, r2.Reason)}
		case in.Catalog == nil:
			r2.Reason = "no key catalog to look the key up in"
			r2.Findings = finding.List{v.add(CodeMSDMKeyUnknown, t.Name, r2.Reason)}
		default:
			e, err := in.Catalog.Lookup(key)
			switch {
			case err != nil:
				r2.Reason = err.Error()
				r2.Findings = finding.List{v.add(CodeMSDMKeyUnknown, t.Name, r2.Reason)}
			case e.Channel != edition.OEMDM:
				r2.Reason = fmt.Sprintf("the MSDM key %s is a %s key, not OEM:DM", key.Masked(), e.Channel)
				r2.Findings = finding.List{v.add(CodeMSDMKeyNotDM, t.Name, r2.Reason)}
			default:
				r2.OK, r2.Reason, entry = true, fmt.Sprintf("the MSDM key %s is an OEM:DM key for %s", key.Masked(), e.Edition.Name), e
			}
		}
	} else {
		r2.Reason = "no usable MSDM"
	}
	switch {
	case entry == nil:
		r3.Reason = "no known MSDM key"
	case entry.Edition.ID != in.Edition.ID:
		r3.Reason = fmt.Sprintf("the MSDM key is for %s, but %s is installed", entry.Edition.Name, in.Edition.Name)
		r3.Findings = finding.List{v.add(CodeMSDMOtherEdition, t.Name, r3.Reason)}
	default:
		r3.OK, r3.Reason = true, fmt.Sprintf("%s is installed", in.Edition.Name)
	}
	v.Rules = []Rule{r1, r2, r3}
	v.Valid = r1.OK && r2.OK && r3.OK
	if slic := in.Set.First("SLIC"); slic != nil && slic.SLIC != nil && slic.SLIC.HasMarker {
		v.WindowsMarker = slic.SLIC.Marker.WindowsFlag == firmware.WindowsFlag
	}
	v.Findings.Sort()
	if !v.Valid {
		entry = nil
	}
	return v, entry
}

// shortVersion prints a SLIC version as "2.1".
func shortVersion(v uint32) string { return fmt.Sprintf("%d.%d", v>>16, v&0xFFFF) }
