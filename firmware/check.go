package firmware

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"github.com/oemact/oemact/firmware/finding"
	"github.com/oemact/oemact/firmware/fwimage"
	"github.com/oemact/oemact/firmware/productkey"
)

// Options tune Check. The zero value checks everything except the release requirement.
type Options struct {
	// Release names the target Windows release in messages ("Windows 7").
	Release string
	// MinSLICVersion is the lowest marker SLIC version the release accepts (SLICVersion21 for
	// Windows 7 / Server 2008 R2, SLICVersion20 for Vista / Server 2008; edition.ReleaseInfo's
	// SLICVersion). 0 skips the release check.
	MinSLICVersion uint32
	// ZeroSLICVersion is what a SLIC version field of 0 counts as in the release check. 0 means
	// SLICVersion20: OA 2.0 markers store 0 there (measured: acer-extensa-4210, a Vista-era
	// machine whose marker verifies, DESIGN.md's real tables).
	ZeroSLICVersion uint32
	// StrictFADT makes a FADT whose OEM IDs differ from the marker's an error, reading DESIGN.md's
	// OA 2.1 rule (3) literally. By default it is a warning: real firmware whose marker verifies
	// ships such a FADT (acer-extensa-4210: FADT INTEL/CALISTGA, marker ACRSYS/ACRPRDCT), and the
	// RSDT/XSDT comparison, an error either way, is the one Windows relies on.
	StrictFADT bool
}

// Finding codes. They are stable: tools and the activation model match on them.
const (
	CodeSkippedFile      = "acpi-skipped-file"
	CodeNoMarkers        = "acpi-no-markers"
	CodeTruncated        = "acpi-truncated"
	CodeBadSignature     = "acpi-bad-signature"
	CodeLengthShort      = "acpi-length-short"
	CodeLengthExceeds    = "acpi-length-exceeds-data"
	CodeTrailingData     = "acpi-trailing-data"
	CodeChecksum         = "acpi-checksum"
	CodeIDNonASCII       = "acpi-id-non-ascii"
	CodeIDNulPadded      = "acpi-id-nul-padded"
	CodeRSDPChecksum     = "acpi-rsdp-checksum"
	CodeSDTPartialEntry  = "acpi-sdt-partial-entry"
	CodeAcpidumpSyntax   = "acpidump-syntax"
	CodeSLICTruncated    = "slic-truncated"
	CodeSLICLength       = "slic-length"
	CodeSLICErased       = "slic-erased"
	CodeSLICPlaceholder  = "slic-placeholder"
	CodeKeyType          = "slic-key-type"
	CodeKeyLength        = "slic-key-length"
	CodeKeyBlobType      = "slic-key-blob-type"
	CodeKeyBlobVersion   = "slic-key-blob-version"
	CodeKeyReserved      = "slic-key-reserved"
	CodeKeyAlgorithm     = "slic-key-algorithm"
	CodeKeyMagic         = "slic-key-magic"
	CodeKeyBits          = "slic-key-bits"
	CodeKeyExponent      = "slic-key-exponent"
	CodeKeyModulus       = "slic-key-modulus"
	CodeMarkerType       = "slic-marker-type"
	CodeMarkerLength     = "slic-marker-length"
	CodeMarkerVersion    = "slic-marker-version"
	CodeMarkerFlag       = "slic-marker-flag"
	CodeMarkerReserved   = "slic-marker-reserved"
	CodeMarkerIDNonASCII = "slic-marker-id-non-ascii"
	CodeSLICVersionUnset = "slic-version-unset"
	CodeSLICVersionLow   = "slic-version-release"
	CodeSignature        = "slic-signature"
	CodeSLICDuplicate    = "slic-duplicate"
	CodeMarkerHeader     = "slic-marker-header-mismatch"
	CodeMarkerRSDT       = "slic-marker-rsdt-mismatch"
	CodeMarkerXSDT       = "slic-marker-xsdt-mismatch"
	CodeMarkerFADT       = "slic-marker-fadt-mismatch"
	CodeNoRootTable      = "slic-no-root-table"
	CodeMSDMTruncated    = "msdm-truncated"
	CodeMSDMErased       = "msdm-erased"
	CodeMSDMLength       = "msdm-length"
	CodeMSDMVersion      = "msdm-version"
	CodeMSDMReserved     = "msdm-reserved"
	CodeMSDMDataType     = "msdm-data-type"
	CodeMSDMDataReserved = "msdm-data-reserved"
	CodeMSDMDataLength   = "msdm-data-length"
	CodeMSDMKeyFormat    = "msdm-key-format"
	CodeMSDMKeyX         = "msdm-key-placeholder"
	CodeMSDMDuplicate    = "msdm-duplicate"
)

