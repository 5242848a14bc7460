package smbios

import (
	"fmt"
	"strings"
	"time"

	"github.com/oemact/oemact/firmware/finding"
)

// LintOptions tunes Lint. The zero value (or nil) uses the defaults.
type LintOptions struct {
	// Placeholders replaces DefaultPlaceholders when not nil.
	Placeholders []Placeholder
	// PlaceholderUUIDs replaces the package's PlaceholderUUIDs when not nil.
	PlaceholderUUIDs []string
}

// identityField marks the string fields hardware identity reads (oemact/hwid: BIOS vendor and
// version, system manufacturer, product and serial, baseboard manufacturer, product and serial).
// A problem there is a warning or an error; elsewhere it is informational.
var identityField = map[uint8]map[int]bool{
	0: {0x04: true, 0x05: true},
	1: {0x04: true, 0x05: true, 0x07: true},
	2: {0x04: true, 0x05: true, 0x07: true},
}

// kernelField marks the fields Linux reads (fwts dmicheck's dmi_used_by_kernel_table); -1 means
// every field of the type.
var kernelField = fieldSet{
	0:  {0x04: true, 0x05: true, 0x08: true},
	1:  {0x04: true, 0x05: true, 0x06: true, 0x07: true, 0x08: true},
	2:  {0x04: true, 0x05: true, 0x06: true, 0x07: true, 0x08: true},
	3:  {0x04: true, 0x05: true, 0x06: true, 0x07: true, 0x08: true},
	11: {-1: true},
}

// fieldSet marks fields by structure type and offset.
type fieldSet map[uint8]map[int]bool

func (t fieldSet) has(typ uint8, off int) bool { return t[typ][off] || t[typ][-1] }

// Lint checks decoded SMBIOS data and reports findings with codes from this package (prefix
// "smbios-"), fwts dmicheck's checks where they matter for identity: entry point checksums,
// lengths and version; the table length and structure count against the entry point; damaged
// structures; string numbers past the string set; placeholder strings and UUIDs; duplicate
// handles; a missing end-of-table marker; missing identity structures; chassis types outside
// the specification; BIOS release dates not in the mm/dd/yyyy form.
func Lint(in *Info, opts *LintOptions) finding.List {
	if opts == nil {
		opts = &LintOptions{}
	}
	ps := opts.Placeholders
	if ps == nil {
		ps = DefaultPlaceholders
	}
	uuids := opts.PlaceholderUUIDs
	if uuids == nil {
		uuids = PlaceholderUUIDs
	}
	l := &linter{in: in}
	l.entryPoint()
	for _, p := range in.Problems {
		l.fromError(p)
	}
	l.table()
	l.structures(indexPlaceholders(ps), uuids)
	return l.out
}

type linter struct {
	in   *Info
	out  finding.List
	seen map[string]bool
}

func (l *linter) add(code string, sev finding.Severity, table string, off int64, format string, args ...any) {
	key := fmt.Sprintf("%s|%s|%d", code, table, off)
	if l.seen == nil {
		l.seen = map[string]bool{}
	}
	if l.seen[key] {
		return
	}
	l.seen[key] = true
	l.out = append(l.out, finding.Finding{Code: code, Severity: sev, Table: table, Path: l.in.Path, Offset: off,
		Message: fmt.Sprintf(format, args...)})
}

const (
	tableEntryPoint = "SMBIOS entry point"
	tableTable      = "SMBIOS table"
	tableFile       = "SMBIOS file"
)

func (l *linter) fromError(e *FormatError) {
	table := tableTable
	switch e.Part {
	case PartEntryPoint:
		table = tableEntryPoint
	case PartFile:
		table = tableFile
	}
	msg := e.Msg
	if e.Index >= 0 {
		msg = fmt.Sprintf("structure #%d", e.Index)
		if e.Type >= 0 && e.Handle >= 0 {
			msg += fmt.Sprintf(" (type %d, handle 0x%04X)", e.Type, e.Handle)
		}
		msg += fmt.Sprintf(" at table offset 0x%X: %s", e.Off, e.Msg)
	}
	sev := finding.Error
	if e.Lenient {
		sev = finding.Warning
	}
	l.add(e.Code, sev, table, e.Off, "%s", msg)
}

