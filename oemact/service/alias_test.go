package service_test

import (
	"github.com/oemact/oemact/oemact/hwid"
	"github.com/oemact/oemact/oemact/productkey"
	"github.com/oemact/oemact/oemact/service/api"
	"github.com/oemact/oemact/oemact/service/client"
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
