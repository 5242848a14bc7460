package firmware

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemact/oemact/firmware/finding"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fixture(t testing.TB, machine, table string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixturesDir, machine, table))
	require.NoError(t, err)
	return b
}

// The committed acpidump samples hold exactly the fixture tables.
func TestAcpidumpSamplesHoldTheFixtures(t *testing.T) {
	for _, machine := range []string{"toshiba-satellite-c70d-b", "dell-inspiron-14-3462"} {
		sets, err := Load(filepath.Join("testdata/acpidump", machine+".txt"))
		require.NoError(t, err)
		require.Len(t, sets, 1)
		s := sets[0]
		assert.Equal(t, SetAcpidump, s.Kind)
		dir, err := LoadDir(filepath.Join(fixturesDir, machine))
		require.NoError(t, err)
		require.Len(t, s.Tables, len(dir.Tables))
		for i, tb := range s.Tables {
			assert.Equal(t, dir.Tables[i].Name, tb.Name)
			assert.Equal(t, dir.Tables[i].Raw, tb.Raw)
			assert.Equal(t, FromAcpidump, tb.Source)
		}
		// Same tables, same findings but for the path.
		strip := func(l finding.List) []string {
			var out []string
			for _, f := range l {
				out = append(out, f.Code+" "+f.Table+" "+f.Message)
			}
			return out
		}
		assert.Equal(t, strip(Check(dir, Options{})), strip(Check(s, Options{})))
	}
}

func TestParseAcpidumpErrors(t *testing.T) {
	cases := []struct {
		name, text string
		line       int
		msg        string
		blocks     int
	}{
		{"data before header", "    0000: 53 4C 49 43\n", 1, "before any", 0},
		{"gap", "SLIC @ 0x0000000000000000\n    0000: 53 4C 49 43 76 01 00 00 01 38 41 43 52 53 59 53  SLIC\n    0020: 00\n", 3, "offset 0020 where 0010", 1},
		{"repeated line", "SLIC @ 0x0\n    0000: 53 4C\n    0000: 53 4C\n", 3, "offset 0000 where 0002", 1},
		{"garbage", "SLIC @ 0x0\n    0000: 53 4C\nhello world\n", 3, "not an acpidump line", 1},
		{"no hex bytes", "SLIC @ 0x0\n    0000: zz\n", 2, "not an acpidump line", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			blocks, err := ParseAcpidump(strings.NewReader(c.text))
			var te *TextError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, c.line, te.Line)
			assert.Contains(t, te.Msg, c.msg)
			assert.Len(t, blocks, c.blocks)
		})
	}
	// iasl's raw-data lines ("// ascii") and a longer offset parse too.
	blocks, err := ParseAcpidump(strings.NewReader("DSDT @ 0x00000000BFFE0040\n  0000: 44 53 // DS\n  0002: 44 54\n"))
	require.NoError(t, err)
	require.Len(t, blocks, 1)
	assert.Equal(t, uint64(0xBFFE0040), blocks[0].Address)
	assert.Equal(t, []byte("DSDT"), blocks[0].Data)
}

func TestLoadGroupsPaths(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		return p
	}
	slic := fixture(t, "dell-inspiron-14-3462", "SLIC")
	a := write("slic-a.bin", slic)
	b := write("second.dat", slic)
	m := write("msdm", fixture(t, "dell-inspiron-14-3462", "MSDM"))
	txt := write("notes.txt", []byte("these are notes\n"))
	dump := filepath.Join("testdata/acpidump", "toshiba-satellite-c70d-b.txt")
	folder := filepath.Join(fixturesDir, "acer-extensa-4210")

	sets, err := Load(a, folder, b, dump, m, txt)
	require.NoError(t, err)
	require.Len(t, sets, 3)

	loose := sets[0]
	assert.Equal(t, SetFiles, loose.Kind)
	assert.Equal(t, []string{a, b, m, txt}, loose.Files)
	var names []string
	for _, tb := range loose.Tables {
		names = append(names, tb.Name)
	}
	// Loose files are named by signature, numbered like sysfs when repeated.
	assert.Equal(t, []string{"SLIC1", "SLIC2", "MSDM"}, names)
	got := Check(loose, Options{})
	assert.True(t, got.Has(CodeSLICDuplicate))
	assert.True(t, got.Has(CodeSkippedFile))
	for _, f := range got {
		if f.Code == CodeSLICDuplicate {
			assert.Equal(t, finding.Warning, f.Severity, "identical copies")
			assert.Equal(t, "SLIC2", f.Table)
		}
	}

	assert.Equal(t, SetFolder, sets[1].Kind)
	assert.Equal(t, filepath.Clean(folder), sets[1].Name)
	assert.Equal(t, SetAcpidump, sets[2].Kind)
	assert.Len(t, sets[2].Tables, 5)

	_, err = Load(filepath.Join(dir, "missing"))
	assert.ErrorContains(t, err, "missing")
}

