package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oemact/oemact/firmware/productkey"
	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/hwid"
	"github.com/oemact/oemact/oemact/service/rules"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var ctx = context.Background()

func inv(tag string) hwid.Inventory {
	var i hwid.Inventory
	for _, c := range hwid.Classes {
		i.Add(c, tag+"-"+string(c))
	}
	return i.Redacted()
}

func open(t *testing.T, path string, version int) *Store {
	t.Helper()
	s, err := Open(ctx, Options{Path: path, targetVersion: version})
	require.NoError(t, err)
	return s
}

func addMAK(t *testing.T, s *Store, label string, limit int) Key {
	ed, err := edition.Lookup("win7-enterprise")
	require.NoError(t, err)
	h, id := s.KeyHash(productkey.Derive(label))
	k := Key{ID: id, Channel: edition.VolumeMAK, Edition: ed, MAKLimit: limit, Source: "test"}
	require.NoError(t, s.Do(ctx, func(tx *Tx) error { return tx.AddKey(h, k) }))
	return k
}

func TestMigrateFromEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s := open(t, path, 0)
	assert.Equal(t, SchemaVersion(), s.Version())
	require.NoError(t, s.Close())
	d, err := Dump(ctx, path)
	require.NoError(t, err)
	for _, m := range migrations {
		assert.Contains(t, d, fmt.Sprintf("%d|%s\n", m.version, m.name))
	}
	// Opening again changes nothing.
	s = open(t, path, 0)
	require.NoError(t, s.Close())
	d2, err := Dump(ctx, path)
	require.NoError(t, err)
	assert.Equal(t, d, d2)
}

// A database left at each earlier version, with rows that version can hold, migrates to the
// current one with its rows intact.
func TestMigrateFromEachVersion(t *testing.T) {
	for v := 1; v < SchemaVersion(); v++ {
		t.Run(fmt.Sprint("v", v), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.db")
			old := open(t, path, v)
			require.Equal(t, v, old.Version())
			h, id := old.KeyHash(productkey.Derive("mak/old"))
			hw, err := encodeHardware(inv("old"))
			require.NoError(t, err)
			_, err = old.conn.ExecContext(ctx, `INSERT INTO keys(key_id, key_hmac, channel, edition, mak_limit, mak_used, source, added_at)
				VALUES (?, ?, 'Volume:MAK', 'win7-enterprise', 3, 1, 'test', 0)`, id, h[:])
			require.NoError(t, err)
			_, err = old.conn.ExecContext(ctx, `INSERT INTO bindings(id, key_id, hardware, via, created_at, updated_at) VALUES (1, ?, ?, 'online', 0, 0)`, id, hw)
			require.NoError(t, err)
			if v >= 2 {
				_, err = old.conn.ExecContext(ctx, `INSERT INTO kms_clients(cmid, last_seen) VALUES ('6f9619ff-8b86-4011-b42d-000000000001', 5)`)
				require.NoError(t, err)
			}
			require.NoError(t, old.Close())

			s := open(t, path, 0)
			defer s.Close()
			assert.Equal(t, SchemaVersion(), s.Version())
			require.NoError(t, s.Do(ctx, func(tx *Tx) error {
				k, ok := tx.KeyByHash(h)
				require.True(t, ok)
				assert.Equal(t, 1, k.MAKUsed)
				c := tx.Candidates(id, inv("old"), hwid.VotePolicy)
				require.Len(t, c, 1)
				assert.Equal(t, int64(1), c[0].ID)
				assert.Equal(t, v >= 2, len(tx.KMSClients()) == 1)
				// The tables of the later versions work.
				tx.Count(Outcome{Kind: "online", Channel: "Volume:MAK", Edition: "win7-enterprise", Result: "activated"})
				return tx.PutBatch("b1", []byte{1}, []byte(`{}`))
			}))
		})
	}
}

