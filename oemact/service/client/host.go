package client

import (
	"context"
	"errors"
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

// Activate relays an online or telephone activation. A refusal by the service is an answer
// (failure with its code); only a service that cannot be reached is an error.
func (h *Host) Activate(req activation.ActivateRequest) (activation.Activation, error) {
	var resp *api.ActivateResponse
	var err error
	switch req.Method {
	case "online":
		if req.Hardware == nil {
			return activation.Activation{}, errors.New("online activation without hardware")
		}
		resp, err = h.Client.Activate(h.ctx(), api.ActivateRequest{Key: req.Key, Edition: req.Edition, Hardware: Hardware(*req.Hardware)})
	case "telephone":
		resp, err = h.Client.Phone(h.ctx(), req.InstallationID)
	default:
		return activation.Activation{}, errors.New("unknown activation method " + req.Method)
	}
	var se *Error
	switch {
	case errors.As(err, &se):
		return activation.Activation{Service: se.Code,
			Result: licence.ActivationResult{Outcome: licence.Failed, Code: se.Code, Message: se.Message, Method: req.Method}}, nil
	case err != nil:
		return activation.Activation{}, err
	}
	a := activation.Activation{Service: resp.Result, ConfirmationID: resp.ConfirmationID,
		Result: licence.ActivationResult{Outcome: licence.Succeeded, Code: resp.Code, Message: resp.Message, Method: req.Method}}
	if resp.Result == api.ResultBlocked {
		a.Result.Outcome = licence.Blocked
	}
	return a, nil
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