type checker struct {
	opts Options
	out  finding.List
}

func (c *checker) add(t *Table, code string, sev finding.Severity, off int64, format string, args ...any) {
	c.out = append(c.out, finding.Finding{Code: code, Severity: sev, Table: t.Name, Path: t.Path,
		Offset: off, Message: fmt.Sprintf(format, args...)})
}

// Check runs every check on a set: the loader's notes, each table's header, the SLIC and MSDM
// structures and marker signature, duplicates, and the marker's OEM IDs against the SLIC header
// and the RSDT, XSDT and FADT of the same set. Findings come sorted.
func Check(set *Set, opts Options) finding.List {
	c := &checker{opts: opts}
	c.out = append(c.out, set.Notes...)
	for _, t := range set.Tables {
		c.table(t)
		if k, ok := KindOf(t.Signature()); ok && k.check != nil {
			c.out = append(c.out, k.check(t, opts)...)
		}
	}
	for _, k := range kinds {
		if k.Duplicate != "" {
			c.duplicates(set, k.Signature, k.Duplicate)
		}
	}
	for _, t := range set.Lookup("SLIC") {
		c.out = append(c.out, CheckMarkerIDs(set, t, opts)...)
	}
	if len(set.Tables) > 0 && set.First("SLIC") == nil && set.First("MSDM") == nil {
		c.out = append(c.out, finding.Finding{Code: CodeNoMarkers, Severity: finding.Info, Table: "SLIC/MSDM",
			Path: set.Name, Offset: finding.NoOffset,
			Message: "no SLIC and no MSDM in this set: it carries no OEM activation marker (OA 2.x or 3.0)"})
	}
	c.out.Sort()
	return c.out
}

// table runs the checks every table gets: the header's presence, signature, length and checksum,
// and for the tables the marker rules look at, the OEM ID bytes.
func (c *checker) table(t *Table) {
	if t.HeaderOnly {
		return
	}
	if t.RSDP != nil || t.Signature() == "RSDP" {
		var fe *FormatError
		if errors.As(t.Err, &fe) {
			c.add(t, CodeTruncated, finding.Error, fe.Off, "%s", fe.Msg)
		} else if !t.ChecksumOK() {
			c.add(t, CodeRSDPChecksum, finding.Error, 8, "the RSDP's first 20 bytes do not sum to zero")
		}
		return
	}
	if len(t.Raw) < HeaderSize {
		what := fmt.Sprintf("%d bytes", len(t.Raw))
		if len(t.Raw) == 0 {
			what = "empty"
		}
		c.add(t, CodeTruncated, finding.Error, int64(len(t.Raw)),
			"%s: an ACPI table needs at least its %d-byte header (a truncated file or dump)", what, HeaderSize)
		return
	}
	h := &t.Header
	if !fwimage.ValidSignature(h.Signature[:]) && t.Signature() != "RSDP" {
		c.add(t, CodeBadSignature, finding.Error, 0,
			"signature %s is not an ACPI table signature (A-Z, 0-9, _): not an ACPI table, or corrupt", QuoteID(h.Signature[:]))
		return
	}
	switch {
	case h.Length < HeaderSize:
		c.add(t, CodeLengthShort, finding.Error, OffLength,
			"length field says %d bytes, less than the %d-byte header; the file holds %d", h.Length, HeaderSize, len(t.Raw))
	case uint64(h.Length) > uint64(len(t.Raw)):
		c.add(t, CodeLengthExceeds, finding.Error, OffLength,
			"length field says %d bytes but only %d are present: the table is truncated or its length lies", h.Length, len(t.Raw))
	default:
		if extra := len(t.Raw) - int(h.Length); extra > 0 {
			c.add(t, CodeTrailingData, finding.Warning, int64(h.Length),
				"%d bytes after the table's length (%d); they are not part of the table", extra, h.Length)
		}
		if t.Signature() != "FACS" && !ChecksumOK(t.Raw[:h.Length]) {
			c.add(t, CodeChecksum, finding.Error, OffChecksum,
				"checksum %02X is wrong: the %d bytes sum to %02X; %02X would make them sum to zero",
				h.Checksum, h.Length, Sum(t.Raw[:h.Length]), WantChecksum(t.Raw[:h.Length]))
		}
	}
	if t.SDT != nil {
		var fe *FormatError
		if errors.As(t.Err, &fe) && errors.Is(fe, ErrLength) && fe.Off > OffLength {
			c.add(t, CodeSDTPartialEntry, finding.Error, fe.Off, "%s", fe.Msg)
		}
	}
	if k, ok := KindOf(t.Signature()); ok && k.CheckIDs {
		c.id(t, CodeIDNonASCII, CodeIDNulPadded, "OEM ID", OffOEMID, h.OEMID[:])
		c.id(t, CodeIDNonASCII, CodeIDNulPadded, "OEM table ID", OffOEMTableID, h.OEMTableID[:])
	}
}