// Version 3's nanosecond times become seconds and nanoseconds, exactly, whatever their sign.
func TestMigrationKeepsKMSTimes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	old := open(t, path, 3)
	want := map[string]time.Time{}
	for i, ns := range []int64{5, 1700000000123456789, -1, -1000000000, 9223372036854775807} {
		cmid := fmt.Sprintf("6f9619ff-8b86-4011-b42d-%012d", i)
		_, err := old.conn.ExecContext(ctx, `INSERT INTO kms_clients(cmid, last_seen) VALUES (?, ?)`, cmid, ns)
		require.NoError(t, err)
		want[cmid] = time.Unix(0, ns).UTC()
	}
	require.NoError(t, old.Close())
	s := open(t, path, 0)
	defer s.Close()
	require.NoError(t, s.Do(ctx, func(tx *Tx) error {
		got := tx.KMSClients()
		require.Len(t, got, len(want))
		for _, c := range got {
			assert.True(t, want[c.CMID].Equal(c.LastSeen), "%s: %s, want %s", c.CMID, c.LastSeen, want[c.CMID])
		}
		return nil
	}))
}

// A KMS client's time after 2262 and the store's own clock after 2262 come back from the file
// as they were written.
func TestTimesAfter2262(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	now := time.Date(2400, 2, 29, 1, 2, 3, 0, time.UTC)
	s, err := Open(ctx, Options{Path: path, Now: func() time.Time { return now }})
	require.NoError(t, err)
	k := addMAK(t, s, "mak/far", 3)
	at := time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
	require.NoError(t, s.Do(ctx, func(tx *Tx) error {
		tx.SetKMSClients([]rules.KMSClient{{CMID: "6f9619ff-8b86-4011-b42d-000000000001", LastSeen: at}})
		_, err := tx.Bind(k.ID, inv("far"), rules.Online)
		return err
	}))
	require.NoError(t, s.Close())
	d, err := Dump(ctx, path)
	require.NoError(t, err)
	assert.Contains(t, d, fmt.Sprintf("|%d|%d\n", now.Unix(), now.Unix()), "binding stamps in seconds")
	s = open(t, path, 0)
	defer s.Close()
	require.NoError(t, s.Do(ctx, func(tx *Tx) error {
		c := tx.KMSClients()
		require.Len(t, c, 1)
		assert.True(t, at.Equal(c[0].LastSeen), "%s", c[0].LastSeen)
		return nil
	}))
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s := open(t, path, 0)
	_, err := s.conn.ExecContext(ctx, `INSERT INTO schema_versions(version, name, applied_at) VALUES (99, 'future', '')`)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, err = Open(ctx, Options{Path: path})
	assert.ErrorContains(t, err, "schema version 99, newer than this build's")
}

func TestSecret(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.db")
	s := open(t, path, 0)
	addMAK(t, s, "k", 1)
	require.NoError(t, s.Close())
	st, err := os.Stat(SecretPath(path))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	require.NoError(t, os.Chmod(SecretPath(path), 0o644))
	_, err = Open(ctx, Options{Path: path})
	assert.ErrorContains(t, err, "readable by others")
	require.NoError(t, os.Chmod(SecretPath(path), 0o600))

	// Another database's secret is refused.
	other := filepath.Join(dir, "o.db")
	open(t, other, 0).Close()
	b, err := os.ReadFile(SecretPath(other))
	require.NoError(t, err)
	good, err := os.ReadFile(SecretPath(path))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(SecretPath(path), b, 0o600))
	_, err = Open(ctx, Options{Path: path})
	assert.ErrorContains(t, err, "does not belong to the database")

	// A database without its secret is refused, and no new secret is made for it.
	require.NoError(t, os.Remove(SecretPath(path)))
	_, err = Open(ctx, Options{Path: path})
	assert.ErrorContains(t, err, "exists but its secret")
	_, err = os.Stat(SecretPath(path))
	assert.True(t, errors.Is(err, os.ErrNotExist))
	require.NoError(t, os.WriteFile(SecretPath(path), good, 0o600))
	open(t, path, 0).Close()
}

