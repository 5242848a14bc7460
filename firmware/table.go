package firmware

import (
	"bytes"
	"fmt"

	"github.com/oemact/oemact/firmware/fwimage"
)

// Source says where a table came from.
type Source uint8

const (
	FromFile      Source = iota // a raw table file, in a folder or given alone
	FromAcpidump                // a block of acpidump text
	FromKernelLog               // a kernel log line: header fields only, in the kernel's printed form
	FromBytes                   // bytes handed over by a caller (the guest agent's report)
	FromImage                   // found in a firmware image (Table.Location says where)
)

var sourceNames = [...]string{FromFile: "file", FromAcpidump: "acpidump", FromKernelLog: "kernel log", FromBytes: "bytes", FromImage: "image"}

func (s Source) String() string {
	if int(s) < len(sourceNames) {
		return sourceNames[s]
	}
	return fmt.Sprintf("source(%d)", int(s))
}

// Table is one table of a Set: its bytes as found and whatever decoding applied to its signature.
type Table struct {
	// Name is how the source names the table: the file name in a folder ("SLIC", "SLIC2"), else the
	// signature, numbered like sysfs (SSDT1, SSDT2, ...) when the set holds it more than once.
	Name    string
	Path    string // the file it came from; "" for bytes handed over
	Source  Source
	Address uint64 // physical address, when acpidump or the kernel log gives it
	Raw     []byte // bytes as read, possibly more than Header.Length; nil for FromKernelLog
	// Location is where a table FromImage was found: the file offset and the path of volumes,
	// files and sections (or FMAP area and CBFS file) holding it.
	Location *fwimage.Location

	Header Header
	// HeaderOnly: only the header is known (FromKernelLog). Its IDs are in the kernel's printed
	// form (see KernelLogID), so compare them with SameID.
	HeaderOnly bool
	// Err is the decoding error (a *FormatError), if any. Decoded parts are kept even then.
	Err error

	// At most one of these is set, by signature.
	SLIC *SLIC
	MSDM *MSDM
	SDT  *SDT // RSDT or XSDT
	FADT *FADT
	RSDP *RSDP
}

// NewTable decodes raw bytes into a Table: the header, then the typed decoding its signature
// selects. It never fails; problems are in Err and in what Check reports.
func NewTable(name, path string, src Source, raw []byte) *Table {
	t := &Table{Name: name, Path: path, Source: src, Raw: raw}
	if bytes.HasPrefix(raw, RSDPSignature[:]) {
		copy(t.Header.Signature[:], "RSDP")
		t.RSDP, t.Err = DecodeRSDP(raw)
		return t
	}
	h, err := DecodeHeader(raw)
	if err != nil {
		t.Err = err
		if len(raw) >= 4 && fwimage.ValidSignature(raw[:4]) {
			// Truncated: keep the signature, so the table is checked and reported as what it
			// says it is (a 4-byte "SLIC" is a truncated SLIC, not an unknown file).
			copy(t.Header.Signature[:], raw[:4])
		}
		return t
	}
	t.Header = h
	if k, ok := KindOf(h.Sig()); ok {
		k.decode(t, raw)
		return t
	}
	if !fwimage.ValidSignature(h.Signature[:]) {
		t.Err = formatErr(name, 0, ErrSignature, "signature %s is not an ACPI table signature (A-Z, 0-9, _)", QuoteID(h.Signature[:]))
		return t
	}
	_, t.Err = tableData(h.Sig(), raw, &h)
	return t
}

// Signature returns the table's signature ("RSDP" for the RSDP).
func (t *Table) Signature() string { return t.Header.Sig() }

// StdHeader reports whether the table has the common header with OEM IDs and a checksum over
// Length bytes: every table but the RSDP and the FACS.
func (t *Table) StdHeader() bool {
	s := t.Signature()
	return s != "RSDP" && s != "FACS"
}

// Data returns the bytes the table covers: Raw cut to the header's Length when that length is
// sane, else all of Raw.
func (t *Table) Data() []byte {
	if t.RSDP != nil || t.Raw == nil || len(t.Raw) < HeaderSize {
		return t.Raw
	}
	d, _ := tableData("", t.Raw, &t.Header)
	return d
}

// ChecksumOK reports whether the table's bytes sum to zero; false when it cannot be checked (the
// length field lies, or only the header is known).
func (t *Table) ChecksumOK() bool {
	switch {
	case t.HeaderOnly || t.Raw == nil:
		return false
	case t.RSDP != nil:
		return len(t.Raw) >= RSDPSizeV1 && ChecksumOK(t.Raw[:RSDPSizeV1])
	case len(t.Raw) < HeaderSize || t.Header.Length < HeaderSize || uint64(t.Header.Length) > uint64(len(t.Raw)):
		return false
	}
	return ChecksumOK(t.Raw[:t.Header.Length])
}

// Dump returns the table's field-by-field dump: the typed decoding when there is one, else the
// header. showKeys shows an MSDM product key whole.
func (t *Table) Dump(showKeys bool) []DumpLine {
	if t.RSDP != nil {
		lines := t.RSDP.Dump()
		if !t.HeaderOnly {
			return lines
		}
		// The kernel's RSDP line gives the signature, revision, length and OEM ID only.
		var known []DumpLine
		for _, l := range lines {
			switch l.Name {
			case "Reserved":
				continue
			case "Checksum", "RSDT Address", "XSDT Address", "Extended Checksum":
				l.Value, l.Note = "--", "not in the kernel log line"
			}
			known = append(known, l)
		}
		return known
	}
	k, known := KindOf(t.Signature())
	var lines []DumpLine
	if known && k.dump != nil {
		lines = k.dump(t, showKeys)
	}
	if lines == nil {
		if t.Raw == nil && !t.HeaderOnly || len(t.Raw) < HeaderSize && !t.HeaderOnly {
			return nil
		}
		lines = t.Header.Dump()
	}
	if t.StdHeader() {
		for i := range lines {
			if int64(lines[i].Off) == OffChecksum && lines[i].Name == "Checksum" {
				if t.HeaderOnly {
					lines[i].Value, lines[i].Note = "--", "not in the kernel log line"
				} else {
					lines[i].Note = t.checksumNote()
				}
				break
			}
		}
	}
	if d := t.Data(); t.StdHeader() && !t.HeaderOnly && len(d) > HeaderSize {
		decoded := HeaderSize
		if known && k.decoded != nil {
			decoded = k.decoded(t)
		}
		if rest := len(d) - decoded; rest > 0 {
			lines = append(lines, DumpLine{Off: decoded, Size: rest, Name: "Not decoded",
				Value: fmt.Sprintf("%d bytes", rest)})
		}
	}
	return lines
}

func (t *Table) checksumNote() string {
	d := t.Data()
	if uint64(t.Header.Length) > uint64(len(t.Raw)) || t.Header.Length < HeaderSize {
		return "cannot check: the length field is wrong"
	}
	if ChecksumOK(d) {
		return "valid"
	}
	return fmt.Sprintf("invalid, want %02X", WantChecksum(d))
}
