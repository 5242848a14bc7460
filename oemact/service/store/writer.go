package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/hwid"
	"github.com/oemact/oemact/oemact/service/rules"
)

// op is one decision waiting for the writer.
type op struct {
	fn    func(*Tx) error
	err   error
	done  chan error
	state atomic.Int32 // opQueued, opTaken or opAbandoned
}

const (
	opQueued int32 = iota
	opTaken
	opAbandoned
)

// Do runs fn as one decision. fn reads and changes the state through tx, inside the writer
// goroutine, after every decision queued before it; if fn returns an error, its changes are
// undone and the error is returned (after the batch's commit, like every answer). Do returns nil
// only once fn's changes are committed to disk. If ctx ends before the writer takes the decision,
// the decision is dropped and ctx's error returned; once taken, Do waits for the commit.
// fn must not keep tx, block, or call Do.
func (s *Store) Do(ctx context.Context, fn func(tx *Tx) error) error {
	o := &op{fn: fn, done: make(chan error, 1)}
	s.mu.RLock()
	if s.closed || s.st == nil {
		s.mu.RUnlock()
		return ErrClosed
	}
	select {
	case s.queue <- o:
		s.mu.RUnlock()
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case err := <-o.done:
		return err
	case <-ctx.Done():
		if o.state.CompareAndSwap(opQueued, opAbandoned) {
			return ctx.Err()
		}
		return <-o.done
	}
}

func (s *Store) writer() {
	defer close(s.done)
	tx := &Tx{s: s, st: s.st}
	batch := make([]*op, 0, s.max)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	last := 0
	for first := range s.queue {
		batch = append(batch[:0], first)
	drain:
		for len(batch) < s.max {
			select {
			case o, ok := <-s.queue:
				if !ok {
					break drain
				}
				batch = append(batch, o)
			default:
				break drain
			}
		}
		// Under concurrency (the last batch had company) wait a moment, at most s.linger, for
		// as many decisions as last time: one commit then carries more of them, and its fsync and
		// page writes cost less CPU per decision. Alone, a decision never waits.
		if last > 1 && s.linger > 0 && len(batch) < last && len(batch) < s.max {
			timer.Reset(s.linger)
		linger:
			for len(batch) < last && len(batch) < s.max {
				select {
				case o, ok := <-s.queue:
					if !ok {
						break linger
					}
					batch = append(batch, o)
				case <-timer.C:
					break linger
				}
			}
			timer.Stop()
		}
		last = len(batch)
		s.group(tx, batch)
	}
}

// group runs a batch of decisions in one transaction.
func (s *Store) group(tx *Tx, batch []*op) {
	tx.reset(s.now())
	live := batch[:0]
	for _, o := range batch {
		if !o.state.CompareAndSwap(opQueued, opTaken) {
			continue
		}
		o.err = tx.Savepoint(func() error { return safely(o.fn, tx) })
		live = append(live, o)
	}
	s.ops.Add(int64(len(live)))
	if broken := s.broken.Load(); broken != nil {
		tx.rollbackAll()
		for _, o := range live {
			o.done <- *broken
		}
		return
	}
	start := time.Now()
	err := s.flush(tx)
	s.flushNanos.Add(int64(time.Since(start)))
	if err != nil {
		tx.rollbackAll()
		err = fmt.Errorf("%w: %v; the service takes no more decisions until it is restarted", ErrNotDurable, err)
		// After a failed commit the file's state is not known for sure: stop deciding from a
		// memory copy that may disagree with it. A restart reloads from the file.
		s.broken.Store(&err)
		for _, o := range live {
			o.done <- err
		}
		return
	}
	for _, o := range live {
		o.done <- o.err
	}
}

func safely(fn func(*Tx) error, tx *Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store: decision panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return fn(tx)
}

