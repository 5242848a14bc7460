package profile

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/firmware/productkey"
	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
	"github.com/oemact/oemact/smbios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func defaultProfile(t *testing.T) *Profile {
	p, err := Load(filepath.Join(fixtures(t), "profiles", "tstoem-desktop.yaml"))
	require.NoError(t, err)
	return p
}

// variant loads an edited copy of the default profile from a temporary folder; the copy's
// "../" paths are made absolute so they still reach fixtures/.
func variant(t *testing.T, edit func(string) string) *Profile {
	b, err := os.ReadFile(filepath.Join(fixtures(t), "profiles", "tstoem-desktop.yaml"))
	require.NoError(t, err)
	y := strings.ReplaceAll(edit(string(b)), "../", fixtures(t)+"/")
	path := filepath.Join(t.TempDir(), "variant.yaml")
	require.NoError(t, os.WriteFile(path, []byte(y), 0o600))
	p, err := Load(path)
	require.NoError(t, err)
	return p
}

func TestSynthesizeDefaultProfile(t *testing.T) {
	p := defaultProfile(t)
	tables, err := p.Synthesize()
	require.NoError(t, err)

	s, err := firmware.DecodeSLIC(tables.SLIC)
	require.NoError(t, err)
	require.NoError(t, s.VerifyMarker(), "the synthesized marker must verify with its own key")
	assert.Equal(t, "TSTOEM", strings.TrimRight(string(s.Header.OEMID[:]), " "))
	assert.Equal(t, "TSTBOARD", string(s.Header.OEMTableID[:]))
	assert.Equal(t, "TSTOEM", strings.TrimRight(string(s.Marker.OEMID[:]), " "))
	assert.Equal(t, uint32(0x00020001), s.Marker.SLICVersion)
	assert.True(t, firmware.ChecksumOK(tables.SLIC))
	assert.Nil(t, tables.MSDM)

	sys, err := tables.SMBIOS.System()
	require.NoError(t, err)
	assert.Equal(t, "TST7100-000417", sys.SerialNumber)
	assert.Equal(t, "7d3f1a62-5c0e-4b7e-9a51-2f8e6c4d0b17", sys.UUID.String())
	ch, err := tables.SMBIOS.Chassis()
	require.NoError(t, err)
	require.Len(t, ch, 1)
	assert.Equal(t, uint8(3), ch[0].TypeAndLock&0x7f)
	mem, err := tables.SMBIOS.MemoryDevices()
	require.NoError(t, err)
	require.Len(t, mem, 1)
	assert.Equal(t, uint64(256<<20), mem[0].SizeBytes())
	assert.Equal(t, "DDR3", mem[0].TypeName())

	// Synthesis is deterministic: PKCS#1 v1.5 signatures and the encoders have no randomness.
	again, err := p.Synthesize()
	require.NoError(t, err)
	assert.Equal(t, tables.SLIC, again.SLIC)
}

func TestSynthesizeVariants(t *testing.T) {
	slicLine := "    release: win7\n"
	for _, tc := range []struct {
		name    string
		extra   string
		verify  bool
		version uint32
		check   func(t *testing.T, s *firmware.SLIC)
	}{
		{"marker 2.0", "    version: \"2.0\"\n", true, 0x00020000, nil},
		{"release vista", "", true, 0x00020000, nil},
		{"tampered signature", "    tamper: signature\n", false, 0x00020001, nil},
		{"tampered marker", "    tamper: marker\n", false, 0x00020001, nil},
		{"insyde-style IDs", "    marker_oem_id: INSYDE\n    marker_oem_table_id: INSYDE00\n", true, 0x00020001, func(t *testing.T, s *firmware.SLIC) {
			assert.Equal(t, "INSYDE", string(s.Marker.OEMID[:]))
			assert.Equal(t, "TSTOEM", strings.TrimRight(string(s.Header.OEMID[:]), " "))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := variant(t, func(y string) string {
				if tc.name == "release vista" {
					return strings.Replace(y, slicLine, "    release: vista\n", 1)
				}
				return strings.Replace(y, slicLine, slicLine+tc.extra, 1)
			})
			tables, err := p.Synthesize()
			require.NoError(t, err)
			s, err := firmware.DecodeSLIC(tables.SLIC)
			require.NoError(t, err)
			assert.True(t, firmware.ChecksumOK(tables.SLIC), "checksum fixed after tampering")
			assert.Equal(t, tc.version, s.Marker.SLICVersion)
			if tc.verify {
				assert.NoError(t, s.VerifyMarker())
			} else {
				assert.ErrorIs(t, s.VerifyMarker(), firmware.ErrMarkerSignature)
			}
			if tc.check != nil {
				tc.check(t, s)
			}
		})
	}
}

func TestSynthesizeMSDMAndCapturedTables(t *testing.T) {
	real := filepath.Join(fixtures(t), "acpi", "dell-inspiron-14-3462")
	p := variant(t, func(y string) string {
		y = strings.Replace(y, "    key: ../keys/oem-TSTOEM.pem\n    release: win7\n",
			"    file: ../acpi/dell-inspiron-14-3462/SLIC\n  msdm:\n    key_label: oem-dm/win8-pro\n", 1)
		return y
	})
	tables, err := p.Synthesize()
	require.NoError(t, err)
	want, err := os.ReadFile(filepath.Join(real, "SLIC"))
	require.NoError(t, err)
	assert.Equal(t, want, tables.SLIC, "a captured SLIC is used byte for byte")
	m, err := firmware.DecodeMSDM(tables.MSDM)
	require.NoError(t, err)
	assert.Equal(t, productkey.Derive("oem-dm/win8-pro").Reveal(), m.Key())
	assert.Equal(t, productkey.Derive("oem-dm/win8-pro"), tables.MSDMKey)
}

