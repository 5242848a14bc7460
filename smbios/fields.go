package smbios

import (
	"encoding/binary"
	"fmt"
)

// Header is the part every typed structure shares: the structure header, plus what the typed
// view was decoded from, so that encoding it again changes only what was changed.
type Header struct {
	Type uint8
	// Length is the length byte (header and formatted area). The builder fills a zero Length
	// with the length the type has in the table's SMBIOS version (DefaultLength); a view encoded
	// on its own with Length zero gets the type's minimum length. Setting a field that lies past
	// Length extends it.
	Length uint8
	Handle uint16

	raw *Structure // the structure this view was decoded from, nil when built
	ver Version    // the table's SMBIOS version, zero when built
}

// Raw returns the structure the view was decoded from, or nil.
func (h *Header) Raw() *Structure { return h.raw }

// SMBIOSVersion returns the version the view decodes and encodes by: the table's version, or
// Latest when the structure was built outside a table.
func (h *Header) SMBIOSVersion() Version { return h.ver.Effective() }

// SetSMBIOSVersion sets the version used to encode version-dependent fields (the UUID byte
// order). The builder sets it; a view decoded from a table keeps the table's.
func (h *Header) SetSMBIOSVersion(v Version) { h.ver = v }

func (h *Header) header() *Header { return h }

// stringDisplay renders a string field the way dmidecode does: "Not Specified" for string number
// 0, "<BAD INDEX>" for a number past the string set, non-printable bytes as dots.
func (h *Header) stringDisplay(off int, v string) string {
	if v != "" {
		return asciiFilter(v)
	}
	if h.raw != nil {
		if n, ok := h.raw.Byte(off); ok && n != 0 {
			return "<BAD INDEX>"
		}
	}
	return "Not Specified"
}

func asciiFilter(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 32 || c >= 127 {
			b[i] = '.'
		}
	}
	return string(b)
}

type fieldKind uint8

const (
	kindByte fieldKind = iota
	kindWord
	kindDWord
	kindQWord
	kindString
	kindUUID
)

var kindSize = [...]int{kindByte: 1, kindWord: 2, kindDWord: 4, kindQWord: 8, kindString: 1, kindUUID: 16}

// field ties one formatted-area field to the Go value that holds it. A type lists its fields once
// (fields method); the same list drives decoding and encoding.
type field struct {
	off  int
	kind fieldKind
	name string // the specification's name, for messages and lint
	// origOff is where the decoded original holds this string's number, when that differs from
	// off (a chassis SKU after a resized element list). Zero means off.
	origOff int
	// p points at the Go value: *uint8, *uint16, *uint32, *uint64, *string or *UUID by kind.
	p any
}

func (f field) u8() *uint8   { return f.p.(*uint8) }
func (f field) u16() *uint16 { return f.p.(*uint16) }
func (f field) u32() *uint32 { return f.p.(*uint32) }
func (f field) u64() *uint64 { return f.p.(*uint64) }
func (f field) str() *string { return f.p.(*string) }
func (f field) uuid() *UUID  { return f.p.(*UUID) }

func (f field) end() int { return f.off + kindSize[f.kind] }

func (f field) origin() int {
	if f.origOff != 0 {
		return f.origOff
	}
	return f.off
}

func fByte(off int, name string, p *uint8) field {
	return field{off: off, kind: kindByte, name: name, p: p}
}
func fWord(off int, name string, p *uint16) field {
	return field{off: off, kind: kindWord, name: name, p: p}
}
func fDWord(off int, name string, p *uint32) field {
	return field{off: off, kind: kindDWord, name: name, p: p}
}
func fQWord(off int, name string, p *uint64) field {
	return field{off: off, kind: kindQWord, name: name, p: p}
}
func fString(off int, name string, p *string) field {
	return field{off: off, kind: kindString, name: name, p: p}
}
func fUUID(off int, name string, p *UUID) field {
	return field{off: off, kind: kindUUID, name: name, p: p}
}

func (f field) isZero() bool {
	switch f.kind {
	case kindByte:
		return *f.u8() == 0
	case kindWord:
		return *f.u16() == 0
	case kindDWord:
		return *f.u32() == 0
	case kindQWord:
		return *f.u64() == 0
	case kindString:
		return *f.str() == ""
	case kindUUID:
		return *f.uuid() == UUID{}
	}
	return true
}