// A folder laid out like sysfs with numbered duplicates: two different SLICs are an error.
func TestSysfsDuplicatesDiffer(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "SLIC1"), fixture(t, "dell-inspiron-14-3462", "SLIC"), 0o444))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "SLIC2"), fixture(t, "hp-elitebook-840-g7", "SLIC"), 0o444))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "dynamic"), 0o755))
	s, err := LoadDir(dir)
	require.NoError(t, err)
	require.Len(t, s.Tables, 2)
	assert.Equal(t, "SLIC1", s.Tables[0].Name)
	got := Check(s, Options{})
	var dup []finding.Finding
	for _, f := range got {
		if f.Code == CodeSLICDuplicate {
			dup = append(dup, f)
		}
	}
	require.Len(t, dup, 1)
	assert.Equal(t, finding.Error, dup[0].Severity)
	assert.Contains(t, dup[0].Message, "SLIC1, SLIC2")
}

// LoadLive reads LiveTablesDir; pointed at a fixture folder, it behaves like LoadDir plus the
// kernel log. On a Linux machine with ACPI and root, it reads the real tables too.
func TestLoadLive(t *testing.T) {
	old := liveTablesDir
	t.Cleanup(func() { liveTablesDir = old })
	liveTablesDir = filepath.Join(fixturesDir, "toshiba-satellite-c70d-b")
	s, err := LoadLive()
	require.NoError(t, err)
	assert.Equal(t, SetLive, s.Kind)
	assert.GreaterOrEqual(t, len(s.Tables), 5)

	liveTablesDir = filepath.Join(t.TempDir(), "none")
	_, err = Load()
	assert.ErrorContains(t, err, "pass a folder or files instead")

	liveTablesDir = old
	if _, err := os.Stat(old); err == nil && os.Geteuid() == 0 {
		s, err := LoadLive()
		require.NoError(t, err)
		assert.NotEmpty(t, s.Tables)
		// Real firmware may ship bad checksums; what must hold is that each file was read and
		// named as sysfs names it, and that checking the set does not fail to run.
		for _, tb := range s.Tables {
			if !tb.HeaderOnly {
				assert.Equal(t, filepath.Join(LiveTablesDir, tb.Name), tb.Path)
				assert.NotEmpty(t, tb.Raw, tb.Name)
			}
		}
		_ = Check(s, Options{})
	}
}

