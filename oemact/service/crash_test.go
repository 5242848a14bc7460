package service_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/oemact/oemact/firmware/productkey"
	"github.com/oemact/oemact/oemact/catalog"
	"github.com/oemact/oemact/oemact/service"
	"github.com/oemact/oemact/oemact/service/api"
	"github.com/oemact/oemact/oemact/service/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary run as the service, in a child process the crash and shutdown
// tests can kill.
func TestMain(m *testing.M) {
	if db := os.Getenv("OEMACT_SERVICE_CHILD_DB"); db != "" {
		os.Exit(childServer(db))
	}
	os.Exit(m.Run())
}

func childServer(db string) int {
	cat, err := catalog.Load(filepath.Join(fixtures(), "keys", "catalog.yaml"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	cfg := service.Config{DBPath: db, Catalog: cat, AdminToken: "crash-admin-token-0001",
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if err := service.Run(ctx, cfg, "127.0.0.1:0", os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

type child struct {
	cmd    *exec.Cmd
	url    string
	stderr *syncBuffer
}

func startChild(t *testing.T, db string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "OEMACT_SERVICE_CHILD_DB="+db)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	c := &child{cmd: cmd, stderr: &syncBuffer{}}
	cmd.Stderr = c.stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				line <- u
			}
		}
	}()
	select {
	case c.url = <-line:
	case <-time.After(60 * time.Second):
		t.Fatalf("the child server did not start: %s", c.stderr.String())
	}
	return c
}

// load activates distinct machines from many goroutines until stop is closed, recording every
// activation the service acknowledged. Every fifth request goes to a small pool.
type load struct {
	mu       sync.Mutex
	acked    map[string]productkey.Key // machine tag -> key
	sent     atomic.Int64
	failures atomic.Int64
}

func runLoad(c *client.Client, big, small productkey.Key, workers int, stop <-chan struct{}) (*load, *sync.WaitGroup) {
	l := &load{acked: map[string]productkey.Key{}}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := big
				if i%5 == 4 {
					k = small
				}
				tag := fmt.Sprintf("w%d-%d", w, i)
				l.sent.Add(1)
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				r, err := activate(ctx, c, k, machine(tag))
				cancel()
				switch {
				case err == nil && r.Result == api.ResultActivated:
					l.mu.Lock()
					l.acked[tag] = k
					l.mu.Unlock()
				case client.Code(err) == api.CodeMAKExhausted:
				default:
					l.failures.Add(1)
					time.Sleep(5 * time.Millisecond) // the server is gone: do not spin
				}
			}
		}(w)
	}
	return l, &wg
}

// pool is a MAK key the crash tests load.
type pool struct {
	key     productkey.Key
	id      string
	edition string
	limit   int
}

// verify restarts the service on db and checks that every acknowledged activation is there and
// that the counts agree with the bindings.
func verify(t *testing.T, db string, l *load, pools []pool) {
	t.Helper()
	ch := startChild(t, db)
	c := client.New(ch.url)
	ctx := context.Background()
	st, err := c.Stats(ctx)
	require.NoError(t, err)
	d, err := storeDump(db)
	require.NoError(t, err)
	ackedPer := map[productkey.Key]int{}
	for _, k := range l.acked {
		ackedPer[k]++
	}
	for _, want := range pools {
		p, ok := client.Pool(st, want.id)
		require.True(t, ok)
		assert.Equal(t, want.limit, p.Limit)
		assert.LessOrEqual(t, p.Used, p.Limit, "over the limit")
		assert.Equal(t, p.Used, strings.Count(d, "|"+want.id+"|"), "the pool's count equals its bindings")
		assert.GreaterOrEqual(t, p.Used, ackedPer[want.key], "an acknowledged activation is missing")
		assert.EqualValues(t, p.Used, client.Outcomes(st, "online", "Volume:MAK", want.edition, api.ResultActivated),
			"the outcome count agrees with the pool")
		t.Logf("pool %s: limit %d, used %d, acknowledged %d", want.edition, p.Limit, p.Used, ackedPer[want.key])
	}
	// Each acknowledged machine reactivates: its binding is there.
	for tag, k := range l.acked {
		r, err := c.Activate(ctx, api.ActivateRequest{Key: k.Reveal(), Hardware: client.Hardware(machine(tag))})
		require.NoError(t, err, tag)
		require.Equal(t, api.ResultReactivated, r.Result, "acknowledged activation of %s lost", tag)
	}
	require.NoError(t, ch.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, ch.cmd.Wait(), "a SIGTERM'd server exits 0: %s", ch.stderr.String())
}

