package rules

import (
	"fmt"
	"testing"
	"time"

	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/hwid"
	"github.com/oemact/oemact/oemact/service/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func inventory(tag string) hwid.Inventory {
	var inv hwid.Inventory
	inv.Add(hwid.NIC, "nic-"+tag)
	inv.Add(hwid.Disk, "disk-"+tag)
	inv.Add(hwid.Memory, "mem-"+tag)
	inv.Add(hwid.CPU, "cpu-"+tag)
	inv.Add(hwid.Display, "display-"+tag)
	inv.Add(hwid.StorageController, "sc-"+tag)
	inv.Add(hwid.System, "system-"+tag)
	inv.Add(hwid.BIOS, "bios-"+tag)
	return inv
}

// change replaces the component of each class with a new value.
func change(inv hwid.Inventory, classes ...hwid.Class) hwid.Inventory {
	out := hwid.Inventory{Dockable: inv.Dockable}
	for _, c := range inv.Components {
		for _, x := range classes {
			if c.Class == x {
				c = hwid.NewComponent(x, "changed-"+c.Digest)
			}
		}
		out.Components = append(out.Components, hwid.Component{Class: c.Class, Digest: c.Digest})
	}
	return out
}

func ed(t *testing.T, id string) edition.Edition {
	e, err := edition.Lookup(id)
	require.NoError(t, err)
	return e
}

func code(err error) string {
	if r, ok := err.(*Refusal); ok {
		return r.Code
	}
	return fmt.Sprint(err)
}

func TestCheckChannel(t *testing.T) {
	for _, tc := range []struct {
		ch   edition.Channel
		via  Via
		want string
	}{
		{edition.Retail, Online, ""},
		{edition.OEMCOA, Phone, ""},
		{edition.OEMDM, Online, ""},
		{edition.VolumeMAK, Batch, ""},
		{edition.VolumeGVLK, Online, api.CodeWrongChannel},
		{edition.VolumeGVLK, Phone, api.CodeWrongChannel},
		{edition.OEMSLP, Online, api.CodeSLPOffline},
		{edition.OEMSLP, Phone, api.CodeSLPOffline},
		{edition.Retail, Batch, api.CodeWrongChannel},
	} {
		err := CheckChannel(Key{ID: "k1", Channel: tc.ch}, tc.via)
		if tc.want == "" {
			assert.NoError(t, err, "%s %s", tc.ch, tc.via)
		} else {
			assert.Equal(t, tc.want, code(err), "%s %s", tc.ch, tc.via)
		}
	}
	assert.ErrorContains(t, CheckChannel(Key{ID: "k1", Channel: edition.OEMSLP}, Online), "offline")
}

func TestCheckEditionAndMarket(t *testing.T) {
	k := Key{ID: "k", Edition: ed(t, "win7-professional")}
	assert.NoError(t, CheckEdition(k, ""))
	assert.NoError(t, CheckEdition(k, "WIN7-Professional"))
	assert.Equal(t, api.CodeEditionMismatch, code(CheckEdition(k, "win7-ultimate")))

	starter := ed(t, "win7-starter")
	assert.NoError(t, CheckMarket(ed(t, "win7-ultimate"), "", false), "unrestricted editions ignore geography")
	assert.NoError(t, CheckMarket(starter, "IN", true))
	assert.Equal(t, api.CodeMarketRestricted, code(CheckMarket(starter, "US", true)))
	assert.Equal(t, api.CodeMarketRestricted, code(CheckMarket(starter, "", false)), "no country: the same refusal")
	assert.Contains(t, CheckMarket(starter, "", false).Error(), "in no country")
}

func retailKey(t *testing.T) Key {
	return Key{ID: "r1", Channel: edition.Retail, Edition: ed(t, "win7-ultimate")}
}

