// Package inspect composes the report of `oemact inspect`: for each table set, the decoded tables
// and the findings of the firmware checks, as one Document that prints as JSON or as text.
//
// It holds no checks of its own (package firmware has them) and no CLI code.
package inspect

import (
	"fmt"

	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/firmware/finding"
	"github.com/oemact/oemact/firmware/fwimage"
	"github.com/oemact/oemact/firmware/productkey"
	"github.com/oemact/oemact/oemact/cert"
	"github.com/oemact/oemact/oemact/edition"
)

// Document is the whole report. Other sections (SMBIOS, TPM) join it as pointer fields with
// `json:",omitempty"`, and the text report prints whatever is set.
type Document struct {
	// SchemaVersion changes when a field changes meaning or goes away (new fields do not change
	// it).
	SchemaVersion int `json:"schema_version"`
	// Result is "pass" or "fail" (a finding of severity error: exit 1).
	Result   string       `json:"result"`
	Counts   Counts       `json:"counts"`
	Release  Release      `json:"release"`
	Sets     []Set        `json:"sets"`
	Tables   []Table      `json:"tables"`
	Findings finding.List `json:"findings"`
	SMBIOS   *SMBIOS      `json:"smbios,omitempty"`
	TPM      *TPMSection  `json:"tpm,omitempty"`
}

// SchemaVersion is the version of the JSON document's layout.
const SchemaVersion = 2

// Counts sums up the document.
type Counts struct {
	Sets             int `json:"sets"`
	Tables           int `json:"tables"`
	SLICs            int `json:"slics"`
	SLICsVerified    int `json:"slics_verified"`
	SMBIOSStructures int `json:"smbios_structures"`
	Findings         int `json:"findings"`
	Errors           int `json:"errors"`
	Warnings         int `json:"warnings"`
	Info             int `json:"info"`
}

// Release is the target release the SLIC version was checked against.
type Release struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	SLICVersion uint32 `json:"slic_version"`
	// SLICVersionString is SLICVersion as a version ("2.1").
	SLICVersionString string `json:"slic_version_string"`
}

// Set says how tables were grouped: cross-table checks apply within a set.
type Set struct {
	Name  string   `json:"name"`
	Kind  string   `json:"kind"` // folder, files, acpidump, live, bytes
	Files []string `json:"files"`
}

// Table is one table's summary. OEM fields are the raw 6/8 bytes (each byte as the code point
// of the same value, so JSON shows NUL padding as \u0000).
type Table struct {
	Set        string `json:"set"`
	Name       string `json:"name"`
	Path       string `json:"path"`
	Source     string `json:"source"`
	Signature  string `json:"signature"`
	Length     uint32 `json:"length"`
	Revision   uint8  `json:"revision"`
	ChecksumOK bool   `json:"checksum_ok"`
	OEMID      string `json:"oem_id"`
	OEMTableID string `json:"oem_table_id"`
	SLIC       *SLIC  `json:"slic,omitempty"`
	MSDM       *MSDM  `json:"msdm,omitempty"`
	// Location is where a table found in a firmware image is: the image, the file offset and
	// the path of the structures holding it.
	Location *fwimage.Location `json:"location,omitempty"`
	// Fields is the field-by-field dump the text report prints (product keys already masked
	// unless asked otherwise).
	Fields []firmware.DumpLine `json:"-"`
	// Bytes is how many bytes were read, for tables too short to dump.
	Bytes int `json:"-"`
}

// SLIC holds the decoded SLIC fields the report shows; present for SLICs that hold a marker.
type SLIC struct {
	KeyBits  uint32 `json:"key_bits"`
	Exponent uint32 `json:"exponent"`
	// KeySHA256 is the fingerprint of the table's public key (SHA-256 of its PKIX DER form, as
	// oemact keygen and cert print), "" when the key is unusable.
	KeySHA256        string `json:"key_sha256,omitempty"`
	MarkerVersion    uint32 `json:"marker_version"`
	MarkerOEMID      string `json:"marker_oem_id"`
	MarkerOEMTableID string `json:"marker_oem_table_id"`
	SLICVersion      uint32 `json:"slic_version"`
	// SLICVersionString is SLICVersion as a version ("2.1").
	SLICVersionString string `json:"slic_version_string"`
	SignatureValid    bool   `json:"signature_valid"`
}

// VersionString writes a 16.16 version as major.minor ("2.1" for 0x00020001).
func VersionString(v uint32) string { return fmt.Sprintf("%d.%d", v>>16, v&0xFFFF) }

// MSDM holds the decoded MSDM fields; ProductKey is masked unless Options.ShowKeys.
type MSDM struct {
	Version    uint32 `json:"version"`
	DataType   uint32 `json:"data_type"`
	DataLength uint32 `json:"data_length"`
	ProductKey string `json:"product_key"`
}

