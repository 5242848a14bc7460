package runner

import (
	"context"
	"errors"
	"time"

	"github.com/oemact/oemact/harness/channel"
	"github.com/oemact/oemact/oemact/licence"
	"github.com/oemact/oemact/oemact/service/api"
	"github.com/oemact/oemact/oemact/service/client"
)

// Relay answers the guest agent's activation and KMS requests with the activation service: the
// host side of agent.Host.
type Relay struct {
	Client *client.Client
	// Now is the scenario's clock. With SendTime, KMS requests carry it as request_time (a
	// service run with --trust-client-time); the in-process service is given the clock instead.
	Now      func() time.Time
	SendTime bool
}

// Activate relays an online or telephone activation. A refusal by the service is an answer
// (failure with its code); only a service that cannot be reached is an error.
func (r *Relay) Activate(ctx context.Context, req channel.ActivateRequest) (channel.Activation, error) {
	var resp *api.ActivateResponse
	var err error
	switch req.Method {
	case "online":
		if req.Hardware == nil {
			return channel.Activation{}, errors.New("online activation without hardware")
		}
		resp, err = r.Client.Activate(ctx, api.ActivateRequest{Key: req.Key, Edition: req.Edition, Hardware: client.Hardware(*req.Hardware)})
	case "telephone":
		resp, err = r.Client.Phone(ctx, req.InstallationID)
	default:
		return channel.Activation{}, errors.New("unknown activation method " + req.Method)
	}
	var se *client.Error
	switch {
	case errors.As(err, &se):
		return channel.Activation{Service: se.Code,
			Result: licence.ActivationResult{Outcome: licence.Failed, Code: se.Code, Message: se.Message, Method: req.Method}}, nil
	case err != nil:
		return channel.Activation{}, err
	}
	a := channel.Activation{Service: resp.Result, ConfirmationID: resp.ConfirmationID,
		Result: licence.ActivationResult{Outcome: licence.Succeeded, Code: resp.Code, Message: resp.Message, Method: req.Method}}
	if resp.Result == api.ResultBlocked {
		a.Result.Outcome = licence.Blocked
	}
	return a, nil
}

// KMS relays a KMS client request.
func (r *Relay) KMS(ctx context.Context, req channel.KMSRequest) (licence.KMSAnswer, error) {
	q := api.KMSRequest{CMID: req.CMID, Edition: req.Edition, MarkerPresent: req.MarkerPresent}
	if r.SendTime && r.Now != nil {
		t := r.Now().UTC()
		q.RequestTime = &t
	}
	resp, err := r.Client.KMS(ctx, q)
	var se *client.Error
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

// hostFor adapts the relay to agent.Host for one boot's context.
type hostFor struct {
	ctx context.Context
	r   *Relay
}

func (h hostFor) Activate(req channel.ActivateRequest) (channel.Activation, error) {
	return h.r.Activate(h.ctx, req)
}

func (h hostFor) KMS(req channel.KMSRequest) (licence.KMSAnswer, error) { return h.r.KMS(h.ctx, req) }
