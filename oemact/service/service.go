// Package service is oemact's emulated activation service: the HTTP/JSON server that plays
// Microsoft's side for tests (online activation, KMS host, MAK pools and proxy batches, telephone
// activation, statistics), over the durable store of oemact/service/store.
//
// The model's rules (oemact/service/rules) decide every answer; this package parses and checks
// requests, hands decisions to the store's group commit, and answers only once they are on disk.
// It is not Microsoft's protocol and nothing it answers is accepted by Windows. Product keys reach
// it in requests and never leave it: the store keeps keyed hashes, logs carry routes and codes,
// error messages name keys by their key ID.
//
// Time comes from a Clock. With Config.TrustClientTime (serve --trust-client-time, for tests and
// the harness only), a KMS request's request_time is used instead, so days can pass in a run;
// without it a request carrying request_time is refused (client-time-not-trusted) rather than
// silently answered at another time than the caller meant.
package service

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/oemact/oemact/oemact/catalog"
	"github.com/oemact/oemact/oemact/service/api"
	"github.com/oemact/oemact/oemact/service/geo"
	"github.com/oemact/oemact/oemact/service/rules"
	"github.com/oemact/oemact/oemact/service/store"
)

// Clock gives the service's time.
type Clock interface{ Now() time.Time }

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// ManualClock is a clock tests and the harness move by hand. The zero value reads the zero time.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewManualClock returns a clock reading t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{t: t} }

