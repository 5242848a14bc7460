// Package inspect composes the report of `oemact inspect`: for each table set, the decoded tables
// and the findings of the firmware checks, as one Document that prints as JSON or as text.
//
// It holds no checks of its own (package firmware has them) and no CLI code.
package inspect

import (
	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/firmware/finding"
	"github.com/oemact/oemact/firmware/productkey"
	"github.com/oemact/oemact/oemact/edition"
)

// Document is the whole report. Other sections (SMBIOS, TPM) join it as pointer fields with
// `json:",omitempty"`, and the text report prints whatever is set.
type Document struct {
	Release  Release      `json:"release"`
	Sets     []Set        `json:"sets"`
	Tables   []Table      `json:"tables"`
	Findings finding.List `json:"findings"`
	SMBIOS   *SMBIOS      `json:"smbios,omitempty"`
	TPM      *TPMSection  `json:"tpm,omitempty"`
}

// Release is the target release the SLIC version was checked against.
type Release struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	SLICVersion uint32 `json:"slic_version"`
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
	// Fields is the field-by-field dump the text report prints (product keys already masked
	// unless asked otherwise).
	Fields []firmware.DumpLine `json:"-"`
	// Bytes is how many bytes were read, for tables too short to dump.
	Bytes int `json:"-"`
}

// SLIC holds the decoded SLIC fields the report shows; present for SLICs that hold a marker.
type SLIC struct {
	KeyBits          uint32 `json:"key_bits"`
	Exponent         uint32 `json:"exponent"`
	MarkerVersion    uint32 `json:"marker_version"`
	MarkerOEMID      string `json:"marker_oem_id"`
	MarkerOEMTableID string `json:"marker_oem_table_id"`
	SLICVersion      uint32 `json:"slic_version"`
	SignatureValid   bool   `json:"signature_valid"`
}

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
		Release: Release{ID: string(opts.Release.ID), Name: opts.Release.Name, SLICVersion: opts.Release.SLICVersion},
		Sets:    []Set{}, Tables: []Table{}, Findings: finding.List{},
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
	return doc
}

func table(s *firmware.Set, t *firmware.Table, showKeys bool) Table {
	h := &t.Header
	out := Table{
		Set: s.Name, Name: t.Name, Path: t.Path, Source: t.Source.String(),
		Signature: firmware.RawString(h.Signature[:]), Length: h.Length, Revision: h.Revision,
		ChecksumOK: t.ChecksumOK(), OEMID: firmware.RawString(h.OEMID[:]), OEMTableID: firmware.RawString(h.OEMTableID[:]),
		Fields: t.Dump(showKeys), Bytes: len(t.Raw),
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
			SignatureValid: sl.VerifyMarker() == nil,
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

// Failed reports whether a finding of severity error exists: `oemact inspect` then exits 1.
func (d *Document) Failed() bool { return d.Findings.Failed() }