// crashPools adds a big MAK pool and a small one (a Windows 7 and a Server edition, which no
// catalog MAK shares, so outcome counts by edition are per pool).
func crashPools(t *testing.T, url string) []pool {
	c := client.New(url, client.WithAdminToken("crash-admin-token-0001"))
	var out []pool
	for _, p := range []pool{{edition: "win7-enterprise", limit: 1000000}, {edition: "server2008r2-enterprise", limit: 40}} {
		label := "mak/crash/" + p.edition
		p.key = productkey.Derive(label)
		info, err := c.AddKey(context.Background(), api.AddKeyRequest{Label: label, Key: p.key.Reveal(), Channel: "Volume:MAK", Edition: p.edition, MAKLimit: p.limit})
		require.NoError(t, err)
		p.id = info.KeyID
		out = append(out, p)
	}
	return out
}

// The server is killed with SIGKILL in the middle of a load; restarted on the same database,
// every activation a client saw acknowledged is there and the counts agree.
func TestCrashKeepsAcknowledgedActivations(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes; skipped with -short")
	}
	db := filepath.Join(t.TempDir(), "crash.db")
	ch := startChild(t, db)
	pools := crashPools(t, ch.url)
	c := client.New(ch.url, client.WithHTTPClient(httpClient(32)))
	stop := make(chan struct{})
	l, wg := runLoad(c, pools[0].key, pools[1].key, 32, stop)
	// Kill once the load is well under way (a number of acknowledgements, not a time).
	deadline := time.Now().Add(60 * time.Second)
	for {
		l.mu.Lock()
		n := len(l.acked)
		l.mu.Unlock()
		if n >= 300 || time.Now().After(deadline) {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	require.NoError(t, ch.cmd.Process.Signal(syscall.SIGKILL))
	err := ch.cmd.Wait()
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "killed: %v", err)
	time.Sleep(50 * time.Millisecond) // let in-flight requests fail
	close(stop)
	wg.Wait()
	l.mu.Lock()
	t.Logf("sent %d, acknowledged %d, failed %d (after the kill)", l.sent.Load(), len(l.acked), l.failures.Load())
	require.GreaterOrEqual(t, len(l.acked), 100, "the load did not get going")
	l.mu.Unlock()
	verify(t, db, l, pools)
}

// SIGTERM in the middle of a load: requests in flight are answered, the process exits 0, and
// every acknowledged activation is there after a restart.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes; skipped with -short")
	}
	db := filepath.Join(t.TempDir(), "term.db")
	ch := startChild(t, db)
	pools := crashPools(t, ch.url)
	c := client.New(ch.url, client.WithHTTPClient(httpClient(16)))
	stop := make(chan struct{})
	l, wg := runLoad(c, pools[0].key, pools[1].key, 16, stop)
	for {
		l.mu.Lock()
		n := len(l.acked)
		l.mu.Unlock()
		if n >= 100 {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	require.NoError(t, ch.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, ch.cmd.Wait(), "exit status after SIGTERM: %s", ch.stderr.String())
	close(stop)
	wg.Wait()
	assert.NotContains(t, ch.stderr.String(), "level=ERROR")
	verify(t, db, l, pools)
}