// Decisions queued while the writer is busy go into one transaction; one that fails is undone
// alone; later decisions in the batch see the earlier ones' changes.
func TestGroupCommit(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "s.db"), 0)
	defer s.Close()
	k := addMAK(t, s, "pool", 60)

	hold, held := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.Do(ctx, func(tx *Tx) error { close(held); <-hold; return nil }) // keeps the writer busy
	}()
	<-held
	commits := s.Commits()
	errs := make([]error, 100)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = s.Do(ctx, func(tx *Tx) error {
				used, _ := tx.KeyByID(k.ID)
				if used.MAKUsed >= used.MAKLimit {
					return errors.New("pool full")
				}
				if _, err := tx.Bind(k.ID, inv(fmt.Sprint("m", i)), rules.Online); err != nil {
					return err
				}
				tx.Count(Outcome{Kind: "online", Result: "activated"})
				if i%10 == 0 {
					return errors.New("fails after writing") // undone
				}
				return nil
			})
		}(i)
	}
	for len(s.queue) != 100 {
		time.Sleep(time.Millisecond)
	}
	close(hold)
	wg.Wait()
	assert.LessOrEqual(t, s.Commits()-commits, int64(2), "100 queued decisions, one or two transactions")
	var ok, full, failed int
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case err.Error() == "pool full":
			full++
		default:
			failed++
		}
	}
	assert.Equal(t, 60, ok)
	assert.Equal(t, 40, full+failed)
	assert.LessOrEqual(t, failed, 10)
	require.NoError(t, s.Do(ctx, func(tx *Tx) error {
		got, _ := tx.KeyByID(k.ID)
		assert.Equal(t, 60, got.MAKUsed)
		assert.EqualValues(t, 60, tx.Outcomes()[Outcome{Kind: "online", Result: "activated"}])
		return nil
	}))
	d, err := Dump(ctx, s.Path())
	require.NoError(t, err)
	assert.Equal(t, 60, strings.Count(d, "|"+k.ID+"|"))
	assert.Contains(t, d, "online|||activated|60\n")
}

// When the commit fails, no decision of the batch is acknowledged, the memory copy is rolled
// back, and the store takes no more decisions.
func TestCommitFailureAcknowledgesNothing(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "s.db"), 0)
	defer s.Close()
	k := addMAK(t, s, "pool", 10)
	require.NoError(t, s.Do(ctx, func(tx *Tx) error {
		_, err := tx.Bind(k.ID, inv("a"), rules.Online)
		return err
	}))
	// Run on the writer's connection, between batches: a trigger that fails every new binding.
	require.NoError(t, s.Do(ctx, func(tx *Tx) error {
		_, err := s.conn.ExecContext(ctx, `CREATE TRIGGER fail BEFORE INSERT ON bindings BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`)
		return err
	}))
	before, err := Dump(ctx, s.Path())
	require.NoError(t, err)
	err = s.Do(ctx, func(tx *Tx) error {
		_, err := tx.Bind(k.ID, inv("b"), rules.Online)
		return err
	})
	require.ErrorIs(t, err, ErrNotDurable)
	assert.ErrorContains(t, err, "disk on fire")
	err = s.Do(ctx, func(tx *Tx) error {
		got, _ := tx.KeyByID(k.ID)
		assert.Equal(t, 1, got.MAKUsed, "memory rolled back")
		return nil
	})
	require.ErrorIs(t, err, ErrNotDurable, "the store stops after a failed commit")
	after, err := Dump(ctx, s.Path())
	require.NoError(t, err)
	assert.Equal(t, before, after)
}

func TestDoAfterClose(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "s.db"), 0)
	require.NoError(t, s.Close())
	assert.ErrorIs(t, s.Do(ctx, func(*Tx) error { return nil }), ErrClosed)
}

