package smbios

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// EntryPointKind is the kind of entry point, named by its anchor string.
type EntryPointKind uint8

const (
	// EntryPoint32 is the 32-bit entry point of SMBIOS 2.1 and later, anchor "_SM_" (31 bytes,
	// two checksums, table of up to 64 KiB below 4 GiB).
	EntryPoint32 EntryPointKind = iota + 1
	// EntryPoint64 is the 64-bit entry point of SMBIOS 3.0, anchor "_SM3_" (24 bytes).
	EntryPoint64
	// EntryPointLegacy is the DMI 2.0 entry point, anchor "_DMI_" (15 bytes).
	EntryPointLegacy
)

// Anchor returns the anchor string that starts the entry point.
func (k EntryPointKind) Anchor() string {
	switch k {
	case EntryPoint32:
		return "_SM_"
	case EntryPoint64:
		return "_SM3_"
	case EntryPointLegacy:
		return "_DMI_"
	}
	return ""
}

func (k EntryPointKind) String() string {
	if a := k.Anchor(); a != "" {
		return a
	}
	return fmt.Sprintf("EntryPointKind(%d)", uint8(k))
}

// MarshalText writes the anchor.
func (k EntryPointKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// ParseEntryPointKind reads an anchor ("_SM_", "_SM3_", "_DMI_") or a friendly name ("32", "64",
// "legacy").
func ParseEntryPointKind(s string) (EntryPointKind, error) {
	switch s {
	case "_SM_", "32", "32-bit", "smbios2":
		return EntryPoint32, nil
	case "_SM3_", "64", "64-bit", "smbios3":
		return EntryPoint64, nil
	case "_DMI_", "legacy", "dmi":
		return EntryPointLegacy, nil
	}
	return 0, fmt.Errorf("entry point kind %q: want _SM_ (or 32), _SM3_ (or 64) or _DMI_ (or legacy)", s)
}

// Entry point sizes and limits.
const (
	len32     = 0x1F // _SM_ as specified since 2.1 (2.1 itself said 0x1E, an erratum)
	len32Min  = 0x1E
	len64     = 0x18
	lenLegacy = 0x0F
	// maxEntryPointLen is the largest entry point length accepted, as dmidecode does: the
	// checksum must not run past the 32 bytes a dump file reserves for the entry point.
	maxEntryPointLen = 0x20
	// DumpBinTableOffset is where dmidecode --dump-bin files hold the table.
	DumpBinTableOffset = 0x20
)

// EntryPoint is a decoded entry point of any kind. Fields that a kind lacks stay zero.
type EntryPoint struct {
	Kind EntryPointKind
	// Checksum and IntermediateChecksum are the stored bytes; ChecksumOK and
	// IntermediateChecksumOK say whether they are right. Bytes writes correct ones.
	Checksum uint8
	// Length is the length byte of _SM_ and _SM3_; 15 for _DMI_.
	Length           uint8
	Major, Minor     uint8 // _SM_, _SM3_
	Docrev           uint8 // _SM3_
	MaxStructureSize uint16
	Revision         uint8    // entry point revision (_SM_, _SM3_)
	FormattedArea    [5]uint8 // _SM_
	// IntermediateAnchor is "_DMI_" in a well-formed _SM_ entry point.
	IntermediateAnchor   [5]byte
	IntermediateChecksum uint8
	// TableLength is the exact table length of _SM_ and _DMI_ and the maximum table size of _SM3_.
	TableLength   uint32
	TableAddress  uint64
	NumStructures uint16 // _SM_, _DMI_
	BCDRevision   uint8  // _SM_, _DMI_
	Reserved      uint8  // _SM3_
	// Extra holds the bytes between the known fields and Length, kept so that Bytes reproduces
	// the entry point.
	Extra []byte

	checksumOK, intermediateOK bool
	// noBCD: a 0x1e-byte _SM_ entry point read from a 0x1e-byte buffer (the kernel exports
	// Length bytes), so the BCD revision byte and the end of the intermediate part were absent.
	noBCD bool
}

// Size is the number of bytes the entry point occupies.
func (ep *EntryPoint) Size() int {
	switch ep.Kind {
	case EntryPointLegacy:
		return lenLegacy
	case EntryPoint64:
		return max(int(ep.Length), len64)
	default:
		if ep.noBCD {
			return int(ep.Length)
		}
		return max(int(ep.Length), len32)
	}
}

// Version is the SMBIOS version the entry point announces. A legacy entry point gives it in
// BCD (0x21 is 2.1).
func (ep *EntryPoint) Version() Version {
	switch ep.Kind {
	case EntryPoint64:
		return Version{Major: ep.Major, Minor: ep.Minor, Docrev: ep.Docrev}
	case EntryPointLegacy:
		return Version{Major: ep.BCDRevision >> 4, Minor: ep.BCDRevision & 0x0F}
	}
	return Version{Major: ep.Major, Minor: ep.Minor}
}

// ChecksumOK reports whether the entry point's bytes (Length of them) summed to zero when it was
// decoded. For a legacy entry point this is the only checksum.
func (ep *EntryPoint) ChecksumOK() bool { return ep.checksumOK }

// IntermediateChecksumOK reports whether the _DMI_ part of a _SM_ entry point summed to zero.
// It is true for the other kinds.
func (ep *EntryPoint) IntermediateChecksumOK() bool {
	return ep.Kind != EntryPoint32 || ep.intermediateOK
}

func sum8(b []byte) uint8 {
	var s uint8
	for _, c := range b {
		s += c
	}
	return s
}

// DecodeEntryPoint decodes the entry point at the start of b. b may hold more bytes than the
// entry point. Bad checksums do not stop decoding: the entry point comes back with the error (a
// *FormatError wrapping ErrChecksum) so that the table can still be read and the problem
// reported. Any other error comes back with a nil entry point.
func DecodeEntryPoint(b []byte) (*EntryPoint, error) {
	switch {
	case bytes.HasPrefix(b, []byte("_SM3_")):
		return decode64(b)
	case bytes.HasPrefix(b, []byte("_SM_")):
		return decode32(b)
	case bytes.HasPrefix(b, []byte("_DMI_")):
		return decodeLegacy(b)
	}
	n := min(len(b), 5)
	return nil, epError(CodeUnrecognized, ErrUnrecognized, 0,
		"no entry point anchor: the data starts with %q, not _SM_, _SM3_ or _DMI_", b[:n])
}

func decode32(b []byte) (*EntryPoint, error) {
	if len(b) < 6 {
		return nil, epError(CodeEntryPointTruncated, ErrTruncated, int64(len(b)),
			"_SM_ entry point cut off after %d bytes, before its length byte", len(b))
	}
	n := int(b[5])
	if n < len32Min || n > maxEntryPointLen {
		return nil, epError(CodeEntryPointLength, ErrBadLength, 5,
			"_SM_ entry point length 0x%02x is outside 0x%02x-0x%02x (0x1f is right)", n, len32Min, maxEntryPointLen)
	}
	if len(b) < n {
		return nil, epError(CodeEntryPointTruncated, ErrTruncated, int64(len(b)),
			"_SM_ entry point announces %d bytes but the data ends after %d", n, len(b))
	}
	phys := min(len(b), max(n, len32)) // the BCD revision byte follows even when the length says 0x1e
	ep := &EntryPoint{
		Kind:                 EntryPoint32,
		Checksum:             b[4],
		Length:               b[5],
		Major:                b[6],
		Minor:                b[7],
		MaxStructureSize:     binary.LittleEndian.Uint16(b[8:]),
		Revision:             b[0x0A],
		IntermediateChecksum: b[0x15],
		TableLength:          uint32(binary.LittleEndian.Uint16(b[0x16:])),
		TableAddress:         uint64(binary.LittleEndian.Uint32(b[0x18:])),
		NumStructures:        binary.LittleEndian.Uint16(b[0x1C:]),
	}
	copy(ep.FormattedArea[:], b[0x0B:0x10])
	copy(ep.IntermediateAnchor[:], b[0x10:0x15])
	if phys > 0x1E {
		ep.BCDRevision = b[0x1E]
	}
	if n > len32 {
		ep.Extra = append([]byte(nil), b[len32:n]...)
	}
	ep.checksumOK = sum8(b[:n]) == 0
	// The intermediate checksum covers 0x10-0x1e; without the last byte it cannot be verified.
	ep.noBCD = phys < len32
	ep.intermediateOK = ep.noBCD || sum8(b[0x10:len32]) == 0
	if string(ep.IntermediateAnchor[:]) != "_DMI_" {
		return nil, epError(CodeIntermediateAnchor, ErrBadValue, 0x10,
			"_SM_ entry point has %q where the intermediate anchor _DMI_ belongs", ep.IntermediateAnchor[:])
	}
	if !ep.checksumOK {
		return ep, epError(CodeEntryPointChecksum, ErrChecksum, 4,
			"_SM_ entry point checksum 0x%02x is wrong (0x%02x would make the %d bytes sum to zero)",
			ep.Checksum, ep.Checksum-sum8(b[:n]), n)
	}
	if !ep.intermediateOK {
		return ep, epError(CodeIntermediateChecksum, ErrChecksum, 0x15,
			"_SM_ intermediate (_DMI_) checksum 0x%02x is wrong (0x%02x would be right)",
			ep.IntermediateChecksum, ep.IntermediateChecksum-sum8(b[0x10:len32]))
	}
	return ep, nil
}

func decode64(b []byte) (*EntryPoint, error) {
	if len(b) < 7 {
		return nil, epError(CodeEntryPointTruncated, ErrTruncated, int64(len(b)),
			"_SM3_ entry point cut off after %d bytes, before its length byte", len(b))
	}
	n := int(b[6])
	if n < len64 || n > maxEntryPointLen {
		return nil, epError(CodeEntryPointLength, ErrBadLength, 6,
			"_SM3_ entry point length 0x%02x is outside 0x%02x-0x%02x (0x18 is right)", n, len64, maxEntryPointLen)
	}
	if len(b) < n {
		return nil, epError(CodeEntryPointTruncated, ErrTruncated, int64(len(b)),
			"_SM3_ entry point announces %d bytes but the data ends after %d", n, len(b))
	}
	ep := &EntryPoint{
		Kind:         EntryPoint64,
		Checksum:     b[5],
		Length:       b[6],
		Major:        b[7],
		Minor:        b[8],
		Docrev:       b[9],
		Revision:     b[0x0A],
		Reserved:     b[0x0B],
		TableLength:  binary.LittleEndian.Uint32(b[0x0C:]),
		TableAddress: binary.LittleEndian.Uint64(b[0x10:]),
	}
	if n > len64 {
		ep.Extra = append([]byte(nil), b[len64:n]...)
	}
	// The checksum covers exactly Length bytes, not whatever follows in the buffer.
	ep.checksumOK = sum8(b[:n]) == 0
	ep.intermediateOK = true
	if !ep.checksumOK {
		return ep, epError(CodeEntryPointChecksum, ErrChecksum, 5,
			"_SM3_ entry point checksum 0x%02x is wrong (0x%02x would make the %d bytes sum to zero)",
			ep.Checksum, ep.Checksum-sum8(b[:n]), n)
	}
	return ep, nil
}

func decodeLegacy(b []byte) (*EntryPoint, error) {
	if len(b) < lenLegacy {
		return nil, epError(CodeEntryPointTruncated, ErrTruncated, int64(len(b)),
			"_DMI_ entry point needs %d bytes, the data ends after %d", lenLegacy, len(b))
	}
	ep := &EntryPoint{
		Kind:          EntryPointLegacy,
		Checksum:      b[5],
		Length:        lenLegacy,
		TableLength:   uint32(binary.LittleEndian.Uint16(b[6:])),
		TableAddress:  uint64(binary.LittleEndian.Uint32(b[8:])),
		NumStructures: binary.LittleEndian.Uint16(b[0x0C:]),
		BCDRevision:   b[0x0E],
	}
	copy(ep.IntermediateAnchor[:], "_DMI_")
	ep.checksumOK = sum8(b[:lenLegacy]) == 0
	ep.intermediateOK = true
	if !ep.checksumOK {
		return ep, epError(CodeEntryPointChecksum, ErrChecksum, 5,
			"_DMI_ entry point checksum 0x%02x is wrong (0x%02x would make the 15 bytes sum to zero)",
			ep.Checksum, ep.Checksum-sum8(b[:lenLegacy]))
	}
	return ep, nil
}

// Bytes encodes the entry point with correct checksums. It reproduces a decoded entry point
// byte for byte when its checksums were right.
func (ep *EntryPoint) Bytes() ([]byte, error) {
	switch ep.Kind {
	case EntryPoint32:
		n := int(ep.Length)
		if n < len32Min || n > maxEntryPointLen {
			return nil, fmt.Errorf("smbios: _SM_ entry point length 0x%02x: want 0x1f (0x1e-0x20 accepted)", n)
		}
		if ep.TableLength > 0xFFFF {
			return nil, fmt.Errorf("smbios: a _SM_ entry point holds table lengths up to 65535 bytes, the table has %d: use a _SM3_ entry point", ep.TableLength)
		}
		if ep.TableAddress > 0xFFFFFFFF {
			return nil, fmt.Errorf("smbios: a _SM_ entry point holds 32-bit table addresses, not 0x%x: use a _SM3_ entry point", ep.TableAddress)
		}
		b := make([]byte, max(n, len32))
		copy(b, "_SM_")
		b[5] = ep.Length
		b[6], b[7] = ep.Major, ep.Minor
		binary.LittleEndian.PutUint16(b[8:], ep.MaxStructureSize)
		b[0x0A] = ep.Revision
		copy(b[0x0B:0x10], ep.FormattedArea[:])
		copy(b[0x10:], "_DMI_")
		binary.LittleEndian.PutUint16(b[0x16:], uint16(ep.TableLength))
		binary.LittleEndian.PutUint32(b[0x18:], uint32(ep.TableAddress))
		binary.LittleEndian.PutUint16(b[0x1C:], ep.NumStructures)
		b[0x1E] = ep.BCDRevision
		copy(b[len32:], ep.Extra)
		b[0x15] = -sum8(b[0x10:len32])
		if ep.noBCD {
			// Without the BCD byte the right intermediate checksum is unknown: keep the stored one.
			b[0x15] = ep.IntermediateChecksum
		}
		b[4] = -sum8(b[:n])
		if ep.noBCD {
			return b[:n:n], nil
		}
		// The BCD revision byte is part of the structure even when the length says 0x1e.
		return b[:max(n, len32)], nil
	case EntryPoint64:
		n := int(ep.Length)
		if n < len64 || n > maxEntryPointLen {
			return nil, fmt.Errorf("smbios: _SM3_ entry point length 0x%02x: want 0x18 (0x18-0x20 accepted)", n)
		}
		b := make([]byte, n)
		copy(b, "_SM3_")
		b[6] = ep.Length
		b[7], b[8], b[9] = ep.Major, ep.Minor, ep.Docrev
		b[0x0A] = ep.Revision
		b[0x0B] = ep.Reserved
		binary.LittleEndian.PutUint32(b[0x0C:], ep.TableLength)
		binary.LittleEndian.PutUint64(b[0x10:], ep.TableAddress)
		copy(b[len64:], ep.Extra)
		b[5] = -sum8(b)
		return b, nil
	case EntryPointLegacy:
		if ep.TableLength > 0xFFFF || ep.TableAddress > 0xFFFFFFFF {
			return nil, fmt.Errorf("smbios: a _DMI_ entry point holds 16-bit table lengths and 32-bit addresses (have %d bytes at 0x%x)", ep.TableLength, ep.TableAddress)
		}
		b := make([]byte, lenLegacy)
		copy(b, "_DMI_")
		binary.LittleEndian.PutUint16(b[6:], uint16(ep.TableLength))
		binary.LittleEndian.PutUint32(b[8:], uint32(ep.TableAddress))
		binary.LittleEndian.PutUint16(b[0x0C:], ep.NumStructures)
		b[0x0E] = ep.BCDRevision
		b[5] = -sum8(b)
		return b, nil
	}
	return nil, fmt.Errorf("smbios: cannot encode entry point of kind %v", ep.Kind)
}

// NewEntryPoint makes an entry point of the given kind for version v. The table fields (length,
// address, count, largest structure) are filled in by Info.Fixup or the writers.
func NewEntryPoint(kind EntryPointKind, v Version) (*EntryPoint, error) {
	ep := &EntryPoint{Kind: kind, Major: v.Major, Minor: v.Minor}
	ep.checksumOK, ep.intermediateOK = true, true
	switch kind {
	case EntryPoint32:
		ep.Length = len32
		copy(ep.IntermediateAnchor[:], "_DMI_")
		// BCD revision: 00h means "see Major/Minor" since 2.3; a BCD byte holds versions up to 9.9.
		if v.Major <= 9 && v.Minor <= 9 {
			ep.BCDRevision = v.Major<<4 | v.Minor
		}
	case EntryPoint64:
		ep.Length = len64
		ep.Docrev = v.Docrev
		ep.Revision = 1 // 01h: the 3.0 entry point format
	case EntryPointLegacy:
		if v.Major > 9 || v.Minor > 9 {
			return nil, fmt.Errorf("smbios: a _DMI_ entry point carries the version in one BCD byte; %v does not fit", v)
		}
		ep.Length = lenLegacy
		ep.Major, ep.Minor = 0, 0
		ep.BCDRevision = v.Major<<4 | v.Minor
		copy(ep.IntermediateAnchor[:], "_DMI_")
	default:
		return nil, fmt.Errorf("smbios: unknown entry point kind %v", kind)
	}
	return ep, nil
}
