package fwimage

import "fmt"

// GUID is a UEFI GUID as stored: the first three fields little-endian.
type GUID [16]byte

func (g GUID) String() string {
	return fmt.Sprintf("%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X",
		le.Uint32(g[0:]), le.Uint16(g[4:]), le.Uint16(g[6:]), g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15])
}

// MustGUID parses the text form ("EE4E5898-3914-4259-9D6E-DC7BD79403CF"); it panics on a
// malformed string, so it is for constants.
func MustGUID(s string) GUID {
	g, err := ParseGUID(s)
	if err != nil {
		panic(err)
	}
	return g
}

// ParseGUID parses the text form of a GUID.
func ParseGUID(s string) (GUID, error) {
	var g GUID
	var d1 uint32
	var d2, d3 uint16
	var d4 [8]byte
	n, err := fmt.Sscanf(s, "%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X",
		&d1, &d2, &d3, &d4[0], &d4[1], &d4[2], &d4[3], &d4[4], &d4[5], &d4[6], &d4[7])
	if err != nil || n != 11 || len(s) != 36 {
		return g, fmt.Errorf("GUID %q: want the form 01234567-89AB-CDEF-0123-456789ABCDEF", s)
	}
	g[0], g[1], g[2], g[3] = byte(d1), byte(d1>>8), byte(d1>>16), byte(d1>>24)
	g[4], g[5], g[6], g[7] = byte(d2), byte(d2>>8), byte(d3), byte(d3>>8)
	copy(g[8:], d4[:])
	return g, nil
}

func guidAt(b []byte) GUID {
	var g GUID
	copy(g[:], b)
	return g
}
