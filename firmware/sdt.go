package firmware

import "fmt"

// SDT is a root table: the RSDT (32-bit entries) or the XSDT (64-bit entries), each entry the
// physical address of another table. Windows compares the SLIC marker's OEM IDs with the root
// table's header.
type SDT struct {
	Header  Header
	Entries []uint64
}

// EntrySize is 4 for an RSDT, 8 for an XSDT.
func (t *SDT) EntrySize() int {
	if t.Header.Sig() == "XSDT" {
		return 8
	}
	return 4
}

// DecodeSDT decodes an RSDT or an XSDT, by its signature. A partial entry at the end is an error
// (the entries read before it are kept).
func DecodeSDT(b []byte) (*SDT, error) {
	h, err := DecodeHeader(b)
	if err != nil {
		err.(*FormatError).Table = "RSDT/XSDT"
		return nil, err
	}
	sig := h.Sig()
	if sig != "RSDT" && sig != "XSDT" {
		return nil, formatErr(sig, 0, ErrSignature, "signature %s, want \"RSDT\" or \"XSDT\"", QuoteID(h.Signature[:]))
	}
	t := &SDT{Header: h}
	data, err := tableData(sig, b, &h)
	size := t.EntrySize()
	body := data[HeaderSize:] // DecodeHeader and tableData leave at least the header
	t.Entries = make([]uint64, 0, len(body)/size)
	for off := 0; off+size <= len(body); off += size {
		if size == 8 {
			t.Entries = append(t.Entries, le.Uint64(body[off:]))
		} else {
			t.Entries = append(t.Entries, uint64(le.Uint32(body[off:])))
		}
	}
	if err != nil {
		return t, err
	}
	if rest := len(body) % size; rest != 0 {
		return t, formatErr(sig, len(data)-rest, ErrLength,
			"%d bytes left after %d entries; %s entries are %d bytes", rest, len(t.Entries), sig, size)
	}
	return t, nil
}

// Encode returns the table bytes, setting Length and Checksum.
func (t *SDT) Encode() []byte {
	size := t.EntrySize()
	b := make([]byte, HeaderSize+size*len(t.Entries))
	for i, e := range t.Entries {
		if size == 8 {
			le.PutUint64(b[HeaderSize+8*i:], e)
		} else {
			le.PutUint32(b[HeaderSize+4*i:], uint32(e))
		}
	}
	t.Header.Length = uint32(len(b))
	t.Header.Encode(b)
	t.Header.Checksum = WantChecksum(b)
	b[OffChecksum] = t.Header.Checksum
	return b
}

// Dump returns the header and one line per entry, named as iasl names them.
func (t *SDT) Dump() []DumpLine {
	lines := t.Header.Dump()
	size := t.EntrySize()
	for i, e := range t.Entries {
		lines = append(lines, DumpLine{Off: HeaderSize + size*i, Size: size,
			Name: fmt.Sprintf("ACPI Table Address %3d", i), Value: fmtInt(e, size, showHex)})
	}
	return lines
}

// FADT holds what oemact reads of the Fixed ACPI Description Table ("FACP"): its header, whose OEM
// IDs are compared with the SLIC marker's, and the FACS and DSDT addresses that every revision has.
type FADT struct {
	Header       Header
	FirmwareCtrl uint32 // FACS address
	DSDT         uint32
	HasAddresses bool // false when the table ends before them
}

type fadtAddrs struct{ FirmwareCtrl, DSDT uint32 }

var fadtLayout = newLayout("FADT", 8,
	field[fadtAddrs]{name: "FACS Address", ref: func(a *fadtAddrs) any { return &a.FirmwareCtrl }},
	field[fadtAddrs]{name: "DSDT Address", ref: func(a *fadtAddrs) any { return &a.DSDT }},
)

// DecodeFADT decodes the FADT's header and first two addresses; the rest is not read.
func DecodeFADT(b []byte) (*FADT, error) {
	h, err := DecodeHeader(b)
	if err != nil {
		err.(*FormatError).Table = "FACP"
		return nil, err
	}
	if h.Sig() != "FACP" {
		return nil, formatErr("FACP", 0, ErrSignature, "signature %s, want \"FACP\"", QuoteID(h.Signature[:]))
	}
	f := &FADT{Header: h}
	data, err := tableData("FACP", b, &h)
	if len(data) >= HeaderSize+8 {
		var a fadtAddrs
		fadtLayout.decode(data[HeaderSize:], &a)
		f.FirmwareCtrl, f.DSDT, f.HasAddresses = a.FirmwareCtrl, a.DSDT, true
	}
	if err != nil {
		return f, err
	}
	if !f.HasAddresses {
		return f, formatErr("FACP", len(data), ErrTruncated, "the table ends after %d bytes, before the FACS and DSDT addresses", len(data))
	}
	return f, nil
}

// Dump returns the header and the two addresses.
func (f *FADT) Dump() []DumpLine {
	lines := f.Header.Dump()
	if f.HasAddresses {
		a := fadtAddrs{f.FirmwareCtrl, f.DSDT}
		lines = fadtLayout.dump(lines, HeaderSize, &a)
	}
	return lines
}