func (l *linter) entryPoint() {
	in := l.in
	switch {
	case in.Format == FormatBare:
		l.add(CodeNoEntryPoint, finding.Info, tableTable, finding.NoOffset,
			"a bare structure table with no entry point; SMBIOS version %v guessed from the structure lengths", in.Version)
	case in.EntryPoint == nil && in.VersionGuessed:
		l.add(CodeNoEntryPoint, finding.Warning, tableTable, finding.NoOffset,
			"the entry point could not be used; the table behind it was read with SMBIOS version %v guessed from the structure lengths", in.Version)
	}
	ep := in.EntryPoint
	if ep == nil {
		return
	}
	if !ep.ChecksumOK() {
		l.add(CodeEntryPointChecksum, finding.Error, tableEntryPoint, checksumOffset(ep.Kind),
			"%s checksum 0x%02x is wrong: the %d bytes do not sum to zero (readers such as dmidecode ignore this entry point)", ep.Kind, ep.Checksum, ep.Size())
	}
	if !ep.IntermediateChecksumOK() {
		l.add(CodeIntermediateChecksum, finding.Error, tableEntryPoint, 0x15,
			"_SM_ intermediate (_DMI_) checksum 0x%02x is wrong", ep.IntermediateChecksum)
	}
	switch ep.Kind {
	case EntryPoint32:
		switch {
		case ep.Length == 0x1E && ep.Major == 2 && ep.Minor == 1:
			l.add(CodeEntryPointLength, finding.Info, tableEntryPoint, 5,
				"_SM_ length 0x1e: SMBIOS 2.1 said 0x1e by mistake, 0x1f is right")
		case ep.Length != len32:
			l.add(CodeEntryPointLength, finding.Warning, tableEntryPoint, 5, "_SM_ length 0x%02x, should be 0x1f", ep.Length)
		}
	case EntryPoint64:
		if ep.Length != len64 {
			l.add(CodeEntryPointLength, finding.Warning, tableEntryPoint, 6, "_SM3_ length 0x%02x, should be 0x18", ep.Length)
		}
		if ep.Reserved != 0 {
			l.add(CodeEntryPointReserved, finding.Warning, tableEntryPoint, 0x0B, "_SM3_ reserved byte is 0x%02x, should be 0", ep.Reserved)
		}
	}
	if v := ep.Version(); v.Effective() != v && !v.IsZero() {
		l.add(CodeEntryPointVersion, finding.Warning, tableEntryPoint, finding.NoOffset,
			"SMBIOS version %v does not exist; read as %v, as dmidecode and fwts do", v, v.Effective())
	}
	if in.Format == FormatSysfs && ep.TableAddress == 0 && ep.TableLength > 0 {
		l.add(CodeTableAddress, finding.Warning, tableEntryPoint, tableAddressOffset(ep.Kind),
			"the structure table address is 0 but its length is %d", ep.TableLength)
	}
}

func checksumOffset(k EntryPointKind) int64 {
	if k == EntryPoint32 {
		return 4
	}
	return 5
}

func (l *linter) table() {
	in := l.in
	broken := false
	for _, p := range in.Problems {
		if p.Part == PartTable || p.Code == CodeTableTruncated {
			broken = true
		}
	}
	ep := in.EntryPoint
	if ep != nil && !broken {
		if ep.Kind != EntryPoint64 {
			if int(ep.NumStructures) != len(in.Structures) {
				l.add(CodeStructureCount, finding.Warning, tableEntryPoint, 0x1C,
					"the entry point announces %d structures, the table has %d up to its end marker", ep.NumStructures, len(in.Structures))
			}
			if in.End != in.DeclaredTableLength {
				l.add(CodeTableLength, finding.Warning, tableEntryPoint, 0x16,
					"the entry point announces a %d-byte table, the structures occupy %d bytes", in.DeclaredTableLength, in.End)
			}
		}
		if ep.Kind == EntryPoint32 {
			largest := 0
			for _, s := range in.Structures {
				largest = max(largest, s.Size())
			}
			if int(ep.MaxStructureSize) < largest {
				l.add(CodeMaxStructureSize, finding.Warning, tableEntryPoint, 8,
					"the entry point's maximum structure size is %d, the largest structure is %d bytes", ep.MaxStructureSize, largest)
			}
		}
	}
	if !broken {
		hasEnd := len(in.Structures) > 0 && in.Structures[len(in.Structures)-1].Type == EndOfTable
		if !hasEnd {
			sev := finding.Warning
			if ep != nil && ep.Kind == EntryPoint64 {
				sev = finding.Error // SMBIOS 3 readers stop only at the end marker
			}
			l.add(CodeNoEndOfTable, sev, tableTable, in.End, "the table has no end-of-table structure (type 127)")
		}
	}
	if len(in.Trailing) > 0 && !allZero(in.Trailing) {
		l.add(CodeTrailingData, finding.Info, tableTable, in.End,
			"%d bytes after the end-of-table structure are not zero", len(in.Trailing))
	}
}

