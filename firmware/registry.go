package firmware

import "github.com/oemact/oemact/firmware/finding"

// Kind is what this package knows of one table signature: whether it carries an OEM activation
// marker, and the functions that decode, check and dump it (its description for dumps is in
// tableNames, which names more tables than this package decodes). Every place that treats
// tables by signature reads this one table (like ACPICA's per-signature dispatch table), so
// adding a table is one entry here plus its own file.
type Kind struct {
	Signature string
	// Marker: the table carries an OEM Windows activation marker (OA 2.x SLIC, OA 3.0 MSDM). The
	// harness injects such tables into guests, checks the guest saw them byte for byte, and
	// the TPM binding measures them.
	Marker bool
	// CheckIDs: the table's OEM ID and OEM table ID are compared with the marker's (printable
	// ASCII, padding), because Windows compares them.
	CheckIDs bool
	// Duplicate is the finding code for a set that holds the table more than once ("" when that
	// is normal, as for SSDTs).
	Duplicate string
	// decode fills the typed part of t from raw (the header is decoded already).
	decode func(t *Table, raw []byte)
	// check is the table's own checks, beside the ones every table gets.
	check func(t *Table, opts Options) finding.List
	// dump is the field-by-field dump of the decoded table, nil when not decoded.
	dump func(t *Table, showKeys bool) []DumpLine
	// decoded is how many bytes of the table the typed decoding covers (for "Not decoded").
	decoded func(t *Table) int
}

var kinds = []Kind{
	{Signature: "SLIC", Marker: true, CheckIDs: true, Duplicate: CodeSLICDuplicate,
		decode: func(t *Table, raw []byte) { t.SLIC, t.Err = DecodeSLIC(raw) },
		check: func(t *Table, opts Options) finding.List {
			if t.SLIC == nil {
				return nil
			}
			return CheckSLIC(t, opts)
		},
		dump: func(t *Table, _ bool) []DumpLine {
			if t.SLIC == nil {
				return nil
			}
			return t.SLIC.Dump()
		},
		decoded: func(t *Table) int {
			switch {
			case t.SLIC == nil:
				return HeaderSize
			case t.SLIC.HasMarker:
				return SLICSize
			case t.SLIC.HasKey:
				return SLICMarkerOffset
			}
			return HeaderSize
		}},
	{Signature: "MSDM", Marker: true, CheckIDs: true, Duplicate: CodeMSDMDuplicate,
		decode: func(t *Table, raw []byte) { t.MSDM, t.Err = DecodeMSDM(raw) },
		check: func(t *Table, _ Options) finding.List {
			if t.MSDM == nil {
				return nil
			}
			return CheckMSDM(t)
		},
		dump: func(t *Table, showKeys bool) []DumpLine {
			if t.MSDM == nil {
				return nil
			}
			return t.MSDM.Dump(showKeys)
		},
		decoded: func(t *Table) int { return len(t.Data()) }},
	{Signature: "RSDT", CheckIDs: true, decode: decodeSDT, dump: dumpSDT, decoded: sdtDecoded},
	{Signature: "XSDT", CheckIDs: true, decode: decodeSDT, dump: dumpSDT, decoded: sdtDecoded},
	{Signature: "FACP", CheckIDs: true,
		decode: func(t *Table, raw []byte) { t.FADT, t.Err = DecodeFADT(raw) },
		dump: func(t *Table, _ bool) []DumpLine {
			if t.FADT == nil {
				return nil
			}
			return t.FADT.Dump()
		},
		decoded: func(t *Table) int {
			if t.FADT != nil && t.FADT.HasAddresses {
				return HeaderSize + 8
			}
			return HeaderSize
		}},
	// The FACS has no common header past the length: nothing more to decode.
	{Signature: "FACS", decode: func(*Table, []byte) {}},
}

func decodeSDT(t *Table, raw []byte) { t.SDT, t.Err = DecodeSDT(raw) }

func dumpSDT(t *Table, _ bool) []DumpLine {
	if t.SDT == nil {
		return nil
	}
	return t.SDT.Dump()
}

func sdtDecoded(t *Table) int {
	if t.SDT == nil {
		return HeaderSize
	}
	return HeaderSize + t.SDT.EntrySize()*len(t.SDT.Entries)
}

// KindOf returns what the package knows of a signature; ok is false for a signature it does not
// decode (such a table is checked by its header only).
func KindOf(sig string) (Kind, bool) {
	for _, k := range kinds {
		if k.Signature == sig {
			return k, true
		}
	}
	return Kind{}, false
}

// MarkerSignatures lists the signatures of the tables that carry activation markers ("SLIC",
// "MSDM"), in the fixed order the harness injects and measures them.
func MarkerSignatures() []string {
	var out []string
	for _, k := range kinds {
		if k.Marker {
			out = append(out, k.Signature)
		}
	}
	return out
}

// IsMarker reports whether sig is the signature of a marker table.
func IsMarker(sig string) bool {
	k, ok := KindOf(sig)
	return ok && k.Marker
}
