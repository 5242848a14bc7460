package service_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oemact/oemact/oemact/service"
	"github.com/oemact/oemact/oemact/service/api"
	"github.com/oemact/oemact/oemact/service/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const accessToken = "access-token-for-every-route"

// everyRoute is one request per route, and one to a path the service does not have.
var everyRoute = []struct{ method, path string }{
	{"POST", api.PathActivate}, {"POST", api.PathKMS}, {"POST", api.PathPhone}, {"POST", api.PathProxyBatch},
	{"GET", api.PathStats}, {"GET", api.PathHealth}, {"POST", api.PathAdminKeys}, {"PATCH", api.PathAdminKeys + "/0123456789abcdef"},
	{"GET", api.PathIndex}, {"GET", api.PathOpenAPI}, {"GET", "/v1/no-such-route"},
}

func isAdmin(path string) bool { return strings.HasPrefix(path, api.PathAdminKeys) }

// With a token configured, every route answers 401 to a request without it (or with another),
// before reading anything else of the request; the admin token opens every route too, and the
// access token does not open the admin routes.
func TestTokenGuardsEveryRoute(t *testing.T) {
	e := newEnv(t, func(c *service.Config) { c.Token = accessToken })
	hs := httptest.NewServer(e.srv.Handler())
	defer hs.Close()
	before := e.dump()
	for _, rt := range everyRoute {
		for _, hdr := range [][]string{nil, {"Authorization", "Bearer guess-guess-guess-guess"}, {"Authorization", accessToken}} {
			status, body := raw(t, hs.URL, rt.method, rt.path, api.ContentTypeJSON, `{}`, hdr...)
			assert.Equal(t, 401, status, "%s %s %v: %s", rt.method, rt.path, hdr, body)
			assert.Contains(t, body, `"code":"`+api.CodeTokenRequired+`"`, "%s %s", rt.method, rt.path)
		}
		status, body := raw(t, hs.URL, rt.method, rt.path, api.ContentTypeJSON, `{}`, "Authorization", "Bearer "+accessToken)
		if isAdmin(rt.path) {
			assert.Equal(t, 401, status, "%s %s: %s", rt.method, rt.path, body)
			assert.Contains(t, body, api.CodeAdminTokenRequired)
		} else {
			assert.NotEqual(t, 401, status, "%s %s: %s", rt.method, rt.path, body)
		}
		status, body = raw(t, hs.URL, rt.method, rt.path, api.ContentTypeJSON, `{}`, "Authorization", "Bearer "+e.cfg.AdminToken)
		assert.NotEqual(t, 401, status, "%s %s with the admin token: %s", rt.method, rt.path, body)
	}
	assert.Equal(t, before, e.dump())

	ctx := context.Background()
	_, err := client.New(hs.URL).Health(ctx)
	assert.Equal(t, api.CodeTokenRequired, client.Code(err))
	_, err = client.New(hs.URL, client.WithToken(accessToken)).Health(ctx)
	assert.NoError(t, err)
	_, err = client.New(hs.URL, client.WithToken(accessToken), client.WithAdminToken(e.cfg.AdminToken)).
		UpdateKey(ctx, "0123456789abcdef", api.UpdateKeyRequest{Blocked: new(bool)})
	assert.Equal(t, api.CodeNotFound, client.Code(err), "%v", err)
}

