package geo

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/oemact/oemact/oemact/edition"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultTable(t *testing.T) {
	tab, err := Default("IN")
	require.NoError(t, err)
	for _, a := range []string{"127.0.0.1", "10.1.2.3", "172.31.0.9", "192.168.1.1", "::1", "fd00::1", "::ffff:127.0.0.1"} {
		c, ok := tab.Country(netip.MustParseAddr(a))
		assert.True(t, ok, a)
		assert.Equal(t, "IN", c, a)
	}
	for _, a := range []string{"8.8.8.8", "172.32.0.1", "100.64.0.1", "2001:db9::1"} {
		_, ok := tab.Country(netip.MustParseAddr(a))
		assert.False(t, ok, a)
	}
	// The documentation ranges have countries of their own, whatever the default country.
	for a, want := range map[string]string{"192.0.2.7": "IN", "198.51.100.200": "BR", "203.0.113.10": "US", "2001:db8::1": "DE", "::ffff:192.0.2.9": "IN"} {
		c, ok := tab.Country(netip.MustParseAddr(a))
		assert.True(t, ok, a)
		assert.Equal(t, want, c, a)
	}
	_, err = Default("usa")
	assert.ErrorContains(t, err, "not an upper-case ISO 3166-1")
}

func TestFileOverDefault(t *testing.T) {
	base, err := Default(DefaultCountry)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "geo.txt")
	require.NoError(t, os.WriteFile(path, []byte("# lab\n127.0.0.0/8 BR\n203.0.113.0/24 CN # TEST-NET-3\n203.0.113.128/25 RU\n"), 0o644))
	tab, err := Load(path, base)
	require.NoError(t, err)
	for a, want := range map[string]string{"127.0.0.1": "BR", "10.0.0.1": "US", "203.0.113.5": "CN", "203.0.113.200": "RU"} {
		c, ok := tab.Country(netip.MustParseAddr(a))
		assert.True(t, ok, a)
		assert.Equal(t, want, c, a)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"10.0.0.0/8\n", "g:1: want \"CIDR COUNTRY\", got 1 fields"},
		{"\n10.0.0.0/33 US\n", "g:2:"},
		{"10.0.0.1/8 US\n", "host bits set; write 10.0.0.0/8"},
		{"10.0.0.0/8 us\n", "not an upper-case"},
		{"10.0.0.0/8 US\n10.0.0.0/8 CN\n", "g:2: 10.0.0.0/8 already mapped at line 1"},
	} {
		_, err := Parse([]byte(tc.in), "g", nil)
		require.Error(t, err, tc.in)
		assert.Contains(t, err.Error(), tc.want, tc.in)
	}
	_, err := Load(filepath.Join(t.TempDir(), "missing"), nil)
	assert.ErrorContains(t, err, "geo table")
}

// The documentation ranges put two countries in Windows 7 Starter's markets and two outside, so
// scenarios can show both answers.
func TestDocumentationCountriesAndStarter(t *testing.T) {
	for _, d := range DocumentationCountries {
		assert.Equal(t, d.Country == "IN" || d.Country == "BR", slices.Contains(edition.StarterMarkets, d.Country), d.Country)
	}
}
