package service_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/oemact/oemact/firmware/productkey"
	"github.com/oemact/oemact/oemact/catalog"
	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/hwid"
	"github.com/oemact/oemact/oemact/service"
	"github.com/oemact/oemact/oemact/service/client"
	"github.com/oemact/oemact/oemact/service/store"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func fixtures() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "fixtures")
}

func testCatalog(t testing.TB) *catalog.Catalog {
	c, err := catalog.Load(filepath.Join(fixtures(), "keys", "catalog.yaml"))
	require.NoError(t, err)
	return c
}

// key returns the catalog's first key for a channel and edition.
func key(t testing.TB, c *catalog.Catalog, ch edition.Channel, ed string) *catalog.Entry {
	es := c.Find(ch, ed)
	require.NotEmpty(t, es, "no %s key for %s in the catalog", ch, ed)
	for _, e := range es {
		if !e.Blocked {
			return e
		}
	}
	return es[0]
}

// machine is a distinct machine's inventory.
func machine(tag string) hwid.Inventory {
	var inv hwid.Inventory
	inv.Add(hwid.NIC, "52:54:00:"+tag)
	inv.Add(hwid.Disk, "disk-"+tag)
	inv.Add(hwid.Memory, hwid.MemoryRange(480*1024))
	inv.Add(hwid.CPU, "cpu-"+tag)
	inv.Add(hwid.Display, "1234:"+tag)
	inv.Add(hwid.StorageController, "1af4:"+tag)
	inv.Add(hwid.System, "uuid-"+tag)
	inv.Add(hwid.BIOS, "bios-"+tag)
	return inv.Redacted()
}

// swap replaces the components of the given classes.
func swap(inv hwid.Inventory, classes ...hwid.Class) hwid.Inventory {
	out := hwid.Inventory{Dockable: inv.Dockable}
	for _, c := range inv.Components {
		for _, x := range classes {
			if c.Class == x {
				c = hwid.NewComponent(x, "new-"+c.Digest)
				c.Value = ""
			}
		}
		out.Components = append(out.Components, c)
	}
	return out
}

// syncBuffer is a log sink tests can read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type env struct {
	t      testing.TB
	cfg    service.Config
	srv    *service.Server
	c      *client.Client
	clock  *service.ManualClock
	log    *syncBuffer
	cat    *catalog.Catalog
	db     string
	closed bool
}

func newEnv(t testing.TB, mod ...func(*service.Config)) *env {
	t.Helper()
	e := &env{t: t, clock: service.NewManualClock(t0), log: &syncBuffer{}, cat: testCatalog(t)}
	e.db = filepath.Join(t.TempDir(), "service.db")
	e.cfg = service.Config{DBPath: e.db, Catalog: e.cat, Clock: e.clock, AdminToken: "test-admin-token",
		Log: slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	for _, m := range mod {
		m(&e.cfg)
	}
	e.open()
	t.Cleanup(func() {
		if !e.closed {
			e.srv.Close()
		}
	})
	return e
}

func (e *env) open() {
	srv, err := service.Open(context.Background(), e.cfg)
	require.NoError(e.t, err)
	e.srv = srv
	e.closed = false
	e.c = client.NewInProcess(srv.Handler(), "", client.WithAdminToken(e.cfg.AdminToken))
}

func (e *env) restart() {
	require.NoError(e.t, e.srv.Close())
	e.closed = true
	e.open()
}

func (e *env) dump() string {
	d, err := store.Dump(context.Background(), e.db)
	require.NoError(e.t, err)
	return d
}

func activate(ctx context.Context, c *client.Client, k productkey.Key, inv hwid.Inventory) (*apiActivate, error) {
	return c.Activate(ctx, apiActivateRequest(k, inv))
}

func cmid(i int) string { return fmt.Sprintf("6f9619ff-8b86-4011-b42d-%012d", i) }
