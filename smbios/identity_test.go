package smbios

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every registry entry names a real field of its structure: the key's section is the type, and
// the offset is a field of the type's field list of the kind the entry reads.
func TestIdentityRegistryMatchesTheTypes(t *testing.T) {
	views := map[uint8]fieldLister{0: &BIOSInfo{}, 1: &SystemInfo{}, 2: &BaseboardInfo{}, 3: &ChassisInfo{}}
	seen := map[string]bool{}
	for _, f := range IdentityFields() {
		assert.False(t, seen[f.Key], "%s listed twice", f.Key)
		seen[f.Key] = true
		var typ = -1
		for _, s := range identitySections {
			if s.name == f.Section() {
				typ = int(s.typ)
			}
		}
		assert.Equal(t, typ, int(f.Type), "%s: section and type disagree", f.Key)
		want := kindString
		switch f.Key {
		case "system.uuid":
			want = kindUUID
		case "chassis.type":
			want = kindByte
		}
		found := false
		for _, fl := range views[f.Type].fields() {
			if fl.off == f.Offset {
				found = true
				assert.Equal(t, want, fl.kind, "%s at 0x%02X", f.Key, f.Offset)
			}
		}
		assert.True(t, found, "%s: no field at 0x%02X in type %d", f.Key, f.Offset, f.Type)
		g, err := LookupIdentityField(f.Key)
		require.NoError(t, err)
		assert.Equal(t, f.Key, g.Key)
	}
	var core []string
	for _, f := range IdentityFields() {
		if f.Core {
			core = append(core, f.Key)
		}
	}
	assert.Equal(t, []string{"bios.vendor", "bios.version", "bios.release_date", "system.manufacturer",
		"system.product_name", "system.serial_number", "system.uuid", "baseboard.manufacturer",
		"baseboard.product_name", "baseboard.serial_number"}, core)
}

func TestLookupIdentityFieldErrors(t *testing.T) {
	for key, want := range map[string]string{
		"serial":         `identity field "serial": want section.field, such as system.serial_number`,
		"cpu.serial":     `identity field "cpu.serial": no section "cpu" (bios, system, baseboard, chassis)`,
		"bios.colour":    `identity field "bios.colour": not a field of bios (bios.release_date, bios.vendor, bios.version)`,
		"system.":        `not a field of system`,
		".serial_number": `no section ""`,
	} {
		_, err := LookupIdentityField(key)
		assert.ErrorContains(t, err, want, key)
	}
}

// The registry reads what the typed views hold, on every real dump, and Identity agrees with it.
func TestIdentityValuesOfRealDumps(t *testing.T) {
	for _, name := range realDumps {
		in, _ := Read(fixturePath(t, name))
		require.NotNil(t, in, name)
		v := in.IdentityValues()
		for _, f := range IdentityFields() {
			assert.Equal(t, f.Get(in), v[f.Key], "%s: %s", name, f.Key)
		}
		s := Summarize(in)
		require.NotNil(t, s.System, name)
		assert.Equal(t, s.System.SerialNumber, v["system.serial_number"], name)
		assert.Equal(t, s.System.ProductName, v["system.product_name"], name)
		assert.Equal(t, s.BIOS.Version, v["bios.version"], name)
		if s.Chassis != nil {
			assert.Equal(t, s.Chassis.Type, v["chassis.type"], name)
			assert.Equal(t, s.Chassis.SerialNumber, v["chassis.serial_number"], name)
		}
		if s.Baseboard != nil {
			assert.Equal(t, s.Baseboard.ProductName, v["baseboard.product_name"], name)
			assert.Equal(t, s.Baseboard.AssetTag, v["baseboard.asset_tag"], name)
		}
		id := in.Identity()
		assert.Equal(t, v["system.uuid"], id.SystemUUID, name)
		assert.Equal(t, v["bios.release_date"], id.BIOSReleaseDate, name)
		assert.Equal(t, v["baseboard.serial_number"], id.BoardSerial, name)
	}
}

// SetIdentity changes one field of a real table and nothing else: the table encodes, decodes
// back with the new value, and every other identity field reads as before.
func TestSetIdentityRoundTrip(t *testing.T) {
	for _, name := range realDumps[:4] {
		for i, f := range IdentityFields() {
			in, err := Read(fixturePath(t, name))
			require.NoError(t, err)
			before := in.IdentityValues()
			if len(in.ByType(f.Type)) == 0 {
				assert.ErrorContains(t, in.SetIdentity(f.Key, "x"), "no type", name)
				continue
			}
			value, want := "TEST "+f.Key, "TEST "+f.Key
			switch f.Key {
			case "system.uuid":
				value = fmt.Sprintf("01234567-89ab-cdef-0123-4567890a%04x", i)
				want = value
			case "chassis.type":
				value, want = "9", "Laptop"
			}
			require.NoError(t, in.SetIdentity(f.Key, value), "%s %s", name, f.Key)
			b, err := in.Table.Bytes()
			require.NoError(t, err)
			back, err := Decode(b)
			require.NoError(t, err)
			back.Version, back.VersionGuessed = in.Version, false
			after := back.IdentityValues()
			for k, v := range before {
				if k == f.Key {
					assert.Equal(t, want, after[k], "%s %s", name, k)
				} else {
					assert.Equal(t, v, after[k], "%s: setting %s changed %s", name, f.Key, k)
				}
			}
		}
	}
	in, err := Read(fixturePath(t, "uroot_VMWare.bin"))
	require.NoError(t, err)
	assert.ErrorContains(t, in.SetIdentity("system.uuid", "nope"), "system.uuid")
	assert.ErrorContains(t, in.SetIdentity("chassis.type", "Spaceship"), `chassis type "Spaceship"`)
	assert.ErrorContains(t, in.SetIdentity("system.colour", "x"), "not a field of system")
}

// A structure that predates a field reads as absent, not as a zero value.
func TestIdentityFieldAbsentFromShortStructure(t *testing.T) {
	s := &SystemInfo{Manufacturer: "M", SerialNumber: "S"}
	s.Length = systemMinLength
	st, err := s.Structure()
	require.NoError(t, err)
	in := &Info{Version: Version{2, 0, 0}, Table: Table{Structures: []*Structure{st}}}
	v := in.IdentityValues()
	assert.Equal(t, "S", v["system.serial_number"])
	assert.Equal(t, "", v["system.uuid"])
	assert.Equal(t, "", v["system.family"])
	assert.Equal(t, "", v["chassis.type"])
}

// A sysfs pair whose entry point is damaged beyond use is still read: the entry point's error is
// a finding and the DMI file is read as a bare table.
func TestSysfsDamagedEntryPointReadsTheTable(t *testing.T) {
	raw := readFixture(t, "uroot_Lenovo-ThinkPad-T480.bin")
	ep := append([]byte(nil), raw[:0x18]...)
	ep[6] = 0x40 // the _SM3_ length byte
	in, err := DecodeSysfs(ep, raw[DumpBinTableOffset:])
	require.NotNil(t, in)
	var fe *FormatError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, CodeEntryPointLength, fe.Code)
	assert.Nil(t, in.EntryPoint)
	assert.True(t, in.VersionGuessed)
	full, err := Read(fixturePath(t, "uroot_Lenovo-ThinkPad-T480.bin"))
	require.NoError(t, err)
	assert.Equal(t, full.Identity(), in.Identity())
	assert.True(t, Lint(in, nil).Has(CodeNoEntryPoint))

	_, err = DecodeSysfs(ep, []byte{0xFF, 0xFE})
	assert.ErrorAs(t, err, &fe, "no table either: the entry point's error")
}