func TestKernelLogLines(t *testing.T) {
	log := `[    0.000000] ACPI: Early table checksum verification disabled
[    0.000000] ACPI: RSDP 0x00000000000F5A10 000014 (v00 BOCHS )
[    0.000000] ACPI: RSDT 0x000000007FFE1A2B 000034 (v01 BOCHS  BXPC     00000001 BXPC 00000001)
[    0.000000] ACPI: FACP 0x000000007FFE18DF 000074 (v01 BOCHS  BXPC     00000001 BXPC 00000001)
[    0.000000] ACPI: FACS 0x000000007FFE0000 000040
<6>[    0.000000] ACPI: SLIC 0x000000007FFE19A7 000176 (v01 TSTOEM TSTBOARD 00000001 BXPC 00000001)
[    0.000000] ACPI: Reserving FACP table memory at [mem 0x7ffe18df-0x7ffe1952]
[    0.000000] ACPI: XSDT 0x00000000BFFDE0E8 00004C (v01 DELL   WN09     01072009 AMI  00010013)
[    0.000000] ACPI: SSDT 0x0000000000000000 0000FC (v02 A?B    T        00000000 INTL 20200925)
[    0.000000] ACPI: SSDT 0x0000000000000000 000 (v02 broken)
`
	hs, err := ParseKernelLog(strings.NewReader(log))
	require.NoError(t, err)
	var sigs []string
	for _, h := range hs {
		sigs = append(sigs, h.Signature)
	}
	assert.Equal(t, []string{"RSDP", "RSDT", "FACP", "FACS", "SLIC", "XSDT", "SSDT"}, sigs)
	rsdt := hs[1]
	assert.Equal(t, LogHeader{Line: 3, Signature: "RSDT", Address: 0x7FFE1A2B, Length: 0x34, Revision: 1,
		OEMID: "BOCHS ", OEMTableID: "BXPC    ", OEMRevision: 1, CreatorID: "BXPC", CreatorRevision: 1, Full: true}, rsdt)
	assert.Equal(t, "BOCHS ", hs[0].OEMID)
	assert.False(t, hs[0].Full)
	assert.Equal(t, "A?B   ", hs[6].OEMID)
	for _, h := range hs {
		again, ok := ParseKernelLogLine([]byte(h.String()))
		require.True(t, ok, h.String())
		again.Line = h.Line
		assert.Equal(t, h, again)
	}

	// The kernel prints "WN09   \x00" as "WN09    ": cut at NUL, padded with spaces.
	assert.Equal(t, "WN09    ", KernelLogID([]byte("WN09   \x00")))
	assert.Equal(t, "A?B   ", KernelLogID([]byte("A\x01B\x00\x00\x00")))
	assert.Equal(t, "\xe9T    ", KernelLogID([]byte("\xe9T    ")), "kernel isprint accepts Latin-1")
	assert.Equal(t, "      ", KernelLogID(make([]byte, 6)))
}

// A guest sees SLIC, MSDM and FACP in sysfs and the RSDT/XSDT only in the kernel log: the marker is
// checked against the logged headers, NUL padding included.
func TestMarkerAgainstKernelLog(t *testing.T) {
	set := NewSet("guest", SetBytes)
	set.AddBytes("SLIC", fixture(t, "dell-inspiron-14-3462", "SLIC"))
	set.AddBytes("FACP", fixture(t, "dell-inspiron-14-3462", "FACP"))
	log := "ACPI: RSDT 0x00000000BFFDE000 000060 (v01 DELL   WN09     01072009 AMI  00010013)\n" +
		"ACPI: XSDT 0x00000000BFFDE0E8 00004C (v01 DELL   CBX3     01072009 AMI  00010013)\n" +
		"ACPI: FACP 0x00000000BFFDE100 000114 (v06 DELL   WN09     01072009 AMI  00010013)\n"
	hs, err := ParseKernelLog(strings.NewReader(log))
	require.NoError(t, err)
	assert.Equal(t, 2, set.AddKernelLog(hs, "dmesg.txt"), "FACP is already there")
	rsdt := set.First("RSDT")
	require.NotNil(t, rsdt)
	assert.True(t, rsdt.HeaderOnly)
	assert.Equal(t, "dmesg.txt", rsdt.Path)

	got := Check(set, Options{})
	assert.False(t, got.Has(CodeMarkerRSDT), "%v", got)
	assert.False(t, got.Has(CodeNoRootTable))
	require.True(t, got.Has(CodeMarkerXSDT))
	for _, f := range got {
		if f.Code == CodeMarkerXSDT {
			assert.Equal(t, int64(OffMarkerOEMTableID), f.Offset)
			assert.Contains(t, f.Message, `"CBX3    " (as the kernel log prints it)`)
			assert.Equal(t, finding.Error, f.Severity)
		}
	}
}

func TestStrictFADT(t *testing.T) {
	set, err := LoadDir(filepath.Join(fixturesDir, "acer-extensa-4210"))
	require.NoError(t, err)
	for _, strict := range []bool{false, true} {
		want := finding.Warning
		if strict {
			want = finding.Error
		}
		n := 0
		for _, f := range Check(set, Options{StrictFADT: strict}) {
			if f.Code == CodeMarkerFADT {
				assert.Equal(t, want, f.Severity)
				n++
			}
		}
		assert.Equal(t, 2, n, "OEM ID and OEM table ID")
	}
}

