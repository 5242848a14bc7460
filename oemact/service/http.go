package service

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/oemact/oemact/oemact/service/api"
)

// route is one endpoint: its pattern (what logs show, never the raw path), method and handler.
type route struct {
	pattern string
	method  string
	h       func(w http.ResponseWriter, r *http.Request) (any, *api.Error)
}

// routes builds the mux from the endpoint table, the one list that GET /v1 and the OpenAPI
// document are made from too.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	var paths []string
	byPath := map[string][]route{}
	for _, ep := range s.endpoints() {
		if byPath[ep.path] == nil {
			paths = append(paths, ep.path)
		}
		byPath[ep.path] = append(byPath[ep.path], route{ep.path, ep.method, ep.h})
	}
	for _, p := range paths {
		routes := byPath[p]
		pattern := p
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			for _, rt := range routes {
				if r.Method == rt.method {
					s.serve(w, r, rt)
					return
				}
			}
			methods := make([]string, len(routes))
			for i, rt := range routes {
				methods[i] = rt.method
			}
			w.Header().Set("Allow", strings.Join(methods, ", "))
			s.serve(w, r, route{pattern: pattern, h: func(http.ResponseWriter, *http.Request) (any, *api.Error) {
				return nil, api.Errorf(api.CodeMethodNotAllowed, "%s is not allowed on %s; use %s", r.Method, pattern, strings.Join(methods, " or "))
			}})
		})
		for _, rt := range routes {
			s.served = append(s.served, rt.method+" "+pattern)
		}
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r, route{pattern: "/", h: func(http.ResponseWriter, *http.Request) (any, *api.Error) {
			return nil, api.Errorf(api.CodeNotFound, "no such endpoint; GET %s lists the service's routes", api.PathIndex)
		}})
	})
	return mux
}