// Tx is the writer's view of the state while it runs one batch. Only decision functions given
// to Do use it, and only while they run.
type Tx struct {
	s    *Store
	st   *state
	now  int64 // seconds since 1970, the stamp of the rows the batch writes
	undo []func()

	dirtyKeys     map[string]struct{}
	dirtyBindings map[int64]struct{}
	dirtyKMS      map[string]struct{}
	dirtyOutcomes map[Outcome]struct{}
	batches       map[string]*batchRec
	batchOrder    []string
}

type batchRec struct {
	mac, response []byte
}

func (tx *Tx) reset(now time.Time) {
	tx.now = now.Unix() // seconds: nanoseconds in an int64 end in 2262
	tx.undo = tx.undo[:0]
	tx.dirtyKeys = map[string]struct{}{}
	tx.dirtyBindings = map[int64]struct{}{}
	tx.dirtyKMS = map[string]struct{}{}
	tx.dirtyOutcomes = map[Outcome]struct{}{}
	tx.batches = map[string]*batchRec{}
	tx.batchOrder = tx.batchOrder[:0]
}

// Savepoint runs fn; if it fails, every change it made is undone and its error returned.
func (tx *Tx) Savepoint(fn func() error) error {
	mark := len(tx.undo)
	err := fn()
	if err != nil {
		tx.rollbackTo(mark)
	}
	return err
}

func (tx *Tx) rollbackTo(mark int) {
	for i := len(tx.undo) - 1; i >= mark; i-- {
		tx.undo[i]()
	}
	tx.undo = tx.undo[:mark]
}

func (tx *Tx) rollbackAll() { tx.rollbackTo(0) }

func (tx *Tx) onUndo(f func()) { tx.undo = append(tx.undo, f) }

// KeyByHash finds a key by its keyed hash (Store.KeyHash).
func (tx *Tx) KeyByHash(h [32]byte) (Key, bool) {
	k := tx.st.byHash[h]
	if k == nil {
		return Key{}, false
	}
	return k.Key, true
}

// KeyByID finds a key by its ID.
func (tx *Tx) KeyByID(id string) (Key, bool) {
	k := tx.st.byID[id]
	if k == nil {
		return Key{}, false
	}
	return k.Key, true
}