// structures checks each structure: duplicate handles, minimum lengths, string numbers,
// placeholders, UUID, chassis type.
func (l *linter) structures(ps placeholderIndex, uuids []string) {
	in := l.in
	handles := map[uint16]int{}
	var off int64
	have := map[uint8]bool{}
	for i, s := range in.Structures {
		at := s.Offset
		if at < 0 {
			at = off
		}
		off = at + int64(s.Size())
		have[s.Type] = true
		table := tableTable
		if first, dup := handles[s.Handle]; dup {
			l.add(CodeDuplicateHandle, finding.Error, table, at,
				"%s: handle 0x%04X is already used by structure #%d", where(i, s, at, 0, ""), s.Handle, first)
		} else {
			handles[s.Handle] = i
		}
		if minLen := minLength(s.Type); minLen > 0 && s.Length() < minLen {
			l.add(CodeStructureTooShort, finding.Warning, table, at+1,
				"%s: length %d is below the %d bytes type %d needs; its fields are absent", where(i, s, at, 1, "Length"), s.Length(), minLen, s.Type)
		}
		l.counts(i, s, at)
		tv, _ := ParseTyped(s, in.Version)
		if tv == nil {
			continue
		}
		for _, f := range stringFields(tv) {
			n, ok := s.Byte(f.off)
			if !ok || n == 0 {
				continue
			}
			val, ok := s.String(n)
			if !ok {
				sev := finding.Warning
				if identityField[s.Type][f.off] || kernelField.has(s.Type, f.off) {
					sev = finding.Error
				}
				l.add(CodeStringIndex, sev, table, at+int64(f.off),
					"%s: string %d, but the structure has %d usable strings", where(i, s, at, f.off, f.name), n, usableStrings(s))
				continue
			}
			if p, ok := ps.match(f.name, val); ok {
				sev := finding.Info
				if identityField[s.Type][f.off] {
					sev = finding.Warning
				}
				code := p.Code
				switch f.name {
				case "Serial Number":
					code = CodePlaceholderSerial
				case "Asset Tag":
					code = CodePlaceholderAssetTag
				}
				l.add(code, sev, table, at+int64(f.off),
					"%s: %q is a firmware default rather than a value for this machine (%s)", where(i, s, at, f.off, f.name), val, p.Source)
			}
		}
		if o, ok := tv.(*OEMStrings); ok {
			for j, str := range o.Strings {
				if str == "" {
					l.add(CodeStringIndex, finding.Error, table, at+4,
						"%s: the count says %d OEM strings, string %d is missing", where(i, s, at, 4, "Count"), len(o.Strings), j+1)
					break
				}
			}
		}
		switch x := tv.(type) {
		case *BIOSInfo:
			l.biosDate(i, x, at)
		case *SystemInfo:
			l.uuid(i, x, at, uuids)
		case *ChassisInfo:
			if !x.Type().Valid() {
				l.add(CodeValueOutOfRange, finding.Warning, table, at+5,
					"%s: chassis type 0x%02x is outside the specification (0x01-0x24)", where(i, s, at, 5, "Type"), uint8(x.Type()))
			}
		}
	}
	if len(l.in.Problems) == 0 {
		for _, typ := range []uint8{0, 1} {
			if !have[typ] {
				l.add(CodeMissingStructure, finding.Warning, tableTable, finding.NoOffset,
					"no type %d (%s) structure: hardware identity reads it", typ, structureTypeName(typ))
			}
		}
	}
}

