package catalog

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/firmware/productkey"
	"github.com/oemact/oemact/oemact/edition"
)

func TestParseLabel(t *testing.T) {
	for _, tc := range []struct {
		in      string
		channel edition.Channel
		oem     string
		edition string
		tag     string
	}{
		{"retail/win7-ultimate", edition.Retail, "", "win7-ultimate", ""},
		{"retail/win7-ultimate/blocked", edition.Retail, "", "win7-ultimate", "blocked"},
		{"oem-slp/TSTOEM/win7-professional", edition.OEMSLP, "TSTOEM", "win7-professional", ""},
		{"oem-slp/A M I/win7-professional", edition.OEMSLP, "A M I", "win7-professional", ""},
		{"oem-slp/_ASUS_/win7-homepremium/2", edition.OEMSLP, "_ASUS_", "win7-homepremium", "2"},
		{"oem-slp/Intel/vista-business", edition.OEMSLP, "Intel", "vista-business", ""},
		{"oem-coa/win7-homepremium", edition.OEMCOA, "", "win7-homepremium", ""},
		{"oem-dm/win8-pro", edition.OEMDM, "", "win8-pro", ""},
		{"gvlk/win7-enterprise", edition.VolumeGVLK, "", "win7-enterprise", ""},
		{"mak/server2008r2-standard", edition.VolumeMAK, "", "server2008r2-standard", ""},
	} {
		l, err := ParseLabel(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.channel, l.Channel, tc.in)
		assert.Equal(t, tc.oem, l.OEMID, tc.in)
		assert.Equal(t, tc.edition, l.Edition.ID, tc.in)
		assert.Equal(t, tc.tag, l.Tag, tc.in)
		assert.Equal(t, tc.in, l.String())
		assert.Equal(t, productkey.Derive(tc.in), l.Key(), tc.in)
	}
}

func TestParseLabelErrors(t *testing.T) {
	key := productkey.Derive("retail/win7-ultimate").Reveal()
	for _, tc := range []struct{ in, want string }{
		{"", "empty label"},
		{"win7-ultimate", `"win7-ultimate" is not a channel word (retail, oem-slp, oem-coa, oem-dm, gvlk, mak)`},
		{"OEM-SLP/TSTOEM/win7-professional", `channel word "OEM-SLP": write it in lower case, "oem-slp"`},
		{"retail/Win7-Ultimate", `edition "Win7-Ultimate": write it as win7-ultimate`},
		{"retail/win7-ultimat", `unknown edition "win7-ultimat" (run 'oemact editions' for the list)`},
		{"retail/win7-enterprise", "win7-enterprise is not sold through Retail (its channels: Volume:GVLK, Volume:MAK)"},
		{"oem-slp/win7-professional", "an oem-slp label is oem-slp/OEMID/EDITION[/TAG]"},
		{"oem-slp/ACMEPCS/win7-professional", `OEM ID "ACMEPCS" is 7 characters; an ACPI OEM ID has 1 to 6`},
		{"oem-slp//win7-professional", "empty OEM ID"},
		{"oem-slp/ACME /win7-professional", "no leading or trailing spaces"},
		{"oem-slp/AC\tME/win7-professional", "character 3 is not printable ASCII"},
		{"oem-slp/ACME/win7-enterprise", "win7-enterprise is not sold through OEM:SLP"},
		{"retail/win7-ultimate/Blocked", `tag "Blocked": want 1 to 32 of a-z, 0-9 and -`},
		{"retail/win7-ultimate/a/b", "a retail label is retail/EDITION[/TAG]"},
		{"gvlk", "a gvlk label is gvlk/EDITION[/TAG]"},
		{strings.Repeat("retail/", 20), "label is 140 bytes long, at most 128"},
		{key, "XXXXX-XXXXX-XXXXX-XXXXX-" + key[24:] + " is a product key, not a label"},
		{strings.ToLower(key[:28]), "XXXXX-XXXXX-XXXXX-XXXXX-XXXXX is a product key, not a label"},
	} {
		_, err := ParseLabel(tc.in)
		require.Error(t, err, tc.in)
		assert.Contains(t, err.Error(), tc.want, tc.in)
		if len(tc.in) > 20 && !strings.Contains(tc.in, "/") {
			assert.NotContains(t, strings.ToUpper(err.Error()), strings.ToUpper(tc.in[:20]), "a key-like string is repeated")
		}
	}
}

