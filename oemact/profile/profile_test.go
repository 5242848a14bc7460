package profile

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/smbios"
)

func fixtures(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "fixtures")
}

// writeProfile writes a profile with a key file beside it and returns its path.
func writeProfile(t *testing.T, body string) string {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "oem.pem"), []byte("not read by Parse"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "SLIC"), []byte("x"), 0o600))
	p := filepath.Join(dir, "p.yaml")
	require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
	return p
}

const minimal = `name: m
acpi:
  oem_id: TSTOEM
  oem_table_id: TSTBOARD
markers:
  slic:
    key: oem.pem
`

// minimalNoFiles is a profile that names no file: it parses from bytes anywhere.
const minimalNoFiles = "name: m\nacpi: {oem_id: TSTOEM, oem_table_id: TSTBOARD}\n"

func TestDefaults(t *testing.T) {
	p, err := Load(writeProfile(t, minimal))
	require.NoError(t, err)
	// What a profile leaves out of its VM stays zero: the engine's default (harness/engine).
	bare, err := Parse([]byte("name: bare\nacpi: {oem_id: TSTOEM, oem_table_id: TSTBOARD}\nvm: {disks: [{serial: D0}]}\n"), "bare.yaml")
	require.NoError(t, err)
	assert.Equal(t, VM{Disks: []Disk{{Serial: "D0"}}}, bare.VM)
	assert.Equal(t, uint32(1), p.ACPI.OEMRevision)
	assert.Equal(t, "win7", p.Markers.SLIC.Release)
	assert.Equal(t, "TSTOEM", p.Markers.SLIC.MarkerOEMID)
	assert.Equal(t, "TSTBOARD", p.Markers.SLIC.MarkerOEMTableID)
	assert.True(t, p.SMBIOS.Empty(), "no smbios section: QEMU's own structures")
	assert.Equal(t, "", p.SMBIOS.Version)
	assert.Equal(t, filepath.Join(filepath.Dir(p.Path), "oem.pem"), p.Resolve(p.Markers.SLIC.Key))
}