// Now reads the clock.
func (c *ManualClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Set moves the clock to t.
func (c *ManualClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Config configures a Server.
type Config struct {
	// DBPath is the SQLite database; its HMAC secret is created beside it on first start.
	DBPath string
	// Catalog's keys are added to the database at start when missing (nil: none). A key already
	// stored keeps its stored settings, which the admin API changes.
	Catalog *catalog.Catalog
	// Geo maps source addresses to countries; nil means geo.Default(geo.DefaultCountry).
	Geo *geo.Table
	// Rules holds the model's numbers; the zero value means rules.DefaultConfig().
	Rules *rules.Config
	// Clock is the service's time (nil: the system clock).
	Clock Clock
	// TrustClientTime makes KMS requests' request_time the time of the decision (tests only).
	TrustClientTime bool
	// TrustClientIP makes activation requests' client_ip the address their geography is judged
	// by (tests and the harness only; see api.ClientIPNote).
	TrustClientIP bool
	// AdminToken guards catalog changes; empty disables the admin endpoints. It opens every
	// route when Token is set too. At least MinTokenLen characters.
	AdminToken string
	// Token, when set, is required on every route (Authorization: Bearer), for hosts where
	// other local users reach the listener. At least MinTokenLen characters.
	Token string
	// RequestTimeout bounds how long a request waits for its decision to be taken (default 10s).
	RequestTimeout time.Duration
	// MaxBatch caps the decisions of one group commit (default 1024).
	MaxBatch int
	// Log receives one line per request (route, status, code, duration) and start/stop events;
	// never a body, a key or an address. nil discards.
	Log *slog.Logger
}

// Server is the service: an http.Handler over an open store.
type Server struct {
	cfg     Config
	rules   rules.Config
	clock   Clock
	geo     *geo.Table
	store   *store.Store
	log     *slog.Logger
	handler http.Handler
	served  []string // "METHOD /path" of every route the mux was given

	openapiOnce sync.Once
	openapi     obj

	mu       sync.Mutex
	refusals map[string]int64

	imported, differing int
}

// Open opens the database (creating it and its secret on first start), adds the catalog's missing
// keys and returns a server ready to handle requests.
func Open(ctx context.Context, cfg Config) (*Server, error) {
	s := &Server{cfg: cfg, clock: cfg.Clock, geo: cfg.Geo, log: cfg.Log, refusals: map[string]int64{}}
	if s.clock == nil {
		s.clock = SystemClock{}
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Rules != nil {
		s.rules = *cfg.Rules
	} else {
		s.rules = rules.DefaultConfig()
	}
	if err := s.rules.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.checkTokens(); err != nil {
		return nil, err
	}
	if s.geo == nil {
		t, err := geo.Default(geo.DefaultCountry)
		if err != nil {
			return nil, err
		}
		s.geo = t
	}
	if s.cfg.RequestTimeout <= 0 {
		s.cfg.RequestTimeout = 10 * time.Second
	}
	st, err := store.Open(ctx, store.Options{Path: cfg.DBPath, MaxBatch: cfg.MaxBatch, Now: s.clock.Now})
	if err != nil {
		return nil, err
	}
	s.store = st
	if cfg.Catalog != nil {
		if err := s.importCatalog(ctx, cfg.Catalog); err != nil {
			st.Close()
			return nil, err
		}
	}
	s.handler = s.routes()
	s.log.Info("service open", "db", st.Path(), "schema_version", st.Version(),
		"catalog_keys_added", s.imported, "catalog_keys_differing", s.differing)
	return s, nil
}

func (s *Server) importCatalog(ctx context.Context, c *catalog.Catalog) error {
	type item struct {
		hash [32]byte
		key  store.Key
	}
	var items []item
	for _, e := range c.Entries() {
		h, id := s.store.KeyHash(e.Key)
		items = append(items, item{h, store.Key{ID: id, Channel: e.Channel, Edition: e.Edition, OEMID: e.OEMID,
			MAKLimit: e.MAKLimit, Blocked: e.Blocked, Source: "catalog"}})
	}
	return s.store.Do(ctx, func(tx *store.Tx) error {
		s.imported, s.differing = 0, 0
		for _, it := range items {
			have, ok := tx.KeyByHash(it.hash)
			if !ok {
				if err := tx.AddKey(it.hash, it.key); err != nil {
					return err
				}
				s.imported++
				continue
			}
			if have.Channel != it.key.Channel || have.Edition.ID != it.key.Edition.ID || have.MAKLimit != it.key.MAKLimit || have.Blocked != it.key.Blocked {
				s.differing++
			}
		}
		return nil
	})
}

// CatalogImport says how many catalog keys the last start added, and how many stored keys differ
// from the catalog file (changed through the admin API; the stored settings are kept).
func (s *Server) CatalogImport() (added, differing int) { return s.imported, s.differing }

// Handler is the HTTP handler: serve it on a listener, or in-process (client.NewInProcess).
func (s *Server) Handler() http.Handler { return s.handler }

// Store is the server's store (tests read its counters).
func (s *Server) Store() *store.Store { return s.store }

// Close finishes every queued decision and closes the database. Stop the HTTP server first.
func (s *Server) Close() error {
	err := s.store.Close()
	s.log.Info("service closed", "commits", s.store.Commits(), "decisions", s.store.Ops())
	return err
}

// Serve answers HTTP on ln until ctx ends, then shuts down gracefully: it stops accepting, lets
// requests in flight finish (their decisions commit and are answered), and returns nil. It does
// not close the Server.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := s.HTTPServer()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.RequestTimeout+5*time.Second)
	defer cancel()
	err := hs.Shutdown(sctx)
	<-errc
	return err
}

// HTTPServer returns an http.Server with the service's timeouts and header limit.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      s.cfg.RequestTimeout + 15*time.Second,
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

func (s *Server) countRefusal(code string) {
	s.mu.Lock()
	s.refusals[code]++
	s.mu.Unlock()
}

func (s *Server) refusalCounts() []api.RefusalCount {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]api.RefusalCount, 0, len(s.refusals))
	for c, n := range s.refusals {
		out = append(out, api.RefusalCount{Code: c, Count: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// decisionError turns what a decision returned into an API error.
func decisionError(err error) *api.Error {
	var r *rules.Refusal
	if errors.As(err, &r) {
		return &api.Error{Code: r.Code, Message: r.Message}
	}
	var ae *api.Error
	if errors.As(err, &ae) {
		return ae
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return api.Errorf(api.CodeTimeout, "the decision was not taken in time; nothing was written, retry")
	case errors.Is(err, store.ErrClosed):
		return api.Errorf(api.CodeUnavailable, "the service is shutting down; retry against a running one")
	case errors.Is(err, store.ErrNotDurable):
		return api.Errorf(api.CodeUnavailable, "the decision could not be written to disk; nothing was acknowledged (restart the service)")
	}
	// The text is for the log only (Server.serve answers the client with a request id).
	if strings.Contains(err.Error(), "goroutine ") {
		return api.Errorf(api.CodeInternal, "%v", err) // a recovered panic already holds its stack
	}
	return api.Errorf(api.CodeInternal, "%v\n%s", err, debug.Stack())
}

// errorf is a shorthand for decisions.
func errorf(code, format string, args ...any) error { return api.Errorf(code, format, args...) }