// serve runs a handler and writes its answer or error as JSON, then logs one line. Every answer
// carries a request id (X-Request-Id); an internal error's text and stack go to the log under
// that id, and the client is told only the id.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, rt route) {
	start := time.Now()
	id := newRequestID()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Request-Id", id)
	var (
		body   any
		status = http.StatusOK
		code   string
	)
	out, aerr := any(nil), s.authorize(r)
	if aerr == nil {
		out, aerr = s.call(w, r, rt)
	}
	if aerr != nil && (aerr.Code == api.CodeTokenRequired || aerr.Code == api.CodeAdminTokenRequired) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="oemact"`)
	}
	if aerr != nil && aerr.Code == api.CodeInternal {
		aerr = s.internal(r, rt, id, aerr.Message)
	}
	if aerr != nil {
		code = aerr.Code
		status = api.Status(aerr.Code)
		body = api.ErrorBody{Error: aerr}
		s.countRefusal(aerr.Code)
	} else {
		body = out
	}
	b, err := json.Marshal(body)
	if err != nil {
		status, code = http.StatusInternalServerError, api.CodeInternal
		b, _ = json.Marshal(api.ErrorBody{Error: s.internal(r, rt, id, fmt.Sprintf("encoding the answer: %v\n%s", err, debug.Stack()))})
	}
	w.Header().Set("Content-Type", api.ContentTypeJSON)
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
	level := slogLevel(status)
	if !s.log.Enabled(r.Context(), level) {
		return
	}
	s.log.Log(r.Context(), level, "request", "method", r.Method, "route", rt.pattern, "status", status, "code", code,
		"request_id", id, "duration_us", time.Since(start).Microseconds())
}

// internal logs what went wrong inside the service (detail: the error and a stack) and returns
// the answer the client gets: the request id and nothing of the detail, which may hold paths,
// SQL or a stack.
func (s *Server) internal(r *http.Request, rt route, id, detail string) *api.Error {
	s.log.Error("internal error", "method", r.Method, "route", rt.pattern, "request_id", id, "error", detail)
	return api.Errorf(api.CodeInternal, "internal error (request id %s); the service log has the details", id)
}

// call runs a handler; a panic becomes an internal error with its stack (logged by serve with
// the route, never the request: net/http's own panic line would name the client's address).
func (s *Server) call(w http.ResponseWriter, r *http.Request, rt route) (out any, aerr *api.Error) {
	defer func() {
		if p := recover(); p != nil {
			out, aerr = nil, api.Errorf(api.CodeInternal, "handler panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return rt.h(w, r)
}

// newRequestID names one request in the answer and the log: 8 random bytes in hex.
func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// decode reads a JSON body strictly: the right content type, at most limit bytes, no unknown
// fields, one value and nothing after it.
func decode(w http.ResponseWriter, r *http.Request, dst any, limit int64) *api.Error {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != api.ContentTypeJSON {
		return api.Errorf(api.CodeUnsupportedMedia, "send the body as %s", api.ContentTypeJSON)
	}
	// JSON is UTF-8 (RFC 8259 section 8.1); a body declared in another charset would be read
	// as something its sender did not mean.
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return api.Errorf(api.CodeUnsupportedMedia, "charset %q: send the body as %s in UTF-8 (charset=utf-8, or no charset)", safeParam(cs), api.ContentTypeJSON)
	}
	if r.ContentLength > limit {
		return api.Errorf(api.CodeBodyTooLarge, "body of %d bytes; this endpoint takes at most %d", r.ContentLength, limit)
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err, limit)
	}
	if _, err := dec.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return api.Errorf(api.CodeBodyTooLarge, "body over %d bytes", limit)
		}
		return api.Errorf(api.CodeTrailingData, "the body holds more than one JSON value; send exactly one object")
	}
	return nil
}

var fieldName = lazyRegexp(`^[a-z_]{1,32}$`)

// safeParam echoes a header parameter only when it looks like a charset name.
func safeParam(s string) string {
	if len(s) > 32 || strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) {
		return "?"
	}
	return s
}

func jsonError(err error, limit int64) *api.Error {
	var (
		mbe    *http.MaxBytesError
		syn    *json.SyntaxError
		typ    *json.UnmarshalTypeError
		prefix = "json: unknown field "
	)
	switch {
	case errors.As(err, &mbe):
		return api.Errorf(api.CodeBodyTooLarge, "body over %d bytes", limit)
	case errors.Is(err, io.EOF):
		return api.Errorf(api.CodeBadJSON, "empty body; send one JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return api.Errorf(api.CodeBadJSON, "the JSON body ends early")
	case errors.As(err, &syn):
		return api.Errorf(api.CodeBadJSON, "the body is not valid JSON (at byte %d)", syn.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "the body"
		}
		return api.Errorf(api.CodeInvalidField, "%s: want %s, got a JSON %s", field, jsonType(typ.Type.Kind().String()), typ.Value)
	case strings.HasPrefix(err.Error(), prefix):
		// The name comes from the caller: echo it only when it looks like a field name.
		name := strings.Trim(strings.TrimPrefix(err.Error(), prefix), `"`)
		if !fieldName().MatchString(name) {
			return api.Errorf(api.CodeUnknownField, "the body has a field this endpoint does not know")
		}
		return api.Errorf(api.CodeUnknownField, "unknown field %q", name)
	}
	return api.Errorf(api.CodeBadJSON, "the body is not a valid request")
}

func jsonType(kind string) string {
	switch kind {
	case "int", "int64", "uint8", "float64":
		return "a number"
	case "struct", "map":
		return "an object"
	case "slice":
		return "an array"
	case "bool":
		return "true or false"
	case "ptr":
		return "a value"
	}
	return "a " + kind
}

func slogLevel(status int) slog.Level {
	// Answered requests are debug lines (serve --log-requests shows them); refusals and
	// rejections info; server errors errors.
	switch {
	case status >= 500:
		return slog.LevelError
	case status >= 400:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

// withTimeout bounds how long a request waits for the writer to take its decision.
func (s *Server) withTimeout(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
}

// canonicalJSON is the request as the service understood it, for content MACs.
func canonicalJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("encoding a decoded request: %v", err))
	}
	return b.Bytes()
}

// lazyRegexp compiles a pattern on first use: the binary is also the guest's /init, where
// package initialisation runs under emulation on every boot.
func lazyRegexp(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}
