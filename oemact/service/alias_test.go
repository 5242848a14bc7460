package service_test

import (
	"context"
	"net/http"
	"time"

	"github.com/oemact/oemact/firmware/productkey"
	"github.com/oemact/oemact/oemact/hwid"
	"github.com/oemact/oemact/oemact/service/api"
	"github.com/oemact/oemact/oemact/service/client"
	"github.com/oemact/oemact/oemact/service/store"
)

type apiActivate = api.ActivateResponse

func apiActivateRequest(k productkey.Key, inv hwid.Inventory) api.ActivateRequest {
	return api.ActivateRequest{Key: k.Reveal(), Hardware: client.Hardware(inv)}
}

func derive(label string) string { return productkey.Derive(label).Reveal() }

func parse(t interface{ Fatal(...any) }, s string) productkey.Key {
	k, err := productkey.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func storeDump(db string) (string, error) { return store.Dump(context.Background(), db) }

func httpClient(conns int) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
}
