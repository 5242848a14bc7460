package runner

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/guestprobe"
	"github.com/oemact/oemact/harness/internal/harnesstest"
	"github.com/oemact/oemact/harness/qga"
	"github.com/oemact/oemact/harness/scenario"
	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/licence"
	"github.com/oemact/oemact/oemact/profile"
)

// probeMachine is the TEST desktop profile with an MSDM, synthesized, as a probe step's machine.
func probeMachine(t *testing.T, firmware string) *machine {
	t.Helper()
	p, err := profile.Load(filepath.Join(harnesstest.RepoRoot(), "fixtures", "profiles", "tstoem-desktop.yaml"))
	require.NoError(t, err)
	p.Markers.MSDM = &profile.MSDM{KeyLabel: "oem-dm/win8-pro"}
	p.VM.Firmware = firmware
	tables, err := p.Synthesize()
	require.NoError(t, err)
	ed, err := edition.Lookup("win7-professional")
	require.NoError(t, err)
	return &machine{def: &scenario.Machine{Name: "os", Profile: p, Edition: ed}, firmware: p, vm: p.VM, tables: tables}
}

// linuxSaw is what a Linux guest reads of a machine that shows the tables it was given.
func linuxSaw(t *testing.T, m *machine) *seen {
	t.Helper()
	ep, table, err := m.tables.SMBIOS.SysfsFiles()
	require.NoError(t, err)
	facp, err := os.ReadFile(filepath.Join(harnesstest.RepoRoot(), "fixtures", "acpi", "dell-inspiron-14-3462", "FACP"))
	require.NoError(t, err)
	return &seen{os: &qga.OSInfo{ID: "debian", PrettyName: "Debian GNU/Linux 12 (bookworm)", KernelRelease: "6.1.0-57-cloud-amd64"},
		tables: &guestprobe.Tables{Source: "linux sysfs", SMBIOSEntryPoint: ep, SMBIOSTable: table,
			ACPI: map[string][]byte{"SLIC": m.tables.SLIC, "MSDM": m.tables.MSDM, "FACP": facp}}}
}

func failed(cs []Check) []string {
	var out []string
	for _, c := range cs {
		if !c.OK {
			out = append(out, c.Name+": want "+c.Want+", got "+c.Got)
		}
	}
	return out
}

func TestProbeChecksLinux(t *testing.T) {
	m := probeMachine(t, "seabios")
	g := linuxSaw(t, m)
	s := &scenario.Step{Kind: scenario.Probe, Exec: []string{"uname", "-r"}, Expect: &scenario.Expect{
		Findings:   []string{"slic-marker-fadt-mismatch", "slic-no-root-table"},
		NoFindings: []string{"slic-signature", "msdm-key-format"},
		Identity:   map[string]string{"system.serial_number": "TST7100-000417", "baseboard.product_name": "TSTBOARD-71"},
		ExecOutput: regexp.MustCompile(`^6\.1\.`)}}
	g.exec = &qga.ExecStatus{Exited: true, Stdout: []byte("6.1.0-57-cloud-amd64\n")}
	p, cs := (&scenarioRun{}).probeChecks(m, s, g)
	assert.Empty(t, failed(cs))
	assert.Equal(t, "the OS sees the synthesized tables", cs[0].Name)
	assert.Equal(t, "Debian GNU/Linux 12 (bookworm)", p.OS)
	assert.Equal(t, []string{"FACP 276 bytes", "MSDM 85 bytes", "SLIC 374 bytes"}, p.Tables)
	assert.Equal(t, "TST7100-000417", p.Identity["system.serial_number"])
	assert.Equal(t, &Exec{Command: []string{"uname", "-r"}, Stdout: "6.1.0-57-cloud-amd64\n"}, p.Exec)
	assert.Nil(t, p.Licence)

	// What the OS saw differs: a SLIC byte, the board's serial; the command failed and printed
	// something else.
	slic := append([]byte(nil), m.tables.SLIC...)
	slic[0x100] ^= 1 // in the marker signature
	g.tables.ACPI["SLIC"] = slic
	info, err := g.tables.SMBIOS()
	require.NoError(t, err)
	require.NoError(t, info.SetIdentity("baseboard.product_name", "OTHERBOARD"))
	g.tables.SMBIOSEntryPoint, g.tables.SMBIOSTable, err = info.SysfsFiles()
	require.NoError(t, err)
	g.exec = &qga.ExecStatus{Exited: true, ExitCode: 2, Stdout: []byte("5.10\n"), Stderr: []byte("uname: oops\n")}
	_, cs = (&scenarioRun{}).probeChecks(m, s, g)
	got := failed(cs)
	require.Len(t, got, 5, strings.Join(got, "\n"))
	assert.Contains(t, got[0], "the OS sees the synthesized tables: want same, got SLIC: the OS's copy differs: 374 bytes given, 374 seen; 1 of the first 374 bytes differ, the first at offset 0x100")
	assert.Contains(t, got[0], "SMBIOS type 2 handle 0x0002: the OS's copy differs")
	assert.Contains(t, got, "finding slic-signature: want absent, got present")
	assert.Contains(t, got, "SMBIOS baseboard.product_name: want TSTBOARD-71, got OTHERBOARD")
	assert.Contains(t, got, "exec uname -r: want exit status 0, got exit status 2: uname: oops")
	assert.Contains(t, got, `exec uname -r: output: want matches ^6\.1\., got 5.10`)

	// findings: [] means there must be none, on a probe step as on a boot step.
	s.Expect = &scenario.Expect{Findings: []string{}}
	_, cs = (&scenarioRun{}).probeChecks(m, s, linuxSaw(t, m))
	assert.Equal(t, []string{"findings: want none, got acpi-id-nul-padded, slic-marker-fadt-mismatch, slic-no-root-table, smbios-table-address"}, failed(cs))

	// Windows licence fields on a Linux guest fail, saying why.
	st := licence.Licensed
	s.Expect = &scenario.Expect{LicenseStatus: &st}
	_, cs = (&scenarioRun{}).probeChecks(m, s, linuxSaw(t, m))
	assert.Equal(t, []string{"licence status: want Licensed, got no Windows licence: the guest runs debian"}, failed(cs))
}