func TestBundledProfiles(t *testing.T) {
	matches, err := filepath.Glob(filepath.Join(fixtures(t), "profiles", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, matches)
	for _, m := range matches {
		p, err := Load(m)
		if assert.NoError(t, err, m) {
			assert.NotEmpty(t, p.Name, m)
		}
	}
}

func TestErrorsNameFileAndLine(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"empty", "", "p.yaml: empty document"},
		{"syntax", "name: [", "p.yaml:1:"},
		{"unknown field", minimal + "colour: red\n", "p.yaml:8: colour: unknown field (fields here: acpi, description, markers, name, smbios, vm)"},
		{"wrong type", "name: m\nvm:\n  cpus: many\n", `p.yaml:3: vm.cpus: want a whole number, got "many"`},
		{"unknown system field", minimal + "smbios:\n  system:\n    manufacturer: X\n    colour: red\n", "p.yaml:11: smbios.system.colour: unknown field (fields here: family, manufacturer, product_name, serial_number, sku_number, uuid, version)"},
		{"typo", minimal + "smbios:\n  system:\n    serial_numbr: X\n", "p.yaml:10: smbios.system.serial_numbr: unknown field; did you mean serial_number?"},
		{"section as list", minimal + "smbios:\n  system: [a, b]\n", "p.yaml:9: smbios.system: want a mapping of fields (name: value), got a list"},
		{"list as mapping", minimal + "vm:\n  nics: {mac: 52:54:00:00:00:01}\n", "p.yaml:9: vm.nics: want a list, got a mapping"},
		{"item field type", minimal + "smbios:\n  processors:\n    - socket: CPU0\n      core_count: two\n", `p.yaml:11: smbios.processors.0.core_count: want a whole number, got "two"`},
		{"bool", minimal + "vm:\n  tpm: maybe\n", `p.yaml:9: vm.tpm: want true or false, got "maybe"`},
		{"unsigned", strings.Replace(minimal, "acpi:\n", "acpi:\n  oem_revision: -1\n", 1), `p.yaml:3: acpi.oem_revision: want a whole number from 0 to 4294967295, got "-1"`},
		{"text as list", minimal + "smbios:\n  oem_strings: [[a]]\n", "p.yaml:9: smbios.oem_strings.0: want text, got a list"},
		{"given twice", minimal + "vm:\n  cpus: 1\n  cpus: 2\n", "p.yaml:10: vm.cpus: given twice (first at line 9)"},
		{"chassis name", minimal + "smbios:\n  chassis:\n    type: spaceship\n", `p.yaml:10: smbios.chassis.type: spaceship is not a chassis type: want a name from the SMBIOS table`},
		{"no name", "acpi:\n  oem_id: X\n", "p.yaml:1: name: a profile needs a name"},
		{"long oem id", strings.Replace(minimal, "oem_id: TSTOEM", "oem_id: TSTOEMX", 1), "p.yaml:3: acpi.oem_id: \"TSTOEMX\" is 7 bytes, at most 6"},
		{"non-ascii table id", strings.Replace(minimal, "TSTBOARD", "TSTBÖRD", 1), "p.yaml:4: acpi.oem_table_id:"},
		{"slic version", minimal + "    version: \"2.x\"\n", "p.yaml:8: markers.slic.version: \"2.x\" is not a SLIC version"},
		{"slic key missing", strings.Replace(minimal, "oem.pem", "nope.pem", 1), "p.yaml:7: markers.slic.key: nope.pem: no such file or directory"},
		{"slic file and key", minimal + "    file: SLIC\n", "p.yaml:6: markers.slic: file is a table used as it is"},
		{"tamper", minimal + "    tamper: everything\n", "p.yaml:8: markers.slic.tamper: \"everything\": want signature or marker"},
		{"marker id", minimal + "    marker_oem_table_id: TOOLONGID\n", "p.yaml:8: markers.slic.marker_oem_table_id:"},
		{"msdm empty", minimal + "  msdm: {}\n", "p.yaml:8: markers.msdm: give file"},
		{"msdm both", minimal + "  msdm:\n    file: SLIC\n    key_label: x\n", "p.yaml:8: markers.msdm: give either file or key_label"},
		{"uuid", minimal + "smbios:\n  system:\n    uuid: 1234\n", "p.yaml:10: smbios.system.uuid: \"1234\" is not a UUID"},
		{"entry point", minimal + "smbios:\n  entry_point: \"16\"\n", "p.yaml:9: smbios.entry_point:"},
		{"smbios version", minimal + "smbios:\n  version: three\n", "p.yaml:9: smbios.version: \"three\": want MAJOR.MINOR"},
		{"chassis", minimal + "smbios:\n  chassis:\n    type: 300\n", `p.yaml:10: smbios.chassis.type: 300 is not a chassis type`},
		{"machine", minimal + "vm:\n  machine: microvm\n", "p.yaml:9: vm.machine: \"microvm\": want q35 or pc"},
		{"memory", minimal + "vm:\n  memory_mb: 16\n", "p.yaml:9: vm.memory_mb: 16"},
		{"mac", minimal + "vm:\n  nics:\n    - mac: 52:54:00\n", "p.yaml:10: vm.nics.0.mac: \"52:54:00\" is not a MAC"},
		{"multicast", minimal + "vm:\n  nics:\n    - mac: 01:54:00:00:00:01\n", "multicast"},
		{"dup mac", minimal + "vm:\n  nics:\n    - mac: 52:54:00:00:00:01\n    - mac: 52:54:00:00:00:01\n", "p.yaml:11: vm.nics.1.mac: 52:54:00:00:00:01 is also NIC 0's MAC"},
		{"disk serial", minimal + "vm:\n  disks:\n    - serial: \"has space\"\n", "p.yaml:10: vm.disks.0.serial:"},
		{"fractional cpus", minimal + "vm:\n  cpus: 1.5\n", "p.yaml:9: vm.cpus: 1.5 is not a whole number"},
		{"fractional memory", minimal + "vm:\n  memory_mb: 256.5\n", "p.yaml:9: vm.memory_mb: 256.5 is not a whole number"},
		{"fractional disk size", minimal + "vm:\n  disks:\n    - {serial: D1, size_mb: 1e3}\n", "p.yaml:10: vm.disks.0.size_mb: 1e3 is not a whole number"},
		{"unknown key label", minimal + "  msdm:\n    key_label: no-such-label\n", "p.yaml:9: markers.msdm.key_label: \"no-such-label\" is not a channel word"},
		{"key instead of label", minimal + "  msdm:\n    key_label: 9JJ67-K4W72-9DG28-GJ348-2QXYG\n", "p.yaml:9: markers.msdm.key_label: XXXXX-XXXXX-XXXXX-XXXXX-2QXYG is a product key"},
		{"thousands of NICs", minimal + "vm:\n  nics:\n" + manyNICs(4998), "p.yaml:9: vm.nics: 4998 NICs; a machine takes at most 8"},
		{"many disks", minimal + "vm:\n  disks:\n" + strings.Repeat("    - serial: D\n", 9), "p.yaml:9: vm.disks: 9 disks; a machine takes at most 8"},
	} {
		path := writeProfile(t, tc.body)
		_, err := Load(path)
		require.Error(t, err, tc.name)
		msg := strings.ReplaceAll(err.Error(), path, "p.yaml")
		assert.Contains(t, msg, tc.want, tc.name)
		assert.NotRegexp(t, `!!|\bin type\b|profile\.|\bint\b|\buint32\b|\bstruct\b`, msg, tc.name)
	}
}

