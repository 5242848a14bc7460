package service_test

import (
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/oemact/oemact/oemact/service"
	"github.com/oemact/oemact/oemact/service/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func getJSON(t *testing.T, base, path string, dst any) {
	t.Helper()
	status, body := raw(t, base, "GET", path, "", "")
	require.Equal(t, 200, status, body)
	require.NoError(t, json.Unmarshal([]byte(body), dst))
}

// GET /v1 lists exactly the routes the service serves.
func TestIndexListsRoutes(t *testing.T) {
	e := newEnv(t)
	hs := httptest.NewServer(e.srv.Handler())
	defer hs.Close()
	var idx api.Index
	getJSON(t, hs.URL, api.PathIndex, &idx)
	assert.Equal(t, api.PathOpenAPI, idx.OpenAPI)
	var listed []string
	for _, r := range idx.Routes {
		listed = append(listed, r.Method+" "+r.Path)
		assert.NotEmpty(t, r.Summary, r.Path)
		assert.Equal(t, strings.HasPrefix(r.Path, api.PathAdminKeys), r.Admin, r.Path)
	}
	served := service.ServedRoutes(e.srv)
	sort.Strings(listed)
	sort.Strings(served)
	assert.Equal(t, served, listed)
	assert.Contains(t, served, "POST "+api.PathActivate)
}

// /v1/openapi.json is an OpenAPI 3 document that describes every route the mux serves and
// nothing it does not: every documented operation is answered (neither 404 nor 405), every $ref
// resolves, and each schema has exactly the fields encoding/json writes for its Go type.
func TestOpenAPIMatchesHandlers(t *testing.T) {
	e := newEnv(t)
	hs := httptest.NewServer(e.srv.Handler())
	defer hs.Close()
	var doc struct {
		OpenAPI string `json:"openapi"`
		Info    struct {
			Title, Version string
		} `json:"info"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	getJSON(t, hs.URL, api.PathOpenAPI, &doc)
	assert.True(t, strings.HasPrefix(doc.OpenAPI, "3."), doc.OpenAPI)
	assert.NotEmpty(t, doc.Info.Title)
	assert.NotEmpty(t, doc.Info.Version)

	var documented []string
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
			var op struct {
				Summary   string                     `json:"summary"`
				Responses map[string]json.RawMessage `json:"responses"`
			}
			require.NoError(t, json.Unmarshal(raw, &op))
			assert.NotEmpty(t, op.Summary, path)
			assert.Contains(t, op.Responses, "200", path)
			// Served: the route exists and takes the method.
			concrete := strings.ReplaceAll(path, "{key_id}", "0123456789abcdef")
			status, body := raw_(t, hs.URL, strings.ToUpper(method), concrete)
			assert.NotEqual(t, 404, status, "%s %s is documented but not served: %s", method, path, body)
			assert.NotEqual(t, 405, status, "%s %s is documented but not served: %s", method, path, body)
		}
	}
	served := service.ServedRoutes(e.srv)
	sort.Strings(documented)
	sort.Strings(served)
	assert.Equal(t, served, documented, "served and documented routes differ")

	// Every $ref names a schema, and each schema's properties are exactly what encoding/json
	// writes for a fully populated value of its type.
	whole, err := json.Marshal(doc.Components.Schemas)
	require.NoError(t, err)
	for _, ref := range regexpAll(`"\$ref":"#/components/schemas/([A-Za-z]+)"`, string(whole)) {
		assert.Contains(t, doc.Components.Schemas, ref)
	}
	types := []any{api.Index{}, api.ActivateRequest{}, api.ActivateResponse{}, api.KMSRequest{}, api.KMSResponse{},
		api.PhoneRequest{}, api.BatchRequest{}, api.BatchResponse{}, api.Stats{}, api.Health{}, api.AddKeyRequest{},
		api.UpdateKeyRequest{}, api.KeyInfo{}, api.ErrorBody{}, api.Error{}, api.Hardware{}, api.Component{}}
	for _, v := range types {
		name := reflect.TypeOf(v).Name()
		schema, ok := doc.Components.Schemas[name]
		if !assert.True(t, ok, "no schema for %s", name) {
			continue
		}
		props, _ := schema["properties"].(map[string]any)
		var want []string
		for k := range jsonKeys(t, v) {
			want = append(want, k)
		}
		var got []string
		for k := range props {
			got = append(got, k)
		}
		sort.Strings(want)
		sort.Strings(got)
		assert.Equal(t, want, got, "schema %s", name)
	}
}

func raw_(t *testing.T, base, method, path string) (int, string) {
	return raw(t, base, method, path, api.ContentTypeJSON, `{}`, "Authorization", "Bearer test-admin-token")
}

// jsonKeys encodes a value of v's type with every field set and returns the object's keys.
func jsonKeys(t *testing.T, v any) map[string]any {
	p := reflect.New(reflect.TypeOf(v))
	fill(p.Elem())
	b, err := json.Marshal(p.Interface())
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

func fill(v reflect.Value) {
	switch {
	case v.Type() == reflect.TypeOf(time.Time{}):
		v.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(1)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem())
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0))
		v.Set(s)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	}
}

func regexpAll(pattern, s string) []string {
	var out []string
	for _, m := range regexp.MustCompile(pattern).FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}
