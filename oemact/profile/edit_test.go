package profile

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemact/oemact/smbios"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCloneAndSetSMBIOSField(t *testing.T) {
	p := defaultProfile(t)
	c, err := p.Clone()
	require.NoError(t, err)
	require.NoError(t, c.SetSMBIOSField("system.serial_number", "CHANGED-1"))
	assert.Equal(t, "TST7100-000417", p.SMBIOS.System.SerialNumber, "the original is untouched")
	assert.Equal(t, "CHANGED-1", c.SMBIOS.System.SerialNumber)
	assert.Equal(t, p.Resolve("x"), c.Resolve("x"))
	tables, err := c.Synthesize()
	require.NoError(t, err)
	sys, err := tables.SMBIOS.System()
	require.NoError(t, err)
	assert.Equal(t, "CHANGED-1", sys.SerialNumber)

	for _, tc := range []struct{ name, value, want string }{
		{"serial", "x", "want section.field"},
		{"cpu.serial", "x", `no section "cpu"`},
		{"system.colour", "x", "not a field of system (system.family, system.manufacturer"},
		{"system.uuid", "not-a-uuid", "is not a UUID"},
		{"chassis.type", "Spaceship", `chassis type "Spaceship": want a name like Desktop`},
		{"chassis.type", "200", "chassis types are 1 to 127"},
	} {
		assert.ErrorContains(t, c.SetSMBIOSField(tc.name, tc.value), tc.want, tc.name)
	}
	assert.Equal(t, p.SMBIOS.System.UUID, c.SMBIOS.System.UUID, "a refused value leaves the profile as it was")
	assert.Equal(t, p.SMBIOS.Chassis, c.SMBIOS.Chassis, "a refused chassis type leaves the chassis as it was")
}

// identityTestValue is a value a profile can hold for f, and what the table then reads.
func identityTestValue(f smbios.IdentityField, i int) (set, read string) {
	switch f.Key {
	case "system.uuid":
		u := fmt.Sprintf("7d3f1a62-5c0e-4b7e-9a51-2f8e6c4d%04x", i)
		return u, u
	case "chassis.type":
		return "10", "Notebook"
	}
	return "TEST " + f.Key, "TEST " + f.Key
}

// Every SMBIOS identity field is a field of a profile: set by its key, it reaches the built table
// and a captured one (smbios.file), where the others keep their values.
func TestProfileSetsEveryIdentityField(t *testing.T) {
	fields := smbios.IdentityFields()
	require.NotEmpty(t, fields)
	captured := variant(t, func(y string) string {
		i := strings.Index(y, "smbios:\n")
		j := strings.Index(y, "vm:\n")
		return y[:i] + "smbios:\n  file: " + filepath.Join(fixtures(t), "smbios", "uroot_Lenovo-ThinkPad-T480.bin") + "\n" + y[j:]
	})
	for name, base := range map[string]*Profile{"built": defaultProfile(t), "captured": captured} {
		orig, err := base.Synthesize()
		require.NoError(t, err)
		for i, f := range fields {
			c, err := base.Clone()
			require.NoError(t, err)
			set, read := identityTestValue(f, i)
			require.NoError(t, c.SetSMBIOSField(f.Key, set), "%s %s", name, f.Key)
			tables, err := c.Synthesize()
			require.NoError(t, err, "%s %s", name, f.Key)
			assert.Equal(t, read, f.Get(tables.SMBIOS), "%s %s", name, f.Key)
			for _, g := range fields {
				if g.Key != f.Key && g.Type != f.Type {
					assert.Equal(t, g.Get(orig.SMBIOS), g.Get(tables.SMBIOS), "%s: setting %s changed %s", name, f.Key, g.Key)
				}
			}
		}
	}
}