// A chassis type is a number or its name in the SMBIOS table, in any case and with spaces, '-' or
// '_' between words; the synthesized type 3 structure carries the number.
func TestChassisTypeNames(t *testing.T) {
	for in, want := range map[string]smbios.ChassisType{
		"notebook": smbios.ChassisNotebook, "Desktop": smbios.ChassisDesktop, "10": smbios.ChassisNotebook,
		"rack-mount-chassis": smbios.ChassisRackMount, "\"Rack Mount Chassis\"": smbios.ChassisRackMount,
		"main_server_chassis": 0x11, "LAPTOP": smbios.ChassisLaptop, "0x1e": 0x1E, "convertible": 0x1F,
	} {
		p, err := Parse([]byte(minimalNoFiles+"smbios:\n  chassis:\n    type: "+in+"\n"), "p.yaml")
		require.NoError(t, err, in)
		assert.Equal(t, ChassisType(want), p.SMBIOS.Chassis.Type, in)
		tb, err := p.Synthesize()
		require.NoError(t, err, in)
		cs, err := tb.SMBIOS.Chassis()
		require.NoError(t, err, in)
		require.Len(t, cs, 1)
		assert.Equal(t, want, cs[0].Type(), in)
		c, err := p.Clone()
		require.NoError(t, err)
		assert.Equal(t, p.SMBIOS.Chassis.Type, c.SMBIOS.Chassis.Type, "a clone keeps the type")
	}
}

func TestParseSLICVersion(t *testing.T) {
	for in, want := range map[string]uint32{"2.0": 0x00020000, "2.1": 0x00020001, "2.3": 0x00020003, "0x00020001": 0x00020001, "0": 0} {
		v, err := ParseSLICVersion(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, v, in)
	}
	for _, bad := range []string{"", "2.", "x", "99999.1", "0x1ffffffff"} {
		_, err := ParseSLICVersion(bad)
		assert.Error(t, err, bad)
	}
}

func manyNICs(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "    - mac: 52:54:00:00:%02x:%02x\n", i>>8, i&0xff)
	}
	return b.String()
}
