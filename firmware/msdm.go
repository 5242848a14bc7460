package firmware

import (
	"fmt"

	"github.com/oemact/oemact/firmware/productkey"
)

// MSDM layout (OEM Activation 3.0, DESIGN.md "Binary formats"): header, then Version u32 = 1,
// Reserved u32, DataType u32 = 1, DataReserved u32, DataLength u32 = 29, Data[29] holding the
// product key; 85 bytes in all.
const (
	MSDMSize       = 85
	MSDMDataOffset = 0x38
	MSDMKeyLength  = 29

	MSDMVersion  uint32 = 1
	MSDMDataType uint32 = 1 // data is a product key
)

// Offsets of the MSDM fields inside the table, for findings: from the MSDM's layout.
var (
	OffMSDMVersion      = HeaderSize + msdmLayout.offset("Version")
	OffMSDMReserved     = HeaderSize + msdmLayout.offset("Reserved")
	OffMSDMDataType     = HeaderSize + msdmLayout.offset("Data Type")
	OffMSDMDataReserved = HeaderSize + msdmLayout.offset("Data Reserved")
	OffMSDMDataLength   = HeaderSize + msdmLayout.offset("Data Length")
	OffMSDMData         = int64(MSDMDataOffset)
)

// MSDM is a decoded MSDM table.
type MSDM struct {
	Header       Header
	Version      uint32
	Reserved     uint32
	DataType     uint32
	DataReserved uint32
	DataLength   uint32
	// Data is every byte of the table after 0x38, as stored. DataLength is not trusted to cut it:
	// Key returns the part DataLength covers, bounded by what is present.
	Data []byte
	// HasFields is false when the table ends before the fields after the header.
	HasFields bool
}

var msdmLayout = newLayout("MSDM", MSDMDataOffset-HeaderSize,
	field[MSDM]{name: "Version", ref: func(m *MSDM) any { return &m.Version },
		note: func(m *MSDM) string { return want(m.Version == MSDMVersion, "", "want 00000001") }},
	field[MSDM]{name: "Reserved", ref: func(m *MSDM) any { return &m.Reserved }},
	field[MSDM]{name: "Data Type", ref: func(m *MSDM) any { return &m.DataType },
		note: func(m *MSDM) string {
			return want(m.DataType == MSDMDataType, "product key", "want 00000001, product key")
		}},
	field[MSDM]{name: "Data Reserved", ref: func(m *MSDM) any { return &m.DataReserved }},
	field[MSDM]{name: "Data Length", ref: func(m *MSDM) any { return &m.DataLength },
		note: func(m *MSDM) string { return fmt.Sprintf("%d bytes", m.DataLength) }},
)

// DecodeMSDM decodes an MSDM table. It fails only when the bytes end before the fixed fields (or
// the header's length field lies); an odd DataLength is a finding, not a decode error. On error
// the returned MSDM (when not nil) holds what was read.
func DecodeMSDM(b []byte) (*MSDM, error) {
	h, err := DecodeHeader(b)
	if err != nil {
		err.(*FormatError).Table = "MSDM"
		return nil, err
	}
	if h.Sig() != "MSDM" {
		return nil, formatErr("MSDM", 0, ErrSignature, "signature %s, want \"MSDM\"", QuoteID(h.Signature[:]))
	}
	m := &MSDM{Header: h}
	data, err := tableData("MSDM", b, &h)
	if len(data) >= MSDMDataOffset {
		msdmLayout.decode(data[HeaderSize:], m)
		m.HasFields = true
		m.Data = append([]byte(nil), data[MSDMDataOffset:]...)
	}
	if err != nil {
		return m, err
	}
	if len(data) < MSDMDataOffset {
		return m, formatErr("MSDM", len(data), ErrTruncated,
			"the table ends after %d bytes; the MSDM fields end at %d", len(data), MSDMDataOffset)
	}
	return m, nil
}

// Key returns the bytes DataLength covers, bounded by the bytes present, as a string of raw bytes.
// It is the product key itself: mask it (productkey.Mask) before it reaches any output.
func (m *MSDM) Key() string {
	n := len(m.Data)
	if uint64(m.DataLength) < uint64(n) {
		n = int(m.DataLength)
	}
	return string(m.Data[:n])
}

// Encode returns the table bytes (the header only when !HasFields), setting Header.Signature, Length and Checksum first so that the
// bytes decode back to exactly m.
func (m *MSDM) Encode() []byte {
	n := HeaderSize
	if m.HasFields {
		n = MSDMDataOffset + len(m.Data)
	}
	b := make([]byte, n)
	m.Header.Signature = [4]byte{'M', 'S', 'D', 'M'}
	m.Header.Length = uint32(len(b))
	if m.HasFields {
		msdmLayout.encode(b[HeaderSize:], m)
		copy(b[MSDMDataOffset:], m.Data)
	}
	m.Header.Encode(b)
	m.Header.Checksum = WantChecksum(b)
	b[OffChecksum] = m.Header.Checksum
	return b
}

// MSDMParams are the values a synthesized MSDM carries. Zero Revision defaults to 3, the header
// revision most OEM firmware uses (1 is also seen, DESIGN.md).
type MSDMParams struct {
	OEMID, OEMTableID string
	OEMRevision       uint32
	CreatorID         string // default "TEST"
	CreatorRevision   uint32
	Revision          uint8
	// Key is the product key, AAAAA-BBBBB-CCCCC-DDDDD-EEEEE: a TEST key (productkey.Derive).
	Key string
}

// NewMSDM builds an MSDM holding p.Key; Encode gives its bytes.
func NewMSDM(p MSDMParams) (*MSDM, error) {
	if err := productkey.CheckShape(p.Key); err != nil {
		return nil, fmt.Errorf("MSDM: %w", err)
	}
	m := &MSDM{Version: MSDMVersion, DataType: MSDMDataType, DataLength: MSDMKeyLength, Data: []byte(p.Key), HasFields: true}
	rev := p.Revision
	if rev == 0 {
		rev = 3
	}
	if err := fillHeader(&m.Header, "MSDM", rev, p.OEMID, p.OEMTableID, p.OEMRevision, p.CreatorID, p.CreatorRevision); err != nil {
		return nil, err
	}
	m.Header.Length = uint32(MSDMDataOffset + len(m.Data))
	return m, nil
}

// Dump returns the MSDM's fields as dump lines. The product key is masked unless showKey.
func (m *MSDM) Dump(showKey bool) []DumpLine {
	lines := m.Header.Dump()
	if !m.HasFields {
		return lines
	}
	lines = msdmLayout.dump(lines, HeaderSize, m)
	key := m.Key()
	shown := key
	note := "product key"
	if !showKey {
		shown = productkey.Mask(key)
		note = "product key, masked (--show-keys shows it)"
	}
	lines = append(lines, DumpLine{Off: MSDMDataOffset, Size: len(key), Name: "Data", Value: QuoteID([]byte(shown)), Note: note})
	if extra := len(m.Data) - len(key); extra > 0 {
		lines = append(lines, DumpLine{Off: MSDMDataOffset + len(key), Size: extra, Name: "Trailing Data",
			Value: fmt.Sprintf("%d bytes after Data Length", extra)})
	}
	return lines
}
