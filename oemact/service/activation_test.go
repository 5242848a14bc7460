package service_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/hwid"
	"github.com/oemact/oemact/oemact/service"
	"github.com/oemact/oemact/oemact/service/api"
	"github.com/oemact/oemact/oemact/service/client"
	"github.com/oemact/oemact/oemact/service/geo"
	"github.com/oemact/oemact/oemact/service/phone"
	"github.com/oemact/oemact/oemact/service/rules"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRetailBindsReactivatesAndMovesByPhone(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	k := key(t, e.cat, edition.Retail, "win7-ultimate").Key
	a := machine("a")

	r, err := activate(ctx, e.c, k, a)
	require.NoError(t, err)
	assert.Equal(t, api.ResultActivated, r.Result)
	assert.Equal(t, "Retail", r.Channel)
	assert.Len(t, r.KeyID, 16)
	// The online confirmation is the one of the installation ID the same key and hardware make.
	iidA, err := phone.NewInstallationID(k, a)
	require.NoError(t, err)
	require.NoError(t, phone.VerifyConfirmation(iidA, r.ConfirmationID))
	require.NoError(t, phone.VerifyConfirmationMAC(iidA, r.ConfirmationID, e.srv.Store().Secret()))

	// A NIC swap keeps 7 of 10 votes: the same copy.
	r, err = activate(ctx, e.c, k, swap(a, hwid.NIC))
	require.NoError(t, err)
	assert.Equal(t, api.ResultReactivated, r.Result)
	require.NotNil(t, r.Votes)
	assert.Equal(t, 7, r.Votes.Matching)

	// Another machine: the key is in use online.
	b := machine("b")
	_, err = activate(ctx, e.c, k, b)
	assert.Equal(t, api.CodeKeyInUse, client.Code(err))
	var ce *client.Error
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 409, ce.Status)

	// Telephone activation moves the one copy to b; then a is the other hardware.
	iidB, err := phone.NewInstallationID(k, b)
	require.NoError(t, err)
	r, err = e.c.Phone(ctx, iidB)
	require.NoError(t, err)
	assert.Equal(t, api.ResultMoved, r.Result)
	require.NoError(t, phone.VerifyConfirmation(iidB, r.ConfirmationID))
	_, err = activate(ctx, e.c, k, a)
	assert.Equal(t, api.CodeKeyInUse, client.Code(err))
	// b online now reactivates (at the installation ID's precision the binding still matches).
	r, err = activate(ctx, e.c, k, b)
	require.NoError(t, err)
	assert.Equal(t, api.ResultReactivated, r.Result)

	st, err := e.c.Stats(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 1, client.Outcomes(st, "online", "Retail", "win7-ultimate", api.ResultActivated))
	assert.EqualValues(t, 2, client.Outcomes(st, "online", "Retail", "win7-ultimate", api.ResultReactivated))
	assert.EqualValues(t, 1, client.Outcomes(st, "phone", "Retail", "win7-ultimate", api.ResultMoved))
	assert.Contains(t, st.Refused, api.RefusalCount{Code: api.CodeKeyInUse, Count: 2})
}

func TestRetailOnlineMovesConfigurable(t *testing.T) {
	cfg := rules.DefaultConfig()
	cfg.RetailOnlineMoves = 1
	e := newEnv(t, func(c *service.Config) { c.Rules = &cfg })
	ctx := context.Background()
	k := key(t, e.cat, edition.OEMCOA, "").Key
	_, err := activate(ctx, e.c, k, machine("a"))
	require.NoError(t, err)
	r, err := activate(ctx, e.c, k, machine("b"))
	require.NoError(t, err)
	assert.Equal(t, api.ResultMoved, r.Result)
	_, err = activate(ctx, e.c, k, machine("c"))
	assert.Equal(t, api.CodeKeyInUse, client.Code(err), "one move allowed, one used")
	e.restart()
	_, err = activate(ctx, e.c, k, machine("d"))
	assert.Equal(t, api.CodeKeyInUse, client.Code(err), "the used move is durable")
}