// biosDate checks the release date's form. SMBIOS 7.1: "mm/dd/yy or mm/dd/yyyy format. If the
// year portion of the string is two digits, the year is assumed to be 19yy. NOTE: The mm/dd/yyyy
// format is required for SMBIOS version 2.3 and later." libvirt refuses other forms too.
func (l *linter) biosDate(i int, b *BIOSInfo, at int64) {
	d := b.ReleaseDate
	if d == "" {
		return
	}
	w, table := where(i, b.raw, at, 8, "Release Date"), tableTable
	long := len(d) == 10
	layout := "01/02/06"
	if long {
		layout = "01/02/2006"
	}
	if (len(d) != 8 && !long) || !allDigitsAndSlashes(d) {
		l.add(CodeBIOSDate, finding.Warning, table, at+8, "%s: BIOS release date %q is not in the mm/dd/yyyy form", w, d)
		return
	}
	if _, err := time.Parse(layout, d); err != nil {
		l.add(CodeBIOSDate, finding.Warning, table, at+8, "%s: BIOS release date %q is not a date in the mm/dd/yyyy form", w, d)
		return
	}
	if !long && l.in.Version.AtLeast(2, 3) {
		l.add(CodeBIOSDate, finding.Info, table, at+8,
			"%s: BIOS release date %q has a two-digit year; SMBIOS 2.3 and later require mm/dd/yyyy", w, d)
	}
}

func allDigitsAndSlashes(s string) bool {
	for i := 0; i < len(s); i++ {
		if (i == 2 || i == 5) != (s[i] == '/') || s[i] != '/' && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}

func (l *linter) uuid(i int, s *SystemInfo, at int64, placeholders []string) {
	if !s.HasUUID() {
		return
	}
	w := where(i, s.raw, at, 8, "UUID")
	switch {
	case s.UUID.IsNotPresent():
		l.add(CodeUUIDPlaceholder, finding.Warning, tableTable, at+8, "%s: the system UUID is all FF (not present)", w)
		return
	case s.UUID.IsNotSettable():
		l.add(CodeUUIDPlaceholder, finding.Warning, tableTable, at+8, "%s: the system UUID is all zero (not set)", w)
		return
	}
	for _, p := range placeholders {
		if strings.EqualFold(p, s.UUID.String()) {
			l.add(CodeUUIDPlaceholder, finding.Warning, tableTable, at+8,
				"%s: the system UUID %s is a firmware default, shared by many machines", w, s.UUID)
		}
	}
}

func (l *linter) counts(i int, s *Structure, at int64) {
	switch s.Type {
	case 2:
		if n, ok := s.Byte(0x0E); ok && 0x0F+2*int(n) > s.Length() {
			l.add(CodeStructureTooShort, finding.Warning, tableTable, at+0x0E,
				"%s: %d contained handles need %d bytes, the structure has %d", where(i, s, at, 0x0E, "Number of Contained Object Handles"), n, 0x0F+2*int(n), s.Length())
		}
	case 3:
		n, ok1 := s.Byte(0x13)
		m, ok2 := s.Byte(0x14)
		if ok1 && ok2 && 0x15+int(n)*int(m) > s.Length() {
			l.add(CodeStructureTooShort, finding.Warning, tableTable, at+0x13,
				"%s: %d contained elements of %d bytes need %d bytes, the structure has %d", where(i, s, at, 0x13, "Contained Element Count"), n, m, 0x15+int(n)*int(m), s.Length())
		}
	}
}

// where names structure #i (s, at table offset at) and, when field is given, the field at the
// structure's own offset off. A finding's offset counts from the table start; its message
// gives both.
func where(i int, s *Structure, at int64, off int, field string) string {
	w := fmt.Sprintf("structure #%d (type %d, handle 0x%04X) at table offset 0x%X", i, s.Type, s.Handle, at)
	if field != "" {
		w += fmt.Sprintf(", %s at structure offset 0x%02X", field, off)
	}
	return w
}

func usableStrings(s *Structure) int {
	for i, str := range s.Strings {
		if str == "" {
			return i
		}
	}
	return len(s.Strings)
}