// Keys lists every key, by ID.
func (tx *Tx) Keys() []Key {
	out := make([]Key, 0, len(tx.st.byID))
	for _, k := range tx.st.byID {
		out = append(out, k.Key)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Candidates returns the key's bindings that current may be in tolerance of (see
// rules.Activate).
func (tx *Tx) Candidates(keyID string, current hwid.Inventory, p hwid.Policy) []rules.Binding {
	k := tx.st.byID[keyID]
	if k == nil {
		return nil
	}
	return tx.st.candidates(k, current, p)
}

// Bind binds a key to hardware; for a MAK key it uses one activation of the pool, and fails if
// the pool is used up (the rules should have refused first).
func (tx *Tx) Bind(keyID string, hw hwid.Inventory, via rules.Via) (int64, error) {
	k := tx.st.byID[keyID]
	if k == nil {
		return 0, fmt.Errorf("store: bind: no key %s", keyID)
	}
	if err := checkHardware(hw); err != nil {
		return 0, fmt.Errorf("store: bind: %w", err)
	}
	if k.Channel == edition.VolumeMAK {
		if k.MAKUsed >= k.MAKLimit {
			return 0, fmt.Errorf("store: bind: MAK %s pool of %d is used up", k.ID, k.MAKLimit)
		}
		k.MAKUsed++
		tx.dirtyKeys[k.ID] = struct{}{}
	}
	// The binding keeps hw: callers hand it over and only read it afterwards.
	b := &bindingRec{id: tx.st.nextID, keyID: keyID, hw: hw, via: string(via), created: tx.now, updated: tx.now}
	b.imprecise = !rules.Precise(b.hw)
	tx.st.nextID++
	tx.st.bindings[b.id] = b
	k.bindings = append(k.bindings, b.id)
	tx.st.index(k, b, true)
	tx.dirtyBindings[b.id] = struct{}{}
	tx.onUndo(func() {
		tx.st.index(k, b, false)
		k.bindings = k.bindings[:len(k.bindings)-1]
		delete(tx.st.bindings, b.id)
		if k.Channel == edition.VolumeMAK {
			k.MAKUsed--
		}
	})
	return b.id, nil
}

// Rebind replaces a binding's hardware (a reactivation on changed hardware, or a move).
func (tx *Tx) Rebind(id int64, hw hwid.Inventory, via rules.Via) error {
	b := tx.st.bindings[id]
	if b == nil {
		return fmt.Errorf("store: rebind: no binding %d", id)
	}
	if err := checkHardware(hw); err != nil {
		return fmt.Errorf("store: rebind: %w", err)
	}
	k := tx.st.byID[b.keyID]
	old := *b
	tx.st.index(k, b, false)
	b.hw, b.via, b.updated = hw, string(via), tx.now
	b.imprecise = !rules.Precise(b.hw)
	tx.st.index(k, b, true)
	tx.dirtyBindings[id] = struct{}{}
	tx.onUndo(func() {
		tx.st.index(k, b, false)
		*b = old
		tx.st.index(k, b, true)
	})
	return nil
}

// UseOnlineMove counts one online move of a retail key.
func (tx *Tx) UseOnlineMove(keyID string) {
	k := tx.st.byID[keyID]
	if k == nil {
		return
	}
	k.OnlineMoves++
	tx.dirtyKeys[keyID] = struct{}{}
	tx.onUndo(func() { k.OnlineMoves-- })
}

// KMSClients returns the KMS host's clients.
func (tx *Tx) KMSClients() []rules.KMSClient { return slices.Clone(tx.st.kms) }

// SetKMSClients replaces the KMS host's clients (rules.KMSDecision.Clients).
func (tx *Tx) SetKMSClients(clients []rules.KMSClient) {
	old := tx.st.kms
	prev := make(map[string]time.Time, len(old))
	for _, c := range old {
		prev[c.CMID] = c.LastSeen
	}
	for _, c := range clients {
		if t, ok := prev[c.CMID]; !ok || !t.Equal(c.LastSeen) {
			tx.dirtyKMS[c.CMID] = struct{}{}
		}
		delete(prev, c.CMID)
	}
	for cmid := range prev {
		tx.dirtyKMS[cmid] = struct{}{} // dropped
	}
	tx.st.kms = slices.Clone(clients)
	tx.onUndo(func() { tx.st.kms = old })
}

// Count adds one to an outcome's count.
func (tx *Tx) Count(o Outcome) {
	tx.st.outcomes[o]++
	tx.dirtyOutcomes[o] = struct{}{}
	tx.onUndo(func() {
		tx.st.outcomes[o]--
		if tx.st.outcomes[o] == 0 {
			delete(tx.st.outcomes, o)
		}
	})
}

// Outcomes returns every outcome count.
func (tx *Tx) Outcomes() map[Outcome]int64 {
	out := make(map[Outcome]int64, len(tx.st.outcomes))
	for o, n := range tx.st.outcomes {
		out[o] = n
	}
	return out
}

// Batch returns a proxy batch's stored content MAC and answer.
func (tx *Tx) Batch(id string) (contentMAC, response []byte, found bool, err error) {
	if b, ok := tx.batches[id]; ok {
		return b.mac, b.response, true, nil
	}
	err = tx.s.stmts.getBatch.QueryRow(id).Scan(&contentMAC, &response)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, false, nil
	}
	return contentMAC, response, err == nil, err
}

// PutBatch stores a proxy batch's answer.
func (tx *Tx) PutBatch(id string, contentMAC, response []byte) error {
	if _, _, found, err := tx.Batch(id); err != nil || found {
		if err == nil {
			err = fmt.Errorf("store: batch %q exists", id)
		}
		return err
	}
	tx.batches[id] = &batchRec{mac: slices.Clone(contentMAC), response: slices.Clone(response)}
	tx.batchOrder = append(tx.batchOrder, id)
	tx.onUndo(func() { delete(tx.batches, id) })
	return nil
}

// AddKey adds a key by its keyed hash. It fails if the key or its ID is present.
func (tx *Tx) AddKey(h [32]byte, k Key) error {
	if tx.st.byHash[h] != nil || tx.st.byID[k.ID] != nil {
		return fmt.Errorf("store: key %s exists", k.ID)
	}
	if k.MAKUsed != 0 || k.OnlineMoves != 0 {
		return errors.New("store: a new key has no activations")
	}
	rec := &keyRec{Key: k, hash: h}
	tx.st.addKey(rec)
	tx.dirtyKeys[k.ID] = struct{}{}
	tx.onUndo(func() {
		delete(tx.st.byHash, h)
		delete(tx.st.byID, k.ID)
	})
	return nil
}

// UpdateKey changes a key's MAK limit or blocked flag (nil leaves it). A MAK limit below the
// activations in use is refused.
func (tx *Tx) UpdateKey(id string, makLimit *int, blocked *bool) (Key, error) {
	k := tx.st.byID[id]
	if k == nil {
		return Key{}, fmt.Errorf("store: no key %s", id)
	}
	old := k.Key
	if makLimit != nil {
		if k.Channel != edition.VolumeMAK {
			return Key{}, fmt.Errorf("store: key %s is not a MAK", id)
		}
		if *makLimit < k.MAKUsed {
			return Key{}, fmt.Errorf("store: key %s uses %d activations, more than %d", id, k.MAKUsed, *makLimit)
		}
		k.MAKLimit = *makLimit
	}
	if blocked != nil {
		k.Blocked = *blocked
	}
	tx.dirtyKeys[id] = struct{}{}
	tx.onUndo(func() { k.Key = old })
	return k.Key, nil
}

// checkHardware checks what encodeHardware needs, without encoding.
func checkHardware(inv hwid.Inventory) error {
	if len(inv.Components) > 255 {
		return errors.New("more than 255 components")
	}
	for _, c := range inv.Components {
		if !slices.Contains(hwid.Classes, c.Class) {
			return fmt.Errorf("unknown component class %q", c.Class)
		}
		if len(c.Digest) > 64 {
			return fmt.Errorf("%s digest longer than 64", c.Class)
		}
	}
	return nil
}

// statements are prepared once on the writer's connection.
type statements struct {
	upsertKey, upsertBinding, upsertKMS, deleteKMS, upsertOutcome, insertBatch, getBatch *sql.Stmt
}

func (s *Store) prepare(ctx context.Context) error {
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&s.stmts.upsertKey, `INSERT INTO keys(key_id, key_hmac, channel, edition, oem_id, mak_limit, mak_used, blocked, online_moves, source, added_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT(key_id) DO UPDATE SET mak_limit = excluded.mak_limit, mak_used = excluded.mak_used,
				blocked = excluded.blocked, online_moves = excluded.online_moves`},
		{&s.stmts.upsertBinding, `INSERT INTO bindings(id, key_id, hardware, via, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT(id) DO UPDATE SET hardware = excluded.hardware, via = excluded.via, updated_at = excluded.updated_at`},
		{&s.stmts.upsertKMS, `INSERT INTO kms_clients(cmid, last_seen_unix, last_seen_nsec) VALUES (?, ?, ?)
			ON CONFLICT(cmid) DO UPDATE SET last_seen_unix = excluded.last_seen_unix, last_seen_nsec = excluded.last_seen_nsec`},
		{&s.stmts.deleteKMS, `DELETE FROM kms_clients WHERE cmid = ?`},
		{&s.stmts.upsertOutcome, `INSERT INTO outcomes(kind, channel, edition, result, n) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT(kind, channel, edition, result) DO UPDATE SET n = excluded.n`},
		{&s.stmts.insertBatch, `INSERT INTO batches(batch_id, content_mac, response, created_at) VALUES (?, ?, ?, ?)`},
		{&s.stmts.getBatch, `SELECT content_mac, response FROM batches WHERE batch_id = ?`},
	} {
		st, err := s.conn.PrepareContext(ctx, p.sql)
		if err != nil {
			return fmt.Errorf("preparing %q: %w", p.sql, err)
		}
		*p.dst = st
	}
	return nil
}

