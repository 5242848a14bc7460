package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// migration is one step of the schema. Steps run in order, each in its own transaction with its
// row in schema_versions, so a database is always at exactly one version.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations is the schema's history. Never edit a released step: add one.
var migrations = []migration{
	{1, "keys and bindings", `
CREATE TABLE meta (
	name  TEXT PRIMARY KEY,
	value BLOB NOT NULL
) STRICT;
-- A catalog key, known only by its keyed hash: HMAC-SHA256(secret, "oemact key v1" NUL key).
-- key_id is the first 8 bytes of that hash in hex: the name statistics use.
CREATE TABLE keys (
	key_id       TEXT PRIMARY KEY,
	key_hmac     BLOB NOT NULL UNIQUE,
	channel      TEXT NOT NULL,
	edition      TEXT NOT NULL,
	oem_id       TEXT NOT NULL DEFAULT '',
	mak_limit    INTEGER NOT NULL DEFAULT 0 CHECK (mak_limit >= 0),
	mak_used     INTEGER NOT NULL DEFAULT 0 CHECK (mak_used >= 0 AND (channel <> 'Volume:MAK' OR mak_used <= mak_limit)),
	blocked      INTEGER NOT NULL DEFAULT 0,
	online_moves INTEGER NOT NULL DEFAULT 0,
	source       TEXT NOT NULL,
	added_at     INTEGER NOT NULL
) STRICT;
-- A key bound to hardware (component digests only, see encodeHardware). No index on key_id:
-- the service reads bindings once at start and keeps them indexed in memory; an index here would
-- cost a page write in every commit.
CREATE TABLE bindings (
	id         INTEGER PRIMARY KEY,
	key_id     TEXT NOT NULL REFERENCES keys(key_id),
	hardware   BLOB NOT NULL,
	via        TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;
`},
	{2, "KMS host clients", `
CREATE TABLE kms_clients (
	cmid      TEXT PRIMARY KEY,
	last_seen INTEGER NOT NULL
) STRICT;
`},
	{3, "outcome counts and proxy batches", `
CREATE TABLE outcomes (
	kind    TEXT NOT NULL,
	channel TEXT NOT NULL,
	edition TEXT NOT NULL,
	result  TEXT NOT NULL,
	n       INTEGER NOT NULL CHECK (n >= 0),
	PRIMARY KEY (kind, channel, edition, result)
) STRICT;
-- A MAK proxy batch's stored answer; content_mac is an HMAC of the request, so a replay is
-- recognised without keeping installation IDs (which carry the key).
CREATE TABLE batches (
	batch_id    TEXT PRIMARY KEY,
	content_mac BLOB NOT NULL,
	response    BLOB NOT NULL,
	created_at  INTEGER NOT NULL
) STRICT;
`},
	{4, "times in seconds", `
-- Version 3 kept times as nanoseconds since 1970 in an int64, which ends in April 2262; a KMS
-- client whose last request was later came back from a restart at another time. A KMS client's
-- last request is now seconds and nanoseconds since 1970 (good to the year 9999 and beyond),
-- other stamps seconds. Floor division: SQLite's % keeps the dividend's sign.
CREATE TABLE kms_clients_v4 (
	cmid           TEXT PRIMARY KEY,
	last_seen_unix INTEGER NOT NULL,
	last_seen_nsec INTEGER NOT NULL CHECK (last_seen_nsec BETWEEN 0 AND 999999999)
) STRICT;
INSERT INTO kms_clients_v4(cmid, last_seen_unix, last_seen_nsec)
	SELECT cmid, (last_seen - ((last_seen % 1000000000) + 1000000000) % 1000000000) / 1000000000,
		((last_seen % 1000000000) + 1000000000) % 1000000000 FROM kms_clients;
DROP TABLE kms_clients;
ALTER TABLE kms_clients_v4 RENAME TO kms_clients;
UPDATE keys SET added_at = (added_at - ((added_at % 1000000000) + 1000000000) % 1000000000) / 1000000000;
UPDATE bindings SET
	created_at = (created_at - ((created_at % 1000000000) + 1000000000) % 1000000000) / 1000000000,
	updated_at = (updated_at - ((updated_at % 1000000000) + 1000000000) % 1000000000) / 1000000000;
UPDATE batches SET created_at = (created_at - ((created_at % 1000000000) + 1000000000) % 1000000000) / 1000000000;
`},
}

// SchemaVersion is the version this build writes.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

// migrate brings the database from its version to target (SchemaVersion in normal use; tests stop
// earlier to build old databases).
func migrate(ctx context.Context, db *sql.Conn, target int, now time.Time) (int, error) {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_versions (
	version    INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at TEXT NOT NULL
) STRICT`); err != nil {
		return 0, fmt.Errorf("schema_versions: %w", err)
	}
	var cur int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_versions`).Scan(&cur); err != nil {
		return 0, fmt.Errorf("reading the schema version: %w", err)
	}
	if cur > SchemaVersion() {
		return cur, fmt.Errorf("the database is at schema version %d, newer than this build's %d: use a newer oemact", cur, SchemaVersion())
	}
	for _, m := range migrations {
		if m.version <= cur || m.version > target {
			continue
		}
		if err := func() error {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_versions(version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, now.UTC().Format(time.RFC3339)); err != nil {
				return err
			}
			return tx.Commit()
		}(); err != nil {
			return cur, fmt.Errorf("schema migration %d (%s): %w", m.version, m.name, err)
		}
		cur = m.version
	}
	return cur, nil
}
