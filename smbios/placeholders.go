package smbios

import "strings"

// Placeholder is a string firmware vendors leave in place of a real value.
type Placeholder struct {
	// Field limits the pattern to string fields of that name ("Serial Number", "Asset Tag");
	// empty means any string field.
	Field string
	Value string
	// Code is the finding code a match produces.
	Code string
	// Source says where the pattern comes from: "fwts" (dmicheck's table, built from thousands of
	// DMI dumps in bug reports) or "oemact" (added here).
	Source string
}

// DefaultPlaceholders is fwts dmicheck's placeholder table (src/dmi/dmicheck/dmicheck.c,
// dmi_patterns), field by field, followed by a few defaults common in AMI and Insyde firmware
// that fwts does not list. fwts's lookup also matches a field-specific pattern against any field
// (its else-branch ignores the field); here a field-specific pattern applies to its field only.
var DefaultPlaceholders = func() []Placeholder {
	var out []Placeholder
	add := func(field, code, source string, values ...string) {
		for _, v := range values {
			out = append(out, Placeholder{Field: field, Value: v, Code: code, Source: source})
		}
	}
	add("Serial Number", CodePlaceholderSerial, "fwts",
		"0000000", "00000000", "000000000", "0000000000", "0x00000000", "0x0000000000000000",
		"012345678", "0123456789", "01234567890", "012345678900", "0123456789000",
		"System Serial Number", "MB-1234567890", "NB-1234567890", "NB-0123456789",
		"Base Board Serial Number", "Chassis Serial Number", "<cut out>", "Empty", "[Empty]", "NA",
		"N/A", "None", "None1", "Not Available", "Not Specified", "NotSupport",
		"Not Supported by CPU", "Not Supported", "OEM Chassis Serial Number", "OEM_Define1",
		"OEM_Define2", "OEM_Define3", "SerNum0", "SerNum00", "SerNum01", "SerNum02", "SerNum03",
		"SerNum1", "SerNum2", "SerNum3", "SerNum4", "TBD by ODM", "To Be Defined By O.E.M",
		"To be filled by O.E.M.", "To Be Filled By O.E.M.", "Unknow", "Unknown", "XXXXXXXXXXXX",
		"XXXXXXXXXXX", "XXXXXXXXXX", "XXXXXXXXX", "XXXXXXXX", "XXXXXX", "XXXXX")
	add("", CodePlaceholderSerial, "fwts", "Chassis Serial Number")
	add("Asset Tag", CodePlaceholderAssetTag, "fwts",
		"0000000000", "0x00000000", "1234567890", "123456789000", "9876543210", "A1_AssetTagNum0",
		"A1_AssetTagNum1", "A1_AssetTagNum2", "A1_AssetTagNum3", "ABCDEFGHIJKLM", "Asset-1234567890",
		"Asset Tag", "Asset Tag:", "AssetTagNum0", "AssetTagNum1", "AssetTagNum2", "AssetTagNum3",
		"AssetTagNum4", "Asset tracking", "ATN12345678901234567", "Base Board Asset Tag#",
		"Base Board Asset Tag", "Chassis Asset Tag", "<cut out>", "Fill By OEM", "N/A",
		"No Asset Information", "No Asset Tag", "None", "Not Available", "Not Specified",
		"OEM_Define0", "OEM_Define1", "OEM_Define2", "OEM_Define3", "OEM_Define4", "TBD by ODM",
		"To Be Defined By O.E.M", "To be filled by O.E.M.", "To Be Filled By O.E.M.", "Unknown",
		"XXXXXXXXXXXX", "XXXXXXXXXXX", "XXXXXXXXXX", "XXXXXXXXX", "XXXXXXXX", "XXXXXXX", "XXXXXX")
	add("", CodePlaceholderString, "fwts", "Chassis Manufacture", "Chassis Version", "System Version",
		"To Be Defined By O.E.M", "To be filled by O.E.M.", "To Be Filled By O.E.M.")
	add("", CodePlaceholderString, "oemact", "Default string", "Default String", "OEM", "O.E.M.",
		"System Product Name", "System manufacturer", "System Manufacturer", "Board Product Name")
	return out
}()

// PlaceholderUUIDs are system UUIDs that are defaults rather than identities: fwts dmicheck's
// uuid_patterns, and AMI's well-known default (oemact's addition). All-zero and all-FF UUIDs are
// reported separately.
var PlaceholderUUIDs = []string{
	"0a0a0a0a-0a0a-0a0a-0a0a-0a0a0a0a0a0a",
	"03000200-0400-0500-0006-000700080009",
}

// placeholderIndex finds patterns by value.
type placeholderIndex map[string][]Placeholder

func indexPlaceholders(ps []Placeholder) placeholderIndex {
	idx := placeholderIndex{}
	for _, p := range ps {
		idx[p.Value] = append(idx[p.Value], p)
	}
	return idx
}

// match returns the first pattern (in list order) matching value in a field of that name.
// Values are compared after trimming surrounding spaces (fwts compares exactly; firmware often
// pads).
func (idx placeholderIndex) match(field, value string) (Placeholder, bool) {
	v := strings.TrimSpace(value)
	for _, p := range idx[v] {
		if p.Field == "" || p.Field == field {
			return p, true
		}
	}
	return Placeholder{}, false
}
