// Package store is the durable state of oemact's emulated activation service: catalog keys (as
// keyed hashes only), hardware bindings, MAK pools, the KMS host's clients, outcome counts and
// proxy batches, in SQLite (modernc.org/sqlite, WAL, synchronous=FULL, versioned migrations).
//
// One writer goroutine owns the state. Callers hand it decisions (Do); it takes every decision
// waiting, up to a cap, runs them one after the other against an in-memory copy of the state (so
// each sees what the previous ones wrote), writes their changes in ONE transaction, commits, and
// only then answers each caller: group commit. A decision that fails is rolled back alone. It
// decides nothing itself: the rules are in oemact/service/rules.
package store

import (
	"context"
	"crypto/hmac"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oemact/oemact/firmware/productkey"
	"github.com/oemact/oemact/oemact/edition"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"
)

// Options configure Open.
type Options struct {
	// Path is the database file; its HMAC secret lives beside it (SecretPath).
	Path string
	// MaxBatch caps how many decisions one transaction holds (default 1024).
	MaxBatch int
	// QueueLen is how many decisions may wait for the writer (default 4096).
	QueueLen int
	// Linger is how long, at most, the writer waits for more decisions when the previous
	// transaction held several (default 200µs; negative: never). It trades a little latency under
	// load for fewer commits; a lone decision never waits.
	Linger time.Duration
	// Now stamps rows (created_at); default time.Now.
	Now func() time.Time

	// targetVersion stops migrations early: tests build old databases with it.
	targetVersion int
}

// ErrClosed is returned by Do after Close.
var ErrClosed = errors.New("store: closed")

// ErrNotDurable wraps a failed commit: the decision was not written and must not be acknowledged.
var ErrNotDurable = errors.New("store: commit failed, nothing written")

// Store is an open database. Its methods are safe for concurrent use.
type Store struct {
	path   string
	db     *sql.DB
	conn   *sql.Conn
	secret []byte
	now    func() time.Time
	max    int

	linger time.Duration
	st     *state // owned by the writer goroutine
	stmts  statements
	queue  chan *op
	mu     sync.RWMutex // guards closed against sends on queue
	closed bool
	done   chan struct{}

	version    int
	broken     atomic.Pointer[error]
	commits    atomic.Int64
	ops        atomic.Int64
	flushNanos atomic.Int64
}

// Open opens or creates the database at opts.Path, creating its HMAC secret on first start,
// migrates it to the current schema, loads the state and starts the writer.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Path == "" {
		return nil, errors.New("store: no database path")
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 1024
	}
	if opts.QueueLen <= 0 {
		opts.QueueLen = 4096
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Linger == 0 {
		opts.Linger = 200 * time.Microsecond
	}
	if opts.targetVersion == 0 {
		opts.targetVersion = SchemaVersion()
	}
	abs, err := filepath.Abs(opts.Path)
	if err != nil {
		return nil, err
	}
	_, statErr := os.Stat(abs)
	fresh := errors.Is(statErr, os.ErrNotExist)
	secret, created, err := loadSecret(SecretPath(abs), fresh)
	if err != nil {
		if !fresh && errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: the database %s exists but its secret %s does not; keys cannot be matched without it (restore it, or start on a new database)", err, abs, SecretPath(abs))
		}
		return nil, err
	}
	// WAL with synchronous=FULL: a commit returns only after the WAL is on disk. busy_timeout
	// covers an outside reader (a test's dump) holding a lock for a moment.
	dsn := "file:" + abs + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(ON)&_pragma=busy_timeout(5000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", abs, err)
	}
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("opening %s: %w", abs, err)
	}
	s := &Store{path: abs, db: db, conn: conn, secret: secret, now: opts.Now, max: opts.MaxBatch, linger: opts.Linger,
		queue: make(chan *op, opts.QueueLen), done: make(chan struct{})}
	fail := func(err error) (*Store, error) {
		conn.Close()
		db.Close()
		return nil, err
	}
	var mode string
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		return fail(fmt.Errorf("%s: journal mode %q, want wal (%v)", abs, mode, err))
	}
	if s.version, err = migrate(ctx, conn, opts.targetVersion, opts.Now()); err != nil {
		return fail(fmt.Errorf("%s: %w", abs, err))
	}
	if err := s.checkSecret(ctx, created); err != nil {
		return fail(err)
	}
	if s.version < SchemaVersion() {
		// An old schema is only opened by tests that then migrate it; it gets no writer.
		close(s.done)
		return s, nil
	}
	if err := s.prepare(ctx); err != nil {
		return fail(err)
	}
	if s.st, err = load(ctx, conn); err != nil {
		return fail(fmt.Errorf("%s: loading state: %w", abs, err))
	}
	go s.writer()
	return s, nil
}

// checkSecret records a digest of the secret on first use and compares it afterwards, so a
// database opened with another database's secret is refused instead of matching no key.
func (s *Store) checkSecret(ctx context.Context, created bool) error {
	want := mac(s.secret, "oemact secret check v1", nil)
	var got []byte
	err := s.conn.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = 'secret_check'`).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		var keys int
		if err := s.conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM keys`).Scan(&keys); err != nil {
			return err
		}
		if keys > 0 && created {
			return fmt.Errorf("%s holds keys but its secret was just created: restore %s", s.path, SecretPath(s.path))
		}
		_, err = s.conn.ExecContext(ctx, `INSERT INTO meta(name, value) VALUES ('secret_check', ?)`, want)
		return err
	}
	if err != nil {
		return err
	}
	if !hmac.Equal(got, want) {
		return fmt.Errorf("the HMAC secret %s does not belong to the database %s: restore the right one", SecretPath(s.path), s.path)
	}
	return nil
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Version is the schema version of the open database.
func (s *Store) Version() int { return s.version }

// Secret is the HMAC secret (for confirmation IDs).
func (s *Store) Secret() []byte { return s.secret }

// MAC is an HMAC-SHA256 of data under label with the store's secret.
func (s *Store) MAC(label string, data []byte) []byte { return mac(s.secret, label, data) }

// KeyHash returns the keyed hash of a product key and the key ID derived from it.
func (s *Store) KeyHash(k productkey.Key) ([32]byte, string) {
	var h [32]byte
	copy(h[:], mac(s.secret, "oemact key v1", []byte(k.Reveal())))
	return h, hex.EncodeToString(h[:8])
}

// Commits and Ops count transactions committed and decisions taken since Open: their ratio is
// the group commit's average batch.
func (s *Store) Commits() int64 { return s.commits.Load() }
func (s *Store) Ops() int64     { return s.ops.Load() }

// FlushTime is the total time spent writing and committing batches since Open.
func (s *Store) FlushTime() time.Duration { return time.Duration(s.flushNanos.Load()) }

// Close stops taking decisions, lets the writer finish every decision already queued (they commit
// and are answered), and closes the database.
func (s *Store) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		if s.st != nil {
			close(s.queue)
		}
	}
	s.mu.Unlock()
	<-s.done
	s.stmts.close()
	err := s.conn.Close()
	if e := s.db.Close(); err == nil {
		err = e
	}
	return err
}

// Key is a catalog key as the store knows it: never the key itself.
type Key struct {
	ID          string
	Channel     edition.Channel
	Edition     edition.Edition
	OEMID       string
	MAKLimit    int
	MAKUsed     int
	Blocked     bool
	OnlineMoves int
	Source      string
}
