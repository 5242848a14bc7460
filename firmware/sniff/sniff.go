// Package sniff decides what a file a user hands over holds, by its content and never by its
// name: an ACPI table, SMBIOS data, acpidump text, a firmware image, or none of them (and then it
// says what it looked for).
//
// It is the one place that decision is made: firmware.Load asks it which files of a folder are
// tables, and `oemact inspect` asks it which reader each path goes to. It decodes nothing itself
// beyond what the evidence needs; SMBIOS containers and firmware images are recognized by their
// own packages' rules (smbios.Container, fwimage.Detect).
package sniff

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/oemact/oemact/firmware/fwimage"
	"github.com/oemact/oemact/smbios"
)

// Kind is what a file holds.
type Kind uint8

const (
	// Unknown: none of the kinds below.
	Unknown Kind = iota
	// ACPITable: an ACPI table whose header is whole and whose checksum is right, an RSDP whose
	// checksum is right, or a FACS (which has no checksum).
	ACPITable
	// SMBIOS: SMBIOS data in one of its containers (Detection.SMBIOS says which).
	SMBIOS
	// Acpidump: acpidump's text output.
	Acpidump
	// FirmwareImage: a firmware image (fwimage.Detect): UEFI volumes or capsule, a flash image,
	// a coreboot ROM, or other bytes holding a checksummed ACPI table past their start.
	FirmwareImage
	// Text: text that is none of the above.
	Text
	// DamagedACPITable: an ACPI table signature whose header length or checksum is wrong, or
	// which is cut off; the ACPI checks say what is wrong with it.
	DamagedACPITable
)

