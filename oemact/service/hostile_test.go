package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/service/api"
	"github.com/oemact/oemact/oemact/service/client"
	"github.com/oemact/oemact/oemact/service/phone"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// raw sends a request as is and returns the status and body.
func raw(t *testing.T, base, method, path, ctype, body string, hdr ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	require.NoError(t, err)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// Malformed and hostile requests: each is answered 4xx with a JSON error and writes nothing.
func TestHostileRequestsWriteNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	hs := httptest.NewServer(e.srv.Handler())
	defer hs.Close()

	retail := key(t, e.cat, edition.Retail, "win7-professional").Key
	mak := key(t, e.cat, edition.VolumeMAK, "win7-enterprise").Key
	gvlk := key(t, e.cat, edition.VolumeGVLK, "win7-professional").Key
	hw := client.Hardware(machine("h"))
	hwJSON, _ := json.Marshal(hw)
	good := fmt.Sprintf(`{"key":%q,"hardware":%s}`, retail.Reveal(), hwJSON)

	// State to be hostile against: a full MAK pool and a stored batch.
	for i := 0; i < 5; i++ {
		_, err := activate(ctx, e.c, mak, machine(fmt.Sprint("pool", i)))
		require.NoError(t, err)
	}
	iid, err := phone.NewInstallationID(mak, machine("pool0"))
	require.NoError(t, err)
	_, err = e.c.ProxyBatch(ctx, api.BatchRequest{BatchID: "lab-1", Items: []api.BatchItem{{Ref: "pc1", InstallationID: iid}}})
	require.NoError(t, err)
	typo := []byte(iid)
	typo[2] = '0' + (typo[2]-'0'+1)%10
	makInfo := e.srv.Store().KeyHash
	_, makID := makInfo(mak)

	before := e.dump()
	const js = api.ContentTypeJSON
	auth := []string{"Authorization", "Bearer test-admin-token"}
	cases := []struct {
		name, method, path, ctype, body string
		status                          int
		code                            string
		hdr                             []string
	}{
		{"oversized body", "POST", api.PathActivate, js, `{"key":"` + strings.Repeat("A", 20000) + `"}`, 413, api.CodeBodyTooLarge, nil},
		{"oversized batch", "POST", api.PathProxyBatch, js, `{"batch_id":"x","items":[` + strings.Repeat(`{"installation_id":"1"},`, 50000) + `{}]}`, 413, api.CodeBodyTooLarge, nil},
		{"wrong type", "POST", api.PathActivate, js, `{"key":5,"hardware":` + string(hwJSON) + `}`, 400, api.CodeInvalidField, nil},
		{"wrong type nested", "POST", api.PathActivate, js, `{"key":"x","hardware":{"components":"nic"}}`, 400, api.CodeInvalidField, nil},
		{"unknown field", "POST", api.PathActivate, js, strings.TrimSuffix(good, "}") + `,"admin":true}`, 400, api.CodeUnknownField, nil},
		{"raw hardware value", "POST", api.PathActivate, js, `{"key":"` + retail.Reveal() + `","hardware":{"components":[{"class":"nic","digest":"0123456789abcdef","value":"52:54:00:12:34:56"}]}}`, 400, api.CodeUnknownField, nil},
		{"key as a field name", "POST", api.PathActivate, js, `{"` + retail.Reveal() + `":1}`, 400, api.CodeUnknownField, nil},
		{"trailing data", "POST", api.PathActivate, js, good + good, 400, api.CodeTrailingData, nil},
		{"trailing garbage", "POST", api.PathActivate, js, good + "x", 400, api.CodeTrailingData, nil},
		{"not JSON", "POST", api.PathActivate, js, `hello`, 400, api.CodeBadJSON, nil},
		{"truncated JSON", "POST", api.PathActivate, js, good[:40], 400, api.CodeBadJSON, nil},
		{"empty body", "POST", api.PathActivate, js, ``, 400, api.CodeBadJSON, nil},
		{"wrong content type", "POST", api.PathActivate, "text/plain", good, 415, api.CodeUnsupportedMedia, nil},
		{"no content type", "POST", api.PathActivate, "", good, 415, api.CodeUnsupportedMedia, nil},
		{"latin-1 charset", "POST", api.PathActivate, js + "; charset=iso-8859-1", good, 415, api.CodeUnsupportedMedia, nil},
		{"UTF-16 charset", "POST", api.PathActivate, js + "; charset=utf-16", good, 415, api.CodeUnsupportedMedia, nil},
		{"malformed key", "POST", api.PathActivate, js, `{"key":"AAAAA-AAAAA-AAAAA-AAAAA-AAAAA","hardware":` + string(hwJSON) + `}`, 400, api.CodeInvalidKey, nil},
		{"unknown key", "POST", api.PathActivate, js, `{"key":"` + derive("not in the catalog") + `","hardware":` + string(hwJSON) + `}`, 403, api.CodeKeyUnknown, nil},
		{"KMS key online", "POST", api.PathActivate, js, `{"key":"` + gvlk.Reveal() + `","hardware":` + string(hwJSON) + `}`, 403, api.CodeWrongChannel, nil},
		{"MAK pool full", "POST", api.PathActivate, js, `{"key":"` + mak.Reveal() + `","hardware":` + string(hwJSON) + `}`, 409, api.CodeMAKExhausted, nil},
		{"bad digest", "POST", api.PathActivate, js, `{"key":"` + retail.Reveal() + `","hardware":{"components":[{"class":"nic","digest":"../../etc"}]}}`, 400, api.CodeInvalidHardware, nil},
		{"bad class", "POST", api.PathActivate, js, `{"key":"` + retail.Reveal() + `","hardware":{"components":[{"class":"gpu","digest":"0123456789abcdef"}]}}`, 400, api.CodeInvalidHardware, nil},
		{"no hardware", "POST", api.PathActivate, js, `{"key":"` + retail.Reveal() + `"}`, 400, api.CodeInvalidHardware, nil},
		{"bad CMID", "POST", api.PathKMS, js, `{"cmid":"not-a-uuid","edition":"win7-enterprise","marker_present":true}`, 400, api.CodeInvalidCMID, nil},
		{"CMID with SQL", "POST", api.PathKMS, js, `{"cmid":"'; DROP TABLE keys; --","edition":"win7-enterprise"}`, 400, api.CodeInvalidCMID, nil},
		{"unknown edition", "POST", api.PathKMS, js, `{"cmid":"` + cmid(1) + `","edition":"win95"}`, 400, api.CodeInvalidField, nil},
		{"client time not trusted", "POST", api.PathKMS, js, `{"cmid":"` + cmid(1) + `","edition":"win7-enterprise","request_time":"2030-01-01T00:00:00Z"}`, 400, api.CodeClientTime, nil},
		{"marker as string", "POST", api.PathKMS, js, `{"cmid":"` + cmid(1) + `","edition":"win7-enterprise","marker_present":"yes"}`, 400, api.CodeInvalidField, nil},
		{"installation ID typo", "POST", api.PathPhone, js, `{"installation_id":"` + string(typo) + `"}`, 400, api.CodeInvalidIID, nil},
		{"installation ID letters", "POST", api.PathPhone, js, `{"installation_id":"` + retail.Reveal() + `"}`, 400, api.CodeInvalidIID, nil},
		{"replayed batch, other content", "POST", api.PathProxyBatch, js, `{"batch_id":"lab-1","items":[{"ref":"pc2","installation_id":"` + iid + `"}]}`, 409, api.CodeBatchIDReused, nil},
		{"path-like batch id", "POST", api.PathProxyBatch, js, `{"batch_id":"../../etc/passwd","items":[{"installation_id":"` + iid + `"}]}`, 400, api.CodeInvalidBatchID, nil},
		{"empty batch", "POST", api.PathProxyBatch, js, `{"batch_id":"b2","items":[]}`, 400, api.CodeMissingField, nil},
		{"no admin token", "POST", api.PathAdminKeys, js, `{"label":"x","key":"` + derive("x") + `","channel":"Retail","edition":"win7-ultimate"}`, 401, api.CodeAdminTokenRequired, nil},
		{"wrong admin token", "PATCH", api.PathAdminKeys + "/" + makID, js, `{"blocked":true}`, 401, api.CodeAdminTokenRequired, []string{"Authorization", "Bearer guess"}},
		{"negative MAK limit", "PATCH", api.PathAdminKeys + "/" + makID, js, `{"mak_limit":-5}`, 400, api.CodeInvalidField, auth},
		{"MAK limit below use", "PATCH", api.PathAdminKeys + "/" + makID, js, `{"mak_limit":2}`, 409, api.CodeLimitBelowCount, auth},
		{"path traversal key id", "PATCH", api.PathAdminKeys + "/..%2f..%2fsecret", js, `{"blocked":true}`, 400, api.CodeInvalidKeyID, auth},
		{"key as key id", "PATCH", api.PathAdminKeys + "/" + retail.Reveal(), js, `{"blocked":true}`, 400, api.CodeInvalidKeyID, auth},
		{"non-derived admin key", "POST", api.PathAdminKeys, js, `{"label":"other","key":"` + derive("x") + `","channel":"Retail","edition":"win7-ultimate"}`, 400, api.CodeCatalogInvalid, auth},
		{"wrong method", "GET", api.PathActivate, "", "", 405, api.CodeMethodNotAllowed, nil},
		{"unknown path", "GET", "/v1/../etc/passwd", "", "", 404, api.CodeNotFound, nil},
	}
	require.GreaterOrEqual(t, len(cases), 15)
	for _, tc := range cases {
		status, body := raw(t, hs.URL, tc.method, tc.path, tc.ctype, tc.body, append(tc.hdr, "X-Test", tc.name)...)
		if !assert.Equal(t, tc.status, status, "%s: %s", tc.name, body) {
			continue
		}
		var eb api.ErrorBody
		if assert.NoError(t, json.Unmarshal([]byte(body), &eb), tc.name) && assert.NotNil(t, eb.Error, tc.name) {
			assert.Equal(t, tc.code, eb.Error.Code, "%s: %s", tc.name, eb.Error.Message)
			assert.NotEmpty(t, eb.Error.Message, tc.name)
		}
		for _, en := range e.cat.Entries() {
			assert.NotContains(t, body, en.Key.Reveal(), "%s: the answer echoes a key", tc.name)
		}
	}
	assert.Equal(t, before, e.dump(), "a rejected request changed the database")

	// JSON is UTF-8 (RFC 8259): a charset parameter saying so is fine, in any case.
	for _, ct := range []string{js + "; charset=utf-8", js + "; charset=UTF-8", js + ";charset=\"utf-8\""} {
		status, body := raw(t, hs.URL, "POST", api.PathActivate, ct, good)
		assert.Equal(t, 200, status, "%s: %s", ct, body)
	}
}

