package firmware

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// The ACPICA data-table compiler idea: each on-disk structure is described once, as an ordered list
// of fields. The same list decodes bytes into the Go struct, encodes the struct back into bytes and
// produces the human dump, so a field's name, offset and width are written in one place only.

// show says how the dump prints a field.
type show uint8

const (
	showHex   show = iota // integers as fixed-width hex, byte strings as hex bytes
	showChars             // byte strings as quoted characters (signatures, OEM IDs)
	showDec               // integers in decimal (bit lengths, exponents)
)

// field describes one field of a structure T. Fields follow each other with no gap, so a field's
// offset is the sum of the sizes before it: newLayout computes it. ref returns a pointer to the field inside a T:
// *uint8, *uint16, *uint32, *uint64 or a pointer to a byte array of one of the sizes that
// arrayBytes knows. Pointers box into an interface without allocating, which keeps the decoder
// allocation-free.
type field[T any] struct {
	name string
	off  int // filled by newLayout: the sum of the sizes before
	size int // filled by newLayout from ref's type
	ref  func(*T) any
	show show
	note func(*T) string // decoded meaning for the dump, or nil
}

// layout is the ordered field list of a structure of a fixed size.
type layout[T any] struct {
	name   string // structure name, for panics in newLayout
	size   int
	fields []field[T]
}

// newLayout places the fields one after another from offset 0 and checks that they cover
// [0, size) exactly. A wrong description is a programming error, so it panics at package
// initialisation, which every test run exercises.
func newLayout[T any](name string, size int, fields ...field[T]) *layout[T] {
	var zero T
	off := 0
	for i := range fields {
		f := &fields[i]
		f.size = refSize(f.ref(&zero))
		f.off = off
		off += f.size
	}
	if off != size {
		panic(fmt.Sprintf("firmware: layout %s: fields cover 0x%x bytes, want 0x%x", name, off, size))
	}
	return &layout[T]{name: name, size: size, fields: fields}
}

// offset is a field's offset in the structure, by its name, as findings give offsets; an unknown
// name is a programming error.
func (l *layout[T]) offset(name string) int64 {
	for _, f := range l.fields {
		if f.name == name {
			return int64(f.off)
		}
	}
	panic(fmt.Sprintf("firmware: layout %s has no field %q", l.name, name))
}

func refSize(r any) int {
	switch r := r.(type) {
	case *uint8:
		return 1
	case *uint16:
		return 2
	case *uint32:
		return 4
	case *uint64:
		return 8
	default:
		if b := arrayBytes(r); b != nil {
			return len(b)
		}
	}
	panic(fmt.Sprintf("firmware: unsupported field type %T", r))
}

// arrayBytes returns a slice over a byte-array field, or nil when r is not one.
func arrayBytes(r any) []byte {
	switch r := r.(type) {
	case *[3]byte:
		return r[:]
	case *[4]byte:
		return r[:]
	case *[6]byte:
		return r[:]
	case *[8]byte:
		return r[:]
	case *[16]byte:
		return r[:]
	case *[128]byte:
		return r[:]
	}
	return nil
}

var le = binary.LittleEndian

// decode reads v from b, which must hold at least l.size bytes (callers check and report).
func (l *layout[T]) decode(b []byte, v *T) {
	_ = b[l.size-1]
	for i := range l.fields {
		f := &l.fields[i]
		p := b[f.off : f.off+f.size]
		switch r := f.ref(v).(type) {
		case *uint8:
			*r = p[0]
		case *uint16:
			*r = le.Uint16(p)
		case *uint32:
			*r = le.Uint32(p)
		case *uint64:
			*r = le.Uint64(p)
		default:
			copy(arrayBytes(r), p)
		}
	}
}

