package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/oemact/oemact/oemact/activation"
	"github.com/oemact/oemact/oemact/licence"
	"github.com/oemact/oemact/oemact/service/api"
)

// Host answers a licensing client's activation and KMS requests with the activation service: the
// service side of activation.Host, for the harness (which relays a guest's requests) and for
// tests that run the client in process.
type Host struct {
	Client *Client
	// Ctx bounds each request (default context.Background()).
	Ctx context.Context
	// Now is the scenario's clock. With SendTime, KMS requests carry it as request_time (a
	// service run with --trust-client-time); an in-process service is given the clock instead.
	Now      func() time.Time
	SendTime bool
}

func (h *Host) ctx() context.Context {
	if h.Ctx != nil {
		return h.Ctx
	}
	return context.Background()
}

// Activate relays an online, telephone or proxy activation (a proxy request alone is a batch of
// one; ProxyBatch sends several). A refusal by the service is an answer (failure with its code,
// Refused); only a service that cannot be reached is an error.
func (h *Host) Activate(req activation.ActivateRequest) (activation.Activation, error) {
	var resp *api.ActivateResponse
	var err error
	switch req.Method {
	case "online":
		if req.Hardware == nil {
			return activation.Activation{}, errors.New("online activation without hardware")
		}
		resp, err = h.Client.Activate(h.ctx(), api.ActivateRequest{Key: req.Key, Edition: req.Edition, Hardware: Hardware(*req.Hardware),
			SoftwareVersion: req.SoftwareVersion, Language: req.Language, ClientIP: req.IP})
	case "telephone":
		resp, err = h.Client.PhoneRequest(h.ctx(), api.PhoneRequest{InstallationID: req.InstallationID, ClientIP: req.IP})
	case "proxy":
		out, err := h.ProxyBatch(req.IP, []activation.ActivateRequest{req})
		if err != nil {
			return activation.Activation{}, err
		}
		return out[0], nil
	default:
		return activation.Activation{}, errors.New("unknown activation method " + req.Method)
	}
	var se *Error
	switch {
	case errors.As(err, &se):
		return refusal(se.Code, se.Message, req.Method), nil
	case err != nil:
		return activation.Activation{}, err
	}
	a := activation.Activation{Service: resp.Result, ConfirmationID: resp.ConfirmationID,
		Result: licence.ActivationResult{Outcome: licence.Succeeded, Code: resp.Code, Message: resp.Message, Method: req.Method}}
	if resp.Result == api.ResultBlocked {
		a.Result.Outcome, a.Result.Refused = licence.Blocked, true
	}
	return a, nil
}

// refusal is the service's error answer as the model takes it: Refused when the service decided
// against the key (403 and 409 answers), not when it could not decide (a malformed request, an
// overloaded or failing service).
func refusal(code, msg, method string) activation.Activation {
	st := api.Status(code)
	return activation.Activation{Service: code, Result: licence.ActivationResult{Outcome: licence.Failed, Code: code, Message: msg,
		Method: method, Refused: st == 403 || st == 409}}
}

// ProxyBatch sends the installation IDs of several machines (proxy requests) in one MAK proxy
// batch, as VAMT does, from the proxy's address from ("" the host's own), and returns each
// machine's answer in order. A batch the service refuses as a whole is every item's answer.
func (h *Host) ProxyBatch(from string, reqs []activation.ActivateRequest) ([]activation.Activation, error) {
	if len(reqs) == 0 {
		return nil, errors.New("a proxy batch needs at least one installation ID")
	}
	batch := api.BatchRequest{BatchID: "oemact-" + randomHex(8), ClientIP: from, Items: make([]api.BatchItem, len(reqs))}
	for i, r := range reqs {
		if r.Method != "proxy" || r.InstallationID == "" {
			return nil, fmt.Errorf("proxy batch item %d: want a proxy request with an installation ID", i+1)
		}
		batch.Items[i] = api.BatchItem{Ref: fmt.Sprint(i + 1), InstallationID: r.InstallationID}
	}
	resp, err := h.Client.ProxyBatch(h.ctx(), batch)
	out := make([]activation.Activation, len(reqs))
	var se *Error
	switch {
	case errors.As(err, &se):
		for i := range out {
			out[i] = refusal(se.Code, se.Message, "proxy")
		}
		return out, nil
	case err != nil:
		return nil, err
	case len(resp.Items) != len(reqs):
		return nil, fmt.Errorf("proxy batch %s: %d answers to %d installation IDs", batch.BatchID, len(resp.Items), len(reqs))
	}
	for i, it := range resp.Items {
		switch it.Result {
		case api.ResultRefused:
			out[i] = refusal(it.Code, it.Message, "proxy")
		case api.ResultBlocked:
			out[i] = activation.Activation{Service: it.Result, Result: licence.ActivationResult{Outcome: licence.Blocked, Code: it.Code,
				Message: it.Message, Method: "proxy", Refused: true}}
		default:
			out[i] = activation.Activation{Service: it.Result, ConfirmationID: it.ConfirmationID,
				Result: licence.ActivationResult{Outcome: licence.Succeeded, Code: it.Code, Message: it.Message, Method: "proxy"}}
		}
	}
	return out, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// KMS relays a KMS client request.
func (h *Host) KMS(req activation.KMSRequest) (licence.KMSAnswer, error) {
	q := api.KMSRequest{CMID: req.CMID, Edition: req.Edition, MarkerPresent: req.MarkerPresent}
	if h.SendTime && h.Now != nil {
		t := h.Now().UTC()
		q.RequestTime = &t
	}
	resp, err := h.Client.KMS(h.ctx(), q)
	var se *Error
	switch {
	case errors.As(err, &se):
		return licence.KMSAnswer{Reached: true, Code: se.Code, Message: se.Message}, nil
	case err != nil:
		return licence.KMSAnswer{}, err
	}
	return licence.KMSAnswer{Reached: true, Count: resp.Count, Activated: resp.Activated, Code: resp.Code, Message: resp.Message,
		Validity: time.Duration(resp.ValidityMinutes) * time.Minute,
		Renewal:  time.Duration(resp.RenewalMinutes) * time.Minute,
		Retry:    time.Duration(resp.RetryMinutes) * time.Minute}, nil
}

// WithContext returns a copy of the host whose requests ctx bounds.
func (h *Host) WithContext(ctx context.Context) *Host {
	c := *h
	c.Ctx = ctx
	return &c
}
