package service

import (
	"net/http"

	"github.com/oemact/oemact/oemact/service/api"
	"github.com/oemact/oemact/oemact/service/store"
)

// HandlerFor serves h as a route of s, through the answering, recovery and logging every route
// has: tests give it handlers that fail in ways no request can provoke.
func HandlerFor(s *Server, h func(w http.ResponseWriter, r *http.Request) (any, *api.Error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r, route{pattern: "/test", method: r.Method, h: h})
	})
}

// DecideForTest runs fn as a decision and turns its error into an answer as handlers do.
func DecideForTest(s *Server, r *http.Request, fn func(tx *store.Tx) error) *api.Error {
	return decisionError(s.store.Do(r.Context(), fn))
}

// ServedRoutes lists "METHOD /path" for every route the server's mux was given.
func ServedRoutes(s *Server) []string { return append([]string(nil), s.served...) }