func TestLabelLookup(t *testing.T) {
	c, err := Load(catalogPath(t))
	require.NoError(t, err)

	listed, err := c.Label("oem-slp/TSTOEM/win7-professional")
	require.NoError(t, err)
	assert.Equal(t, "TSTOEM", listed.OEMID)
	assert.Equal(t, catalogPath(t), listed.File)
	assert.Greater(t, listed.Line, 1)
	assert.Contains(t, listed.Place(), "catalog.yaml:")

	blocked, err := c.Label("retail/win7-ultimate/blocked")
	require.NoError(t, err)
	assert.True(t, blocked.Blocked)

	// A label no catalog lists: the grammar defines it, for any OEM ID.
	e, err := c.Label("oem-slp/NEWOEM/win7-professional")
	require.NoError(t, err)
	assert.Equal(t, edition.OEMSLP, e.Channel)
	assert.Equal(t, "NEWOEM", e.OEMID)
	assert.Equal(t, "win7-professional", e.Edition.ID)
	assert.Equal(t, productkey.Derive("oem-slp/NEWOEM/win7-professional"), e.Key)
	assert.Equal(t, "", e.File)
	assert.Equal(t, "no catalog (the label grammar)", e.Place())
	_, err = c.Lookup(e.Key)
	assert.Error(t, err, "Label does not add what it derives")

	for _, tc := range []struct{ in, want string }{
		{"oem-slp/ACMEPCS/win7-professional", `key label "oem-slp/ACMEPCS/win7-professional" is not in the key catalog (` + catalogPath(t) + `) and does not read as a label: OEM ID "ACMEPCS" is 7 characters`},
		{"retail/win7-ultimate/stolen", `key label "retail/win7-ultimate/stolen" is not in the key catalog (` + catalogPath(t) + `): a label with a tag (/stolen) names a key a catalog lists`},
		{"mak/win8-pro", `key label "mak/win8-pro" is not in the key catalog (` + catalogPath(t) + `): a MAK's pool size is not in its label; list it in a catalog with mak_limit`},
		{"retail/win7-ultimat", `key label "retail/win7-ultimat" is not in the key catalog`},
	} {
		_, err := c.Label(tc.in)
		require.Error(t, err, tc.in)
		assert.Contains(t, err.Error(), tc.want)
		assert.NotContains(t, err.Error(), productkey.Derive(tc.in).Reveal())
	}
	// A key where a label belongs is masked, never repeated.
	k := listed.Key.Reveal()
	_, err = c.Label(k)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), k[:23])
	assert.Contains(t, err.Error(), listed.Key.Masked())
}

func TestResolve(t *testing.T) {
	c, err := Load(catalogPath(t))
	require.NoError(t, err)
	byLabel, err := c.Resolve("gvlk/win7-enterprise")
	require.NoError(t, err)
	byKey, err := c.Resolve(strings.ToLower(byLabel.Key.Reveal()))
	require.NoError(t, err)
	assert.Same(t, byLabel, byKey)
	e, err := c.Resolve("oem-dm/win8-core")
	require.NoError(t, err)
	assert.Equal(t, edition.OEMDM, e.Channel)

	unknown := productkey.Derive("nowhere").Reveal()
	_, err = c.Resolve(unknown)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is not in the catalog")
	assert.NotContains(t, err.Error(), unknown)
	typo := unknown[:10] + "0" + unknown[11:]
	_, err = c.Resolve(typo)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "neither a key label nor a product key")
	assert.NotContains(t, err.Error(), typo[:10])
}

func extra(t *testing.T, name string, labels ...string) *Catalog {
	t.Helper()
	var b strings.Builder
	b.WriteString("keys:\n")
	for _, l := range labels {
		lab, err := ParseLabel(l)
		require.NoError(t, err, l)
		b.WriteString("  - label: " + l + "\n    key: " + lab.Key().Reveal() + "\n    channel: " + string(lab.Channel) +
			"\n    edition: " + lab.Edition.ID + "\n")
		if lab.OEMID != "" {
			b.WriteString("    oem_id: " + lab.OEMID + "\n")
		}
		if lab.Channel == edition.VolumeMAK {
			b.WriteString("    mak_limit: 3\n")
		}
	}
	c, err := Parse([]byte(b.String()), name)
	require.NoError(t, err)
	return c
}

