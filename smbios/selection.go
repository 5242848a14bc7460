package smbios

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// typeKeywords is dmidecode's -t keyword table (dmiopt.c opt_type_keyword), in its order.
var typeKeywords = []struct {
	name  string
	types []uint8
}{
	{"bios", []uint8{0, 13}},
	{"system", []uint8{1, 12, 15, 23, 32}},
	{"baseboard", []uint8{2, 10, 41}},
	{"chassis", []uint8{3}},
	{"processor", []uint8{4}},
	{"memory", []uint8{5, 6, 16, 17}},
	{"cache", []uint8{7}},
	{"connector", []uint8{8}},
	{"slot", []uint8{9}},
}

// TypeKeywords lists dmidecode's -t keywords.
func TypeKeywords() []string {
	out := make([]string, len(typeKeywords))
	for i, k := range typeKeywords {
		out[i] = k.name
	}
	return out
}

// ParseTypes reads a -t argument as dmidecode does: a keyword (bios, system, baseboard, chassis,
// processor, memory, cache, connector, slot; any case) or type numbers separated by commas or
// spaces (decimal, 0x hex or 0 octal, 0 to 255). The types come back sorted, without repeats.
func ParseTypes(arg string) ([]uint8, error) {
	for _, k := range typeKeywords {
		if strings.EqualFold(arg, k.name) {
			return append([]uint8(nil), k.types...), nil
		}
	}
	seen := map[uint8]bool{}
	for _, f := range strings.FieldsFunc(arg, func(r rune) bool { return r == ',' || r == ' ' }) {
		n, err := strconv.ParseUint(f, 0, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid type %q: want a type number (0-255) or one of %s", f, strings.Join(TypeKeywords(), ", "))
		}
		if n > 0xFF {
			return nil, fmt.Errorf("invalid type number %d: types are 0 to 255", n)
		}
		seen[uint8(n)] = true
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("invalid type %q: want a type number (0-255) or one of %s", arg, strings.Join(TypeKeywords(), ", "))
	}
	out := make([]uint8, 0, len(seen))
	for t := range seen {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// Select returns the table's structures of the given types, in table order.
func (t *Table) Select(types []uint8) []*Structure {
	want := map[uint8]bool{}
	for _, ty := range types {
		want[ty] = true
	}
	var out []*Structure
	for _, s := range t.Structures {
		if want[s.Type] {
			out = append(out, s)
		}
	}
	return out
}

// Rendering is one structure as text: its handle line, its title and its fields.
type Rendering struct {
	Handle uint16  `json:"handle"`
	Type   uint8   `json:"type"`
	Length int     `json:"length"`
	Title  string  `json:"title"`
	Fields []Field `json:"fields"`
	// Decoded is false for a type this package does not decode: Fields then holds the raw bytes
	// and strings, as dmidecode --dump shows them.
	Decoded bool `json:"decoded"`
}

// Render describes a structure as dmidecode prints it: through its typed view when this
// package decodes the type, else as dmidecode's raw dump (header and data, strings).
func Render(s *Structure, v Version) Rendering {
	r := Rendering{Handle: s.Handle, Type: s.Type, Length: s.Length()}
	if tv, err := ParseTyped(s, v); err == nil && tv != nil {
		if f, ok := tv.(interface{ Fields() []Field }); ok {
			r.Title, r.Fields, r.Decoded = TypeTitle(s.Type), f.Fields(), true
			return r
		}
	}
	r.Title = structureTypeName(s.Type) + " (not decoded)"
	if s.Type >= 128 {
		r.Title = "OEM-specific Type"
	}
	b, _ := s.MarshalBinary()
	var rows []string
	for i := 0; i < s.Length(); i += 16 {
		var hex []string
		for _, c := range b[i:min(i+16, s.Length())] {
			hex = append(hex, fmt.Sprintf("%02X", c))
		}
		rows = append(rows, strings.Join(hex, " "))
	}
	r.Fields = append(r.Fields, list("Header and Data", "", rows))
	if len(s.Strings) > 0 {
		var strs []string
		for _, str := range s.Strings {
			strs = append(strs, asciiFilter(str))
		}
		r.Fields = append(r.Fields, list("Strings", "", strs))
	}
	return r
}

// String renders the structure the way dmidecode does.
func (r Rendering) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Handle 0x%04X, DMI type %d, %d bytes\n%s\n", r.Handle, r.Type, r.Length, r.Title)
	writeFields(&b, r.Fields)
	return b.String()
}