// Every catalog key, used in every way, never reaches the database file or the log; neither do
// the clients' addresses.
func TestKeysNeverStoredOrLogged(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	hs := httptest.NewServer(e.srv.Handler())
	defer hs.Close()
	c := client.New(hs.URL, client.WithAdminToken("test-admin-token"))
	for i, en := range e.cat.Entries() {
		m := machine(fmt.Sprint("k", i))
		activate(ctx, c, en.Key, m)
		activate(ctx, c, en.Key, machine(fmt.Sprint("other", i)))
		iid, err := phone.NewInstallationID(en.Key, m)
		require.NoError(t, err)
		c.Phone(ctx, iid)
		c.ProxyBatch(ctx, api.BatchRequest{BatchID: fmt.Sprint("b", i), Items: []api.BatchItem{{InstallationID: iid}}})
		raw(t, hs.URL, "POST", api.PathActivate, api.ContentTypeJSON, `{"`+en.Key.Reveal()+`":1}`)
		raw(t, hs.URL, "PATCH", api.PathAdminKeys+"/"+en.Key.Reveal(), api.ContentTypeJSON, `{}`)
	}
	add := api.AddKeyRequest{Label: "retail/added", Key: derive("retail/added"), Channel: "Retail", Edition: "win7-ultimate"}
	_, err := c.AddKey(ctx, add)
	require.NoError(t, err)
	_, err = activate(ctx, c, parse(t, add.Key), machine("added"))
	require.NoError(t, err)
	e.restart() // checkpoint: the WAL's content reaches the main file

	var files []byte
	for _, f := range []string{e.db, e.db + "-wal"} {
		b, err := os.ReadFile(f)
		if err == nil {
			files = append(files, b...)
		}
	}
	require.NotEmpty(t, files)
	logs := e.log.String()
	require.Contains(t, logs, "route=/v1/activate")
	keys := []string{add.Key}
	for _, en := range e.cat.Entries() {
		keys = append(keys, en.Key.Reveal())
	}
	for _, k := range keys {
		for _, form := range []string{k, strings.ReplaceAll(k, "-", ""), strings.ToLower(k)} {
			assert.NotContains(t, string(files), form, "a key is in the database")
			assert.NotContains(t, logs, form, "a key is in the log")
		}
	}
	assert.NotContains(t, string(files), "127.0.0.1", "an address is in the database")
	assert.NotContains(t, logs, "127.0.0.1", "an address is in the log")
	// The secret lives beside the database, readable by its owner only.
	st, err := os.Stat(filepath.Join(filepath.Dir(e.db), "service.db.hmac-secret"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
}

// 64 goroutines activate 64 distinct machines against one MAK with a limit of 50, over HTTP:
// exactly 50 succeed, the count reads 50, and a machine that succeeded reactivates without using
// the pool.
func TestMAKPoolRace(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	hs := httptest.NewServer(e.srv.Handler())
	defer hs.Close()
	c := client.New(hs.URL)
	entry := key(t, e.cat, edition.VolumeMAK, "win7-professional")
	require.Equal(t, 50, entry.MAKLimit)

	var ok, exhausted atomic.Int32
	var mu sync.Mutex
	var winners []string
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			tag := fmt.Sprint("race", i)
			r, err := activate(ctx, c, entry.Key, machine(tag))
			switch {
			case err == nil && r.Result == api.ResultActivated:
				ok.Add(1)
				mu.Lock()
				winners = append(winners, tag)
				mu.Unlock()
			case client.Code(err) == api.CodeMAKExhausted:
				exhausted.Add(1)
			default:
				t.Errorf("machine %d: %v %+v", i, err, r)
			}
		}(i)
	}
	close(start)
	wg.Wait()
	assert.EqualValues(t, 50, ok.Load())
	assert.EqualValues(t, 14, exhausted.Load())

	st, err := c.Stats(ctx)
	require.NoError(t, err)
	_, id := e.srv.Store().KeyHash(entry.Key)
	p, found := client.Pool(st, id)
	require.True(t, found)
	assert.Equal(t, 50, p.Used)
	assert.Equal(t, 0, p.Remaining)

	r, err := activate(ctx, c, entry.Key, machine(winners[7]))
	require.NoError(t, err)
	assert.Equal(t, api.ResultReactivated, r.Result)
	assert.Equal(t, 0, *r.MAKRemaining)
	st, err = c.Stats(ctx)
	require.NoError(t, err)
	p, _ = client.Pool(st, id)
	assert.Equal(t, 50, p.Used)
	assert.EqualValues(t, 50, client.Outcomes(st, "online", "Volume:MAK", "win7-professional", api.ResultActivated))

	// The database agrees after a restart.
	e.restart()
	d := e.dump()
	assert.Equal(t, 50, strings.Count(d, "|"+id+"|"), "50 bindings of the MAK")
}

