package profile

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
	"github.com/oemact/oemact/smbios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A captured folder loads and synthesizes unchanged, and its tables are the real bytes.
func TestCaptureFromFixtures(t *testing.T) {
	machine := filepath.Join(fixtures(t), "acpi", "toshiba-satellite-c70d-b")
	dump := filepath.Join(fixtures(t), "smbios", "uroot_Lenovo-ThinkPad-T480.bin")
	dir := t.TempDir()
	c, err := CaptureTo(dir, CaptureOptions{ACPI: []string{machine}, SMBIOS: dump, Name: "toshiba", Now: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	for _, sig := range []string{"SLIC", "MSDM", "FACP", "RSDT", "XSDT"} {
		assert.Equal(t, mustRead(t, filepath.Join(machine, sig)), mustRead(t, filepath.Join(dir, sig)), sig)
	}
	p, err := Load(c.Profile)
	require.NoError(t, err)
	assert.Equal(t, "toshiba", p.Name)
	assert.Equal(t, "captured from "+machine+" on 2026-01-02", p.Description)
	assert.Equal(t, "TOSINV", p.ACPI.OEMID)
	assert.Equal(t, "TOSINV00", p.ACPI.OEMTableID)
	tables, err := p.Synthesize()
	require.NoError(t, err)
	assert.Equal(t, mustRead(t, filepath.Join(machine, "SLIC")), tables.SLIC)
	assert.Equal(t, mustRead(t, filepath.Join(machine, "MSDM")), tables.MSDM)
	// The SMBIOS dump is copied as dmidecode --dump-bin wrote it.
	assert.Equal(t, mustRead(t, dump), mustRead(t, filepath.Join(dir, "smbios.bin")))
	orig, err := smbios.Read(dump)
	require.NoError(t, err)
	assert.Equal(t, orig.Identity(), tables.SMBIOS.Identity())
	assert.Empty(t, c.Notes)
}

func TestCaptureNotesWhatIsMissing(t *testing.T) {
	dir := t.TempDir()
	c, err := CaptureTo(dir, CaptureOptions{
		ACPI:   []string{filepath.Join(fixtures(t), "acpi", "dell-poweredge-r820")},
		SMBIOS: filepath.Join(t.TempDir(), "none.bin"),
	})
	require.NoError(t, err)
	assert.Contains(t, c.Notes, "no MSDM table in "+filepath.Join(fixtures(t), "acpi", "dell-poweredge-r820"))
	assert.Contains(t, c.Notes[len(c.Notes)-1], "SMBIOS not captured")
	// The truncated SLIC (36-byte header only) is still a whole table by its own length field,
	// so it is copied as it is; the FADT gives the platform IDs.
	_, err = os.Stat(filepath.Join(dir, "SLIC"))
	assert.NoError(t, err)
	p, err := Load(c.Profile)
	require.NoError(t, err)
	assert.True(t, p.SMBIOS.Empty())
	assert.NotEmpty(t, p.ACPI.OEMID)
}

// On the live machine, capture reads what there is and says what is not there.
func TestCaptureLive(t *testing.T) {
	if _, err := os.Stat("/sys/firmware/acpi/tables"); err != nil {
		t.Skip("this machine exposes no ACPI tables")
	}
	if os.Geteuid() != 0 {
		t.Skip("reading the live ACPI tables needs root")
	}
	c, err := CaptureTo(t.TempDir(), CaptureOptions{})
	require.NoError(t, err)
	_, err = Load(c.Profile)
	require.NoError(t, err)
}

// The markers of a coreboot ROM built with cbfstool (tstoem-oa3's TEST SLIC raw, its MSDM
// LZMA-compressed) are captured into the folder fixtures/profiles/coreboot-rom holds, byte for
// byte, and that profile synthesizes the same tables.
func TestCaptureFromImage(t *testing.T) {
	cbfstool := hosttooltest.Require(t, "cbfstool")
	p, err := Load(filepath.Join(fixtures(t), "profiles", "tstoem-oa3.yaml"))
	require.NoError(t, err)
	tables, err := p.Synthesize()
	require.NoError(t, err)
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "SLIC"), tables.SLIC, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(src, "MSDM"), tables.MSDM, 0o644))
	rom := filepath.Join(src, "rom.bin")
	for _, args := range [][]string{
		{"create", "-m", "x86", "-s", "0x100000"},
		{"add", "-f", "SLIC", "-n", "slic", "-t", "raw"},
		{"add", "-f", "MSDM", "-n", "msdm", "-t", "raw", "-c", "lzma"},
	} {
		cmd := exec.Command(cbfstool, append([]string{rom}, args...)...)
		cmd.Dir = src
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "cbfstool %v: %s", args, out)
	}

	dir := t.TempDir()
	c, err := CaptureTo(dir, CaptureOptions{Image: rom, Name: "coreboot-rom", Now: time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	want := filepath.Join(fixtures(t), "profiles", "coreboot-rom")
	for _, f := range []string{"profile.yaml", "SLIC", "MSDM"} {
		assert.Equal(t, string(mustRead(t, filepath.Join(want, f))), string(mustRead(t, filepath.Join(dir, f))), f)
	}
	assert.Contains(t, c.Notes, "SLIC copied from "+rom+": CBFS/slic, file offset 0x20")
	assert.Contains(t, c.Notes[len(c.Notes)-1], "no SMBIOS: a firmware image holds none at rest")
	fixture, err := Load(filepath.Join(want, "profile.yaml"))
	require.NoError(t, err)
	again, err := fixture.Synthesize()
	require.NoError(t, err)
	assert.Equal(t, tables.SLIC, again.SLIC)
	assert.Equal(t, tables.MSDM, again.MSDM)

	_, err = CaptureTo(t.TempDir(), CaptureOptions{Image: rom, ACPI: []string{src}})
	assert.ErrorContains(t, err, "a firmware image and ACPI tables were both given")
	_, err = CaptureTo(t.TempDir(), CaptureOptions{Image: filepath.Join(src, "SLIC")})
	assert.ErrorContains(t, err, "is not a firmware image but ACPI table SLIC")
}
