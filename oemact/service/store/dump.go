package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
)

// Dump returns every row of every table of the database at path, as text in a stable order, read
// through a separate read-only connection. Tests compare dumps to prove a request wrote nothing.
func Dump(ctx context.Context, path string) (string, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return "", err
	}
	defer db.Close()
	var b strings.Builder
	for _, q := range []string{
		"SELECT version, name FROM schema_versions ORDER BY version",
		"SELECT name, value FROM meta ORDER BY name",
		"SELECT key_id, key_hmac, channel, edition, oem_id, mak_limit, mak_used, blocked, online_moves, source, added_at FROM keys ORDER BY key_id",
		"SELECT id, key_id, hardware, via, created_at, updated_at FROM bindings ORDER BY id",
		"SELECT cmid, last_seen_unix, last_seen_nsec FROM kms_clients ORDER BY cmid",
		"SELECT kind, channel, edition, result, n FROM outcomes ORDER BY kind, channel, edition, result",
		"SELECT batch_id, content_mac, response, created_at FROM batches ORDER BY batch_id",
	} {
		fmt.Fprintf(&b, "-- %s\n", q)
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			return "", err
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return "", err
			}
			for i, v := range vals {
				if i > 0 {
					b.WriteByte('|')
				}
				if bs, ok := v.([]byte); ok {
					b.WriteString(hex.EncodeToString(bs))
				} else {
					fmt.Fprint(&b, v)
				}
			}
			b.WriteByte('\n')
		}
		if err := closeRows(rows); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}
