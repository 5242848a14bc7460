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