// id reports non-ASCII bytes (a warning: Windows compares bytes, but tools print them badly) and
// NUL padding (info: legal, but a NUL-padded ID differs from the space-padded one).
func (c *checker) id(t *Table, codeNonASCII, codeNul, what string, off int64, b []byte) {
	for i, x := range b {
		if x >= 0x80 || x < 0x20 && x != 0 || x == 0x7f {
			c.add(t, codeNonASCII, finding.Warning, off+int64(i),
				"%s %s holds byte 0x%02X, which is not printable ASCII", what, QuoteID(b), x)
			return
		}
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		if i == 0 {
			c.add(t, codeNul, finding.Info, off, "%s is empty (all NUL)", what)
		} else {
			c.add(t, codeNul, finding.Info, off+int64(i),
				"%s %s is padded with NUL, not spaces; it matches only an ID padded the same way", what, QuoteID(b))
		}
	}
}

// maxNamed caps the table names a duplicate finding lists.
const maxNamed = 8

// duplicates reports repeated tables of a signature: one warning per group of identical copies
// (on the group's second table), and when the copies are not all the same, one error for the set
// (on the first table of the second group). Findings and their lists stay small however many
// tables there are.
func (c *checker) duplicates(set *Set, sig, code string) {
	ts := set.Lookup(sig)
	if len(ts) < 2 {
		return
	}
	type group struct{ tables []*Table }
	var groups []*group
	byContent := map[[sha256.Size]byte]*group{}
	for _, t := range ts {
		h := sha256.Sum256(t.Data())
		g := byContent[h]
		if g == nil {
			g = &group{}
			byContent[h] = g
			groups = append(groups, g)
		}
		g.tables = append(g.tables, t)
	}
	for _, g := range groups {
		if len(g.tables) > 1 {
			c.add(g.tables[1], code, finding.Warning, finding.NoOffset,
				"%d identical %s tables (%s): harmless, but a sign of firmware that adds the table twice", len(g.tables), sig, namesOf(g.tables))
		}
	}
	if len(groups) > 1 {
		firsts := make([]*Table, len(groups))
		for i, g := range groups {
			firsts[i] = g.tables[0]
		}
		c.add(groups[1].tables[0], code, finding.Error, finding.NoOffset,
			"%d %s tables in %d different versions (first of each: %s): which one Windows reads depends on the firmware's table order", len(ts), sig, len(groups), namesOf(firsts))
	}
}

// namesOf lists tables by name, at most maxNamed of them.
func namesOf(ts []*Table) string {
	names := make([]string, 0, min(len(ts), maxNamed))
	for _, t := range ts[:min(len(ts), maxNamed)] {
		names = append(names, t.Name)
	}
	out := strings.Join(names, ", ")
	if len(ts) > maxNamed {
		out += fmt.Sprintf(" and %d more", len(ts)-maxNamed)
	}
	return out
}

// slicBytes returns the SLIC table's bytes; for a Table built by hand around a decoded or
// synthesized SLIC (no Raw), the SLIC's encoding.
func slicBytes(t *Table) []byte {
	d := t.Data()
	if s := t.SLIC; s.HasMarker && len(d) < SLICSize {
		cp := *s
		d = cp.Encode()
	}
	return d
}

