package smbios

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
)

// EndOfTable is the type of the structure that ends a table.
const EndOfTable = 127

// Structure is one raw SMBIOS structure: the 4-byte header (type, length, handle), the rest of the
// formatted area, and the string set. Every type, known or not, is available this way; the typed
// structures (BIOSInfo, SystemInfo, ...) are views over it.
type Structure struct {
	Type   uint8
	Handle uint16
	// Formatted is the formatted area after the 4-byte header: Length()-4 bytes.
	Formatted []byte
	// Strings is the string set in order; string number n (1-based) is Strings[n-1]. A string set
	// that starts with an empty string (a lone NUL, seen in broken tables) keeps it as "", so
	// that encoding reproduces the bytes.
	Strings []string
	// Offset is where the structure starts in the table it was decoded from, or -1.
	Offset int64
}

// Length is the structure's length byte: the header and the formatted area, without strings.
func (s *Structure) Length() int { return 4 + len(s.Formatted) }

// Size is the number of bytes the structure occupies in a table, strings and terminator included.
func (s *Structure) Size() int {
	n := s.Length()
	if len(s.Strings) == 0 {
		return n + 2
	}
	for _, str := range s.Strings {
		n += len(str) + 1
	}
	return n + 1
}

// String returns string number n (1-based) the way SMBIOS readers find it: walking the set,
// stopping at an empty string. ok is false for n == 0 (no string) and for a number past the set
// (dmidecode prints "<BAD INDEX>" then).
func (s *Structure) String(n uint8) (str string, ok bool) {
	if n == 0 {
		return "", false
	}
	for i := 0; i < int(n); i++ {
		if i >= len(s.Strings) || s.Strings[i] == "" {
			return "", false
		}
	}
	return s.Strings[n-1], true
}

// Byte returns the byte at offset off from the start of the structure (header included), and
// whether the structure is long enough to have it.
func (s *Structure) Byte(off int) (uint8, bool) {
	if off < 4 || off >= s.Length() {
		return 0, false
	}
	return s.Formatted[off-4], true
}

// Word returns the little-endian 16-bit value at offset off, when present.
func (s *Structure) Word(off int) (uint16, bool) {
	if off < 4 || off+2 > s.Length() {
		return 0, false
	}
	return binary.LittleEndian.Uint16(s.Formatted[off-4:]), true
}

// DWord returns the little-endian 32-bit value at offset off, when present.
func (s *Structure) DWord(off int) (uint32, bool) {
	if off < 4 || off+4 > s.Length() {
		return 0, false
	}
	return binary.LittleEndian.Uint32(s.Formatted[off-4:]), true
}

// QWord returns the little-endian 64-bit value at offset off, when present.
func (s *Structure) QWord(off int) (uint64, bool) {
	if off < 4 || off+8 > s.Length() {
		return 0, false
	}
	return binary.LittleEndian.Uint64(s.Formatted[off-4:]), true
}

// AppendBinary appends the structure's bytes as they sit in a table.
func (s *Structure) AppendBinary(b []byte) ([]byte, error) {
	if s.Length() > 0xFF {
		return b, fmt.Errorf("smbios: structure type %d handle 0x%04X: formatted area of %d bytes exceeds the 255 a length byte holds", s.Type, s.Handle, s.Length())
	}
	if len(s.Strings) > 0xFF {
		return b, fmt.Errorf("smbios: structure type %d handle 0x%04X: %d strings, a string number is one byte (255 at most)", s.Type, s.Handle, len(s.Strings))
	}
	b = append(b, s.Type, uint8(s.Length()))
	b = binary.LittleEndian.AppendUint16(b, s.Handle)
	b = append(b, s.Formatted...)
	if len(s.Strings) == 0 {
		return append(b, 0, 0), nil
	}
	for i, str := range s.Strings {
		if strings.IndexByte(str, 0) >= 0 {
			return b, fmt.Errorf("smbios: structure type %d handle 0x%04X: string %d contains a NUL byte", s.Type, s.Handle, i+1)
		}
		if str == "" && i > 0 {
			// An empty string would end the set early; only a leading one (kept from a decoded
			// table) encodes back to what was read.
			return b, fmt.Errorf("smbios: structure type %d handle 0x%04X: string %d is empty; use string number 0 for an absent string", s.Type, s.Handle, i+1)
		}
		b = append(b, str...)
		b = append(b, 0)
	}
	return append(b, 0), nil
}

