package catalog

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/oemact/oemact/firmware/productkey"
	"github.com/oemact/oemact/oemact/edition"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func catalogPath(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "fixtures", "keys", "catalog.yaml")
}

func TestBundledCatalog(t *testing.T) {
	c, err := Load(catalogPath(t))
	require.NoError(t, err)
	seen := map[edition.Channel]bool{}
	for _, e := range c.Entries() {
		seen[e.Channel] = true
		assert.Equal(t, productkey.Derive(e.Label), e.Key, e.Label)
		assert.True(t, e.Edition.Allows(e.Channel), e.Label)
	}
	for _, ch := range edition.Channels() {
		assert.True(t, seen[ch], "catalog has no %s key", ch)
	}
	mak := c.Find(edition.VolumeMAK, "win7-professional")
	require.Len(t, mak, 1)
	assert.Equal(t, 50, mak[0].MAKLimit)
	got, err := c.Lookup(mak[0].Key)
	require.NoError(t, err)
	assert.Same(t, mak[0], got)
	_, err = c.Lookup(productkey.Derive("not in the catalog"))
	assert.ErrorContains(t, err, "is not in the catalog")
	assert.NotContains(t, err.Error(), productkey.Derive("not in the catalog").Reveal())
	slp := c.Find(edition.OEMSLP, "")
	require.NotEmpty(t, slp)
	assert.Equal(t, "TSTOEM", slp[0].OEMID)
}

func TestCatalogErrors(t *testing.T) {
	good := productkey.Derive("t").Reveal()
	for _, tc := range []struct{ name, yaml, want string }{
		{"empty", "", "empty key catalog"},
		{"unknown field", "keys:\n  - label: t\n    key: " + good + "\n    colour: red\n", "c.yaml:4: keys.0.colour: unknown field (fields here: blocked, channel, edition, key, label, mak_limit, note, oem_id)"},
		{"wrong type", "keys:\n  - label: t\n    key: " + good + "\n    mak_limit: lots\n", `c.yaml:4: keys.0.mak_limit: want a whole number, got "lots"`},
		{"not a list", "keys: {label: t}\n", "c.yaml:1: keys: want a list, got a mapping"},
		{"bad key", "keys:\n  - label: t\n    key: AAAAA\n    channel: Retail\n    edition: win7-ultimate\n", "c.yaml:2: product key: length 5"},
		{"not derived", "keys:\n  - label: other\n    key: " + good + "\n    channel: Retail\n    edition: win7-ultimate\n", "c.yaml:2: key XXXXX-XXXXX-XXXXX-XXXXX-" + good[24:] + " is not the TEST key derived"},
		{"no label", "keys:\n  - key: " + good + "\n    channel: Retail\n    edition: win7-ultimate\n", "label is missing"},
		{"bad channel", "keys:\n  - label: t\n    key: " + good + "\n    channel: OEM:NONSLP\n    edition: win7-ultimate\n", "unknown licence channel"},
		{"edition channel", "keys:\n  - label: t\n    key: " + good + "\n    channel: Retail\n    edition: win7-enterprise\n", "not sold through channel Retail"},
		{"slp oem", "keys:\n  - label: t\n    key: " + good + "\n    channel: OEM:SLP\n    edition: win7-ultimate\n", "needs oem_id"},
		{"mak limit", "keys:\n  - label: t\n    key: " + good + "\n    channel: Volume:MAK\n    edition: win7-enterprise\n", "needs mak_limit"},
		{"dup", "keys:\n  - label: t\n    key: " + good + "\n    channel: Retail\n    edition: win7-ultimate\n  - label: t\n    key: " + good + "\n    channel: Retail\n    edition: win7-ultimate\n", `label "t" is defined twice: at c.yaml:2 and at c.yaml:6`},
		{"label disagrees", "keys:\n  - label: retail/win7-ultimate\n    key: " + productkey.Derive("retail/win7-ultimate").Reveal() + "\n    channel: OEM:COA\n    edition: win7-ultimate\n", `c.yaml:2: label "retail/win7-ultimate" names channel Retail, the entry says OEM:COA`},
		{"label oem", "keys:\n  - label: oem-slp/ACME/win7-ultimate\n    key: " + productkey.Derive("oem-slp/ACME/win7-ultimate").Reveal() + "\n    channel: OEM:SLP\n    edition: win7-ultimate\n    oem_id: ACMEPC\n", `label "oem-slp/ACME/win7-ultimate" names OEM ID "ACME", the entry says "ACMEPC"`},
	} {
		_, err := Parse([]byte(tc.yaml), "c.yaml")
		require.Error(t, err, tc.name)
		assert.Contains(t, err.Error(), tc.want, tc.name)
		assert.NotContains(t, err.Error(), good, tc.name)
	}
}

func TestCatalogWireRoundTrip(t *testing.T) {
	c, err := Load(catalogPath(t))
	require.NoError(t, err)
	b, err := c.Wire()
	require.NoError(t, err)
	back, err := ParseWire(b)
	require.NoError(t, err)
	require.Len(t, back.Entries(), len(c.Entries()))
	for i, e := range c.Entries() {
		got := back.Entries()[i]
		assert.Equal(t, e.Key, got.Key)
		assert.Equal(t, e.Channel, got.Channel)
		assert.Equal(t, e.Edition.ID, got.Edition.ID)
		assert.Equal(t, e.OEMID, got.OEMID)
		assert.Equal(t, e.MAKLimit, got.MAKLimit)
		assert.Equal(t, e.Blocked, got.Blocked)
		assert.Equal(t, e.Label, got.Label)
	}
	// The wire form gets the same checks: a key that is not derived from its label is refused.
	bad := strings.Replace(string(b), `"label":"retail/win7-homepremium"`, `"label":"other"`, 1)
	_, err = ParseWire([]byte(bad))
	assert.ErrorContains(t, err, "is not the TEST key derived from label")
	_, err = ParseWire([]byte(`{"keys":[],"extra":1}`))
	assert.ErrorContains(t, err, "unknown field")
}

// BenchmarkParseBuiltin is the YAML catalog's cost: the CLI and the service read it at every start.
func BenchmarkParseBuiltin(b *testing.B) {
	y, err := os.ReadFile(catalogPath(b))
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(y, "catalog.yaml"); err != nil {
			b.Fatal(err)
		}
	}
}