// CheckSLIC checks one SLIC on its own: completeness, erased body, placeholder marker, the public
// key structure, the Windows marker fields, the SLIC version against the target release and the
// marker signature. The activation model reuses these findings to explain an OA 2.1 verdict; a
// Table made with NewTable(name, "", FromBytes, raw), or around a decoded *SLIC, will do.
func CheckSLIC(t *Table, opts Options) finding.List {
	c := &checker{opts: opts}
	s := t.SLIC
	if s == nil {
		return nil
	}
	data := slicBytes(t)
	if !s.HasMarker {
		what := "its public key structure and Windows marker are missing"
		if s.HasKey {
			what = "its Windows marker is missing"
		}
		c.add(t, CodeSLICTruncated, finding.Error, int64(len(data)),
			"the SLIC ends after %d bytes, %d short of %d: %s; OA 2.x cannot work with it", len(data), SLICSize-len(data), SLICSize, what)
		return c.out
	}
	if len(data) > SLICSize {
		c.add(t, CodeSLICLength, finding.Warning, OffLength,
			"the SLIC is %d bytes, not %d; the %d bytes after the marker are ignored", len(data), SLICSize, len(data)-SLICSize)
	}
	if fill, ok := erasedFill(data[SLICKeyOffset:SLICSize]); ok {
		c.add(t, CodeSLICErased, finding.Error, SLICKeyOffset,
			"the body after the header is all 0x%02X (erased, with a checksum that still adds up): no key and no marker", fill)
		return c.out
	}
	placeholder := s.Placeholder()
	if placeholder {
		m := &s.Marker
		c.add(t, CodeSLICPlaceholder, finding.Error, SLICMarkerOffset,
			"placeholder marker (Insyde pattern: marker %s/%s, version %08X) under header %s/%s, not an OEM's marker: this firmware carries no OA 2.x activation",
			QuoteID(m.OEMID[:]), QuoteID(m.OEMTableID[:]), m.Version, QuoteID(s.Header.OEMID[:]), QuoteID(s.Header.OEMTableID[:]))
	} else {
		c.key(t, &s.PublicKey)
		c.marker(t, &s.Marker)
		c.release(t, &s.Marker)
	}
	if err := s.VerifyMarker(); err != nil {
		c.add(t, CodeSignature, finding.Error, OffMarkerSignature,
			"%v (RSA PKCS#1 v1.5, SHA-256 over marker bytes 8..53, the table's own key)", err)
	}
	return c.out
}

func (c *checker) key(t *Table, k *SLICPublicKey) {
	e := finding.Error
	if k.Type != KeyStructType {
		c.add(t, CodeKeyType, e, OffKeyType, "public key structure type is %d, want 0", k.Type)
	}
	if k.Length != SLICKeySize {
		c.add(t, CodeKeyLength, e, OffKeyLength, "public key structure length is %d, want %d", k.Length, SLICKeySize)
	}
	if k.KeyType != KeyBlobType {
		c.add(t, CodeKeyBlobType, e, OffKeyBlobType, "key blob type is 0x%02X, want 0x06 (PUBLICKEYBLOB)", k.KeyType)
	}
	if k.Version != KeyBlobVersion {
		c.add(t, CodeKeyBlobVersion, e, OffKeyBlobVersion, "key blob version is 0x%02X, want 0x02", k.Version)
	}
	if k.Reserved != 0 {
		c.add(t, CodeKeyReserved, finding.Warning, OffKeyReserved, "reserved field is 0x%04X, want 0", k.Reserved)
	}
	if k.Algorithm != KeyAlgRSASign {
		c.add(t, CodeKeyAlgorithm, e, OffKeyAlgorithm, "key algorithm is 0x%08X, want 0x00002400 (CALG_RSA_SIGN)", k.Algorithm)
	}
	if k.Magic != KeyMagic {
		c.add(t, CodeKeyMagic, e, OffKeyMagic, "key magic is %s, %s", QuoteID(k.Magic[:]), magicNote(k.Magic))
	}
	if k.BitLength != KeyBits {
		c.add(t, CodeKeyBits, e, OffKeyBitLength, "key bit length field is %d, want %d", k.BitLength, KeyBits)
	}
	if k.Exponent != KeyExponent {
		c.add(t, CodeKeyExponent, finding.Warning, OffKeyExponent,
			"public exponent is %d; OEM keys use %d (crypto still works with any odd exponent)", k.Exponent, KeyExponent)
	}
	n := k.modulus()
	switch {
	case n.Sign() == 0:
		c.add(t, CodeKeyModulus, e, OffKeyModulus, "the modulus is zero")
	case n.Bit(0) == 0:
		c.add(t, CodeKeyModulus, e, OffKeyModulus, "the modulus is even, so it is no RSA modulus")
	case n.BitLen() != int(k.BitLength):
		c.add(t, CodeKeyModulus, e, OffKeyModulus, "the modulus has %d bits, the bit length field says %d", n.BitLen(), k.BitLength)
	}
}