func (st *statements) close() {
	for _, s := range []*sql.Stmt{st.upsertKey, st.upsertBinding, st.upsertKMS, st.deleteKMS, st.upsertOutcome, st.insertBatch, st.getBatch} {
		if s != nil {
			s.Close()
		}
	}
}

// flush writes the batch's final state of everything it touched in one transaction and commits.
// Writing final states (not each change) makes a batch's rows the same whatever order its
// decisions wrote them in, and a rolled-back decision leaves nothing to write.
func (s *Store) flush(tx *Tx) error {
	if len(tx.dirtyKeys)+len(tx.dirtyBindings)+len(tx.dirtyKMS)+len(tx.dirtyOutcomes)+len(tx.batches) == 0 {
		return nil
	}
	ctx := context.Background()
	if _, err := s.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	if err := s.writeDirty(tx); err != nil {
		if _, rerr := s.conn.ExecContext(ctx, "ROLLBACK"); rerr != nil {
			err = fmt.Errorf("%v (and rollback: %v)", err, rerr)
		}
		return err
	}
	if _, err := s.conn.ExecContext(ctx, "COMMIT"); err != nil {
		s.conn.ExecContext(ctx, "ROLLBACK")
		return err
	}
	s.commits.Add(1)
	return nil
}

func (s *Store) writeDirty(tx *Tx) error {
	st := tx.st
	for id := range tx.dirtyKeys {
		k := st.byID[id]
		if k == nil {
			continue // added, then undone
		}
		if _, err := s.stmts.upsertKey.Exec(k.ID, k.hash[:], string(k.Channel), k.Edition.ID, k.OEMID, k.MAKLimit, k.MAKUsed,
			k.Blocked, k.OnlineMoves, k.Source, tx.now); err != nil {
			return fmt.Errorf("key %s: %w", k.ID, err)
		}
	}
	ids := make([]int64, 0, len(tx.dirtyBindings))
	for id := range tx.dirtyBindings {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		b := st.bindings[id]
		if b == nil {
			continue
		}
		hw, err := encodeHardware(b.hw)
		if err != nil {
			return err
		}
		if _, err := s.stmts.upsertBinding.Exec(b.id, b.keyID, hw, b.via, b.created, b.updated); err != nil {
			return fmt.Errorf("binding %d: %w", b.id, err)
		}
	}
	if len(tx.dirtyKMS) > 0 {
		cur := map[string]time.Time{}
		for _, c := range st.kms {
			cur[c.CMID] = c.LastSeen
		}
		for cmid := range tx.dirtyKMS {
			var err error
			if t, ok := cur[cmid]; ok {
				_, err = s.stmts.upsertKMS.Exec(cmid, t.Unix(), t.Nanosecond())
			} else {
				_, err = s.stmts.deleteKMS.Exec(cmid)
			}
			if err != nil {
				return fmt.Errorf("KMS client: %w", err)
			}
		}
	}
	for o := range tx.dirtyOutcomes {
		if st.outcomes[o] == 0 {
			continue // counted, then undone
		}
		if _, err := s.stmts.upsertOutcome.Exec(o.Kind, o.Channel, o.Edition, o.Result, st.outcomes[o]); err != nil {
			return fmt.Errorf("outcome count: %w", err)
		}
	}
	for _, id := range tx.batchOrder {
		b, ok := tx.batches[id]
		if !ok {
			continue
		}
		if _, err := s.stmts.insertBatch.Exec(id, b.mac, b.response, tx.now); err != nil {
			return fmt.Errorf("batch: %w", err)
		}
	}
	return nil
}
