package edition

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReleaseNumbers(t *testing.T) {
	for _, tc := range []struct {
		in        string
		slic      uint32
		threshold int
		server    bool
	}{
		{"vista", 0x00020000, 25, false},
		{"server2008", 0x00020000, 5, true},
		{"win7", 0x00020001, 25, false},
		{"Windows 7", 0x00020001, 25, false},
		{"server2008r2", 0x00020001, 5, true},
		{"2008R2", 0x00020001, 5, true},
		{"win8", 0, 25, false},
	} {
		r, err := LookupRelease(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.slic, r.SLICVersion, tc.in)
		assert.Equal(t, tc.threshold, r.KMSThreshold, tc.in)
		assert.Equal(t, tc.server, r.Server, tc.in)
	}
	for id, v := range map[Release]string{Vista: "6.0.6000", Server2008: "6.0.6001", Win7: "6.1.7600", Server2008R2: "6.1.7600", Win8: "6.2.9200"} {
		assert.Equal(t, v, id.Info().Version, "the RTM build of %s", id)
	}
	_, err := LookupRelease("win11")
	assert.ErrorContains(t, err, `unknown Windows release "win11"`)
}

func TestEditionChannels(t *testing.T) {
	ent, err := Lookup("win7-enterprise")
	require.NoError(t, err)
	assert.True(t, ent.VolumeOnly())
	assert.False(t, ent.Allows(Retail))
	assert.False(t, ent.Allows(OEMSLP))
	assert.True(t, ent.Allows(VolumeGVLK))

	pro, err := Lookup("WIN7-Professional")
	require.NoError(t, err)
	assert.False(t, pro.VolumeOnly())
	for _, c := range Channels() {
		assert.Equal(t, c != OEMDM, pro.Allows(c), c)
	}

	starter, err := Lookup("win7-starter")
	require.NoError(t, err)
	assert.NotEmpty(t, starter.Markets)
	assert.False(t, starter.Allows(VolumeMAK))

	_, err = Lookup("win7-nope")
	assert.ErrorContains(t, err, "unknown edition")

	// Every edition names a known release and at least one channel.
	for _, e := range All() {
		_, err := LookupRelease(string(e.Release))
		assert.NoError(t, err, e.ID)
		assert.NotEmpty(t, e.Channels, e.ID)
	}
}

func TestChannel(t *testing.T) {
	c, err := ParseChannel("oem:slp")
	require.NoError(t, err)
	assert.Equal(t, OEMSLP, c)
	assert.Equal(t, "oem", c.Family())
	assert.Equal(t, "volume", VolumeMAK.Family())
	assert.Equal(t, "retail", Retail.Family())
	_, err = ParseChannel("OEM:NONSLP")
	assert.ErrorContains(t, err, "unknown licence channel")
}
