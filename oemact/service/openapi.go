package service

import (
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/oemact/oemact/oemact/service/api"
)

// endpoint is one route with what describes it: the mux, GET /v1 and the OpenAPI document are all
// made from the table of them (Server.endpoints).
type endpoint struct {
	method, path, summary string
	in, out               any // zero values of the request and answer types (in nil: no body)
	admin                 bool
	h                     func(w http.ResponseWriter, r *http.Request) (any, *api.Error)
}

func (s *Server) endpoints() []endpoint {
	return []endpoint{
		{http.MethodGet, api.PathIndex, "the routes of the service and where its OpenAPI document is", nil, api.Index{}, false, s.handleIndex},
		{http.MethodGet, api.PathOpenAPI, "the OpenAPI 3 description of every route", nil, map[string]any{}, false, s.handleOpenAPI},
		{http.MethodPost, api.PathActivate, "online activation of a retail, OEM:COA, MAK or OEM:DM key", api.ActivateRequest{}, api.ActivateResponse{}, false, s.handleActivate},
		{http.MethodPost, api.PathKMS, "one KMS client request: the host's count and, at the threshold, an activation", api.KMSRequest{}, api.KMSResponse{}, false, s.handleKMS},
		{http.MethodPost, api.PathPhone, "telephone-style activation: an installation ID in, a confirmation ID out", api.PhoneRequest{}, api.ActivateResponse{}, false, s.handlePhone},
		{http.MethodPost, api.PathProxyBatch, "MAK proxy activation of many installation IDs at once, idempotent by batch_id", api.BatchRequest{}, api.BatchResponse{}, false, s.handleBatch},
		{http.MethodGet, api.PathStats, "aggregate counts: outcomes, MAK pools, the KMS count; no keys, no addresses", nil, api.Stats{}, false, s.handleStats},
		{http.MethodGet, api.PathHealth, "the service is up and taking decisions", nil, api.Health{}, false, s.handleHealth},
		{http.MethodPost, api.PathAdminKeys, "add a TEST key to the catalog", api.AddKeyRequest{}, api.KeyInfo{}, true, s.handleAddKey},
		{http.MethodPatch, api.PathAdminKeys + "/{key_id}", "change a catalog key's MAK limit or blocked flag", api.UpdateKeyRequest{}, api.KeyInfo{}, true, s.handleUpdateKey},
	}
}

func (s *Server) handleIndex(http.ResponseWriter, *http.Request) (any, *api.Error) {
	out := &api.Index{Service: "oemact emulated activation service (TEST keys only; not Microsoft's protocols)", OpenAPI: api.PathOpenAPI}
	for _, ep := range s.endpoints() {
		out.Routes = append(out.Routes, api.Route{Method: ep.method, Path: ep.path, Summary: ep.summary, Admin: ep.admin})
	}
	return out, nil
}

func (s *Server) handleOpenAPI(http.ResponseWriter, *http.Request) (any, *api.Error) {
	s.openapiOnce.Do(func() { s.openapi = openAPI(s.endpoints()) })
	return s.openapi, nil
}

type obj = map[string]any

// openAPI describes the endpoints as an OpenAPI 3.0 document. The schemas are read from the api
// package's types (their JSON names, Go types and omitempty), so they cannot drift from what the
// service decodes and answers.
func openAPI(eps []endpoint) obj {
	schemas := obj{}
	sg := schemaGen{schemas: schemas}
	errRef := sg.ref(reflect.TypeOf(api.ErrorBody{}), true)
	paths := obj{}
	for _, ep := range eps {
		op := obj{"summary": ep.summary, "operationId": operationID(ep)}
		responses := obj{
			"200":     obj{"description": "the answer", "content": obj{api.ContentTypeJSON: obj{"schema": sg.ref(reflect.TypeOf(ep.out), true)}}},
			"default": obj{"description": "an error: its code says what went wrong (api package, Code*)", "content": obj{api.ContentTypeJSON: obj{"schema": errRef}}},
		}
		op["responses"] = responses
		if ep.in != nil {
			op["requestBody"] = obj{"required": true, "content": obj{api.ContentTypeJSON: obj{"schema": sg.ref(reflect.TypeOf(ep.in), false)}}}
		}
		if ep.admin {
			op["security"] = []any{obj{"bearer": []any{}}}
		}
		if strings.Contains(ep.path, "{key_id}") {
			op["parameters"] = []any{obj{"name": "key_id", "in": "path", "required": true,
				"schema": obj{"type": "string", "pattern": "^[0-9a-f]{16}$"}}}
		}
		item, _ := paths[ep.path].(obj)
		if item == nil {
			item = obj{}
			paths[ep.path] = item
		}
		item[strings.ToLower(ep.method)] = op
	}
	return obj{
		"openapi": "3.0.3",
		"info": obj{"title": "oemact emulated activation service", "version": "1",
			"description": "The project's own HTTP/JSON API for tests: TEST keys only, not Microsoft's activation or KMS protocols."},
		"paths": paths,
		"components": obj{
			"schemas":         schemas,
			"securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer"}},
		},
		// Without --token-file only the admin routes need a token; with it, every route does.
		"security": []any{obj{}, obj{"bearer": []any{}}},
	}
}

func operationID(ep endpoint) string {
	p := strings.NewReplacer("/v1", "", "/", "_", "{", "", "}", "", ".", "_").Replace(ep.path)
	return strings.ToLower(ep.method) + strings.TrimRight(p, "_")
}

// schemaGen turns Go types into JSON schemas, one component per named struct. An answer's
// schema lists the fields every answer carries as required; a request's schema lists none (the
// handlers say which are missing) and allows no others (unknown fields are refused).
type schemaGen struct{ schemas obj }

var timeType = reflect.TypeOf(time.Time{})

func (g schemaGen) ref(t reflect.Type, answer bool) obj {
	if t.Kind() == reflect.Map {
		return obj{"type": "object"}
	}
	name := t.Name()
	if _, ok := g.schemas[name]; !ok {
		g.schemas[name] = obj{} // placeholder: a type that refers to itself
		g.schemas[name] = g.object(t, answer)
	}
	return obj{"$ref": "#/components/schemas/" + name}
}

func (g schemaGen) object(t reflect.Type, answer bool) obj {
	props := obj{}
	var required []any
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = g.schema(f.Type, answer)
		if answer && !strings.Contains(opts, "omitempty") {
			required = append(required, name)
		}
	}
	o := obj{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	if !answer {
		o["additionalProperties"] = false
	}
	return o
}

func (g schemaGen) schema(t reflect.Type, answer bool) obj {
	if t == timeType {
		return obj{"type": "string", "format": "date-time"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.schema(t.Elem(), answer)
	case reflect.String:
		return obj{"type": "string"}
	case reflect.Bool:
		return obj{"type": "boolean"}
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint8, reflect.Uint32:
		return obj{"type": "integer"}
	case reflect.Slice:
		return obj{"type": "array", "items": g.schema(t.Elem(), answer)}
	case reflect.Struct:
		return g.ref(t, answer)
	}
	return obj{}
}
