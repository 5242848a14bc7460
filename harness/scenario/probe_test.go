package scenario

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/oemact/licence"
)

// osImageScenario writes an OS image (raw: any bytes), a profile that boots it and one that boots
// the harness's kernel, and returns the folder and a scenario head with machine os (the image)
// and pc (the kernel).
func osImageScenario(t *testing.T) (string, string) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "os.img"), make([]byte, 64<<10), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "image.yaml"),
		[]byte("name: image\nacpi: {oem_id: TSTOEM, oem_table_id: TSTBOARD}\nvm:\n  boot: disk\n  disks: [{serial: OSDISK01, file: os.img}]\n"), 0o644))
	prof := filepath.Join(fixturesDir(), "profiles", "tstoem-desktop.yaml")
	return dir, "name: s\nmachines:\n  os:\n    profile: image.yaml\n  pc:\n    profile: " + prof + "\n    edition: win7-ultimate\n"
}

func TestProbeSteps(t *testing.T) {
	dir, head := osImageScenario(t)
	body := head + `steps:
  - probe: os
    expect:
      same_tables: true
      findings: [slic-missing]
      no_findings: [msdm-bad-checksum]
      identity: {system.serial_number: TST7100-000417, bios.version: TST1.0.4}
      license_status: OOBGrace
      channel: OEM_SLP
      partial_key: 7QW3D
      remaining_grace: 30d
  - probe: os
    id: kernel-release
    exec: [uname, -r]
    expect: {exec_output: '^6\.1\.'}
  - change: os
    board: ` + filepath.Join(fixturesDir(), "profiles", "othoem-board.yaml") + `
  - probe: os
    expect: {remaining_grace: 90m}
  - boot: pc
`
	path := filepath.Join(dir, "s.yaml")
	require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
	sc, err := Load(path)
	require.NoError(t, err)
	assert.True(t, sc.BootsImage())
	assert.True(t, sc.Machines[0].BootsImage())
	assert.False(t, sc.Machines[1].BootsImage())
	assert.Empty(t, sc.Machines[0].Edition.ID, "an image's machine needs no edition")
	assert.True(t, Probe.Boots())

	e := sc.Steps[0].Expect
	assert.Equal(t, "probe os", sc.Steps[0].Describe())
	assert.True(t, *e.SameTables)
	assert.Equal(t, map[string]string{"system.serial_number": "TST7100-000417", "bios.version": "TST1.0.4"}, e.Identity)
	assert.Equal(t, licence.OOBGrace, *e.LicenseStatus)
	assert.Equal(t, "OEM_SLP", *e.Channel)
	assert.Equal(t, "7QW3D", *e.PartialKey)
	assert.Equal(t, 30*24*time.Hour, *e.RemainingGrace)
	assert.True(t, WholeDays(*e.RemainingGrace))
	assert.False(t, WholeDays(*sc.Steps[3].Expect.RemainingGrace))

	st := sc.Steps[1]
	assert.Equal(t, []string{"uname", "-r"}, st.Exec)
	assert.Equal(t, "probe os: uname -r", st.Describe())
	assert.True(t, st.Expect.ExecOutput.MatchString("6.1.0-57-cloud-amd64\n"))
	assert.Equal(t, []string{"probe os", "kernel-release", "change os", "probe os #2", "boot pc"}, sc.StepNames())
}

