package smbios

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/oemact/oemact/firmware/finding"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A real table stripped of its entry point reads as a bare table with a version guess that
// keeps the decode identical (the UUID byte order in particular).
func TestBareCopiesOfRealDumps(t *testing.T) {
	wantGuess := map[string]Version{
		"uroot_VMWare.bin":               {2, 7, 0},
		"uroot_Synology-RS3614xsp.bin":   {2, 7, 0},
		"uroot_Lenovo-ThinkPad-T480.bin": {3, 0, 0},
		"uroot_GigaByte-X399.bin":        {3, 1, 0},
	}
	for name, guess := range wantGuess {
		t.Run(name, func(t *testing.T) {
			full, err := Read(fixturePath(t, name))
			require.NoError(t, err)
			table, err := full.Table.Bytes()
			require.NoError(t, err)
			bare, err := Decode(table)
			require.NoError(t, err)
			assert.Equal(t, FormatBare, bare.Format)
			assert.True(t, bare.VersionGuessed)
			assert.Equal(t, guess, bare.Version)
			assert.Equal(t, full.Identity(), bare.Identity())
		})
	}
}

func TestReadSaysWhatItFound(t *testing.T) {
	in, err := Read(fixturePath(t, "uroot_Lenovo-ThinkPad-T480.bin"))
	require.NoError(t, err)
	assert.Equal(t, "dump-bin", in.Format.String())
	assert.Equal(t, EntryPoint64, in.EntryPoint.Kind)
	assert.Equal(t, int64(DumpBinTableOffset), in.TableOffset)

	_, err = Read(filepath.Join(t.TempDir(), "missing"))
	assert.ErrorContains(t, err, "no such file")

	dir := t.TempDir()
	_, err = Read(dir)
	assert.ErrorContains(t, err, SysfsEntryPointFile, "an empty folder: say which file is missing")

	big := filepath.Join(dir, "big.bin")
	require.NoError(t, os.WriteFile(big, make([]byte, MaxInputSize+1), 0o644))
	_, err = Read(big)
	assert.ErrorContains(t, err, "too large")
}

// SMBIOS 2.1 said the _SM_ entry point is 0x1e bytes; firmware that followed it is read, and lint
// explains rather than fails.
func TestEntryPointLength21Erratum(t *testing.T) {
	b := fullBuilder(t, Version{2, 1, 0})
	in, err := b.Build(EntryPoint32)
	require.NoError(t, err)
	in.EntryPoint.Length = 0x1E
	dump, err := in.DumpBin()
	require.NoError(t, err)
	back, err := Decode(dump)
	require.NoError(t, err)
	assert.Equal(t, uint8(0x1E), back.EntryPoint.Length)
	fs := Lint(back, nil)
	require.True(t, fs.Has(CodeEntryPointLength))
	for _, f := range fs {
		if f.Code == CodeEntryPointLength {
			assert.Equal(t, finding.Info, f.Severity)
		}
	}
	checkDmidecodeReads(t, back, "")
}

func TestVersionParsing(t *testing.T) {
	for s, want := range map[string]Version{"2.7": {2, 7, 0}, "3.1.1": {3, 1, 1}, " 3.0 ": {3, 0, 0}} {
		v, err := ParseVersion(s)
		require.NoError(t, err, s)
		assert.Equal(t, want, v)
	}
	for _, s := range []string{"", "3", "1.0", "4.0", "3.x", "3.1.1.1", "3.256"} {
		_, err := ParseVersion(s)
		assert.Error(t, err, s)
	}
	assert.Equal(t, Version{2, 3, 0}, Version{2, 0x1F, 0}.Effective(), "2.31 is read as 2.3")
	assert.Equal(t, Version{2, 6, 0}, Version{2, 0x33, 0}.Effective(), "2.33 is read as 2.6")
	assert.Equal(t, "3.1.1", Version{3, 1, 1}.String())
}

func TestUUIDAndChassisParsing(t *testing.T) {
	u, err := ParseUUID("4C4C4544-0042-3510-8052-B4C04F4E3432")
	require.NoError(t, err)
	assert.Equal(t, "4c4c4544-0042-3510-8052-b4c04f4e3432", u.String())
	// SMBIOS 2.6+ stores the first three fields little-endian.
	w := u.wire(Version{2, 6, 0})
	assert.Equal(t, []byte{0x44, 0x45, 0x4c, 0x4c, 0x42, 0x00, 0x10, 0x35}, w[:8])
	assert.Equal(t, u, u.wire(Version{2, 5, 0}))
	_, err = ParseUUID("not-a-uuid")
	assert.Error(t, err)

	for s, want := range map[string]ChassisType{"Notebook": ChassisNotebook, "rack mount chassis": ChassisRackMount, "3": ChassisDesktop} {
		c, err := ParseChassisType(s)
		require.NoError(t, err, s)
		assert.Equal(t, want, c)
	}
	_, err = ParseChassisType("Spaceship")
	assert.Error(t, err)
}