func TestChannelsAndBlockedKeys(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	m := machine("m")
	for _, tc := range []struct {
		ch   edition.Channel
		ed   string
		code string
	}{
		{edition.VolumeGVLK, "win7-professional", api.CodeWrongChannel},
		{edition.OEMSLP, "win7-professional", api.CodeSLPOffline},
	} {
		_, err := activate(ctx, e.c, key(t, e.cat, tc.ch, tc.ed).Key, m)
		assert.Equal(t, tc.code, client.Code(err), tc.ch)
	}
	var blocked *api.ActivateResponse
	for _, en := range e.cat.Entries() {
		if en.Blocked {
			r, err := activate(ctx, e.c, en.Key, m)
			require.NoError(t, err)
			blocked = r
		}
	}
	require.NotNil(t, blocked, "the catalog has a blocked key")
	assert.Equal(t, api.ResultBlocked, blocked.Result)
	assert.Equal(t, api.CodeKeyBlocked, blocked.Code)
	assert.Empty(t, blocked.ConfirmationID)

	r := apiActivateRequest(key(t, e.cat, edition.Retail, "win7-professional").Key, m)
	r.Edition = "win7-ultimate"
	_, err := e.c.Activate(ctx, r)
	assert.Equal(t, api.CodeEditionMismatch, client.Code(err))
}

func TestOA3BindsToFirstHardware(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	k := key(t, e.cat, edition.OEMDM, "win8-pro").Key
	a := machine("a")
	r, err := activate(ctx, e.c, k, a)
	require.NoError(t, err)
	assert.Equal(t, api.ResultActivated, r.Result)
	r, err = activate(ctx, e.c, k, swap(a, hwid.Disk, hwid.Memory))
	require.NoError(t, err)
	assert.Equal(t, api.ResultReactivated, r.Result)
	_, err = activate(ctx, e.c, k, machine("b"))
	assert.Equal(t, api.CodeKeyBoundOther, client.Code(err))
	iid, err := phone.NewInstallationID(k, machine("b"))
	require.NoError(t, err)
	_, err = e.c.Phone(ctx, iid)
	assert.Equal(t, api.CodeKeyBoundOther, client.Code(err), "telephone does not move an OA 3.0 key")
}

func TestGeography(t *testing.T) {
	tab, err := geo.Parse([]byte("198.51.100.0/24 IN\n"), "lab", mustDefault(t, "US"))
	require.NoError(t, err)
	e := newEnv(t, func(c *service.Config) { c.Geo = tab })
	ctx := context.Background()
	starter := key(t, e.cat, edition.Retail, "win7-starter").Key

	_, err = activate(ctx, e.c, starter, machine("a"))
	assert.Equal(t, api.CodeMarketRestricted, client.Code(err), "loopback maps to the default country, US")
	unknown := client.NewInProcess(e.srv.Handler(), "100.64.0.9:5000") // RFC 6598: in no table
	_, err = activate(ctx, unknown, starter, machine("a"))
	assert.Equal(t, api.CodeMarketRestricted, client.Code(err), "an address of no country is outside the markets too: one code")
	india := client.NewInProcess(e.srv.Handler(), "198.51.100.7:5000")
	r, err := activate(ctx, india, starter, machine("a"))
	require.NoError(t, err)
	assert.Equal(t, api.ResultActivated, r.Result)
	// Unrestricted editions ignore the country.
	_, err = activate(ctx, unknown, key(t, e.cat, edition.Retail, "win7-ultimate").Key, machine("a"))
	assert.NoError(t, err)
}