func TestHardwareEncoding(t *testing.T) {
	in := inv("x")
	in.Dockable = true
	in.Components = append(in.Components, hwid.Component{Class: hwid.NIC, Digest: "abc"})
	b, err := encodeHardware(in)
	require.NoError(t, err)
	out, err := decodeHardware(b)
	require.NoError(t, err)
	assert.Equal(t, in, out)
	for _, bad := range [][]byte{nil, {2, 0, 0}, {1, 0, 1}, {1, 0, 1, 99, 0}, {1, 0, 1, 0, 5, 'a'}, append(b, 0)} {
		_, err := decodeHardware(bad)
		assert.Error(t, err, "%x", bad)
	}
	_, err = encodeHardware(hwid.Inventory{Components: []hwid.Component{{Class: "gpu", Digest: "1"}}})
	assert.Error(t, err)
}

func FuzzDecodeHardware(f *testing.F) {
	b, _ := encodeHardware(inv("seed"))
	f.Add(b)
	f.Add([]byte{1, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := decodeHardware(b)
		if err != nil {
			return
		}
		again, err := encodeHardware(in)
		if err != nil {
			t.Fatalf("re-encoding: %v", err)
		}
		in2, err := decodeHardware(again)
		if err != nil || len(in2.Components) != len(in.Components) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// fleet is a machine of a fleet of identical VMs: only the NIC, disk and system differ.
func fleet(i int) hwid.Inventory {
	var inv hwid.Inventory
	inv.Add(hwid.NIC, fmt.Sprintf("52:54:00:00:%02x:%02x", i/256, i%256))
	inv.Add(hwid.Disk, fmt.Sprint("disk-", i))
	inv.Add(hwid.System, fmt.Sprint("uuid-", i))
	inv.Add(hwid.Memory, hwid.MemoryRange(4<<20))
	inv.Add(hwid.CPU, "QEMU Virtual CPU x2")
	inv.Add(hwid.Display, "1234:1111")
	inv.Add(hwid.StorageController, "1af4:1001")
	inv.Add(hwid.BIOS, "SeaBIOS 1.16")
	return inv.Redacted()
}

// The candidates of a MAK activation skip the digests every machine of a fleet shares, yet never
// miss a binding the machine is in tolerance of.
func TestCandidatesPruneSharedDigests(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "s.db"), 0)
	defer s.Close()
	k := addMAK(t, s, "fleet", 1000)
	require.NoError(t, s.Do(ctx, func(tx *Tx) error {
		for i := 0; i < 200; i++ {
			if _, err := tx.Bind(k.ID, fleet(i), rules.Online); err != nil {
				return err
			}
		}
		return nil
	}))
	p := hwid.VotePolicy
	require.NoError(t, s.Do(ctx, func(tx *Tx) error {
		for i := 0; i < 200; i += 7 {
			// A disk swap keeps 9 of 10 votes: the machine's own binding must be a candidate.
			cur := fleet(i)
			cur.Components[1] = hwid.Component{Class: hwid.Disk, Digest: hwid.Digest(hwid.Disk, "new disk")}
			c := tx.Candidates(k.ID, cur, p)
			assert.LessOrEqual(t, len(c), 3, "machine %d: %d candidates", i, len(c))
			found := false
			for _, b := range c {
				if b.ID == int64(i+1) {
					found = true
				}
				assert.True(t, rules.Compare(p, b.Hardware, cur).InTolerance || b.ID != int64(i+1))
			}
			assert.True(t, found, "machine %d's binding is not a candidate", i)
			// Against every binding, none outside the candidates is in tolerance.
			in := map[int64]bool{}
			for _, b := range c {
				in[b.ID] = true
			}
			for j := 0; j < 200; j++ {
				b := tx.st.bindings[int64(j+1)]
				if rules.Compare(p, b.hw, cur).InTolerance {
					assert.True(t, in[b.id], "machine %d is in tolerance of binding %d, not a candidate", i, b.id)
				}
			}
		}
		// An inventory so sparse that a match needs no shared digest gets every binding.
		var sparse hwid.Inventory
		sparse.Add(hwid.NIC, "lonely")
		assert.Len(t, tx.Candidates(k.ID, sparse.Redacted(), p), 200)
		return nil
	}))
}