func TestSynthesizeFromCapturedSMBIOS(t *testing.T) {
	p := variant(t, func(y string) string {
		i := strings.Index(y, "smbios:\n")
		j := strings.Index(y, "vm:\n")
		return y[:i] + "smbios:\n  file: ../smbios/uroot_Lenovo-ThinkPad-T480.bin\n  system:\n    serial_number: TEST-SERIAL-9\n" + y[j:]
	})
	tables, err := p.Synthesize()
	require.NoError(t, err)
	orig, err := smbios.Read(filepath.Join(fixtures(t), "smbios", "uroot_Lenovo-ThinkPad-T480.bin"))
	require.NoError(t, err)
	sys, err := tables.SMBIOS.System()
	require.NoError(t, err)
	osys, err := orig.System()
	require.NoError(t, err)
	assert.Equal(t, "TEST-SERIAL-9", sys.SerialNumber)
	assert.Equal(t, osys.Manufacturer, sys.Manufacturer, "fields the profile leaves alone keep the captured values")
	assert.Equal(t, osys.UUID, sys.UUID)
	assert.Equal(t, len(orig.Structures), len(tables.SMBIOS.Structures))
}

func TestSynthesizeErrors(t *testing.T) {
	dir := t.TempDir()
	// A PEM key without oemact's TEST label is refused.
	plain := filepath.Join(dir, "plain.pem")
	key, err := os.ReadFile(filepath.Join(fixtures(t), "keys", "oem-TSTOEM.pem"))
	require.NoError(t, err)
	i := bytes.Index(key, []byte("-----BEGIN"))
	require.NoError(t, os.WriteFile(plain, key[i:], 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notslic"), mustRead(t, filepath.Join(fixtures(t), "acpi", "dell-inspiron-14-3462", "MSDM")), 0o600))
	for _, tc := range []struct{ body, want string }{
		{"name: x\nacpi: {oem_id: TSTOEM, oem_table_id: TSTBOARD}\nmarkers:\n  slic:\n    key: plain.pem\n", "p.yaml:5: markers.slic.key: plain.pem is not labelled as an oemact TEST key"},
		{"name: x\nmarkers:\n  slic:\n    file: notslic\n", "p.yaml:4: markers.slic.file: notslic holds a \"MSDM\" table, not SLIC"},
		{"name: x\nacpi: {oem_id: TSTOEM, oem_table_id: TSTBOARD}\nmarkers:\n  slic:\n    key: plain.pem\n    release: win8\n", "markers.slic"},
		{"name: x\nsmbios:\n  memory_devices:\n    - size_mb: 256\n      type: DDR9\n", "p.yaml:5: smbios.memory_devices.0.type: \"DDR9\" is not an SMBIOS memory type name"},
		{"name: x\nsmbios:\n  version: \"2.8\"\n  entry_point: \"64\"\n", "p.yaml:2: smbios: smbios: a _SM3_ entry point needs SMBIOS 3.0"},
	} {
		path := filepath.Join(dir, "p.yaml")
		require.NoError(t, os.WriteFile(path, []byte(tc.body), 0o600))
		p, err := Load(path)
		if err == nil {
			_, err = p.Synthesize()
		}
		require.Error(t, err, tc.body)
		assert.Contains(t, strings.ReplaceAll(err.Error(), path, "p.yaml"), tc.want)
	}
}

func mustRead(t *testing.T, path string) []byte {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// The written folder is accepted by the independent tools: iasl disassembles the SLIC and MSDM,
// dmidecode reads the dump with no warning, and every structure file holds one structure.
func TestWriteAcceptedByIndependentTools(t *testing.T) {
	iasl := hosttooltest.Require(t, "iasl")
	dmidecode := hosttooltest.Require(t, "dmidecode")
	p := variant(t, func(y string) string {
		return strings.Replace(y, "    release: win7\n", "    release: win7\n  msdm:\n    key_label: oem-dm/win8-pro\n", 1)
	})
	tables, err := p.Synthesize()
	require.NoError(t, err)
	dir := t.TempDir()
	files, err := tables.Write(dir)
	require.NoError(t, err)

	for _, f := range []string{files.SLIC, files.MSDM} {
		cmd := exec.Command(iasl, "-d", filepath.Base(f))
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		assert.NotContains(t, string(out), "Error", f)
		dsl, err := os.ReadFile(strings.TrimSuffix(f, ".bin") + ".dsl")
		require.NoError(t, err)
		assert.Contains(t, string(dsl), `Oem ID : "TSTOEM"`)
	}

	cmd := exec.Command(dmidecode, "--from-dump", files.DumpBin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), stderr.String())
	assert.Empty(t, stderr.String())
	assert.Contains(t, stdout.String(), "Serial Number: TST7100-000417")
	assert.Contains(t, stdout.String(), "UUID: 7d3f1a62-5c0e-4b7e-9a51-2f8e6c4d0b17")
	for _, bad := range []string{"Invalid", "wrong", "truncated", "checksum", "<OUT OF SPEC>", "Bad index"} {
		assert.NotContains(t, stdout.String(), bad)
	}

	require.Len(t, files.SMBIOS, len(tables.SMBIOS.QEMUStructures()))
	for _, f := range files.SMBIOS {
		b := mustRead(t, f)
		s, next, err := smbios.DecodeStructure(b, 0, 0)
		require.NoError(t, err, f)
		assert.Equal(t, int64(len(b)), next, "%s holds exactly one structure", f)
		assert.NotEqual(t, uint8(127), s.Type)
	}

	x, err := os.ReadFile(files.Libvirt)
	require.NoError(t, err)
	assert.Contains(t, string(x), `<entry name="serial">TST7100-000417</entry>`)
	assert.Contains(t, string(x), `<table type="slic">`)
}