// The market refusal has one code on every path a request can take: online, telephone and a
// proxy batch item; the address is the connection's, or client_ip on a server that trusts it.
func TestMarketRefusalOneCodeOnEveryPath(t *testing.T) {
	e := newEnv(t, func(c *service.Config) { c.TrustClientIP = true })
	ctx := context.Background()
	starter := key(t, e.cat, edition.Retail, "win7-starter").Key
	mak := key(t, e.cat, edition.VolumeMAK, "win7-professional").Key
	online := func(ip string, inv hwid.Inventory) error {
		r := apiActivateRequest(starter, inv)
		r.ClientIP = ip
		_, err := e.c.Activate(ctx, r)
		return err
	}
	phoneCall := func(ip string, inv hwid.Inventory) error {
		iid, err := phone.NewInstallationID(starter, inv)
		require.NoError(t, err)
		_, err = e.c.PhoneRequest(ctx, api.PhoneRequest{InstallationID: iid, ClientIP: ip})
		return err
	}
	for _, ip := range []string{"203.0.113.10", "2001:db8::7", "100.64.0.9", ""} { // US, DE, no country, loopback (US)
		assert.Equal(t, api.CodeMarketRestricted, client.Code(online(ip, machine("o1"))), "online from %q", ip)
		assert.Equal(t, api.CodeMarketRestricted, client.Code(phoneCall(ip, machine("p1"))), "telephone from %q", ip)
	}
	require.NoError(t, online("192.0.2.10", machine("o2")), "India is a Starter market")
	require.NoError(t, phoneCall("198.51.100.3", machine("p2")), "so is Brazil")

	// A proxy batch's address is judged the same way (no edition with markets has a MAK, so the
	// batch here shows the address taken, not a refusal).
	iid, err := phone.NewInstallationID(mak, machine("b1"))
	require.NoError(t, err)
	resp, err := e.c.ProxyBatch(ctx, api.BatchRequest{BatchID: "b-1", ClientIP: "203.0.113.10", Items: []api.BatchItem{{Ref: "pc", InstallationID: iid}}})
	require.NoError(t, err)
	assert.Equal(t, api.ResultActivated, resp.Items[0].Result, "Professional has no markets")

	// A server that does not trust client_ip refuses it rather than judge the connection instead.
	plain := newEnv(t)
	r := apiActivateRequest(starter, machine("x"))
	r.ClientIP = "192.0.2.10"
	_, err = plain.c.Activate(ctx, r)
	assert.Equal(t, api.CodeClientIP, client.Code(err))
	_, err = plain.c.ProxyBatch(ctx, api.BatchRequest{BatchID: "b-2", ClientIP: "192.0.2.10", Items: []api.BatchItem{{InstallationID: iid}}})
	assert.Equal(t, api.CodeClientIP, client.Code(err))
	r.ClientIP = "India"
	_, err = e.c.Activate(ctx, r)
	assert.Equal(t, api.CodeInvalidField, client.Code(err))
}

// The online request carries the software version and language (DESIGN.md); the service checks
// their form and keeps neither.
func TestSoftwareVersionAndLanguage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	k := key(t, e.cat, edition.Retail, "win7-ultimate").Key
	r := apiActivateRequest(k, machine("sv"))
	r.SoftwareVersion, r.Language = "6.1.7600", "en-US"
	_, err := e.c.Activate(ctx, r)
	require.NoError(t, err)
	for _, bad := range []struct{ version, language, field string }{
		{"seven", "en-US", "software_version"},
		{"6.1.7600.16385.1", "en-US", "software_version"},
		{"6.1.7600", "english please", "language"},
		{"6.1.7600", "e", "language"},
	} {
		r.SoftwareVersion, r.Language = bad.version, bad.language
		_, err := e.c.Activate(ctx, r)
		assert.Equal(t, api.CodeInvalidField, client.Code(err), bad)
		assert.ErrorContains(t, err, bad.field)
	}
	assert.NotContains(t, e.dump(), "en-US")
	assert.NotContains(t, e.dump(), "6.1.7600")
}

