package smbios

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is an SMBIOS specification version. Docrev is the third number that _SM3_ entry
// points carry (3.1.1); it is zero for the other kinds.
type Version struct {
	Major, Minor, Docrev uint8
}

// String prints "3.1.1" when there is a docrev and "2.7" otherwise, the way dmidecode announces
// the version.
func (v Version) String() string {
	if v.Docrev != 0 {
		return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Docrev)
	}
	return fmt.Sprintf("%d.%d", v.Major, v.Minor)
}

// IsZero reports whether the version is unset.
func (v Version) IsZero() bool { return v == Version{} }

// AtLeast reports whether v is major.minor or later.
func (v Version) AtLeast(major, minor uint8) bool {
	return v.word() >= uint16(major)<<8|uint16(minor)
}

func (v Version) word() uint16 { return uint16(v.Major)<<8 | uint16(v.Minor) }

// Effective is the version that decoding rules use. Some firmware announce impossible versions;
// like dmidecode and fwts, 2.31 and 2.33 are read as 2.3 and 2.6. A zero version (a structure
// built outside a table) means the current specification.
func (v Version) Effective() Version {
	switch v.word() {
	case 0x021F, 0x0221:
		return Version{Major: 2, Minor: 3}
	case 0x0233:
		return Version{Major: 2, Minor: 6}
	case 0:
		return Latest
	}
	return v
}

// Latest is the newest SMBIOS version whose fields this package decodes. dmidecode 3.4, the
// reference for the text rendering, knows the 3.5 fields and warns about newer tables.
var Latest = Version{Major: 3, Minor: 5}

// ParseVersion reads "2.7", "3.0" or "3.1.1".
func ParseVersion(s string) (Version, error) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) < 2 || len(parts) > 3 {
		return Version{}, fmt.Errorf("SMBIOS version %q: want major.minor or major.minor.docrev, like 2.7 or 3.1.1", s)
	}
	var n [3]uint8
	for i, p := range parts {
		x, err := strconv.ParseUint(p, 10, 8)
		if err != nil {
			return Version{}, fmt.Errorf("SMBIOS version %q: %q is not a number from 0 to 255", s, p)
		}
		n[i] = uint8(x)
	}
	if n[0] < 2 || n[0] > 3 {
		return Version{}, fmt.Errorf("SMBIOS version %q: the major version must be 2 or 3", s)
	}
	return Version{Major: n[0], Minor: n[1], Docrev: n[2]}, nil
}