func TestRetail(t *testing.T) {
	cfg := DefaultConfig()
	k := retailKey(t)
	a := inventory("a")

	d, err := Activate(cfg, k, nil, 0, a, Online)
	require.NoError(t, err)
	assert.Equal(t, api.ResultActivated, d.Result)
	assert.Equal(t, Bind, d.Action)

	bound := []Binding{{ID: 7, Hardware: a}}
	// NIC swap: 3 votes lost, 7 remain: the same copy, reactivated with no new binding.
	nic := change(a, hwid.NIC)
	d, err = Activate(cfg, k, bound, 0, nic, Online)
	require.NoError(t, err)
	assert.Equal(t, api.ResultReactivated, d.Result)
	assert.Equal(t, int64(7), d.BindingID)
	assert.Equal(t, Rebind, d.Action, "the binding follows the copy")
	// Identical hardware: nothing to write.
	d, err = Activate(cfg, k, bound, 0, a, Online)
	require.NoError(t, err)
	assert.Equal(t, None, d.Action)

	// NIC and disk: 4 votes lost: other hardware. Online refuses; telephone moves the binding.
	other := change(a, hwid.NIC, hwid.Disk)
	_, err = Activate(cfg, k, bound, 0, other, Online)
	assert.Equal(t, api.CodeKeyInUse, code(err))
	assert.ErrorContains(t, err, "out of tolerance: 6 of 10 votes match")
	d, err = Activate(cfg, k, bound, 0, other, Phone)
	require.NoError(t, err)
	assert.Equal(t, api.ResultMoved, d.Result)
	assert.Equal(t, Rebind, d.Action)
	assert.Equal(t, int64(7), d.BindingID)
	assert.False(t, d.UsesMove)

	// Configured online moves.
	cfg.RetailOnlineMoves = 1
	d, err = Activate(cfg, k, bound, 0, other, Online)
	require.NoError(t, err)
	assert.Equal(t, api.ResultMoved, d.Result)
	assert.True(t, d.UsesMove)
	k.OnlineMoves = 1
	_, err = Activate(cfg, k, bound, 0, other, Online)
	assert.Equal(t, api.CodeKeyInUse, code(err))

	// Blocked keys answer blocked, whatever the hardware.
	k.Blocked = true
	d, err = Activate(cfg, k, bound, 0, other, Online)
	require.NoError(t, err)
	assert.Equal(t, api.ResultBlocked, d.Result)
	assert.Equal(t, api.CodeKeyBlocked, d.Code)
	assert.Equal(t, None, d.Action)
}

func TestOEMDM(t *testing.T) {
	cfg := DefaultConfig()
	k := Key{ID: "d1", Channel: edition.OEMDM, Edition: ed(t, "win8-pro")}
	a := inventory("a")
	d, err := Activate(cfg, k, nil, 0, a, Online)
	require.NoError(t, err)
	assert.Equal(t, Bind, d.Action)
	bound := []Binding{{ID: 1, Hardware: a}}
	d, err = Activate(cfg, k, bound, 0, change(a, hwid.Disk), Online)
	require.NoError(t, err)
	assert.Equal(t, api.ResultReactivated, d.Result)
	for _, via := range []Via{Online, Phone} {
		_, err = Activate(cfg, k, bound, 0, inventory("b"), via)
		assert.Equal(t, api.CodeKeyBoundOther, code(err), via)
	}
}

func TestMAK(t *testing.T) {
	cfg := DefaultConfig()
	k := Key{ID: "m1", Channel: edition.VolumeMAK, Edition: ed(t, "win7-enterprise"), MAKLimit: 2}
	a, b, c := inventory("a"), inventory("b"), inventory("c")
	d, err := Activate(cfg, k, nil, 0, a, Online)
	require.NoError(t, err)
	assert.Equal(t, api.ResultActivated, d.Result)
	assert.Contains(t, d.Message, "1 of 2")
	bound := []Binding{{ID: 1, Hardware: a}}
	d, err = Activate(cfg, k, bound, 1, b, Online)
	require.NoError(t, err)
	assert.Equal(t, Bind, d.Action)
	bound = append(bound, Binding{ID: 2, Hardware: b})
	_, err = Activate(cfg, k, bound, 2, c, Online)
	assert.Equal(t, api.CodeMAKExhausted, code(err))
	// A machine already counted reactivates with the pool exhausted, matched to its own binding.
	d, err = Activate(cfg, k, bound, 2, change(b, hwid.CPU), Batch)
	require.NoError(t, err)
	assert.Equal(t, api.ResultReactivated, d.Result)
	assert.Equal(t, int64(2), d.BindingID)
}

// An installation ID carries 12-bit digests: comparison happens at that precision, and such
// hardware never replaces a binding's full digests.
func TestComparePrecision(t *testing.T) {
	a := inventory("a")
	short := hwid.Inventory{}
	for _, c := range a.Components {
		short.Components = append(short.Components, hwid.Component{Class: c.Class, Digest: c.Digest[:3]})
	}
	d := Compare(hwid.VotePolicy, a, short)
	assert.True(t, d.InTolerance)
	assert.Equal(t, 10, d.Matching)
	assert.False(t, Precise(short))
	assert.True(t, Precise(a))

	k := Key{ID: "m", Channel: edition.VolumeMAK, Edition: ed(t, "win7-enterprise"), MAKLimit: 5}
	dec, err := Activate(DefaultConfig(), k, []Binding{{ID: 3, Hardware: a}}, 1, short, Phone)
	require.NoError(t, err)
	assert.Equal(t, api.ResultReactivated, dec.Result)
	assert.Equal(t, None, dec.Action)
}