func mustDefault(t *testing.T, c string) *geo.Table {
	tab, err := geo.Default(c)
	require.NoError(t, err)
	_, ok := tab.Country(netip.MustParseAddr("127.0.0.1"))
	require.True(t, ok)
	return tab
}

// KMS: 24 clients leave a Windows 7 client unactivated, the 25th activates.
func TestKMSWindows7Threshold(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := 1; i <= 25; i++ {
		e.clock.Advance(time.Minute)
		r, err := e.c.KMS(ctx, api.KMSRequest{CMID: cmid(i), Edition: "win7-enterprise", MarkerPresent: true})
		require.NoError(t, err)
		assert.Equal(t, i, r.Count)
		if i <= 24 {
			assert.False(t, r.Activated, "client %d", i)
			assert.Equal(t, api.CodeKMSBelowThreshold, r.Code)
			assert.Equal(t, 120, r.RetryMinutes)
			assert.Nil(t, r.ValidUntil)
		} else {
			assert.True(t, r.Activated)
			require.NotNil(t, r.ValidUntil)
			assert.Equal(t, 180*24*time.Hour, r.ValidUntil.Sub(r.Time))
			assert.Equal(t, 7*24*60, r.RenewalMinutes)
		}
	}
	// The count is durable.
	e.restart()
	st, err := e.c.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, 25, st.KMS.Count)
	assert.EqualValues(t, 24, client.Outcomes(st, "kms", "", "win7-enterprise", "not-activated"))
	assert.EqualValues(t, 1, client.Outcomes(st, "kms", "", "win7-enterprise", api.ResultActivated))

	// Without a Windows marker a Windows 7 volume edition does not use KMS.
	r, err := e.c.KMS(ctx, api.KMSRequest{CMID: cmid(99), Edition: "win7-professional"})
	require.NoError(t, err)
	assert.False(t, r.Activated)
	assert.Equal(t, api.CodeKMSMarkerRequired, r.Code)
	_, err = e.c.KMS(ctx, api.KMSRequest{CMID: cmid(98), Edition: "win7-homepremium", MarkerPresent: true})
	assert.Equal(t, api.CodeNotVolumeEdition, client.Code(err))
}

// KMS: 4 servers leave Server 2008 R2 unactivated, the 5th activates; a client silent for 31
// days drops out of the count.
func TestKMSServerThresholdAndSilentClient(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	req := func(i int) *api.KMSResponse {
		r, err := e.c.KMS(ctx, api.KMSRequest{CMID: cmid(i), Edition: "server2008r2-enterprise"})
		require.NoError(t, err)
		return r
	}
	for i := 1; i <= 5; i++ {
		r := req(i)
		assert.Equal(t, i, r.Count)
		assert.Equal(t, 5, r.Threshold)
		assert.Equal(t, i == 5, r.Activated, "server %d", i)
	}
	// Servers 2..5 renew after 7 days; server 1 stays silent.
	e.clock.Advance(7 * 24 * time.Hour)
	for i := 2; i <= 5; i++ {
		assert.True(t, req(i).Activated)
	}
	// Day 31 after server 1's last request: it is out, and the count is 4: below the threshold.
	e.clock.Set(t0.Add(31 * 24 * time.Hour))
	st, err := e.c.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, 4, st.KMS.Count)
	r := req(2)
	assert.Equal(t, 4, r.Count)
	assert.False(t, r.Activated)
	// It comes back: counted again.
	r = req(1)
	assert.Equal(t, 5, r.Count)
	assert.True(t, r.Activated)
}