// decodeFields fills the fields from s. Fields past s.Length() stay zero: the structure predates
// them. String fields get the string's text, or "" for number 0 and for a bad number.
func decodeFields(h *Header, s *Structure, v Version, fs []field) {
	h.Type, h.Length, h.Handle = s.Type, uint8(min(s.Length(), 0xFF)), s.Handle
	h.raw, h.ver = s, v
	for _, f := range fs {
		if f.end() > s.Length() {
			continue
		}
		b := s.Formatted[f.off-4:]
		switch f.kind {
		case kindByte:
			*f.u8() = b[0]
		case kindWord:
			*f.u16() = binary.LittleEndian.Uint16(b)
		case kindDWord:
			*f.u32() = binary.LittleEndian.Uint32(b)
		case kindQWord:
			*f.u64() = binary.LittleEndian.Uint64(b)
		case kindString:
			*f.str(), _ = s.String(b[0])
		case kindUUID:
			*f.uuid() = uuidFromWire(b[:16], v)
		}
	}
}

// encodeFields builds the structure for a typed view. It starts from the structure the view was
// decoded from (so reserved bytes, vendor extensions and unchanged strings stay as they were),
// writes every field, and places strings: an unchanged string keeps its number, a changed one
// takes over its old slot when no other field shares it, a new one is appended. minLen is the
// smallest length the type allows.
func encodeFields(h *Header, typ uint8, fs []field, minLen int) (*Structure, error) {
	length := grownLength(h, fs, minLen)
	if length > 0xFF {
		return nil, fmt.Errorf("smbios: type %d handle 0x%04X: length %d exceeds 255", typ, h.Handle, length)
	}
	s := &Structure{Type: typ, Handle: h.Handle, Formatted: make([]byte, length-4), Offset: -1}
	raw := h.raw
	uses := map[uint8]int{}
	if raw != nil {
		copy(s.Formatted, raw.Formatted)
		s.Strings = append([]string(nil), raw.Strings...)
		for _, f := range fs {
			if f.kind == kindString {
				if n, ok := raw.Byte(f.origin()); ok && n != 0 {
					uses[n]++
				}
			}
		}
	}
	ver := h.ver.Effective()
	for _, f := range fs {
		if f.end() > length {
			continue
		}
		b := s.Formatted[f.off-4:]
		switch f.kind {
		case kindByte:
			b[0] = *f.u8()
		case kindWord:
			binary.LittleEndian.PutUint16(b, *f.u16())
		case kindDWord:
			binary.LittleEndian.PutUint32(b, *f.u32())
		case kindQWord:
			binary.LittleEndian.PutUint64(b, *f.u64())
		case kindUUID:
			w := f.uuid().wire(ver)
			copy(b, w[:])
		case kindString:
			var orig uint8
			if raw != nil {
				orig, _ = raw.Byte(f.origin())
			}
			n, err := placeString(*f.str(), orig, raw, &s.Strings, uses)
			if err != nil {
				return nil, fmt.Errorf("smbios: type %d handle 0x%04X, %s: %w", typ, h.Handle, f.name, err)
			}
			b[0] = n
		}
	}
	return s, nil
}

// grownLength is the length a view encodes to: its Length (minLen when zero), extended to cover
// every non-zero field that lies beyond it.
func grownLength(h *Header, fs []field, minLen int) int {
	length := int(h.Length)
	if length == 0 {
		length = minLen
	}
	for _, f := range fs {
		if f.end() > length && !f.isZero() {
			length = f.end()
		}
	}
	return length
}

func placeString(v string, orig uint8, raw *Structure, strs *[]string, uses map[uint8]int) (uint8, error) {
	for i := 0; i < len(v); i++ {
		if v[i] == 0 {
			return 0, fmt.Errorf("string %q contains a NUL byte", v)
		}
	}
	if raw != nil {
		cur, ok := raw.String(orig)
		if (ok && cur == v) || (!ok && v == "") {
			return orig, nil // unchanged: same number, even a bad one
		}
	}
	if v == "" {
		return 0, nil
	}
	if raw != nil && orig != 0 && int(orig) <= len(*strs) && uses[orig] == 1 {
		(*strs)[orig-1] = v
		return orig, nil
	}
	if len(*strs) >= 0xFF {
		return 0, fmt.Errorf("a structure holds at most 255 strings")
	}
	*strs = append(*strs, v)
	return uint8(len(*strs)), nil
}

// Typed is a typed view of a structure that can be encoded back.
type Typed interface {
	// Structure encodes the view.
	Structure() (*Structure, error)
	header() *Header
}