var kindNames = [...]string{Unknown: "unknown", ACPITable: "ACPI table", SMBIOS: "SMBIOS", Acpidump: "acpidump text",
	FirmwareImage: "firmware image", Text: "text", DamagedACPITable: "damaged ACPI table"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// MarshalText writes the name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// IsACPI reports whether firmware's ACPI loader reads the kind: tables (damaged ones too) and
// acpidump text.
func (k Kind) IsACPI() bool { return k == ACPITable || k == DamagedACPITable || k == Acpidump }

// Detection is what Detect found and the evidence for it.
type Detection struct {
	Kind Kind
	// SMBIOS is the container when Kind is SMBIOS.
	SMBIOS smbios.Format
	// Evidence says what was seen, for messages: "ACPI table SLIC, checksum right".
	Evidence string
}

// CodeUnrecognized is the finding code for a file Detect did not recognize.
const CodeUnrecognized = "input-unrecognized"

// Detect decides what b holds. The evidence is weighed in this order, the first that holds
// deciding: an ACPI header with a right checksum; an ACPI header whose length is b's but whose
// checksum is wrong, or whose length runs past b's end (a known signature, at most 1 MiB); an
// SMBIOS entry point; a Windows RSMB header; a bare SMBIOS structure table (structures that
// chain to the end or to type 127) unless a firmware image structure is there too; acpidump
// text; a firmware image; a table signature with less than a header after it; other text; an
// ACPI signature with a wrong length or checksum.
func Detect(b []byte) Detection {
	if d, ok := acpiTable(b); ok {
		return d
	}
	if d, ok := damagedTable(b); ok {
		return d
	}
	if f := smbios.Container(b); f != 0 {
		// A firmware image's structure (a capsule header, a flash descriptor, a volume or
		// coreboot header, each checked) is stronger evidence than structures that only chain:
		// a flash image starts with erased bytes, which read as an SMBIOS structure of type 255,
		// and an 8 MiB flash image of OVMF with random ME contents chained that way.
		if k, ok := fwimage.DetectStructure(b); ok && f == smbios.FormatBare {
			return Detection{Kind: FirmwareImage, Evidence: "firmware image (" + k.String() + ")"}
		}
		return Detection{Kind: SMBIOS, SMBIOS: f, Evidence: smbiosEvidence(b, f)}
	}
	if IsAcpidump(b) {
		return Detection{Kind: Acpidump, Evidence: "acpidump text"}
	}
	if k, ok := fwimage.Detect(b); ok {
		return Detection{Kind: FirmwareImage, Evidence: "firmware image (" + k.String() + ")"}
	}
	// A table signature and less than a header is a table cut off, even when its bytes are
	// printable ("SLIC" alone): reported as truncated, never skipped as text.
	if len(b) >= 4 && len(b) < headerSize && fwimage.ValidSignature(b[:4]) {
		return Detection{Kind: DamagedACPITable, Evidence: fmt.Sprintf("ACPI signature %s, cut off before the end of its %d-byte header", b[:4], headerSize)}
	}
	if IsText(b) {
		return Detection{Kind: Text, Evidence: "text"}
	}
	if len(b) >= 4 && fwimage.ValidSignature(b[:4]) {
		return Detection{Kind: DamagedACPITable, Evidence: fmt.Sprintf("ACPI signature %s, but its length or checksum is wrong", b[:4])}
	}
	return Detection{Kind: Unknown, Evidence: "nothing recognized"}
}

// LookedFor says what Detect looks for, for the message about a file it did not recognize.
const LookedFor = "an ACPI table header with a right checksum, an SMBIOS entry point (_SM_, _SM3_, _DMI_), " +
	"a Windows RSMB blob, SMBIOS structures that follow one another, acpidump text, a firmware image " +
	"(UEFI volume or capsule, flash descriptor, coreboot ROM, a checksummed ACPI table inside)"

// UnrecognizedMessage is the message for a file of n bytes that Detect did not recognize.
func UnrecognizedMessage(n int) string {
	return fmt.Sprintf("not recognized (%d bytes): looked for %s", n, LookedFor)
}

// headerSize is the ACPI table header's size.
const headerSize = 36

func acpiTable(b []byte) (Detection, bool) {
	if len(b) >= 20 && string(b[:8]) == "RSD PTR " && sum(b[:20]) == 0 {
		return Detection{Kind: ACPITable, Evidence: "RSDP, checksum right"}, true
	}
	if len(b) < headerSize || !fwimage.ValidSignature(b[:4]) {
		return Detection{}, false
	}
	n := binary.LittleEndian.Uint32(b[4:])
	if string(b[:4]) == "FACS" && n >= 64 && uint64(n) <= uint64(len(b)) {
		return Detection{Kind: ACPITable, Evidence: "FACS (which has no checksum)"}, true
	}
	if n < headerSize || uint64(n) > uint64(len(b)) || sum(b[:n]) != 0 {
		return Detection{}, false
	}
	return Detection{Kind: ACPITable, Evidence: fmt.Sprintf("ACPI table %s, checksum right", b[:4])}, true
}

// maxCutTable bounds the length a header may claim beyond the file's end for the file to count as
// a table cut off: a table file of the markers' size that lost a few bytes in a copy, not any
// bytes whose first eight happen to read as a signature and a large number.
const maxCutTable = 1 << 20

// damagedTable recognizes a table whose checksum is wrong or whose end is cut off, before the
// weaker evidence is weighed: a real table's bytes can chain as SMBIOS structures (an MSDM whose
// body is erased to 0xFF) or hold "_FVH" (a SLIC's modulus), and such a table must be reported
// as damaged, not skipped as something else. The evidence is a signature and a header length
// that is the file's length, or that runs past the file's end (by at most maxCutTable) for a
// signature a specification defines.
func damagedTable(b []byte) (Detection, bool) {
	if len(b) < headerSize || !fwimage.ValidSignature(b[:4]) {
		return Detection{}, false
	}
	n := uint64(binary.LittleEndian.Uint32(b[4:]))
	switch {
	case n == uint64(len(b)) && string(b[:4]) == "FACS":
		return Detection{Kind: DamagedACPITable, Evidence: fmt.Sprintf("FACS of %d bytes, shorter than its 64", n)}, true
	case n == uint64(len(b)):
		return Detection{Kind: DamagedACPITable, Evidence: fmt.Sprintf("ACPI table %s, checksum wrong", b[:4])}, true
	case n > uint64(len(b)) && n <= maxCutTable && fwimage.KnownSignature(b[:4]):
		return Detection{Kind: DamagedACPITable, Evidence: fmt.Sprintf("ACPI table %s, cut off: %d of its %d bytes", b[:4], len(b), n)}, true
	}
	return Detection{}, false
}

func smbiosEvidence(b []byte, f smbios.Format) string {
	switch f {
	case smbios.FormatDumpBin:
		anchor := string(b[:4])
		if bytes.HasPrefix(b, []byte("_SM3_")) || bytes.HasPrefix(b, []byte("_DMI_")) {
			anchor = string(b[:5])
		}
		return "SMBIOS " + anchor + " entry point"
	case smbios.FormatRSMB:
		return "Windows RSMB blob"
	}
	return "SMBIOS structure table"
}

func sum(b []byte) uint8 {
	var s uint8
	for _, c := range b {
		s += c
	}
	return s
}

// IsText reports whether b is non-empty UTF-8 text with no control bytes but tab, CR, LF and FF:
// no ACPI table is (its length field alone holds a byte below 0x20 for any table under 512 MB).
func IsText(b []byte) bool {
	if len(b) == 0 || !utf8.Valid(b) {
		return false
	}
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' {
			return false
		}
	}
	return true
}

// IsAcpidump reports whether b is text whose first non-blank line is an acpidump block header
// ("NAME @ 0x...").
func IsAcpidump(b []byte) bool {
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		t := bytes.TrimSpace(line)
		if len(t) == 0 {
			continue
		}
		_, _, ok := AcpidumpHeader(t)
		return ok
	}
	return false
}

// AcpidumpHeader reads an acpidump block header, "SLIC @ 0x0000000000000000" (trimmed).
func AcpidumpHeader(l []byte) (name string, addr uint64, ok bool) {
	if len(l) < 10 || string(l[4:9]) != " @ 0x" {
		return "", 0, false
	}
	for _, c := range l[:4] {
		if c <= ' ' || c > '~' {
			return "", 0, false
		}
	}
	hex := l[9:]
	if len(hex) == 0 || len(hex) > 16 {
		return "", 0, false
	}
	addr, err := strconv.ParseUint(string(hex), 16, 64)
	if err != nil {
		return "", 0, false
	}
	return string(l[:4]), addr, true
}