func TestProbeErrors(t *testing.T) {
	dir, head := osImageScenario(t)
	for _, tc := range []struct{ name, body, want string }{
		{"probe a kernel machine", head + "steps:\n  - probe: pc\n", "s.yaml:9: steps.0.probe: machine pc boots the harness's kernel: a probe step needs a machine whose profile boots an OS image (vm.boot: disk or cdrom)"},
		{"boot an image", head + "steps:\n  - activate: os\n", "s.yaml:9: steps.0.activate: machine os boots an OS image (vm.boot: disk): probe it; boot, activate, rearm, install_key steps run the harness's agent"},
		{"image key", strings.Replace(head, "    profile: image.yaml\n", "    profile: image.yaml\n    edition: win7-ultimate\n    key: retail/win7-ultimate\n", 1) + "steps:\n  - probe: os\n",
			"s.yaml:6: machines.os.key: machine os boots an OS image (vm.boot: disk), which has its own: key is for the harness's agent"},
		{"image certificate", strings.Replace(head, "    profile: image.yaml\n", "    profile: image.yaml\n    certificate: built-in:TSTOEM\n", 1) + "steps:\n  - probe: os\n",
			"s.yaml:5: machines.os.certificate: machine os boots an OS image (vm.boot: disk), which has its own: certificate is for the harness's agent"},
		{"image ip", strings.Replace(head, "    profile: image.yaml\n", "    profile: image.yaml\n    ip: not-an-ip\n", 1) + "steps:\n  - probe: os\n",
			"s.yaml:5: machines.os.ip: machine os boots an OS image (vm.boot: disk), which has its own: ip is for the harness's agent"},
		{"image licence", strings.Replace(head, "    profile: image.yaml\n", "    profile: image.yaml\n    licence: {nonsense_field: 1}\n", 1) + "steps:\n  - probe: os\n",
			"s.yaml:5: machines.os.licence: machine os boots an OS image (vm.boot: disk), which has its own: licence is for the harness's agent"},
		{"image edition", strings.Replace(head, "    profile: image.yaml\n", "    profile: image.yaml\n    edition: win99\n", 1) + "steps:\n  - probe: os\n", "s.yaml:5: machines.os.edition: unknown edition"},
		{"image in a proxy batch", head + "steps:\n  - activate: pc\n    method: proxy\n    with: [os]\n", "s.yaml:11: steps.0.with: machine os boots an OS image (vm.boot: disk): probe it"},
		{"exec on a boot", head + "steps:\n  - boot: pc\n    exec: [ls]\n", "s.yaml:10: steps.0.exec: exec does not apply to a boot step"},
		{"empty exec", head + "steps:\n  - probe: os\n    exec: []\n", "s.yaml:10: steps.0.exec: give the program and its arguments"},
		{"exec as text", head + "steps:\n  - probe: os\n    exec: uname -r\n", "s.yaml:10: steps.0.exec: want a list, got text"},
		{"long exec", head + "steps:\n  - probe: os\n    exec: [" + strings.Repeat("a,", 300) + "a]\n", "steps.0.exec: 301 words; a command takes at most 256"},
		{"output without exec", head + "steps:\n  - probe: os\n    expect: {exec_output: x}\n", "s.yaml:10: steps.0.expect.exec_output: exec_output checks the output of the step's command"},
		{"bad regexp", head + "steps:\n  - probe: os\n    exec: [ls]\n    expect: {exec_output: '('}\n", "s.yaml:11: steps.0.expect.exec_output: not a regular expression"},
		{"identity key", head + "steps:\n  - probe: os\n    expect:\n      identity: {system.colour: red}\n", "s.yaml:11: steps.0.expect.identity.system.colour:"},
		{"status on a probe", head + "steps:\n  - probe: os\n    expect: {status: Licensed}\n", "s.yaml:10: steps.0.expect.status: status does not apply to a probe step, which reads what the OS saw (findings, no_findings, same_tables, identity, license_status, channel, partial_key, remaining_grace, exec_output)"},
		{"identity on a boot", head + "steps:\n  - boot: pc\n    expect: {identity: {system.serial_number: X}}\n", "s.yaml:10: steps.0.expect.identity: identity applies to probe steps, which read what an OS booted from its image saw; a boot step boots the harness's agent"},
		{"identity on a check", head + "steps:\n  - check: true\n    expect: {identity: {system.serial_number: X}}\n", "s.yaml:10: steps.0.expect: a check step checks the service only (kms_count, mak_remaining); the rest needs a boot"},
		{"license status", head + "steps:\n  - probe: os\n    expect: {license_status: Genuine}\n", "s.yaml:10: steps.0.expect.license_status: unknown licence status"},
		{"channel", head + "steps:\n  - probe: os\n    expect: {channel: oem slp}\n", `s.yaml:10: steps.0.expect.channel: "oem slp": want a licence channel as slmgr names it`},
		{"partial key", head + "steps:\n  - probe: os\n    expect: {partial_key: MRMHK-4HF24-7XCT7-TC7CJ-JPPKC}\n", "s.yaml:10: steps.0.expect.partial_key: want the last five characters of the key"},
		{"remaining grace", head + "steps:\n  - probe: os\n    expect: {remaining_grace: soon}\n", `s.yaml:10: steps.0.expect.remaining_grace: "soon": want a duration such as 30d`},
	} {
		path := filepath.Join(dir, "s.yaml")
		require.NoError(t, os.WriteFile(path, []byte(tc.body), 0o644))
		_, err := Load(path)
		require.Error(t, err, tc.name)
		msg := strings.ReplaceAll(err.Error(), path, "s.yaml")
		assert.Contains(t, msg, tc.want, tc.name)
		assert.NotContains(t, msg, "JPPKC", "%s: a product key is never quoted", tc.name)
		assert.NotRegexp(t, `!!|\bin type\b|scenario\.|\bint\b|\bstruct\b|\*bool`, msg, tc.name)
	}
}
