// Package client is the Go client of oemact's emulated activation service, for tests and the
// harness. It talks HTTP to a running `oemact serve` (over TCP or a unix socket), or calls the service's http.Handler in
// process (NewInProcess) with no socket.
//
// Answers that are not 2xx come back as *Error with the service's code; a refusal by the model's
// rules (key-in-use, mak-exhausted, ...) is such an error, not a failure of the client.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/oemact/oemact/oemact/hwid"
	"github.com/oemact/oemact/oemact/service/api"
)

// Client calls the service. It is safe for concurrent use.
type Client struct {
	base       string
	http       *http.Client
	token      string
	adminToken string
}

// Option configures a Client.
type Option func(*Client)

// WithAdminToken sets the token sent to admin endpoints.
func WithAdminToken(token string) Option { return func(c *Client) { c.adminToken = token } }

// WithToken sets the token sent to every other endpoint (serve --token-file).
func WithToken(token string) Option { return func(c *Client) { c.token = token } }

// WithHTTPClient replaces the HTTP client (timeouts, transport).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// unixPrefix is the form of a unix socket address (service.UnixPrefix).
const unixPrefix = "unix:"

// New returns a client of the service at baseURL: "http://127.0.0.1:8688", or "unix:PATH" for
// a service listening on a unix socket.
func New(baseURL string, opts ...Option) *Client {
	c := &Client{base: strings.TrimRight(baseURL, "/"), http: &http.Client{Timeout: 30 * time.Second}}
	if path, ok := strings.CutPrefix(baseURL, unixPrefix); ok {
		var d net.Dialer
		c.base = "http://oemact-service"
		c.http.Transport = &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return d.DialContext(ctx, "unix", path)
			},
			MaxIdleConnsPerHost: 16,
		}
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// NewInProcess returns a client that calls h directly, as if from remoteAddr ("127.0.0.1:0" when
// empty): the address is what the service's geography table sees, so a test can stand in any
// country by choosing it.
func NewInProcess(h http.Handler, remoteAddr string, opts ...Option) *Client {
	if remoteAddr == "" {
		remoteAddr = "127.0.0.1:0"
	}
	c := New("http://in-process", append([]Option{WithHTTPClient(&http.Client{Transport: handlerTransport{h, remoteAddr}})}, opts...)...)
	return c
}

type handlerTransport struct {
	h          http.Handler
	remoteAddr string
}

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.RemoteAddr = t.remoteAddr
	r.RequestURI = req.URL.RequestURI()
	if r.Body == nil {
		r.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

// Error is a non-2xx answer.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("activation service: %d %s: %s", e.Status, e.Code, e.Message)
}

// Code returns the service's error code of err, or "" when err is not an *Error.
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func (c *Client) do(ctx context.Context, method, path string, in, out any, admin bool) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", api.ContentTypeJSON)
	}
	switch {
	case admin && c.adminToken != "":
		req.Header.Set("Authorization", "Bearer "+c.adminToken)
	case !admin && c.token != "":
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("activation service: reading the answer to %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var eb api.ErrorBody
		if json.Unmarshal(b, &eb) != nil || eb.Error == nil {
			return &Error{Status: resp.StatusCode, Code: "http-" + fmt.Sprint(resp.StatusCode), Message: strings.TrimSpace(string(b))}
		}
		return &Error{Status: resp.StatusCode, Code: eb.Error.Code, Message: eb.Error.Message}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("activation service: decoding the answer to %s %s: %w", method, path, err)
	}
	return nil
}

// Hardware converts an inventory to what the service takes: digests only.
func Hardware(inv hwid.Inventory) api.Hardware {
	h := api.Hardware{Dockable: inv.Dockable, Components: make([]api.Component, len(inv.Components))}
	for i, c := range inv.Components {
		h.Components[i] = api.Component{Class: string(c.Class), Digest: c.Digest}
	}
	return h
}

// Activate asks for online activation.
func (c *Client) Activate(ctx context.Context, req api.ActivateRequest) (*api.ActivateResponse, error) {
	var out api.ActivateResponse
	return &out, c.do(ctx, http.MethodPost, api.PathActivate, req, &out, false)
}

// Phone asks for telephone-style activation of an installation ID.
func (c *Client) Phone(ctx context.Context, installationID string) (*api.ActivateResponse, error) {
	return c.PhoneRequest(ctx, api.PhoneRequest{InstallationID: installationID})
}

// PhoneRequest is Phone with every field of the request (client_ip).
func (c *Client) PhoneRequest(ctx context.Context, req api.PhoneRequest) (*api.ActivateResponse, error) {
	var out api.ActivateResponse
	return &out, c.do(ctx, http.MethodPost, api.PathPhone, req, &out, false)
}

// ProxyBatch sends a MAK proxy batch.
func (c *Client) ProxyBatch(ctx context.Context, req api.BatchRequest) (*api.BatchResponse, error) {
	var out api.BatchResponse
	return &out, c.do(ctx, http.MethodPost, api.PathProxyBatch, req, &out, false)
}

// KMS sends one KMS client request.
func (c *Client) KMS(ctx context.Context, req api.KMSRequest) (*api.KMSResponse, error) {
	var out api.KMSResponse
	return &out, c.do(ctx, http.MethodPost, api.PathKMS, req, &out, false)
}

// Stats reads the aggregate counts.
func (c *Client) Stats(ctx context.Context) (*api.Stats, error) {
	var out api.Stats
	return &out, c.do(ctx, http.MethodGet, api.PathStats, nil, &out, false)
}

// Health checks the service is up and taking decisions.
func (c *Client) Health(ctx context.Context) (*api.Health, error) {
	var out api.Health
	return &out, c.do(ctx, http.MethodGet, api.PathHealth, nil, &out, false)
}

// AddKey adds a TEST key to the catalog (admin token needed).
func (c *Client) AddKey(ctx context.Context, req api.AddKeyRequest) (*api.KeyInfo, error) {
	var out api.KeyInfo
	return &out, c.do(ctx, http.MethodPost, api.PathAdminKeys, req, &out, true)
}

// UpdateKey changes a key's MAK limit or blocked flag (admin token needed).
func (c *Client) UpdateKey(ctx context.Context, keyID string, req api.UpdateKeyRequest) (*api.KeyInfo, error) {
	var out api.KeyInfo
	return &out, c.do(ctx, http.MethodPatch, api.PathAdminKeys+"/"+keyID, req, &out, true)
}

// Pool finds a MAK pool in statistics by key ID.
func Pool(s *api.Stats, keyID string) (api.MAKPool, bool) {
	for _, p := range s.MAK {
		if p.KeyID == keyID {
			return p, true
		}
	}
	return api.MAKPool{}, false
}

// Outcomes sums the outcome counts that match kind, channel, edition and result ("" matches all).
func Outcomes(s *api.Stats, kind, channel, edition, result string) int64 {
	var n int64
	for _, o := range s.Outcomes {
		if (kind == "" || o.Kind == kind) && (channel == "" || o.Channel == channel) &&
			(edition == "" || o.Edition == edition) && (result == "" || o.Result == result) {
			n += o.Count
		}
	}
	return n
}