func TestKMSClientTime(t *testing.T) {
	e := newEnv(t, func(c *service.Config) { c.TrustClientTime = true })
	ctx := context.Background()
	day := func(n int) *time.Time { x := t0.Add(time.Duration(n) * 24 * time.Hour); return &x }
	for i := 1; i <= 5; i++ {
		_, err := e.c.KMS(ctx, api.KMSRequest{CMID: cmid(i), Edition: "server2008r2-standard", RequestTime: day(0)})
		require.NoError(t, err)
	}
	r, err := e.c.KMS(ctx, api.KMSRequest{CMID: cmid(1), Edition: "server2008r2-standard", RequestTime: day(31)})
	require.NoError(t, err)
	assert.Equal(t, 1, r.Count, "the others are 31 days silent by the client's clock")
	assert.Equal(t, *day(31), r.Time)

	plain := newEnv(t)
	_, err = plain.c.KMS(ctx, api.KMSRequest{CMID: cmid(1), Edition: "server2008r2-standard", RequestTime: day(1)})
	assert.Equal(t, api.CodeClientTime, client.Code(err))
}

func TestAdmin(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	add := api.AddKeyRequest{Label: "mak/bench/win7-enterprise", Channel: "Volume:MAK", Edition: "win7-enterprise", MAKLimit: 2}
	add.Key = derive(add.Label)
	info, err := e.c.AddKey(ctx, add)
	require.NoError(t, err)
	assert.Equal(t, 2, info.MAKLimit)
	_, err = e.c.AddKey(ctx, add)
	assert.Equal(t, api.CodeKeyExists, client.Code(err))

	bad := add
	bad.Label = "not the label"
	_, err = e.c.AddKey(ctx, bad)
	assert.Equal(t, api.CodeCatalogInvalid, client.Code(err))
	assert.ErrorContains(t, err, "is not the TEST key derived from label")
	assert.NotContains(t, err.Error(), add.Key)

	// Two activations fill the pool; the limit cannot go below them; raising it lets a third in.
	k := parse(t, add.Key)
	for _, m := range []string{"a", "b"} {
		_, err := activate(ctx, e.c, k, machine(m))
		require.NoError(t, err)
	}
	_, err = activate(ctx, e.c, k, machine("c"))
	assert.Equal(t, api.CodeMAKExhausted, client.Code(err))
	one := 1
	_, err = e.c.UpdateKey(ctx, info.KeyID, api.UpdateKeyRequest{MAKLimit: &one})
	assert.Equal(t, api.CodeLimitBelowCount, client.Code(err))
	three := 3
	info, err = e.c.UpdateKey(ctx, info.KeyID, api.UpdateKeyRequest{MAKLimit: &three})
	require.NoError(t, err)
	assert.Equal(t, 2, info.MAKUsed)
	r, err := activate(ctx, e.c, k, machine("c"))
	require.NoError(t, err)
	assert.Equal(t, 0, *r.MAKRemaining)

	// Admin changes survive a restart, and the catalog file does not override them.
	e.restart()
	added, differing := e.srv.CatalogImport()
	assert.Equal(t, 0, added)
	assert.Equal(t, 0, differing)
	st, err := e.c.Stats(ctx)
	require.NoError(t, err)
	p, ok := client.Pool(st, info.KeyID)
	require.True(t, ok)
	assert.Equal(t, api.MAKPool{KeyID: info.KeyID, Edition: "win7-enterprise", Limit: 3, Used: 3, Remaining: 0}, p)

	yes := true
	_, err = e.c.UpdateKey(ctx, info.KeyID, api.UpdateKeyRequest{Blocked: &yes})
	require.NoError(t, err)
	r, err = activate(ctx, e.c, k, machine("a"))
	require.NoError(t, err)
	assert.Equal(t, api.ResultBlocked, r.Result)

	noToken := client.NewInProcess(e.srv.Handler(), "")
	_, err = noToken.UpdateKey(ctx, info.KeyID, api.UpdateKeyRequest{Blocked: &yes})
	assert.Equal(t, api.CodeAdminTokenRequired, client.Code(err))

	disabled := newEnv(t, func(c *service.Config) { c.AdminToken = "" })
	_, err = disabled.c.AddKey(ctx, add)
	assert.Equal(t, api.CodeAdminDisabled, client.Code(err))
}