// encode writes v into b, which must hold at least l.size bytes.
func (l *layout[T]) encode(b []byte, v *T) {
	_ = b[l.size-1]
	for i := range l.fields {
		f := &l.fields[i]
		p := b[f.off : f.off+f.size]
		switch r := f.ref(v).(type) {
		case *uint8:
			p[0] = *r
		case *uint16:
			le.PutUint16(p, *r)
		case *uint32:
			le.PutUint32(p, *r)
		case *uint64:
			le.PutUint64(p, *r)
		default:
			copy(p, arrayBytes(r))
		}
	}
}

// dump appends one DumpLine per field, with offsets relative to the table (base + field offset).
func (l *layout[T]) dump(lines []DumpLine, base int, v *T) []DumpLine {
	for i := range l.fields {
		f := &l.fields[i]
		d := DumpLine{Off: base + f.off, Size: f.size, Name: f.name}
		switch r := f.ref(v).(type) {
		case *uint8:
			d.Value = fmtInt(uint64(*r), 1, f.show)
		case *uint16:
			d.Value = fmtInt(uint64(*r), 2, f.show)
		case *uint32:
			d.Value = fmtInt(uint64(*r), 4, f.show)
		case *uint64:
			d.Value = fmtInt(*r, 8, f.show)
		default:
			b := arrayBytes(r)
			if f.show == showChars {
				d.Value = QuoteID(b)
			} else {
				d.Bytes = append([]byte(nil), b...)
			}
		}
		if f.note != nil {
			d.Note = f.note(v)
		}
		lines = append(lines, d)
	}
	return lines
}

func fmtInt(v uint64, size int, s show) string {
	if s == showDec {
		return fmt.Sprintf("%d", v)
	}
	return fmt.Sprintf("%0*X", 2*size, v)
}

// DumpLine is one line of a table's field-by-field dump, like a line of `iasl -d` output.
type DumpLine struct {
	Off   int    // byte offset inside the table; -1 for a summary line that is not a field
	Size  int    // field width in bytes
	Name  string // field name
	Value string // the raw value as stored: hex for integers, quoted for characters
	Bytes []byte // for byte strings shown as hex (Value is then empty)
	Note  string // what the value means, when the decoder knows
}

// WriteDump prints lines in the layout `iasl -d` uses:
//
//	[0C8h 0200   4]               Marker Version : 00020000    [2.0]
func WriteDump(w io.Writer, lines []DumpLine) error {
	var sb strings.Builder
	for _, d := range lines {
		if d.Off < 0 {
			fmt.Fprintf(&sb, "%16s %28s : %s", "", d.Name, d.Value)
		} else {
			fmt.Fprintf(&sb, "[%03Xh %04d %3d] %28s : %s", d.Off, d.Off, d.Size, d.Name, d.Value)
		}
		if d.Bytes != nil {
			for i, c := range d.Bytes {
				if i%16 == 0 {
					if i == 0 {
						sb.WriteString("\\\n   ")
					} else {
						sb.WriteString(" \\\n   ")
					}
				}
				fmt.Fprintf(&sb, " %02X", c)
			}
		}
		if d.Note != "" {
			if d.Bytes != nil {
				sb.WriteString("\n" + strings.Repeat(" ", 47))
			} else {
				sb.WriteString("    ")
			}
			sb.WriteString("[" + d.Note + "]")
		}
		sb.WriteByte('\n')
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

// QuoteID quotes raw ID bytes (signature, OEM ID, OEM table ID) so that every byte shows:
// printable ASCII as itself, anything else as \xNN, NUL padding included.
func QuoteID(b []byte) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for _, c := range b {
		switch {
		case c == '"' || c == '\\':
			sb.WriteByte('\\')
			sb.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			sb.WriteByte(c)
		default:
			fmt.Fprintf(&sb, "\\x%02x", c)
		}
	}
	sb.WriteByte('"')
	return sb.String()
}

// RawString maps each byte to the code point of the same value (Latin-1), so that an ID's raw
// bytes survive a trip through a Go string and JSON exactly: JSON escapes the control bytes
// (NUL padding shows as \u0000) and bytes 0x80-0xFF become U+0080-U+00FF.
func RawString(b []byte) string {
	ascii := true
	for _, c := range b {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b)
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}