func TestMayMatchWithoutSharing(t *testing.T) {
	assert.False(t, MayMatchWithoutSharing(hwid.VotePolicy, inventory("a")))
	var sparse hwid.Inventory
	sparse.Add(hwid.NIC, "x") // 7 votes of classes absent: a binding just as sparse matches
	assert.True(t, MayMatchWithoutSharing(hwid.VotePolicy, sparse))
	d := hwid.VotePolicy.Compare(sparse, change(sparse, hwid.NIC))
	assert.True(t, d.InTolerance, "the case the index cannot see")
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func cmid(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }

// 24 distinct clients leave a Windows 7 client unactivated; the 25th activates.
func TestKMSWindows7Threshold(t *testing.T) {
	cfg := DefaultConfig().KMS
	win7 := ed(t, "win7-professional")
	var clients []KMSClient
	for i := 1; i <= 25; i++ {
		d := KMS(cfg, clients, cmid(i), win7, true, t0.Add(time.Duration(i)*time.Minute))
		clients = d.Clients
		assert.Equal(t, i, d.Count)
		assert.Equal(t, 25, d.Threshold)
		if i < 25 {
			assert.False(t, d.Activated, i)
			assert.Equal(t, api.CodeKMSBelowThreshold, d.Code)
		} else {
			assert.True(t, d.Activated)
			assert.Equal(t, t0.Add(25*time.Minute).Add(180*24*time.Hour), d.ValidUntil)
		}
	}
	// The same client again does not grow the count.
	d := KMS(cfg, clients, cmid(3), win7, true, t0.Add(time.Hour))
	assert.Equal(t, 25, d.Count)
	// Without a Windows marker a Windows 7 volume edition does not use KMS, but is counted.
	d = KMS(cfg, d.Clients, cmid(26), win7, false, t0.Add(2*time.Hour))
	assert.False(t, d.Activated)
	assert.Equal(t, api.CodeKMSMarkerRequired, d.Code)
	assert.Equal(t, 26, d.Count)
}

func TestKMSServerThresholdAndWindow(t *testing.T) {
	cfg := DefaultConfig().KMS
	srv := ed(t, "server2008r2-standard")
	var clients []KMSClient
	for i := 1; i <= 5; i++ {
		d := KMS(cfg, clients, cmid(i), srv, false, t0)
		clients = d.Clients
		assert.Equal(t, i == 5, d.Activated, i)
		assert.Equal(t, 5, d.Threshold)
	}
	// Client 1 falls silent; the others renew on day 29. On day 31, client 1 is out of the window:
	// a new server sees 5 (2..5 and itself), client 1 is dropped.
	for i := 2; i <= 5; i++ {
		clients = KMS(cfg, clients, cmid(i), srv, false, t0.Add(29*day)).Clients
	}
	d := KMS(cfg, clients, cmid(6), srv, false, t0.Add(31*day))
	assert.Equal(t, 5, d.Count)
	assert.Contains(t, d.Dropped, cmid(1))
	for _, c := range d.Clients {
		assert.NotEqual(t, cmid(1), c.CMID)
	}
	// Day 61: everyone but 6 has been silent for 32 days.
	d = KMS(cfg, d.Clients, cmid(6), srv, false, t0.Add(61*day))
	assert.Equal(t, 1, d.Count)
	assert.False(t, d.Activated)
}

func TestKMSKeepsFifty(t *testing.T) {
	cfg := DefaultConfig().KMS
	var clients []KMSClient
	win7 := ed(t, "win7-enterprise")
	var d KMSDecision
	for i := 1; i <= 60; i++ {
		d = KMS(cfg, clients, cmid(i), win7, true, t0.Add(time.Duration(i)*time.Second))
		clients = d.Clients
	}
	assert.Len(t, clients, 50)
	assert.Equal(t, 50, d.Count)
	assert.Equal(t, cmid(60), clients[0].CMID, "most recent first")
	assert.Equal(t, cmid(11), clients[49].CMID)
	// A client's time never moves back.
	d = KMS(cfg, clients, cmid(60), win7, true, t0)
	assert.Equal(t, t0.Add(60*time.Second), d.Clients[0].LastSeen)

	assert.Equal(t, api.CodeNotVolumeEdition, code(CheckKMSEdition(ed(t, "win7-homepremium"))))
	assert.NoError(t, CheckKMSEdition(win7))
}

func TestConfigValidate(t *testing.T) {
	require.NoError(t, DefaultConfig().Validate())
	c := DefaultConfig()
	c.RetailOnlineMoves = -1
	assert.Error(t, c.Validate())
	c = DefaultConfig()
	c.KMS.Keep = 0
	assert.Error(t, c.Validate())
}
