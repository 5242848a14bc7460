package smbios

import (
	"testing"

	"github.com/oemact/oemact/firmware/finding"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func lintFixture(t *testing.T, name string) finding.List {
	t.Helper()
	in, _ := Read(fixturePath(t, name))
	require.NotNil(t, in)
	fs := Lint(in, nil)
	for _, f := range fs {
		assert.Equal(t, fixturePath(t, name), f.Path, "findings name the file")
		assert.Regexp(t, `^smbios-[a-z0-9-]+$`, f.Code)
	}
	return fs
}

func severe(fs finding.List) finding.List {
	var out finding.List
	for _, f := range fs {
		if f.Severity != finding.Info {
			out = append(out, f)
		}
	}
	return out
}

func TestLintRealDumps(t *testing.T) {
	// Lenovo's table carries real identity: nothing above informational.
	assert.Empty(t, severe(lintFixture(t, "uroot_Lenovo-ThinkPad-T480.bin")))

	// Synology left AMI's defaults in: the system serial and the UUID are placeholders.
	fs := severe(lintFixture(t, "uroot_Synology-RS3614xsp.bin"))
	assert.ElementsMatch(t, []string{CodePlaceholderSerial, CodeUUIDPlaceholder, CodePlaceholderSerial}, fs.Codes(), "%v", fs)
	assert.False(t, fs.Failed(), "placeholders warn, they do not fail")

	// Gigabyte: "Default string" as system and board serial.
	fs = severe(lintFixture(t, "uroot_GigaByte-X399.bin"))
	assert.Equal(t, []string{CodePlaceholderSerial, CodePlaceholderSerial}, fs.Codes(), "%v", fs)
	assert.Equal(t, "SMBIOS table", fs[0].Table)
	assert.Equal(t, int64(0x49), fs[0].Offset, "the serial number's string index in the table")
	assert.Contains(t, fs[0].Message, "structure #1 (type 1, handle 0x0001) at table offset 0x42, Serial Number at structure offset 0x07: ")

	// VMware's entry point understates the largest structure; its board serial is "None".
	fs = severe(lintFixture(t, "uroot_VMWare.bin"))
	assert.ElementsMatch(t, []string{CodeMaxStructureSize, CodePlaceholderSerial}, fs.Codes(), "%v", fs)

	// Hyper-V: a bare table, broken after five structures.
	fs = lintFixture(t, "sidero_HyperV.bin")
	assert.True(t, fs.Has(CodeNoEntryPoint))
	assert.True(t, fs.Failed())
	assert.Equal(t, []string{CodeStructureLength}, severe(fs).Codes())
}

func TestLintSynthesizedTableIsClean(t *testing.T) {
	for _, kind := range []EntryPointKind{EntryPoint32, EntryPoint64} {
		in, err := fullBuilder(t, Latest).Build(kind)
		require.NoError(t, err)
		b, err := in.DumpBin()
		require.NoError(t, err)
		back, err := Decode(b)
		require.NoError(t, err)
		assert.Empty(t, Lint(back, nil), "a table the builder makes from real values has no findings")
	}
}

func TestLintPlaceholdersAndOptions(t *testing.T) {
	b := fullBuilder(t, Latest)
	b.System.SerialNumber = "To Be Filled By O.E.M."
	b.System.UUID = mustUUID(t, "03000200-0400-0500-0006-000700080009")
	b.Baseboards[0].AssetTag = "Base Board Asset Tag"
	b.Chassis[0].Version = "Chassis Version"
	in, err := b.Build(EntryPoint64)
	require.NoError(t, err)
	fs := Lint(in, nil)
	require.True(t, fs.Has(CodePlaceholderSerial))
	require.True(t, fs.Has(CodeUUIDPlaceholder))
	require.True(t, fs.Has(CodePlaceholderAssetTag))
	require.True(t, fs.Has(CodePlaceholderString))
	for _, f := range fs {
		switch f.Code {
		case CodePlaceholderSerial, CodeUUIDPlaceholder:
			assert.Equal(t, finding.Warning, f.Severity, "identity fields warn: %v", f)
		default:
			assert.Equal(t, finding.Info, f.Severity, "other fields inform: %v", f)
		}
	}
	// A serial pattern applies to serial fields only: "Not Specified" as a version is fine.
	b = fullBuilder(t, Latest)
	b.System.Version = "Not Specified"
	in, err = b.Build(EntryPoint64)
	require.NoError(t, err)
	assert.Empty(t, Lint(in, nil))

	// Options replace the lists.
	b = fullBuilder(t, Latest)
	b.System.SerialNumber = "TEST-SN-0001"
	in, err = b.Build(EntryPoint64)
	require.NoError(t, err)
	fs = Lint(in, &LintOptions{Placeholders: []Placeholder{{Field: "Serial Number", Value: "TEST-SN-0001", Code: CodePlaceholderSerial, Source: "site policy"}}})
	assert.Equal(t, []string{CodePlaceholderSerial}, fs.Codes())
	assert.Contains(t, fs[0].Message, "site policy")
}

func TestPlaceholderTableMatchesFWTSSize(t *testing.T) {
	n := 0
	for _, p := range DefaultPlaceholders {
		if p.Source == "fwts" {
			n++
		}
	}
	// fwts dmicheck's dmi_patterns has 110 entries before its NULL terminator: 56 serial number,
	// 48 asset tag and 6 other patterns.
	assert.Equal(t, 110, n)
}

// A BIOS release date must read mm/dd/yyyy (SMBIOS 7.1; libvirt refuses other forms). Two-digit
// years were allowed before SMBIOS 2.3.
func TestLintBIOSReleaseDate(t *testing.T) {
	for _, tc := range []struct {
		date string
		v    Version
		sev  finding.Severity
		msg  string // "" for no finding
	}{
		{"01/15/2024", Latest, 0, ""},
		{"02/29/2024", Latest, 0, ""},
		{"12/31/99", Version{Major: 2, Minor: 2}, 0, ""},
		{"12/31/99", Version{Major: 2, Minor: 3}, finding.Info, `BIOS release date "12/31/99" has a two-digit year; SMBIOS 2.3 and later require mm/dd/yyyy`},
		{"2024-01-15", Latest, finding.Warning, `BIOS release date "2024-01-15" is not in the mm/dd/yyyy form`},
		{"15/01/2024", Latest, finding.Warning, `BIOS release date "15/01/2024" is not a date in the mm/dd/yyyy form`},
		{"02/30/2023", Latest, finding.Warning, "is not a date in the mm/dd/yyyy form"},
		{"1/5/2024", Latest, finding.Warning, "is not in the mm/dd/yyyy form"},
		{"01/15/2024 ", Latest, finding.Warning, "is not in the mm/dd/yyyy form"},
		{"Jan 15 2024", Latest, finding.Warning, "is not in the mm/dd/yyyy form"},
		{"01-15-2024", Latest, finding.Warning, "is not in the mm/dd/yyyy form"},
	} {
		b := fullBuilder(t, tc.v)
		b.BIOS.ReleaseDate = tc.date
		in, err := b.Build(EntryPoint32)
		require.NoError(t, err, tc.date)
		fs := Lint(in, nil)
		var got []finding.Finding
		for _, f := range fs {
			if f.Code == CodeBIOSDate {
				got = append(got, f)
			}
		}
		if tc.msg == "" {
			assert.Empty(t, got, tc.date)
			continue
		}
		require.Len(t, got, 1, tc.date)
		assert.Equal(t, tc.sev, got[0].Severity, tc.date)
		assert.Contains(t, got[0].Message, tc.msg, tc.date)
		assert.Equal(t, "SMBIOS table", got[0].Table, tc.date)
		assert.Contains(t, got[0].Message, "(type 0, handle 0x", tc.date)
		assert.Contains(t, got[0].Message, "Release Date at structure offset 0x08", tc.date)
	}
	// The real dumps' dates all have the form.
	for _, name := range []string{"uroot_Lenovo-ThinkPad-T480.bin", "uroot_Synology-RS3614xsp.bin", "uroot_GigaByte-X399.bin", "uroot_VMWare.bin"} {
		assert.False(t, lintFixture(t, name).Has(CodeBIOSDate), name)
	}
}
