package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oemact/oemact/firmware/productkey"
	"github.com/oemact/oemact/oemact/hwid"
	"github.com/oemact/oemact/oemact/service"
	"github.com/oemact/oemact/oemact/service/api"
	"github.com/oemact/oemact/oemact/service/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serve wires its flags to a working service: it prints its address, answers, takes admin
// changes with the token from the environment, and exits 0 when its context ends.
func TestServeRunsAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	old := serveContext
	serveContext = func() (context.Context, context.CancelFunc) { return ctx, cancel }
	defer func() { serveContext = old }()
	t.Setenv(service.EnvAdminToken, "serve-test-admin-token")

	dir := t.TempDir()
	geoFile := filepath.Join(dir, "geo.txt")
	require.NoError(t, os.WriteFile(geoFile, []byte("127.0.0.0/8 IN\n"), 0o644))
	// --catalog adds to the built-in catalog.
	catFile := filepath.Join(dir, "more.yaml")
	require.NoError(t, os.WriteFile(catFile, []byte("keys:\n  - label: mak/win8-pro\n    key: "+productkey.Derive("mak/win8-pro").Reveal()+
		"\n    channel: Volume:MAK\n    edition: win8-pro\n    mak_limit: 2\n"), 0o644))
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	code := make(chan int, 1)
	go func() {
		code <- run(stdio{strings.NewReader(""), pw, &stderr}, []string{"serve", "--listen", "127.0.0.1:0",
			"--db", filepath.Join(dir, "s.db"), "--catalog", catFile,
			"--geo", geoFile, "--log-json"})
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err, stderr.String())
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	require.True(t, ok, line)
	go io.Copy(io.Discard, pr)

	c := client.New(url, client.WithAdminToken("serve-test-admin-token"))
	h, err := c.Health(ctx)
	require.NoError(t, err)
	assert.Equal(t, 24, h.Keys, "the built-in catalog's 23 keys and the added one")
	// Starter activates: the --geo file puts loopback in India, one of its markets.
	var inv hwid.Inventory
	inv.Add(hwid.NIC, "52:54:00:00:00:01")
	inv.Add(hwid.Disk, "d1")
	r, err := c.Activate(ctx, api.ActivateRequest{Key: productkey.Derive("retail/win7-starter").Reveal(), Hardware: client.Hardware(inv.Redacted())})
	require.NoError(t, err)
	assert.Equal(t, api.ResultActivated, r.Result)
	yes := true
	_, err = c.UpdateKey(ctx, r.KeyID, api.UpdateKeyRequest{Blocked: &yes})
	require.NoError(t, err)

	cancel()
	select {
	case c := <-code:
		assert.Equal(t, exitOK, c, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	assert.Contains(t, stderr.String(), `"msg":"service closed"`)
	assert.NotContains(t, stderr.String(), productkey.Derive("retail/win7-starter").Reveal())
}

// serve on a unix socket with a token for every route: the client reaches it with the token,
// not without.
func TestServeUnixSocketWithToken(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	old := serveContext
	serveContext = func() (context.Context, context.CancelFunc) { return ctx, cancel }
	defer func() { serveContext = old }()
	t.Setenv(service.EnvAdminToken, "")

	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("a-token-for-every-route\n"), 0o600))
	sock := filepath.Join(dir, "svc.sock")
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	code := make(chan int, 1)
	go func() {
		code <- run(stdio{strings.NewReader(""), pw, &stderr}, []string{"serve", "--listen", "unix:" + sock,
			"--db", filepath.Join(dir, "s.db"), "--catalog", "none", "--token-file", tokenFile})
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err, stderr.String())
	assert.Equal(t, "listening on unix:"+sock+"\n", line)
	go io.Copy(io.Discard, pr)

	_, err = client.New("unix:" + sock).Health(ctx)
	assert.Equal(t, api.CodeTokenRequired, client.Code(err))
	h, err := client.New("unix:"+sock, client.WithToken("a-token-for-every-route")).Health(ctx)
	require.NoError(t, err)
	assert.Equal(t, "ok", h.Status)

	cancel()
	select {
	case c := <-code:
		assert.Equal(t, exitOK, c, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	_, err = os.Stat(sock)
	assert.ErrorIs(t, err, os.ErrNotExist, "the socket is removed at exit")
}
