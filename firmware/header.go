package firmware

import "fmt"

// HeaderSize is the size of the common ACPI table header (ACPI 6.5, 5.2.6).
const HeaderSize = 36

// Header is the 36-byte header every ACPI table except the RSDP and the FACS starts with.
type Header struct {
	Signature       [4]byte
	Length          uint32 // bytes in the whole table, header included
	Revision        uint8
	Checksum        uint8 // makes all Length bytes sum to 0 mod 256
	OEMID           [6]byte
	OEMTableID      [8]byte
	OEMRevision     uint32
	CreatorID       [4]byte // the ASL compiler ID
	CreatorRevision uint32
}

// Header field offsets, for findings: from the header's layout.
var (
	OffLength     = headerLayout.offset("Table Length")
	OffRevision   = headerLayout.offset("Revision")
	OffChecksum   = headerLayout.offset("Checksum")
	OffOEMID      = headerLayout.offset("Oem ID")
	OffOEMTableID = headerLayout.offset("Oem Table ID")
)

var headerLayout = newLayout("header", HeaderSize,
	field[Header]{name: "Signature", ref: func(h *Header) any { return &h.Signature }, show: showChars,
		note: func(h *Header) string { return tableNames[string(h.Signature[:])] }},
	field[Header]{name: "Table Length", ref: func(h *Header) any { return &h.Length },
		note: func(h *Header) string { return fmt.Sprintf("%d bytes", h.Length) }},
	field[Header]{name: "Revision", ref: func(h *Header) any { return &h.Revision }},
	field[Header]{name: "Checksum", ref: func(h *Header) any { return &h.Checksum }},
	field[Header]{name: "Oem ID", ref: func(h *Header) any { return &h.OEMID }, show: showChars},
	field[Header]{name: "Oem Table ID", ref: func(h *Header) any { return &h.OEMTableID }, show: showChars},
	field[Header]{name: "Oem Revision", ref: func(h *Header) any { return &h.OEMRevision }},
	field[Header]{name: "Asl Compiler ID", ref: func(h *Header) any { return &h.CreatorID }, show: showChars},
	field[Header]{name: "Asl Compiler Revision", ref: func(h *Header) any { return &h.CreatorRevision }},
)

// tableNames are the descriptions iasl prints beside a signature, for the tables oemact reads.
var tableNames = map[string]string{
	"SLIC": "Software Licensing Description Table",
	"MSDM": "Microsoft Data Management table",
	"RSDT": "Root System Description Table",
	"XSDT": "Extended System Description Table",
	"FACP": "Fixed ACPI Description Table (FADT)",
	"DSDT": "Differentiated System Description Table",
	"SSDT": "Secondary System Description Table",
	"FACS": "Firmware ACPI Control Structure",
	"APIC": "Multiple APIC Description Table (MADT)",
	"MCFG": "Memory Mapped Configuration Table",
	"HPET": "High Precision Event Timer table",
	"TPM2": "Trusted Platform Module hardware interface table",
}

// DecodeHeader reads the header from the first 36 bytes of b. It checks only that they are there;
// whether the signature, length and checksum make sense is for the table decoders and Check.
func DecodeHeader(b []byte) (Header, error) {
	var h Header
	if len(b) < HeaderSize {
		return h, formatErr("", len(b), ErrTruncated,
			"%d bytes, an ACPI table header needs %d", len(b), HeaderSize)
	}
	headerLayout.decode(b, &h)
	return h, nil
}

// Encode writes the header into the first 36 bytes of b (which must be that long).
func (h *Header) Encode(b []byte) { headerLayout.encode(b, h) }

// Dump returns the header's fields as dump lines.
func (h *Header) Dump() []DumpLine { return headerLayout.dump(nil, 0, h) }

// Sig returns the signature as a string (raw bytes, as they are).
func (h *Header) Sig() string { return string(h.Signature[:]) }

// Sum returns the 8-bit sum of b.
func Sum(b []byte) uint8 {
	var s uint8
	for _, c := range b {
		s += c
	}
	return s
}

// ChecksumOK reports whether the bytes of a whole table (exactly Length bytes) sum to zero.
func ChecksumOK(table []byte) bool { return Sum(table) == 0 }

// WantChecksum returns the checksum byte that makes table sum to zero, whatever byte 9 holds now.
// table must hold at least the header.
func WantChecksum(table []byte) uint8 {
	return -(Sum(table) - table[OffChecksum])
}

// FixChecksum stores the right checksum at offset 9 of table.
func FixChecksum(table []byte) { table[OffChecksum] = WantChecksum(table) }

// PadID returns s as an n-byte ID, padded with spaces as ACPI IDs are. It fails when s is longer
// than n bytes, so an encoder never truncates an ID silently.
func PadID(s string, n int) ([]byte, error) {
	if len(s) > n {
		return nil, fmt.Errorf("ID %q is %d bytes, the field holds %d", s, len(s), n)
	}
	b := make([]byte, n)
	copy(b, s)
	for i := len(s); i < n; i++ {
		b[i] = ' '
	}
	return b, nil
}