func TestProxyBatch(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mak := key(t, e.cat, edition.VolumeMAK, "win7-enterprise") // a pool of 5
	require.Equal(t, 5, mak.MAKLimit)
	gvlk := key(t, e.cat, edition.VolumeGVLK, "win7-enterprise").Key
	var items []api.BatchItem
	iids := map[string]string{}
	for i := 0; i < 6; i++ {
		iid, err := phone.NewInstallationID(mak.Key, machine(fmt.Sprint("pc", i)))
		require.NoError(t, err)
		ref := fmt.Sprint("pc", i)
		iids[ref] = iid
		items = append(items, api.BatchItem{Ref: ref, InstallationID: iid})
	}
	// The same machine twice: the second reads the first's binding, in the same transaction.
	items = append(items, api.BatchItem{Ref: "pc0-again", InstallationID: iids["pc0"]})
	gv, err := phone.NewInstallationID(gvlk, machine("kms"))
	require.NoError(t, err)
	items = append(items, api.BatchItem{Ref: "gvlk", InstallationID: gv}, api.BatchItem{Ref: "typo", InstallationID: "123456-" + iids["pc1"][7:]})
	req := api.BatchRequest{BatchID: "vamt-2026-03-01", Items: items}

	r, err := e.c.ProxyBatch(ctx, req)
	require.NoError(t, err)
	assert.False(t, r.Replayed)
	want := []struct{ result, code string }{
		{api.ResultActivated, ""}, {api.ResultActivated, ""}, {api.ResultActivated, ""}, {api.ResultActivated, ""},
		{api.ResultActivated, ""}, {api.ResultRefused, api.CodeMAKExhausted}, {api.ResultReactivated, ""},
		{api.ResultRefused, api.CodeWrongChannel}, {api.ResultRefused, api.CodeInvalidIID},
	}
	require.Len(t, r.Items, len(want))
	for i, w := range want {
		it := r.Items[i]
		assert.Equal(t, items[i].Ref, it.Ref)
		assert.Equal(t, w.result, it.Result, "%s: %s", it.Ref, it.Message)
		assert.Equal(t, w.code, it.Code, it.Ref)
		if w.result != api.ResultRefused {
			assert.NoError(t, phone.VerifyConfirmation(items[i].InstallationID, it.ConfirmationID), it.Ref)
		} else {
			assert.Empty(t, it.ConfirmationID)
		}
	}

	// A replay gets the stored answer and writes nothing.
	before := e.dump()
	again, err := e.c.ProxyBatch(ctx, req)
	require.NoError(t, err)
	assert.True(t, again.Replayed)
	assert.Equal(t, r.Items, again.Items)
	assert.Equal(t, before, e.dump())
	// Also after a restart.
	e.restart()
	again, err = e.c.ProxyBatch(ctx, req)
	require.NoError(t, err)
	assert.True(t, again.Replayed)
	assert.Equal(t, r.Items, again.Items)

	// The confirmation of a telephone activation of a batch machine is the same.
	ph, err := e.c.Phone(ctx, iids["pc2"])
	require.NoError(t, err)
	assert.Equal(t, api.ResultReactivated, ph.Result)
	assert.Equal(t, r.Items[2].ConfirmationID, ph.ConfirmationID)
}