// Options tune Build.
type Options struct {
	// Release is the target release; its SLICVersion is the minimum marker version.
	Release edition.ReleaseInfo
	// ShowKeys puts MSDM product keys whole into the document (masked otherwise).
	ShowKeys bool
	// StrictFADT: see firmware.Options.
	StrictFADT bool
}

// Build decodes and checks each set and returns the document.
func Build(sets []*firmware.Set, opts Options) *Document {
	doc := &Document{
		SchemaVersion: SchemaVersion,
		Release: Release{ID: string(opts.Release.ID), Name: opts.Release.Name, SLICVersion: opts.Release.SLICVersion,
			SLICVersionString: VersionString(opts.Release.SLICVersion)},
		Sets: []Set{}, Tables: []Table{}, Findings: finding.List{},
	}
	fopts := firmware.Options{Release: opts.Release.Name, MinSLICVersion: opts.Release.SLICVersion, StrictFADT: opts.StrictFADT}
	for _, s := range sets {
		files := append([]string{}, s.Files...)
		doc.Sets = append(doc.Sets, Set{Name: s.Name, Kind: s.Kind.String(), Files: files})
		for _, t := range s.Tables {
			doc.Tables = append(doc.Tables, table(s, t, opts.ShowKeys))
		}
		doc.Findings = append(doc.Findings, firmware.Check(s, fopts)...)
	}
	doc.Finish()
	return doc
}

// Tables summarizes a set's tables as Build does (product keys masked unless showKeys).
func Tables(s *firmware.Set, showKeys bool) []Table {
	out := []Table{}
	for _, t := range s.Tables {
		out = append(out, table(s, t, showKeys))
	}
	return out
}

func table(s *firmware.Set, t *firmware.Table, showKeys bool) Table {
	h := &t.Header
	out := Table{
		Set: s.Name, Name: t.Name, Path: t.Path, Source: t.Source.String(),
		Signature: firmware.RawString(h.Signature[:]), Length: h.Length, Revision: h.Revision,
		ChecksumOK: t.ChecksumOK(), OEMID: firmware.RawString(h.OEMID[:]), OEMTableID: firmware.RawString(h.OEMTableID[:]),
		Fields: t.Dump(showKeys), Bytes: len(t.Raw), Location: t.Location,
	}
	if r := t.RSDP; r != nil {
		out.OEMID, out.OEMTableID, out.Length, out.Revision = firmware.RawString(r.OEMID[:]), "", r.Length, r.Revision
	}
	if sl := t.SLIC; sl != nil && sl.HasMarker {
		m := &sl.Marker
		out.SLIC = &SLIC{
			KeyBits: sl.PublicKey.BitLength, Exponent: sl.PublicKey.Exponent,
			MarkerVersion: m.Version, MarkerOEMID: firmware.RawString(m.OEMID[:]),
			MarkerOEMTableID: firmware.RawString(m.OEMTableID[:]), SLICVersion: m.SLICVersion,
			SLICVersionString: VersionString(m.SLICVersion), SignatureValid: sl.VerifyMarker() == nil,
		}
		if k, err := sl.Key(); err == nil {
			out.SLIC.KeySHA256 = cert.Fingerprint(k)
		}
	}
	if m := t.MSDM; m != nil && m.HasFields {
		key := m.Key()
		if !showKeys {
			key = productkey.Mask(key)
		}
		out.MSDM = &MSDM{Version: m.Version, DataType: m.DataType, DataLength: m.DataLength, ProductKey: firmware.RawString([]byte(key))}
	}
	return out
}

// Finish sets the result and the counts from what the document holds. Build, AddSMBIOS and
// Inspect call it; whoever adds findings to a document otherwise calls it again.
func (d *Document) Finish() {
	d.SchemaVersion = SchemaVersion
	d.Result = "pass"
	if d.Failed() {
		d.Result = "fail"
	}
	c := Counts{Sets: len(d.Sets), Tables: len(d.Tables), Findings: len(d.Findings),
		Errors: d.Findings.Count(finding.Error), Warnings: d.Findings.Count(finding.Warning), Info: d.Findings.Count(finding.Info)}
	for _, t := range d.Tables {
		if t.Signature == "SLIC" {
			c.SLICs++
			if t.SLIC != nil && t.SLIC.SignatureValid {
				c.SLICsVerified++
			}
		}
	}
	if d.SMBIOS != nil {
		c.SMBIOSStructures = d.SMBIOS.Structures
	}
	d.Counts = c
}

// Failed reports whether a finding of severity error exists: `oemact inspect` then exits 1.
func (d *Document) Failed() bool { return d.Findings.Failed() }
