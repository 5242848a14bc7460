package smbios

import (
	"fmt"
	"strings"
)

// Field is one attribute of a structure's text rendering, named and formatted as dmidecode 3.4
// prints it. Value is the text after "Name: "; a list (List true) has Items on the lines below
// and a Value that is empty or a count.
type Field struct {
	Name  string   `json:"name"`
	Value string   `json:"value"`
	List  bool     `json:"list,omitempty"`
	Items []string `json:"items,omitempty"`
}

func attr(name, value string) Field { return Field{Name: name, Value: value} }

func attrf(name, format string, args ...any) Field {
	return Field{Name: name, Value: fmt.Sprintf(format, args...)}
}

func list(name, value string, items []string) Field {
	return Field{Name: name, Value: value, List: true, Items: items}
}

// renderText writes a structure the way dmidecode does: a handle line, a title, then one
// tab-indented line per field and two tabs for list items.
func renderText(h *Header, length int, title string, fs []Field) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Handle 0x%04X, DMI type %d, %d bytes\n%s\n", h.Handle, h.Type, length, title)
	writeFields(&b, fs)
	return b.String()
}

func writeFields(b *strings.Builder, fs []Field) {
	for _, f := range fs {
		switch {
		case f.List && f.Value == "":
			fmt.Fprintf(b, "\t%s:\n", f.Name)
		default:
			fmt.Fprintf(b, "\t%s: %s\n", f.Name, f.Value)
		}
		for _, it := range f.Items {
			fmt.Fprintf(b, "\t\t%s\n", it)
		}
	}
}

// memorySizeText renders a size the way dmidecode 3.4's dmi_print_memory_size does: the largest
// unit with a non-zero value, or the next smaller one when both are non-zero. shift is 0 when
// code counts bytes and 1 when it counts kilobytes.
func memorySizeText(code uint64, shift int) string {
	units := [...]string{"bytes", "kB", "MB", "GB", "TB", "PB", "EB", "ZB"}
	var split [7]uint64
	for i := range split {
		split[i] = (code >> (10 * uint(i))) & 0x3FF
	}
	split[6] = code >> 60
	i := 6
	for ; i > 0; i-- {
		if split[i] != 0 {
			break
		}
	}
	capacity := split[i]
	if i > 0 && split[i-1] != 0 {
		i--
		capacity = split[i] + split[i+1]<<10
	}
	return fmt.Sprintf("%d %s", capacity, units[i+shift])
}

// bitNames lists the names of the set bits of v from bit lo to bit hi, names[0] naming bit lo.
// Empty names are skipped.
func bitNames(v uint64, lo, hi int, names []string) []string {
	var out []string
	for i := lo; i <= hi; i++ {
		if v&(1<<uint(i)) != 0 && i-lo < len(names) && names[i-lo] != "" {
			out = append(out, names[i-lo])
		}
	}
	return out
}

// enumName returns names[code-first] when it exists, else dmidecode's out-of-spec marker.
func enumName(code, first int, names []string) string {
	if i := code - first; i >= 0 && i < len(names) && names[i] != "" {
		return names[i]
	}
	return outOfSpec
}

const outOfSpec = "<OUT OF SPEC>"

func handleText(h uint16) string { return fmt.Sprintf("0x%04X", h) }