func (c *checker) marker(t *Table, m *WindowsMarker) {
	e := finding.Error
	if m.Type != MarkerStructType {
		c.add(t, CodeMarkerType, e, OffMarkerType, "marker structure type is %d, want 1 (Windows marker)", m.Type)
	}
	if m.Length != SLICMarkerSize {
		c.add(t, CodeMarkerLength, e, OffMarkerLength, "marker structure length is %d, want %d", m.Length, SLICMarkerSize)
	}
	if m.Version != MarkerVersion20 {
		c.add(t, CodeMarkerVersion, finding.Warning, OffMarkerVersion, "marker version is %08X, want 00020000", m.Version)
	}
	if m.WindowsFlag != WindowsFlag {
		c.add(t, CodeMarkerFlag, e, OffMarkerFlag, "Windows flag is %s, want \"WINDOWS \"", QuoteID(m.WindowsFlag[:]))
	}
	if m.Reserved != [16]byte{} {
		c.add(t, CodeMarkerReserved, finding.Warning, OffMarkerReserved, "the 16 reserved bytes are not zero")
	}
	c.id(t, CodeMarkerIDNonASCII, CodeIDNulPadded, "marker OEM ID", OffMarkerOEMID, m.OEMID[:])
	c.id(t, CodeMarkerIDNonASCII, CodeIDNulPadded, "marker OEM table ID", OffMarkerOEMTableID, m.OEMTableID[:])
}

func (c *checker) release(t *Table, m *WindowsMarker) {
	v := m.SLICVersion
	if v == 0 {
		as := c.opts.ZeroSLICVersion
		if as == 0 {
			as = SLICVersion20
		}
		c.add(t, CodeSLICVersionUnset, finding.Info, OffMarkerSLICVersion,
			"SLIC version is 0, as in OA 2.0 markers made before the field was used; counted as %d.%d", as>>16, as&0xFFFF)
		v = as
	}
	if c.opts.MinSLICVersion == 0 || v >= c.opts.MinSLICVersion {
		return
	}
	rel := c.opts.Release
	if rel == "" {
		rel = "the target release"
	}
	min := c.opts.MinSLICVersion
	c.add(t, CodeSLICVersionLow, finding.Error, OffMarkerSLICVersion,
		"SLIC version %d.%d is below %d.%d, which %s needs: OEM activation will not work with this marker",
		v>>16, v&0xFFFF, min>>16, min&0xFFFF, rel)
}

// CheckMarkerIDs compares the marker's OEM ID and OEM table ID with the SLIC's own header and
// with the RSDT, XSDT and FADT of the set (those present; kernel log headers count). Nothing is
// compared for a truncated, erased or placeholder SLIC: CheckSLIC reports those.
func CheckMarkerIDs(set *Set, slic *Table, opts Options) finding.List {
	c := &checker{opts: opts}
	s := slic.SLIC
	if s == nil || !s.HasMarker || s.Placeholder() {
		return nil
	}
	if _, erased := erasedFill(slicBytes(slic)[SLICKeyOffset:SLICSize]); erased {
		return nil
	}
	m := &s.Marker
	c.compare(slic, CodeMarkerHeader, finding.Error, "the SLIC header", slic, m)
	roots := 0
	for _, r := range []struct {
		sig, code string
	}{{"RSDT", CodeMarkerRSDT}, {"XSDT", CodeMarkerXSDT}} {
		if t := set.First(r.sig); t != nil {
			roots++
			c.compare(slic, r.code, finding.Error, "the "+r.sig, t, m)
		}
	}
	if t := set.First("FACP"); t != nil {
		sev := finding.Warning
		if opts.StrictFADT {
			sev = finding.Error
		}
		c.compare(slic, CodeMarkerFADT, sev, "the FADT", t, m)
	}
	switch {
	case roots == 0 && set.Kind == SetImage:
		c.add(slic, CodeNoRootTable, finding.Info, finding.NoOffset,
			"no RSDT or XSDT in this image (firmware builds them at boot): the marker IDs were compared with the SLIC header only; check the booted machine's tables too")
	case roots == 0:
		c.add(slic, CodeNoRootTable, finding.Info, finding.NoOffset,
			"no RSDT or XSDT in this set (Linux does not expose them in sysfs): the marker IDs were not compared with them; add the boot log's 'ACPI: RSDT' lines to check")
	}
	return c.out
}

