package licence

import (
	"testing"

	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/hwid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKMSActivates(t *testing.T) {
	tests := []struct {
		edition string
		count   int
		want    bool
	}{
		{"win7-professional", 0, false},
		{"win7-professional", 24, false},
		{"win7-professional", 25, true},
		{"win7-enterprise", 50, true},
		{"server2008r2-standard", 4, false},
		{"server2008r2-standard", 5, true},
		{"server2008r2-enterprise", 5, true},
		{"vista-enterprise", 24, false},
		{"vista-enterprise", 25, true},
		{"server2008-standard", 5, true},
	}
	for _, tt := range tests {
		ed := mustEdition(tt.edition)
		got, why := KMSActivates(ed, tt.count)
		assert.Equal(t, tt.want, got, "%s with %d", tt.edition, tt.count)
		assert.Contains(t, why, ed.ReleaseInfo().Name)
		a := KMSAnswerFor(ed, tt.count)
		assert.True(t, a.Reached)
		assert.Equal(t, tt.want, a.Activated)
		if !tt.want {
			assert.Equal(t, CodeKMSCountLow, a.Code)
		}
	}
}

func TestKMSNeedsMarker(t *testing.T) {
	assert.True(t, KMSNeedsMarker(mustEdition("win7-professional")))
	assert.True(t, KMSNeedsMarker(mustEdition("win7-enterprise")))
	assert.False(t, KMSNeedsMarker(mustEdition("server2008r2-standard")))
	assert.False(t, KMSNeedsMarker(mustEdition("vista-enterprise")))
}

func TestPolicies(t *testing.T) {
	c := DefaultConfig()
	for _, ch := range []edition.Channel{edition.Retail, edition.OEMCOA, edition.OEMDM, edition.VolumeMAK} {
		assert.Equal(t, "vote", c.Policy(ch).Name, ch)
	}
	assert.Equal(t, "kms-disk", c.Policy(edition.VolumeGVLK).Name)
	assert.Equal(t, "oem-board", c.Policy(edition.OEMSLP).Name)
	require.NoError(t, OEMBoardPolicy.Validate())

	// The OEM policy sees only the board.
	base := *hardware()
	d := OEMBoardPolicy.Compare(base, *hardware(hwid.Disk, hwid.NIC, hwid.Memory, hwid.CPU, hwid.Display, hwid.BIOS))
	assert.True(t, d.InTolerance)
	d = OEMBoardPolicy.Compare(base, *hardware(hwid.Board))
	assert.False(t, d.InTolerance)
	assert.Equal(t, hwid.Board, d.Changes[0].Class)
}