// A Windows guest: its tables come from GetSystemFirmwareTable (the RSMB blob), its licence from
// slmgr /dlv, here a published sample.
func TestProbeChecksWindows(t *testing.T) {
	m := probeMachine(t, "ovmf")
	rsmb, err := m.tables.SMBIOS.RSMBBlob()
	require.NoError(t, err)
	out, err := os.ReadFile(filepath.Join(harnesstest.RepoRoot(), "harness", "guestprobe", "testdata", "slmgr", "checkmk-win7-timebased-eval.txt"))
	require.NoError(t, err)
	lic, err := guestprobe.ParseSlmgr(out)
	require.NoError(t, err)
	g := &seen{os: &qga.OSInfo{ID: "mswindows", PrettyName: "Windows 7 Enterprise"}, licence: lic,
		tables: &guestprobe.Tables{Source: "windows GetSystemFirmwareTable", RSMB: rsmb,
			ACPI: map[string][]byte{"SLIC": m.tables.SLIC, "MSDM": m.tables.MSDM}}}
	st, channel, key := licence.OOBGrace, "TIMEBASED_EVAL", "JCDDG"
	days, minutes := 9*24*time.Hour, 12960*time.Minute
	s := &scenario.Step{Kind: scenario.Probe, Expect: &scenario.Expect{LicenseStatus: &st, Channel: &channel, PartialKey: &key,
		RemainingGrace: &days, Identity: map[string]string{"system.uuid": "7d3f1a62-5c0e-4b7e-9a51-2f8e6c4d0b17"}}}
	p, cs := (&scenarioRun{}).probeChecks(m, s, g)
	assert.Empty(t, failed(cs))
	assert.Equal(t, lic, p.Licence)
	s.Expect = &scenario.Expect{RemainingGrace: &minutes}
	_, cs = (&scenarioRun{}).probeChecks(m, s, g)
	assert.Empty(t, failed(cs))

	other, wrongDays := "OEM_SLP", 10*24*time.Hour
	s.Expect = &scenario.Expect{Channel: &other, RemainingGrace: &wrongDays}
	_, cs = (&scenarioRun{}).probeChecks(m, s, g)
	assert.Equal(t, []string{"licence channel: want OEM_SLP, got TIMEBASED_EVAL", "remaining grace (days): want 10, got 9"}, failed(cs))
}

// Probes of an OS image run in the machine still running while nothing changes; a change or a
// shutdown between them boots the OS again.
func TestProbeRounds(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "os.img"), make([]byte, 64<<10), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "p.yaml"),
		[]byte("name: p\nacpi: {oem_id: TSTOEM, oem_table_id: TSTBOARD}\nvm:\n  boot: disk\n  disks: [{file: os.img}]\n"), 0o644))
	sc, err := scenario.Parse([]byte(`name: s
machines:
  os: {profile: p.yaml}
steps:
  - probe: os
  - advance: 1d
  - probe: os
  - shutdown: os
  - probe: os
  - change: os
    smbios: {system.serial_number: X}
  - probe: os
`), filepath.Join(dir, "s.yaml"))
	require.NoError(t, err)
	rp := planRounds(sc, false)
	k := func(i int) roundKey { return roundKey{i, "os"} }
	assert.True(t, rp.resumes[k(2)], "nothing but the clock changed")
	assert.True(t, rp.stays[k(0)])
	assert.False(t, rp.resumes[k(4)], "after a shutdown the OS boots again")
	assert.False(t, rp.stays[k(2)])
	assert.False(t, rp.resumes[k(6)], "after a change the OS boots again")
	assert.Equal(t, 3, rp.boots["os"])
}
