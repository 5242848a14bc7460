package service_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/oemact/oemact/oemact/service"
	"github.com/oemact/oemact/oemact/service/api"
	"github.com/oemact/oemact/oemact/service/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A request time is judged in UTC: 23:00 on 31 December 9999 five hours west of Greenwich is
// already year 10000, which no answer can carry. It is refused before anything is decided, and
// the statistics keep answering.
func TestKMSRequestTimeCheckedInUTC(t *testing.T) {
	e := newEnv(t, func(c *service.Config) { c.TrustClientTime = true })
	hs := httptest.NewServer(e.srv.Handler())
	defer hs.Close()
	before := e.dump()
	for _, ts := range []string{"9999-12-31T23:00:00-05:00", "2000-01-01T01:00:00+03:00", "9999-12-31T23:59:59Z"} {
		body := `{"cmid":"` + cmid(1) + `","edition":"server2008r2-standard","request_time":"` + ts + `"}`
		status, out := raw(t, hs.URL, "POST", api.PathKMS, api.ContentTypeJSON, body)
		require.Equal(t, 400, status, "%s: %s", ts, out)
		var eb api.ErrorBody
		require.NoError(t, json.Unmarshal([]byte(out), &eb))
		assert.Equal(t, api.CodeInvalidField, eb.Error.Code, ts)
		assert.Contains(t, eb.Error.Message, "request_time", ts)
	}
	assert.Equal(t, before, e.dump(), "a refused request time changed the database")
	status, out := raw(t, hs.URL, "GET", api.PathStats, "", "")
	assert.Equal(t, 200, status, out)
}

// An activation answered at the latest supported request time must be answerable: its validity
// ends within the range a JSON time can carry, or the request is refused up front.
func TestKMSValidityStaysInRange(t *testing.T) {
	e := newEnv(t, func(c *service.Config) { c.TrustClientTime = true })
	ctx := context.Background()
	last := api.MaxTime.Add(-180 * 24 * time.Hour)
	for i := 1; i <= 5; i++ {
		r, err := e.c.KMS(ctx, api.KMSRequest{CMID: cmid(i), Edition: "server2008r2-standard", RequestTime: &last})
		require.NoError(t, err, "client %d", i)
		if i == 5 {
			require.True(t, r.Activated)
			assert.False(t, r.ValidUntil.After(api.MaxTime))
		}
	}
	late := last.Add(time.Second)
	_, err := e.c.KMS(ctx, api.KMSRequest{CMID: cmid(6), Edition: "server2008r2-standard", RequestTime: &late})
	assert.Equal(t, api.CodeInvalidField, client.Code(err), "%v", err)
	st, err := e.c.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, 5, st.KMS.Count)
}

// KMS clients seen after 2262 (beyond int64 nanoseconds since 1970) keep their times across a
// restart: the acknowledged count does not change.
func TestKMSFarFutureCountSurvivesRestart(t *testing.T) {
	e := newEnv(t, func(c *service.Config) { c.TrustClientTime = true })
	ctx := context.Background()
	at := time.Date(2300, 6, 1, 12, 0, 0, 123456789, time.UTC)
	for i := 1; i <= 5; i++ {
		r, err := e.c.KMS(ctx, api.KMSRequest{CMID: cmid(i), Edition: "server2008r2-standard", RequestTime: &at})
		require.NoError(t, err)
		assert.Equal(t, i, r.Count)
	}
	e.restart()
	st, err := e.c.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, 5, st.KMS.Count, "the acknowledged count changed across a restart")
	assert.True(t, at.Equal(st.KMS.Time), "stats time %s, want %s", st.KMS.Time, at)
	next := at.Add(24 * time.Hour)
	r, err := e.c.KMS(ctx, api.KMSRequest{CMID: cmid(6), Edition: "server2008r2-standard", RequestTime: &next})
	require.NoError(t, err)
	assert.Equal(t, 6, r.Count)
}

// The store's own clock (the scenario clock in the harness) may run past 2262 too.
func TestServerClockAfter2262SurvivesRestart(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.clock.Set(time.Date(2400, 1, 1, 0, 0, 0, 0, time.UTC))
	for i := 1; i <= 5; i++ {
		_, err := e.c.KMS(ctx, api.KMSRequest{CMID: cmid(i), Edition: "server2008r2-standard"})
		require.NoError(t, err)
	}
	e.restart()
	st, err := e.c.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, 5, st.KMS.Count)
}