func (c *checker) compare(slic *Table, code string, sev finding.Severity, what string, other *Table, m *WindowsMarker) {
	h := &other.Header
	if other.HeaderOnly || len(other.Raw) >= HeaderSize {
		if !SameID(m.OEMID[:], other, h.OEMID[:]) {
			c.add(slic, code, sev, OffMarkerOEMID, "marker OEM ID %s differs from %s's %s%s",
				QuoteID(m.OEMID[:]), what, QuoteID(h.OEMID[:]), fromLog(other))
		}
		if !SameID(m.OEMTableID[:], other, h.OEMTableID[:]) {
			c.add(slic, code, sev, OffMarkerOEMTableID, "marker OEM table ID %s differs from %s's %s%s",
				QuoteID(m.OEMTableID[:]), what, QuoteID(h.OEMTableID[:]), fromLog(other))
		}
	}
}

func fromLog(t *Table) string {
	if t.HeaderOnly {
		return " (as the kernel log prints it)"
	}
	return ""
}

// CheckMSDM checks one MSDM on its own, with fwts's checks (reserved fields zero, data type 1,
// data length 29 and within the table, the key's 5x5 pattern) plus the version and an erased body.
func CheckMSDM(t *Table) finding.List {
	c := &checker{}
	m := t.MSDM
	if m == nil {
		return nil
	}
	data := t.Data()
	if m.HasFields && len(data) < MSDMDataOffset {
		// A Table built by hand around a decoded or synthesized MSDM: check its encoding.
		cp := *m
		data = cp.Encode()
	}
	if !m.HasFields {
		c.add(t, CodeMSDMTruncated, finding.Error, int64(len(data)),
			"the MSDM ends after %d bytes, before its fields end at %d: no product key", len(data), MSDMDataOffset)
		return c.out
	}
	if fill, ok := erasedFill(data[HeaderSize:]); ok {
		c.add(t, CodeMSDMErased, finding.Error, HeaderSize,
			"the body after the header is all 0x%02X (erased): no product key", fill)
		return c.out
	}
	if fill, ok := erasedFill(data[HeaderSize:MSDMDataOffset]); ok && fill == 0xFF {
		c.add(t, CodeMSDMErased, finding.Error, HeaderSize,
			"the fields after the header are all 0xFF (erased flash): no product key")
		return c.out
	}
	if len(data) != MSDMSize {
		c.add(t, CodeMSDMLength, finding.Warning, OffLength, "the MSDM is %d bytes, not %d", len(data), MSDMSize)
	}
	if m.Version != MSDMVersion {
		c.add(t, CodeMSDMVersion, finding.Error, OffMSDMVersion, "version is %d, want 1", m.Version)
	}
	if m.Reserved != 0 {
		c.add(t, CodeMSDMReserved, finding.Error, OffMSDMReserved, "reserved field is 0x%08X, want 0", m.Reserved)
	}
	if m.DataType != MSDMDataType {
		c.add(t, CodeMSDMDataType, finding.Error, OffMSDMDataType, "data type is 0x%08X, want 0x00000001 (product key)", m.DataType)
	}
	if m.DataReserved != 0 {
		c.add(t, CodeMSDMDataReserved, finding.Error, OffMSDMDataReserved, "data reserved field is 0x%08X, want 0", m.DataReserved)
	}
	if uint64(m.DataLength) > uint64(len(m.Data)) {
		c.add(t, CodeMSDMDataLength, finding.Error, OffMSDMDataLength,
			"data length says %d bytes but the table holds %d after offset 0x38", m.DataLength, len(m.Data))
		return c.out
	}
	if m.DataType != MSDMDataType {
		return c.out
	}
	if m.DataLength != MSDMKeyLength {
		c.add(t, CodeMSDMDataLength, finding.Error, OffMSDMDataLength, "data length is %d, want %d (a 5x5 product key)", m.DataLength, MSDMKeyLength)
		return c.out
	}
	key := m.Key()
	if err := productkey.CheckShape(key); err != nil {
		off := int64(OffMSDMData)
		var fe *productkey.FormatError
		if errors.As(err, &fe) && fe.Pos >= 0 {
			off += int64(fe.Pos)
		}
		c.add(t, CodeMSDMKeyFormat, finding.Error, off,
			"the data is not a product key of the form XXXXX-XXXXX-XXXXX-XXXXX-XXXXX (digits, upper-case letters, dashes)")
		return c.out
	}
	if strings.Trim(key, "X-") == "" {
		c.add(t, CodeMSDMKeyX, finding.Info, OffMSDMData,
			"the product key is all X: a placeholder, or a dump with the key blanked out")
	}
	return c.out
}
