package licence

import (
	"errors"
	"net/netip"
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

func TestCheckMarket(t *testing.T) {
	starter := mustEdition("win7-starter")
	pro := mustEdition("win7-professional")
	custom := CountryTable{
		{netip.MustParsePrefix("10.0.0.0/8"), "us"},
		{netip.MustParsePrefix("10.1.0.0/16"), "br"}, // longer prefix wins
	}
	tests := []struct {
		name  string
		ed    edition.Edition
		ip    string
		table CountryTable
		ok    bool
		where string
	}{
		{"Starter from India", starter, "192.0.2.7", DefaultCountries, true, ""},
		{"Starter from Brazil", starter, "198.51.100.200", DefaultCountries, true, ""},
		{"Starter from the United States", starter, "203.0.113.10", DefaultCountries, false, "US"},
		{"Starter from Germany over IPv6", starter, "2001:db8::1", DefaultCountries, false, "DE"},
		{"Starter from an address of no country", starter, "8.8.8.8", DefaultCountries, false, "unknown"},
		{"Starter from an IPv4-mapped Indian address", starter, "::ffff:192.0.2.9", DefaultCountries, true, ""},
		{"Starter, caller's table, longest prefix", starter, "10.1.2.3", custom, true, ""},
		{"Starter, caller's table, shorter prefix", starter, "10.2.2.3", custom, false, "US"},
		{"Professional activates anywhere", pro, "203.0.113.10", DefaultCountries, true, ""},
		{"Professional with no country", pro, "8.8.8.8", nil, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckMarket(tt.ed, netip.MustParseAddr(tt.ip), tt.table)
			if tt.ok {
				assert.NoError(t, err)
				return
			}
			var me *MarketError
			require.True(t, errors.As(err, &me))
			assert.Contains(t, err.Error(), tt.where)
			assert.Contains(t, err.Error(), "Windows 7 Starter activates only in its target markets")
		})
	}
	// DefaultCountries puts its Starter addresses in edition.StarterMarkets and the others outside.
	for _, r := range DefaultCountries {
		in := false
		for _, m := range edition.StarterMarkets {
			in = in || m == r.Country
		}
		assert.Equal(t, r.Country == "IN" || r.Country == "BR", in, r.Country)
	}
}