func TestReleaseCheck(t *testing.T) {
	cases := []struct {
		machine string
		min     uint32
		zeroAs  uint32
		low     bool
	}{
		{"acer-extensa-4210", SLICVersion20, 0, false},       // 0 counts as 2.0: fine for Vista
		{"acer-extensa-4210", SLICVersion21, 0, true},        // not for Windows 7
		{"acer-extensa-4210", SLICVersion20, 1, true},        // counted as 0.1 when asked
		{"dell-inspiron-14-3462", SLICVersion21, 0, false},   // 2.1
		{"lenovo-thinkcentre-m800", SLICVersion21, 0, false}, // 2.3 is above 2.1
		{"dell-inspiron-14-3462", 0x00020002, 0, true},       // a higher requirement fails
		{"dell-inspiron-14-3462", 0, 0, false},               // no release: no check
		{"lenovo-thinkcentre-m800", 0x00020004, 0, true},     // 2.3 < 2.4
	}
	for _, c := range cases {
		set, err := LoadDir(filepath.Join(fixturesDir, c.machine))
		require.NoError(t, err)
		got := Check(set, Options{Release: "R", MinSLICVersion: c.min, ZeroSLICVersion: c.zeroAs})
		assert.Equal(t, c.low, got.Has(CodeSLICVersionLow), "%+v: %v", c, got.Codes())
	}
}

func TestDumpNamesEveryField(t *testing.T) {
	s, err := LoadDir(filepath.Join(fixturesDir, "dell-inspiron-14-3462"))
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, WriteDump(&buf, s.First("SLIC").Dump(false)))
	text := buf.String()
	for _, want := range []string{
		`[0C8h 0200   4]               Marker Version : 00020000    [2.0]`,
		`[0D2h 0210   8]          Marker Oem Table ID : "WN09   \x00"`,
		`[0E2h 0226   4]                 SLIC Version : 00020001    [2.1 (OA 2.1: Windows 7 / Server 2008 R2)]`,
		`[009h 0009   1]                     Checksum : C6    [valid]`,
		`[034h 0052   4]                    Key Magic : "RSA1"    [RSA public key]`,
		`Marker signature : verifies with the table's own key`,
	} {
		assert.Contains(t, text, want)
	}
}

func writeFile(p, s string) error { return os.WriteFile(p, []byte(s), 0o644) }

// Duplicates give one finding per group of identical tables and one for the set when the
// contents differ, each with a capped list of names: the findings do not grow with the square of
// the table count.
func TestDuplicateFindingsPerGroup(t *testing.T) {
	a, b := fixture(t, "dell-inspiron-14-3462", "SLIC"), fixture(t, "hp-elitebook-840-g7", "SLIC")
	s := NewSet("many", SetFiles)
	for i := 0; i < 1000; i++ {
		s.AddBytes(fmt.Sprintf("SLIC%d", 2*i+1), a)
		s.AddBytes(fmt.Sprintf("SLIC%d", 2*i+2), b)
	}
	var dup []finding.Finding
	for _, f := range Check(s, Options{}) {
		if f.Code == CodeSLICDuplicate {
			dup = append(dup, f)
		}
	}
	require.Len(t, dup, 3, "one per group of identical tables, one for the differing set")
	var errs, warns int
	for _, f := range dup {
		assert.Less(t, len(f.Message), 400, f.Message)
		switch f.Severity {
		case finding.Error:
			errs++
			assert.Contains(t, f.Message, "2000 SLIC tables in 2 different versions")
		case finding.Warning:
			warns++
			assert.Contains(t, f.Message, "1000 identical SLIC tables")
			assert.Contains(t, f.Message, "and 992 more")
		}
	}
	assert.Equal(t, 1, errs)
	assert.Equal(t, 2, warns)

	// Two identical copies: one warning naming both, on the second.
	s = NewSet("two", SetFiles)
	s.AddBytes("SLIC1", a)
	s.AddBytes("SLIC2", a)
	dup = dup[:0]
	for _, f := range Check(s, Options{}) {
		if f.Code == CodeSLICDuplicate {
			dup = append(dup, f)
		}
	}
	require.Len(t, dup, 1)
	assert.Equal(t, finding.Warning, dup[0].Severity)
	assert.Equal(t, "SLIC2", dup[0].Table)
	assert.Contains(t, dup[0].Message, "2 identical SLIC tables (SLIC1, SLIC2)")
}

