package firmware

// RSDP is the Root System Description Pointer, which acpidump prints first. It has no common
// header: an 8-byte signature "RSD PTR ", a checksum over the first 20 bytes and, from revision 2,
// a length, the XSDT address and an extended checksum over the whole structure.
type RSDP struct {
	Signature        [8]byte
	Checksum         uint8
	OEMID            [6]byte
	Revision         uint8
	RSDTAddress      uint32
	Length           uint32 // revision 2+
	XSDTAddress      uint64 // revision 2+
	ExtendedChecksum uint8  // revision 2+
	Reserved         [3]byte
	Extended         bool // the revision 2+ fields were present
}

// RSDP sizes: the ACPI 1.0 part, and the whole ACPI 2.0+ structure.
const (
	RSDPSizeV1 = 20
	RSDPSize   = 36
)

// RSDPSignature starts every RSDP.
var RSDPSignature = [8]byte{'R', 'S', 'D', ' ', 'P', 'T', 'R', ' '}

var rsdpLayoutV1 = newLayout("RSDP", RSDPSizeV1,
	field[RSDP]{name: "Signature", ref: func(r *RSDP) any { return &r.Signature }, show: showChars},
	field[RSDP]{name: "Checksum", ref: func(r *RSDP) any { return &r.Checksum }},
	field[RSDP]{name: "Oem ID", ref: func(r *RSDP) any { return &r.OEMID }, show: showChars},
	field[RSDP]{name: "Revision", ref: func(r *RSDP) any { return &r.Revision }},
	field[RSDP]{name: "RSDT Address", ref: func(r *RSDP) any { return &r.RSDTAddress }},
)

var rsdpLayoutExt = newLayout("RSDP extension", RSDPSize-RSDPSizeV1,
	field[RSDP]{name: "Length", ref: func(r *RSDP) any { return &r.Length }},
	field[RSDP]{name: "XSDT Address", ref: func(r *RSDP) any { return &r.XSDTAddress }},
	field[RSDP]{name: "Extended Checksum", ref: func(r *RSDP) any { return &r.ExtendedChecksum }},
	field[RSDP]{name: "Reserved", ref: func(r *RSDP) any { return &r.Reserved }},
)

// DecodeRSDP decodes an RSDP: the revision 2+ part when the revision says so and the bytes are
// there.
func DecodeRSDP(b []byte) (*RSDP, error) {
	if len(b) < RSDPSizeV1 {
		return nil, formatErr("RSDP", len(b), ErrTruncated, "%d bytes, an RSDP needs %d", len(b), RSDPSizeV1)
	}
	r := &RSDP{}
	rsdpLayoutV1.decode(b, r)
	if r.Signature != RSDPSignature {
		return nil, formatErr("RSDP", 0, ErrSignature, "signature %s, want \"RSD PTR \"", QuoteID(r.Signature[:]))
	}
	if r.Revision >= 2 {
		if len(b) < RSDPSize {
			return r, formatErr("RSDP", len(b), ErrTruncated, "revision %d RSDP is %d bytes, want %d", r.Revision, len(b), RSDPSize)
		}
		rsdpLayoutExt.decode(b[RSDPSizeV1:], r)
		r.Extended = true
	}
	return r, nil
}

// Dump returns the RSDP's fields.
func (r *RSDP) Dump() []DumpLine {
	lines := rsdpLayoutV1.dump(nil, 0, r)
	if r.Extended {
		lines = rsdpLayoutExt.dump(lines, RSDPSizeV1, r)
	}
	return lines
}