func TestExtend(t *testing.T) {
	base, err := Load(catalogPath(t))
	require.NoError(t, err)
	n := len(base.Entries())
	more := extra(t, "more.yaml", "oem-slp/ACMEPC/win7-ultimate", "mak/win8-pro")
	require.NoError(t, base.Extend(more))
	assert.Len(t, base.Entries(), n+2)
	assert.Equal(t, catalogPath(t)+" + more.yaml", base.Sources())
	mak, err := base.Label("mak/win8-pro")
	require.NoError(t, err)
	assert.Equal(t, 3, mak.MAKLimit)
	assert.Equal(t, "more.yaml:7", mak.Place())
	got, err := base.Lookup(mak.Key)
	require.NoError(t, err)
	assert.Same(t, mak, got)

	// A label defined twice names both places, and the catalog is left as it was.
	twice := extra(t, "twice.yaml", "retail/win8-core", "retail/win7-ultimate")
	err = base.Extend(twice)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `label "retail/win7-ultimate" is defined twice: at `+catalogPath(t)+`:18 and at twice.yaml:6`)
	assert.Len(t, base.Entries(), n+2)
	e, err := base.Label("retail/win8-core")
	require.NoError(t, err)
	assert.Empty(t, e.File, "retail/win8-core was not added")
}

func TestAddDerivedAndWire(t *testing.T) {
	c, err := Load(catalogPath(t))
	require.NoError(t, err)
	require.NoError(t, c.Extend(extra(t, "more.yaml", "gvlk/win8-pro")))
	e, err := c.Label("oem-slp/NEWOEM/win7-professional")
	require.NoError(t, err)
	require.NoError(t, c.Add(e))
	err = c.Add(e)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `label "oem-slp/NEWOEM/win7-professional" is defined twice: at no catalog (the label grammar) and at no catalog`)
	got, err := c.Lookup(e.Key)
	require.NoError(t, err)
	assert.Same(t, e, got)

	b, err := c.Wire()
	require.NoError(t, err)
	back, err := ParseWire(b)
	require.NoError(t, err)
	assert.Equal(t, c.Sources(), back.Sources())
	for _, want := range c.Entries() {
		got, err := back.Lookup(want.Key)
		require.NoError(t, err, want.Label)
		assert.Equal(t, want.Label, got.Label)
		assert.Equal(t, want.Place(), got.Place())
		assert.Equal(t, want.OEMID, got.OEMID)
	}
	var w map[string]any
	require.NoError(t, json.Unmarshal(b, &w))
	assert.Equal(t, []any{catalogPath(t), "more.yaml"}, w["files"])
}

func TestDerive(t *testing.T) {
	c, err := Load(catalogPath(t))
	require.NoError(t, err)
	for _, tc := range []struct {
		label, defined, note string
		blocked              bool
		mak                  int
	}{
		{"retail/win7-ultimate/blocked", catalogPath(t) + ":30", "", true, 0},
		{"mak/win7-enterprise", catalogPath(t) + ":102", "", false, 5},
		{"oem-slp/ACMEPC/win7-professional", "label grammar", "", false, 0},
		{"mak/win8-pro", "label grammar", "a MAK is usable once a catalog lists it", false, 0},
		{"retail/win7-ultimate/spare", "label grammar", "a tagged label names a key only when a catalog lists it", false, 0},
	} {
		d, err := c.Derive(tc.label)
		require.NoError(t, err, tc.label)
		assert.Equal(t, productkey.Derive(tc.label), d.Key, tc.label)
		assert.Equal(t, tc.defined, d.Defined, tc.label)
		assert.Equal(t, tc.blocked, d.Blocked, tc.label)
		assert.Equal(t, tc.mak, d.MAKLimit, tc.label)
		if tc.note == "" {
			assert.Empty(t, d.Note, tc.label)
		} else {
			assert.Contains(t, d.Note, tc.note, tc.label)
		}
		b, err := json.Marshal(d)
		require.NoError(t, err)
		assert.NotContains(t, string(b), d.Key.Reveal()[:5], "the key is not in the JSON of a derivation")
	}
	_, err = c.Derive("oem-slp/NEWOEM/win7-enterprise")
	assert.EqualError(t, err, `key label "oem-slp/NEWOEM/win7-enterprise": win7-enterprise is not sold through OEM:SLP (its channels: Volume:GVLK, Volume:MAK)`)
}

func FuzzParseLabel(f *testing.F) {
	c, err := Load(catalogPath(f))
	require.NoError(f, err)
	for _, e := range c.Entries() {
		f.Add(e.Label)
		f.Add(e.Key.Reveal())
	}
	f.Add("oem-slp/A M I/win7-professional/x")
	f.Add("oem-slp/\xff/win7-professional")
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLabel(s)
		if err != nil {
			if looksLikeKey(s) {
				assert.NotContains(t, err.Error(), strings.TrimSpace(s))
			}
			return
		}
		assert.Equal(t, s, l.String())
		assert.True(t, l.Edition.Allows(l.Channel))
		assert.LessOrEqual(t, len(l.OEMID), 6)
		assert.Equal(t, l.Channel == edition.OEMSLP, l.OEMID != "")
		e, err := c.Label(s)
		if err == nil {
			assert.Equal(t, productkey.Derive(s), e.Key)
		}
	})
}
