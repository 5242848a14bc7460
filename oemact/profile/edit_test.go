package profile

import (
	"testing"

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
		{"system.colour", "x", "not a string field (system.family, system.manufacturer"},
		{"system.uuid", "not-a-uuid", "is not a UUID"},
	} {
		assert.ErrorContains(t, c.SetSMBIOSField(tc.name, tc.value), tc.want, tc.name)
	}
}
