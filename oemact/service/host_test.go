package service_test

import (
	"testing"

	"github.com/oemact/oemact/oemact/activation"
	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/hwid"
	"github.com/oemact/oemact/oemact/licence"
	"github.com/oemact/oemact/oemact/service"
	"github.com/oemact/oemact/oemact/service/api"
	"github.com/oemact/oemact/oemact/service/client"
	"github.com/oemact/oemact/oemact/service/phone"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func proxyRequest(t *testing.T, e *env, inv hwid.Inventory, ip string) activation.ActivateRequest {
	t.Helper()
	iid, err := phone.NewInstallationID(key(t, e.cat, edition.VolumeMAK, "win7-enterprise").Key, inv)
	require.NoError(t, err)
	return activation.ActivateRequest{Method: "proxy", InstallationID: iid, IP: ip}
}

// MAK proxy activation (VAMT's role): the installation IDs of several machines go in one batch,
// and each machine gets its own answer; the pool (5 for the TEST Windows 7 Enterprise MAK) runs
// out inside the batch.
func TestHostProxyBatch(t *testing.T) {
	e := newEnv(t, func(c *service.Config) { c.TrustClientIP = true })
	h := &client.Host{Client: e.c}
	var reqs []activation.ActivateRequest
	for _, tag := range []string{"p1", "p2", "p3", "p4", "p5", "p6"} {
		reqs = append(reqs, proxyRequest(t, e, machine(tag), "192.0.2.10"))
	}
	out, err := h.ProxyBatch("192.0.2.10", reqs)
	require.NoError(t, err)
	require.Len(t, out, 6)
	for i, a := range out[:5] {
		assert.Equal(t, licence.Succeeded, a.Result.Outcome, "machine %d", i+1)
		assert.Equal(t, "proxy", a.Result.Method)
		assert.NoError(t, phone.VerifyConfirmation(reqs[i].InstallationID, a.ConfirmationID), "machine %d gets its own confirmation ID", i+1)
	}
	assert.Equal(t, licence.Failed, out[5].Result.Outcome)
	assert.Equal(t, api.CodeMAKExhausted, out[5].Result.Code)
	assert.True(t, out[5].Result.Refused, "the service refused the key: a refusal")

	st, err := e.c.Stats(t.Context())
	require.NoError(t, err)
	assert.Equal(t, int64(5), client.Outcomes(st, "batch", "", "", api.ResultActivated), "one batch, five activations")
	assert.Zero(t, client.Outcomes(st, "phone", "", "", ""))

	// One request alone is a batch of one; a batch the service refuses whole is each item's answer.
	one, err := h.Activate(proxyRequest(t, e, machine("p1"), ""))
	require.NoError(t, err)
	assert.Equal(t, licence.Succeeded, one.Result.Outcome, "the same hardware reactivates without using the pool")
	assert.Equal(t, api.ResultReactivated, one.Service)
	plain := &client.Host{Client: newEnv(t).c}
	out, err = plain.ProxyBatch("192.0.2.10", []activation.ActivateRequest{proxyRequest(t, e, machine("q"), "")})
	require.NoError(t, err)
	assert.Equal(t, api.CodeClientIP, out[0].Result.Code)
	assert.False(t, out[0].Result.Refused, "a request the service does not take is not a refusal of the key")

	_, err = h.ProxyBatch("", nil)
	assert.Error(t, err)
	_, err = h.ProxyBatch("", []activation.ActivateRequest{{Method: "online"}})
	assert.Error(t, err)
}

// The host carries what an online request holds to the service (the software version and
// language are checked there; the address decides a Starter's market), and marks refusals.
func TestHostCarriesTheRequest(t *testing.T) {
	e := newEnv(t, func(c *service.Config) { c.TrustClientIP = true })
	h := &client.Host{Client: e.c}
	starter := key(t, e.cat, edition.Retail, "win7-starter")
	inv := machine("s1")
	req := activation.ActivateRequest{Method: "online", Key: starter.Key.Reveal(), Edition: "win7-starter", Hardware: &inv,
		SoftwareVersion: "6.1.7600", Language: "en-US", IP: "203.0.113.10"}
	a, err := h.Activate(req)
	require.NoError(t, err)
	assert.Equal(t, api.CodeMarketRestricted, a.Result.Code)
	assert.True(t, a.Result.Refused)
	req.IP = "192.0.2.10"
	a, err = h.Activate(req)
	require.NoError(t, err)
	assert.Equal(t, licence.Succeeded, a.Result.Outcome, a.Result.Message)

	req.Language = "not a language"
	a, err = h.Activate(req)
	require.NoError(t, err)
	assert.Equal(t, api.CodeInvalidField, a.Result.Code, "the language travelled to the service, which checked it")
	assert.False(t, a.Result.Refused)

	blocked := key(t, e.cat, edition.Retail, "win7-ultimate")
	for _, k := range e.cat.Find(edition.Retail, "win7-ultimate") {
		if k.Blocked {
			blocked = k
		}
	}
	require.True(t, blocked.Blocked)
	a, err = h.Activate(activation.ActivateRequest{Method: "online", Key: blocked.Key.Reveal(), Hardware: &inv})
	require.NoError(t, err)
	assert.Equal(t, licence.Blocked, a.Result.Outcome)
	assert.True(t, a.Result.Refused)
}