// A file holding only a signature ("SLIC", 4 bytes) is a truncated table, reported as one under
// its signature, not a text file to skip: loose or in a folder.
func TestSignatureOnlyFileIsTruncatedTable(t *testing.T) {
	dir := t.TempDir()
	loose := filepath.Join(dir, "marker.bin")
	require.NoError(t, os.WriteFile(loose, []byte("SLIC"), 0o644))
	folder := filepath.Join(dir, "tables")
	require.NoError(t, os.Mkdir(folder, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(folder, "SLIC"), []byte("SLIC"), 0o644))
	for _, p := range []string{loose, folder} {
		sets, err := Load(p)
		require.NoError(t, err)
		require.Len(t, sets, 1)
		s := sets[0]
		require.Len(t, s.Tables, 1, p)
		tb := s.First("SLIC")
		require.NotNil(t, tb, "%s: the table is not known as a SLIC", p)
		got := Check(s, Options{})
		assert.False(t, got.Has(CodeSkippedFile), p)
		assert.False(t, got.Has(CodeNoMarkers), "%s: a truncated SLIC is still a SLIC", p)
		var truncated bool
		for _, f := range got {
			if f.Code == CodeTruncated || f.Code == CodeSLICTruncated {
				truncated = true
				assert.Equal(t, finding.Error, f.Severity)
			}
		}
		assert.True(t, truncated, "%s: %v", p, got)
	}
}

// Every real table damaged in the ways a bad copy damages one (a checksum byte off by a bit, a
// byte of its body changed, its last byte cut off) is reported as a damaged table with a checksum
// or truncation error, loose or in a folder: never skipped as something else because its bytes
// happen to look like SMBIOS structures or a firmware volume.
func TestDamagedRealTablesAreReported(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(fixturesDir, "*", "*"))
	require.NoError(t, err)
	var tables []string
	for _, p := range paths {
		if filepath.Base(p) != "README.md" {
			tables = append(tables, p)
		}
	}
	require.GreaterOrEqual(t, len(tables), 25)
	damaged := map[string]bool{CodeChecksum: true, CodeTruncated: true, CodeLengthExceeds: true,
		CodeSLICTruncated: true, CodeMSDMTruncated: true}
	dir := t.TempDir()
	n := 0
	for _, p := range tables {
		raw, err := os.ReadFile(p)
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(raw), HeaderSize, p)
		variants := map[string][]byte{"cut by one byte": raw[:len(raw)-1]}
		for bit := 0; bit < 8; bit++ {
			variants[fmt.Sprintf("checksum bit %d flipped", bit)] = mutate(raw, false, func(b []byte) []byte { b[OffChecksum] ^= 1 << bit; return b })
		}
		if len(raw) > HeaderSize {
			for _, off := range []int{HeaderSize, (HeaderSize + len(raw)) / 2, len(raw) - 1} {
				variants[fmt.Sprintf("body byte 0x%x flipped", off)] = mutate(raw, false, func(b []byte) []byte { b[off] ^= 0xFF; return b })
			}
		}
		for what, b := range variants {
			n++
			loose := filepath.Join(dir, fmt.Sprintf("table%d.bin", n))
			require.NoError(t, os.WriteFile(loose, b, 0o644))
			folder := filepath.Join(dir, fmt.Sprintf("tables%d", n))
			require.NoError(t, os.Mkdir(folder, 0o755))
			inFolder := filepath.Join(folder, filepath.Base(p))
			require.NoError(t, os.WriteFile(inFolder, b, 0o644))
			for _, c := range []struct{ load, file string }{{loose, loose}, {folder, inFolder}} {
				sets, err := Load(c.load)
				require.NoError(t, err)
				require.Len(t, sets, 1)
				got := Check(sets[0], Options{})
				var hit bool
				for _, f := range got {
					if f.Path == c.file && damaged[f.Code] && f.Severity == finding.Error {
						hit = true
					}
				}
				assert.True(t, hit && got.Failed(), "%s, %s, read from %s: %v", p, what, c.load, got)
			}
		}
	}
}
