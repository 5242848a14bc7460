package client

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/oemact/oemact/oemact/hwid"
	"github.com/oemact/oemact/oemact/service/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestErrorsAndInProcessAddress(t *testing.T) {
	var seen string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.RemoteAddr
		switch r.URL.Path {
		case api.PathHealth:
			w.WriteHeader(502)
			w.Write([]byte("bad gateway\n"))
		default:
			w.Header().Set("Content-Type", api.ContentTypeJSON)
			w.WriteHeader(409)
			w.Write([]byte(`{"error":{"code":"key-in-use","message":"in use"}}`))
		}
	})
	c := NewInProcess(h, "198.51.100.7:9")
	_, err := c.Activate(context.Background(), api.ActivateRequest{Key: "k"})
	var e *Error
	require.True(t, errors.As(err, &e))
	assert.Equal(t, 409, e.Status)
	assert.Equal(t, api.CodeKeyInUse, Code(err))
	assert.Equal(t, "198.51.100.7:9", seen)

	_, err = c.Health(context.Background())
	assert.Equal(t, "http-502", Code(err))
	assert.ErrorContains(t, err, "bad gateway")
	assert.Equal(t, "", Code(errors.New("other")))

	var inv hwid.Inventory
	inv.Add(hwid.NIC, "52:54:00:00:00:01")
	hw := Hardware(inv)
	require.Len(t, hw.Components, 1)
	assert.Equal(t, api.Component{Class: "nic", Digest: inv.Components[0].Digest}, hw.Components[0])

	st := &api.Stats{MAK: []api.MAKPool{{KeyID: "a", Used: 2}}, Outcomes: []api.OutcomeCount{
		{Kind: "online", Channel: "Retail", Edition: "e", Result: "activated", Count: 2},
		{Kind: "phone", Channel: "Retail", Edition: "e", Result: "moved", Count: 1}}}
	p, ok := Pool(st, "a")
	assert.True(t, ok)
	assert.Equal(t, 2, p.Used)
	_, ok = Pool(st, "b")
	assert.False(t, ok)
	assert.EqualValues(t, 3, Outcomes(st, "", "Retail", "", ""))
	assert.EqualValues(t, 1, Outcomes(st, "phone", "", "", ""))
}
