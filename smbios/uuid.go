package smbios

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// UUID is a system UUID in RFC 4122 byte order (the order it is written in text). In the table,
// SMBIOS 2.6 and later store the first three fields little-endian; decoding and encoding convert,
// following dmidecode's rule (older tables are read in network order).
type UUID [16]byte

// ParseUUID reads "032e02b4-0499-0533-a106-940700080009" (hyphens optional, any case).
func ParseUUID(s string) (UUID, error) {
	var u UUID
	h := strings.ReplaceAll(strings.TrimSpace(s), "-", "")
	if len(h) != 32 {
		return u, fmt.Errorf("UUID %q: want 32 hex digits, like 032e02b4-0499-0533-a106-940700080009", s)
	}
	if _, err := hex.Decode(u[:], []byte(h)); err != nil {
		return u, fmt.Errorf("UUID %q: %v", s, err)
	}
	return u, nil
}

func (u UUID) String() string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// MarshalText writes the canonical form.
func (u UUID) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// UnmarshalText reads what ParseUUID reads.
func (u *UUID) UnmarshalText(b []byte) error {
	v, err := ParseUUID(string(b))
	if err != nil {
		return err
	}
	*u = v
	return nil
}

// IsNotPresent reports all bytes 0xFF: SMBIOS's "the ID is not present".
func (u UUID) IsNotPresent() bool {
	return u == UUID{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}
}

// IsNotSettable reports all bytes zero: "the ID is not currently present but can be set".
func (u UUID) IsNotSettable() bool { return u == UUID{} }

// Display renders the UUID as dmidecode does: "Not Present", "Not Settable" or the text form.
func (u UUID) Display() string {
	switch {
	case u.IsNotPresent():
		return "Not Present"
	case u.IsNotSettable():
		return "Not Settable"
	}
	return u.String()
}

// swapsUUID reports whether v stores the first three UUID fields little-endian (2.6 and later).
func swapsUUID(v Version) bool { return v.Effective().AtLeast(2, 6) }

func uuidFromWire(b []byte, v Version) UUID {
	var u UUID
	copy(u[:], b)
	if swapsUUID(v) {
		u.swap()
	}
	return u
}

func (u UUID) wire(v Version) UUID {
	if swapsUUID(v) {
		u.swap()
	}
	return u
}

func (u *UUID) swap() {
	u[0], u[1], u[2], u[3] = u[3], u[2], u[1], u[0]
	u[4], u[5] = u[5], u[4]
	u[6], u[7] = u[7], u[6]
}
