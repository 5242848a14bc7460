package smbios

import (
	"bytes"
	"encoding/binary"
)

// Container recognizes SMBIOS data by its content and says which container it is in:
//   - FormatDumpBin: an entry point anchor (_SM_, _SM3_, _DMI_) at the start, whatever follows
//     (a dmidecode --dump-bin file, a memory image, or an entry point alone; damage in it is for
//     the decoder to report);
//   - FormatRSMB: a Windows RSMB header whose table chains (see TableChains);
//   - FormatBare: a structure table that chains from its first byte.
//
// It returns 0 for anything else.
func Container(b []byte) Format {
	switch {
	case hasAnchor(b):
		return FormatDumpBin
	case looksLikeRSMB(b):
		return FormatRSMB
	case TableChains(b):
		return FormatBare
	}
	return 0
}

func hasAnchor(b []byte) bool {
	return bytes.HasPrefix(b, []byte("_SM_")) || bytes.HasPrefix(b, []byte("_SM3_")) || bytes.HasPrefix(b, []byte("_DMI_"))
}

// chainMinStructures is how many well-formed structures of known types a table must start with
// when it breaks before its end: real tables damaged in the middle (Hyper-V's, which dmidecode
// reads up to the damage) still count, while random bytes rarely pass.
const chainMinStructures = 2

// TableChains reports whether b is a structure table: its structures follow one another from the
// first byte to the end of b (zero padding allowed) or to an end-of-table structure, or, when the
// table breaks, at least two structures of known types and lengths come first.
func TableChains(b []byte) bool {
	var off int64
	n, known := 0, 0
	for off < int64(len(b)) {
		if n > 0 && allZero(b[off:]) {
			return true // padding after the last structure
		}
		s, next, err := DecodeStructure(b, off, n)
		if err != nil || !plausibleStrings(s) {
			return known >= chainMinStructures
		}
		if s.Type == EndOfTable {
			return true
		}
		n++
		if m := minLength(s.Type); m > 0 && s.Length() >= m {
			known++
		}
		off = next
	}
	return n > 0
}

// Bounds of a structure's strings in a real table: text, and short. Random bytes that happen to
// chain have string sets of thousands of bytes of binary (measured: without this, about one 1 MiB
// random blob in nine chained into a "table").
const (
	maxStringLen = 512
	maxStrings   = 64
)

// plausibleStrings reports whether a structure's strings look like a real table's: at most
// maxStrings of them, each at most maxStringLen bytes of text (no control characters but tab).
func plausibleStrings(s *Structure) bool {
	if len(s.Strings) > maxStrings {
		return false
	}
	for _, str := range s.Strings {
		if len(str) > maxStringLen {
			return false
		}
		for i := 0; i < len(str); i++ {
			if c := str[i]; c < 0x20 && c != '\t' || c == 0x7f {
				return false
			}
		}
	}
	return true
}

func looksLikeRSMB(b []byte) bool {
	if len(b) < rsmbHeaderLen || b[0] > 1 || b[1] < 2 || b[1] > 3 {
		return false
	}
	n := int64(binary.LittleEndian.Uint32(b[4:]))
	if n < 4 {
		return false
	}
	return TableChains(b[rsmbHeaderLen:min(int64(len(b)), rsmbHeaderLen+n)])
}