// MarshalBinary returns the structure's bytes: header, formatted area, strings, double NUL. This
// is the form QEMU's -smbios file= takes.
func (s *Structure) MarshalBinary() ([]byte, error) { return s.AppendBinary(make([]byte, 0, s.Size())) }

// Clone returns a deep copy.
func (s *Structure) Clone() *Structure {
	c := *s
	c.Formatted = append([]byte(nil), s.Formatted...)
	c.Strings = append([]string(nil), s.Strings...)
	return &c
}

// Table is a decoded structure table.
type Table struct {
	Structures []*Structure
	// Trailing holds the bytes after the end-of-table structure, up to the table length (an
	// _SM3_ maximum size often leaves some). Kept so that encoding reproduces the table.
	Trailing []byte
	// End is the offset just past the last decoded structure.
	End int64
}

// DecodeStructure decodes the structure at offset off of table b. It returns the structure and
// the offset of the next one. index is the structure's position, used in errors.
func DecodeStructure(b []byte, off int64, index int) (*Structure, int64, error) {
	rest := int64(len(b)) - off
	if off < 0 || rest < 4 {
		return nil, off, tableError(CodeStructureOverrun, ErrTruncated, off, index, -1, -1,
			"%d bytes left, a structure header needs 4", max(rest, 0))
	}
	typ, length := b[off], int64(b[off+1])
	handle := binary.LittleEndian.Uint16(b[off+2:])
	if length < 4 {
		return nil, off, tableError(CodeStructureLength, ErrBadLength, off, index, int(typ), int(handle),
			"structure length %d is less than its 4-byte header; the table is broken from here (dmidecode stops here too)", length)
	}
	if length > rest {
		return nil, off, tableError(CodeStructureOverrun, ErrTruncated, off, index, int(typ), int(handle),
			"formatted area of %d bytes runs past the end of the table (%d bytes left)", length, rest)
	}
	// The string set ends at the first double NUL at or after the formatted area.
	area := b[off+length:]
	end := bytes.Index(area, []byte{0, 0})
	if end < 0 {
		return nil, off, tableError(CodeStructureOverrun, ErrTruncated, off, index, int(typ), int(handle),
			"string set starting at table offset 0x%x has no double-NUL terminator before the end of the table", off+length)
	}
	s := &Structure{
		Type:      typ,
		Handle:    handle,
		Formatted: append([]byte(nil), b[off+4:off+length]...),
		Offset:    off,
	}
	if end > 0 {
		// end points at the NUL that ends the last string; area[:end] holds the strings
		// separated by NULs. A leading NUL (end > 0 but area[0] == 0) gives a leading "".
		s.Strings = strings.Split(string(area[:end]), "\x00")
	}
	return s, off + length + int64(end) + 2, nil
}

// DecodeTable decodes structures from b until the end-of-table structure (type 127) or the end of
// b. On a malformed structure it returns the structures before it and a *FormatError that says
// where decoding stopped.
func DecodeTable(b []byte) (*Table, error) {
	t := &Table{}
	var off int64
	for off < int64(len(b)) {
		if int64(len(b))-off < 4 && allZero(b[off:]) {
			break // padding too short to be a structure
		}
		s, next, err := DecodeStructure(b, off, len(t.Structures))
		if err != nil {
			t.End = off
			t.Trailing = nil
			return t, err
		}
		t.Structures = append(t.Structures, s)
		off = next
		if s.Type == EndOfTable {
			break
		}
	}
	t.End = off
	if off < int64(len(b)) {
		t.Trailing = append([]byte(nil), b[off:]...)
	}
	return t, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Bytes encodes the table: every structure, then Trailing.
func (t *Table) Bytes() ([]byte, error) {
	n := len(t.Trailing)
	for _, s := range t.Structures {
		n += s.Size()
	}
	b := make([]byte, 0, n)
	var err error
	for _, s := range t.Structures {
		if b, err = s.AppendBinary(b); err != nil {
			return nil, err
		}
	}
	return append(b, t.Trailing...), nil
}
