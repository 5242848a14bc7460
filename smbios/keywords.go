package smbios

import (
	"fmt"
	"strconv"
	"strings"
)

// StringKeyword is one of dmidecode's -s (--string) keywords: a field of a structure type, which
// dmidecode prints, bare, once for every structure of that type.
type StringKeyword struct {
	Name   string // "system-serial-number"
	Type   uint8
	Offset int
	// value renders the field of one structure (long enough to hold Offset) as dmidecode's -s
	// does; ok false prints nothing.
	value func(s *Structure, off int, v Version) (line string, ok bool)
}

// stringKeywords is dmidecode 3.4's keyword table (dmiopt.c opt_string_keyword), in its order.
var stringKeywords = []StringKeyword{
	{"bios-vendor", 0, 0x04, stringValue},
	{"bios-version", 0, 0x05, stringValue},
	{"bios-release-date", 0, 0x08, stringValue},
	{"bios-revision", 0, 0x15, releaseValue},
	{"firmware-revision", 0, 0x17, releaseValue},
	{"system-manufacturer", 1, 0x04, stringValue},
	{"system-product-name", 1, 0x05, stringValue},
	{"system-version", 1, 0x06, stringValue},
	{"system-serial-number", 1, 0x07, stringValue},
	{"system-uuid", 1, 0x08, uuidValue},
	{"system-sku-number", 1, 0x19, stringValue},
	{"system-family", 1, 0x1A, stringValue},
	{"baseboard-manufacturer", 2, 0x04, stringValue},
	{"baseboard-product-name", 2, 0x05, stringValue},
	{"baseboard-version", 2, 0x06, stringValue},
	{"baseboard-serial-number", 2, 0x07, stringValue},
	{"baseboard-asset-tag", 2, 0x08, stringValue},
	{"chassis-manufacturer", 3, 0x04, stringValue},
	{"chassis-type", 3, 0x05, chassisTypeValue},
	{"chassis-version", 3, 0x06, stringValue},
	{"chassis-serial-number", 3, 0x07, stringValue},
	{"chassis-asset-tag", 3, 0x08, stringValue},
	{"processor-family", 4, 0x06, processorFamilyValue},
	{"processor-manufacturer", 4, 0x07, stringValue},
	{"processor-version", 4, 0x10, stringValue},
	{"processor-frequency", 4, 0x16, frequencyValue},
}

// StringKeywords lists dmidecode's -s keywords in dmidecode's order.
func StringKeywords() []StringKeyword { return append([]StringKeyword(nil), stringKeywords...) }

// LookupStringKeyword finds a keyword, ignoring case as dmidecode does. The error lists them all.
func LookupStringKeyword(name string) (StringKeyword, error) {
	names := make([]string, len(stringKeywords))
	for i, k := range stringKeywords {
		if strings.EqualFold(k.Name, name) {
			return k, nil
		}
		names[i] = k.Name
	}
	return StringKeyword{}, fmt.Errorf("invalid string keyword %q; dmidecode's keywords are: %s", name, strings.Join(names, ", "))
}

// Values returns the lines dmidecode --from-dump FILE -s KEYWORD prints for the table, without
// their newlines: one for every structure of the keyword's type that is long enough to hold the
// field, up to the end-of-table structure and, for entry points that count them, the announced
// number of structures (dmidecode reads no further).
func (k StringKeyword) Values(in *Info) []string {
	var out []string
	for _, s := range dmidecodeStructures(in) {
		if s.Type != k.Type || k.Offset >= s.Length() {
			continue
		}
		if line, ok := k.value(s, k.Offset, in.Version); ok {
			out = append(out, line)
		}
	}
	return out
}

// dmidecodeStructures are the structures dmidecode visits: those before the end-of-table
// structure, at most the number a _SM_ or _DMI_ entry point announces.
func dmidecodeStructures(in *Info) []*Structure {
	ss := in.Structures
	if ep := in.EntryPoint; ep != nil && ep.Kind != EntryPoint64 && ep.NumStructures > 0 && int(ep.NumStructures) < len(ss) {
		ss = ss[:ep.NumStructures]
	}
	for i, s := range ss {
		if s.Type == EndOfTable {
			return ss[:i]
		}
	}
	return ss
}

// displayString is dmidecode's dmi_string: "Not Specified" for string number 0, "<BAD INDEX>"
// for a number past the string set, the text with non-printable bytes as dots otherwise.
func displayString(s *Structure, n uint8) string {
	if n == 0 {
		return "Not Specified"
	}
	str, ok := s.String(n)
	if !ok {
		return "<BAD INDEX>"
	}
	return asciiFilter(str)
}

func stringValue(s *Structure, off int, _ Version) (string, bool) {
	n, _ := s.Byte(off)
	return displayString(s, n), true
}

// releaseValue is a major.minor release pair ending at the offset (BIOS or embedded controller
// firmware), printed only when neither half is 0xFF ("not provided").
func releaseValue(s *Structure, off int, _ Version) (string, bool) {
	major, _ := s.Byte(off - 1)
	minor, _ := s.Byte(off)
	if major == 0xFF || minor == 0xFF {
		return "", false
	}
	return strconv.Itoa(int(major)) + "." + strconv.Itoa(int(minor)), true
}

func uuidValue(s *Structure, _ int, v Version) (string, bool) {
	if s.Length() < 0x18 {
		return "", false
	}
	return uuidFromWire(s.Formatted[0x08-4:0x18-4], v).Display(), true
}

func chassisTypeValue(s *Structure, _ int, _ Version) (string, bool) {
	b, _ := s.Byte(0x05)
	return ChassisType(b).String(), true
}

func processorFamilyValue(s *Structure, _ int, v Version) (string, bool) {
	p, err := ParseProcessorInfo(s, v)
	if err != nil {
		return "", false
	}
	return p.FamilyName(), true
}

func frequencyValue(s *Structure, _ int, _ Version) (string, bool) {
	w, ok := s.Word(0x16)
	if !ok {
		return "", false
	}
	return mhzText(w), true
}
