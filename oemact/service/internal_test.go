package service_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/service"
	"github.com/oemact/oemact/oemact/service/api"
	"github.com/oemact/oemact/oemact/service/phone"
	"github.com/oemact/oemact/oemact/service/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var requestID = regexp.MustCompile(`request id ([0-9a-f]{16})`)

// checkInternal checks an answer to a request that failed inside the service: a 500 that says
// "internal error" and names a request id, no word of the failure; and a log line with that id,
// the failure and a stack.
func checkInternal(t *testing.T, e *env, status int, hdr http.Header, body string, secret string) {
	t.Helper()
	assert.Equal(t, 500, status, body)
	var eb api.ErrorBody
	require.NoError(t, json.Unmarshal([]byte(body), &eb), body)
	require.NotNil(t, eb.Error, body)
	assert.Equal(t, api.CodeInternal, eb.Error.Code)
	assert.Contains(t, eb.Error.Message, "internal error")
	assert.NotContains(t, body, secret, "the failure reaches the client")
	assert.NotContains(t, body, "goroutine", "a stack reaches the client")
	assert.NotContains(t, body, ".go:", "a stack reaches the client")
	m := requestID.FindStringSubmatch(eb.Error.Message)
	require.NotNil(t, m, "no request id in %q", eb.Error.Message)
	assert.Equal(t, m[1], hdr.Get("X-Request-Id"))
	var line string
	for _, l := range strings.Split(e.log.String(), "\n") {
		if strings.Contains(l, m[1]) && strings.Contains(l, `level=ERROR msg="internal error"`) {
			line = l
		}
	}
	require.NotEmpty(t, line, "no error line with the request id in the log:\n%s", e.log.String())
	assert.Contains(t, line, secret)
	assert.Contains(t, line, "goroutine", "the log line has no stack")
}

func do(t *testing.T, h http.Handler, method, path string) (int, http.Header, string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Code, rec.Header(), rec.Body.String()
}

// A handler that panics: recovered, logged with its stack, answered without a word of it.
func TestHandlerPanicNeverReachesClient(t *testing.T) {
	e := newEnv(t)
	h := service.HandlerFor(e.srv, func(http.ResponseWriter, *http.Request) (any, *api.Error) {
		panic("handler-secret-7731")
	})
	status, hdr, body := do(t, h, "GET", "/test")
	checkInternal(t, e, status, hdr, body, "handler-secret-7731")
}

// A decision that panics inside the store's writer: the same.
func TestDecisionPanicNeverReachesClient(t *testing.T) {
	e := newEnv(t)
	h := service.HandlerFor(e.srv, func(_ http.ResponseWriter, r *http.Request) (any, *api.Error) {
		return nil, service.DecideForTest(e.srv, r, func(*store.Tx) error { panic("decision-secret-5521") })
	})
	status, hdr, body := do(t, h, "POST", "/test")
	checkInternal(t, e, status, hdr, body, "decision-secret-5521")
	// The writer survived: the service still decides.
	_, err := e.c.Health(context.Background())
	require.NoError(t, err)
}

// A real internal error: a stored batch answer that no longer decodes (a damaged database).
// Replaying the batch fails inside the service; the decoder's message stays in the log.
func TestDamagedBatchAnswerNeverReachesClient(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mak := key(t, e.cat, edition.VolumeMAK, "win7-enterprise").Key
	iid, err := phone.NewInstallationID(mak, machine("b"))
	require.NoError(t, err)
	req := api.BatchRequest{BatchID: "damaged", Items: []api.BatchItem{{InstallationID: iid}}}
	_, err = e.c.ProxyBatch(ctx, req)
	require.NoError(t, err)
	db, err := sql.Open("sqlite", "file:"+e.db+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE batches SET response = CAST('{"items": damaged-row-4411' AS BLOB) WHERE batch_id = 'damaged'`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	hs := httptest.NewServer(e.srv.Handler())
	defer hs.Close()
	b, _ := json.Marshal(req)
	hreq, err := http.NewRequest("POST", hs.URL+api.PathProxyBatch, strings.NewReader(string(b)))
	require.NoError(t, err)
	hreq.Header.Set("Content-Type", api.ContentTypeJSON)
	resp, err := http.DefaultClient.Do(hreq)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	body := string(raw)
	checkInternal(t, e, resp.StatusCode, resp.Header, body, "invalid character")
	assert.NotContains(t, body, "damaged-row")
	assert.NotContains(t, body, "stored batch")
}