// One rule for every token, from a file or the environment: at least 16 characters.
func TestTokenRules(t *testing.T) {
	dir := t.TempDir()
	for _, mod := range []func(*service.Config){
		func(c *service.Config) { c.AdminToken = "x" },
		func(c *service.Config) { c.Token = "fifteen-chars-x" },
	} {
		cfg := service.Config{DBPath: filepath.Join(dir, "s.db")}
		mod(&cfg)
		_, err := service.Open(context.Background(), cfg)
		assert.ErrorContains(t, err, "use at least 16")
	}
	env := func(v string) func(string) string {
		return func(name string) string {
			if name == service.EnvAdminToken {
				return v
			}
			return ""
		}
	}
	_, err := service.AdminToken("", env(" x \n"))
	assert.ErrorContains(t, err, "$OEMACT_ADMIN_TOKEN: the token has 1 characters; use at least 16")
	tok, err := service.AdminToken("", env(" sixteen-chars-ok\n"))
	require.NoError(t, err)
	assert.Equal(t, "sixteen-chars-ok", tok)
	tok, err = service.AdminToken("", env(""))
	require.NoError(t, err)
	assert.Equal(t, "", tok)

	short := filepath.Join(dir, "short")
	require.NoError(t, os.WriteFile(short, []byte("short\n"), 0o600))
	_, err = service.AdminToken(short, env("a-good-token-from-the-environment"))
	assert.ErrorContains(t, err, short+": the token has 5 characters; use at least 16")
	_, err = service.ReadTokenFile(short)
	assert.ErrorContains(t, err, "use at least 16")
	open := filepath.Join(dir, "open")
	require.NoError(t, os.WriteFile(open, []byte("0123456789abcdef0123\n"), 0o644))
	_, err = service.ReadTokenFile(open)
	assert.ErrorContains(t, err, "readable by others")
	_, err = service.ReadTokenFile(dir)
	assert.ErrorContains(t, err, "not a regular file")
}

// runOn runs the service on addr until the test ends and returns the address it printed.
func runOn(t *testing.T, cfg service.Config, addr string) (string, <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		errc <- service.Run(ctx, cfg, addr, pw)
		pw.Close()
	}()
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(pr).ReadString('\n')
		line <- strings.TrimSpace(l)
		io.Copy(io.Discard, pr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-errc:
		case <-time.After(30 * time.Second):
			t.Error("the service did not stop")
		}
	})
	select {
	case l := <-line:
		got, ok := strings.CutPrefix(l, "listening on ")
		require.True(t, ok, "%q", l)
		return got, errc
	case err := <-errc:
		t.Fatalf("the service stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the service did not start")
	}
	return "", nil
}

// A unix socket: only its owner may connect, the client speaks to it, a socket left by a
// crashed service is replaced, and a live one or another file is not.
func TestUnixSocket(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "svc.sock")
	cfg := service.Config{DBPath: filepath.Join(dir, "s.db"), Token: accessToken}

	// What a crashed service leaves: a socket file nobody listens on.
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	require.NoError(t, err)
	ln.SetUnlinkOnClose(false)
	require.NoError(t, ln.Close())
	_, err = os.Stat(sock)
	require.NoError(t, err, "the stale socket is there")

	url, _ := runOn(t, cfg, "unix:"+sock)
	assert.Equal(t, "unix:"+sock, url)
	st, err := os.Stat(sock)
	require.NoError(t, err)
	assert.Equal(t, os.ModeSocket, st.Mode().Type())
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "other users could connect")
	ctx := context.Background()
	h, err := client.New(url, client.WithToken(accessToken)).Health(ctx)
	require.NoError(t, err)
	assert.Equal(t, "ok", h.Status)
	_, err = client.New(url).Health(ctx)
	assert.Equal(t, api.CodeTokenRequired, client.Code(err))

	// A second service on the same socket: refused while the first listens.
	err = service.Run(ctx, service.Config{DBPath: filepath.Join(dir, "t.db")}, "unix:"+sock, io.Discard)
	assert.ErrorContains(t, err, "another process listens on it")

	// A file that is not a socket is never removed.
	plain := filepath.Join(dir, "plain")
	require.NoError(t, os.WriteFile(plain, []byte("keep"), 0o600))
	err = service.Run(ctx, service.Config{DBPath: filepath.Join(dir, "u.db")}, "unix:"+plain, io.Discard)
	assert.ErrorContains(t, err, "not a socket")
	b, err := os.ReadFile(plain)
	require.NoError(t, err)
	assert.Equal(t, "keep", string(b))
}
