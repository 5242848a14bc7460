package engine

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Both engines refuse what QEMU refuses, so the in-process engine cannot pass a machine QEMU
// would not start.
func TestHardwareCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		hw   Hardware
		want string
	}{
		{"the defaults", Hardware{}, ""},
		{"full-length IDs", Hardware{OEMID: "ABCDEF", OEMTableID: "ABCDEFGH"}, ""},
		{"a long OEM ID", Hardware{OEMID: "ABCDEFG"}, `OEM ID: ID "ABCDEFG" is 7 bytes, the field holds 6`},
		{"a long OEM table ID", Hardware{OEMTableID: "ABCDEFGHI"}, `OEM table ID: ID "ABCDEFGHI" is 9 bytes, the field holds 8`},
		{"a chipset", Hardware{Chipset: "isapc"}, `chipset "isapc": want q35 or pc`},
		{"an image on a kernel boot", Hardware{Disks: []Disk{{Serial: "D", Image: "x.img"}}},
			"a disk has an OS image, but the machine boots the guest kernel: boot it with disk or cdrom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.hw.WithDefaults().Check()
			if tc.want == "" {
				assert.NoError(t, err)
			} else {
				assert.EqualError(t, err, tc.want)
			}
		})
	}
}
