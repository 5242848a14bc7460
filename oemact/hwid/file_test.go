package hwid

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseInventoryRoundTrip(t *testing.T) {
	inv, err := Collect(tree("laptop"), Options{TPMEKDigest: "ek"})
	require.NoError(t, err)
	b, err := json.Marshal(inv)
	require.NoError(t, err)
	got, err := ParseInventory(b, "laptop.json")
	require.NoError(t, err)
	assert.Equal(t, inv, got)

	// What may leave the machine (digests only) reads back too, and compares the same.
	b, err = json.Marshal(inv.Redacted())
	require.NoError(t, err)
	red, err := ParseInventory(b, "redacted.json")
	require.NoError(t, err)
	assert.Equal(t, VotePolicy.Compare(inv, inv), VotePolicy.Compare(red, inv))
}

// Hand-written inventories may give values only; digests are computed.
func TestParseInventoryValuesOnly(t *testing.T) {
	inv, err := ParseInventory([]byte(`{"components":[{"class":"nic","value":"52:54:00:12:34:56"}],"dockable":true}`), "x")
	require.NoError(t, err)
	assert.Equal(t, Digest(NIC, "52:54:00:12:34:56"), inv.Components[0].Digest)
	assert.True(t, inv.Dockable)
}

func TestParseInventoryErrors(t *testing.T) {
	for _, tc := range []struct{ doc, msg string }{
		{``, "base.json: not an inventory"},
		{`[]`, "base.json: not an inventory"},
		{`{"components":[],"extra":1}`, `unknown field "extra"`},
		{`{"components":[]} {}`, "data after the inventory"},
		{`{"components":[{"class":"gpu","value":"x"}]}`, `component 1: unknown class "gpu" (known: nic, disk, memory`},
		{`{"components":[{"class":"nic"}]}`, "component 1 (nic): neither value nor digest"},
		{`{"components":[{"class":"nic","value":"a","digest":"0011223344556677"}]}`, "digest 0011223344556677 does not match value \"a\""},
	} {
		_, err := ParseInventory([]byte(tc.doc), "base.json")
		assert.ErrorContains(t, err, tc.msg, tc.doc)
	}
}

func FuzzParseInventory(f *testing.F) {
	for _, name := range []string{"qemu-q35", "laptop"} {
		inv, err := Collect(tree(name), Options{})
		if err != nil {
			f.Fatal(err)
		}
		b, _ := json.Marshal(inv)
		f.Add(b)
	}
	f.Add([]byte(`{"components":[{"class":"nic","value":"x"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		inv, err := ParseInventory(b, "fuzz")
		if err != nil {
			return
		}
		for _, c := range inv.Components {
			if c.Digest == "" {
				t.Fatalf("component without a digest: %+v", c)
			}
		}
		_ = VotePolicy.Compare(inv, inv)
	})
}
