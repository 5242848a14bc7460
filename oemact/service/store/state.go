package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/hwid"
	"github.com/oemact/oemact/oemact/service/rules"
)

// state is the in-memory copy of the database that decisions read. Only the writer goroutine
// touches it; it changes only through Tx, which can undo.
type state struct {
	byHash   map[[32]byte]*keyRec
	byID     map[string]*keyRec
	bindings map[int64]*bindingRec
	nextID   int64
	// exact indexes full-precision bindings by (key, class, 16-hex digest); short indexes
	// installation-ID bindings by their 3-hex digests; prefix indexes full-precision bindings by
	// the first 3 hex digits, for installation-ID requests.
	exact, short, prefix map[indexKey][]int64
	kms                  []rules.KMSClient
	outcomes             map[Outcome]int64
	nextKeyIdx           uint32
}

type keyRec struct {
	Key
	hash     [32]byte
	idx      uint32 // small number naming the key in index keys
	bindings []int64
}

type bindingRec struct {
	id        int64
	keyID     string
	hw        hwid.Inventory
	via       string
	created   int64 // seconds since 1970
	updated   int64
	imprecise bool
}

// indexKey names a digest of a key's binding without strings, so that maps hash and scan it
// cheaply: the key's idx, the class's index in hwid.Classes, and the digest's value (a 16-hex
// digest, or a 3-hex prefix).
type indexKey struct {
	key    uint32
	class  uint8
	digest uint64
}

// digestKey makes the index key of a digest; ok is false for a digest that is not hex.
func digestKey(k *keyRec, c hwid.Class, digest string) (indexKey, bool) {
	ci := slices.Index(hwid.Classes, c)
	if ci < 0 || len(digest) > 16 {
		return indexKey{}, false
	}
	var v uint64
	for i := 0; i < len(digest); i++ {
		ch := digest[i]
		switch {
		case ch >= '0' && ch <= '9':
			v = v<<4 | uint64(ch-'0')
		case ch >= 'a' && ch <= 'f':
			v = v<<4 | uint64(ch-'a'+10)
		default:
			return indexKey{}, false
		}
	}
	return indexKey{key: k.idx, class: uint8(ci), digest: v}, true
}

// Outcome is one counted decision: kind is "online", "phone", "batch" or "kms".
type Outcome struct {
	Kind, Channel, Edition, Result string
}

func (st *state) addKey(k *keyRec) {
	st.nextKeyIdx++
	k.idx = st.nextKeyIdx
	st.byHash[k.hash] = k
	st.byID[k.ID] = k
}

func newState() *state {
	return &state{byHash: map[[32]byte]*keyRec{}, byID: map[string]*keyRec{}, bindings: map[int64]*bindingRec{},
		exact: map[indexKey][]int64{}, short: map[indexKey][]int64{}, prefix: map[indexKey][]int64{},
		outcomes: map[Outcome]int64{}, nextID: 1}
}

func load(ctx context.Context, conn *sql.Conn) (*state, error) {
	st := newState()
	rows, err := conn.QueryContext(ctx, `SELECT key_id, key_hmac, channel, edition, oem_id, mak_limit, mak_used, blocked, online_moves, source FROM keys`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var k keyRec
		var h []byte
		var ch, ed string
		if err := rows.Scan(&k.ID, &h, &ch, &ed, &k.OEMID, &k.MAKLimit, &k.MAKUsed, &k.Blocked, &k.OnlineMoves, &k.Source); err != nil {
			rows.Close()
			return nil, err
		}
		if len(h) != 32 {
			rows.Close()
			return nil, fmt.Errorf("key %s: hash of %d bytes", k.ID, len(h))
		}
		copy(k.hash[:], h)
		if k.Channel, err = edition.ParseChannel(ch); err != nil {
			rows.Close()
			return nil, fmt.Errorf("key %s: %w", k.ID, err)
		}
		if k.Edition, err = edition.Lookup(ed); err != nil {
			rows.Close()
			return nil, fmt.Errorf("key %s: %w", k.ID, err)
		}
		rec := k
		st.addKey(&rec)
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}

	rows, err = conn.QueryContext(ctx, `SELECT id, key_id, hardware, via, created_at, updated_at FROM bindings ORDER BY id`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		b := &bindingRec{}
		var hw []byte
		if err := rows.Scan(&b.id, &b.keyID, &hw, &b.via, &b.created, &b.updated); err != nil {
			rows.Close()
			return nil, err
		}
		if b.hw, err = decodeHardware(hw); err != nil {
			rows.Close()
			return nil, fmt.Errorf("binding %d: %w", b.id, err)
		}
		k := st.byID[b.keyID]
		if k == nil {
			rows.Close()
			return nil, fmt.Errorf("binding %d: unknown key %s", b.id, b.keyID)
		}
		b.imprecise = !rules.Precise(b.hw)
		st.bindings[b.id] = b
		k.bindings = append(k.bindings, b.id)
		st.index(k, b, true)
		if b.id >= st.nextID {
			st.nextID = b.id + 1
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}
	for _, k := range st.byID {
		if k.Channel == edition.VolumeMAK && k.MAKUsed != len(k.bindings) {
			return nil, fmt.Errorf("key %s: mak_used %d but %d bindings", k.ID, k.MAKUsed, len(k.bindings))
		}
	}

	rows, err = conn.QueryContext(ctx, `SELECT cmid, last_seen_unix, last_seen_nsec FROM kms_clients`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var c rules.KMSClient
		var sec, nsec int64
		if err := rows.Scan(&c.CMID, &sec, &nsec); err != nil {
			rows.Close()
			return nil, err
		}
		c.LastSeen = time.Unix(sec, nsec).UTC()
		st.kms = append(st.kms, c)
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}

	rows, err = conn.QueryContext(ctx, `SELECT kind, channel, edition, result, n FROM outcomes`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var o Outcome
		var n int64
		if err := rows.Scan(&o.Kind, &o.Channel, &o.Edition, &o.Result, &n); err != nil {
			rows.Close()
			return nil, err
		}
		st.outcomes[o] = n
	}
	return st, closeRows(rows)
}

func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	if e := rows.Close(); err == nil {
		err = e
	}
	return err
}

// index adds (add=true) or removes a binding of key k from the digest indexes.
func (st *state) index(k *keyRec, b *bindingRec, add bool) {
	for _, c := range b.hw.Components {
		if len(c.Digest) < 3 {
			continue
		}
		short, ok := digestKey(k, c.Class, c.Digest[:3])
		if !ok {
			continue
		}
		if b.imprecise {
			st.indexOne(st.short, short, b.id, add)
			continue
		}
		if full, ok := digestKey(k, c.Class, c.Digest); ok {
			st.indexOne(st.exact, full, b.id, add)
		}
		st.indexOne(st.prefix, short, b.id, add)
	}
}

func (st *state) indexOne(m map[indexKey][]int64, k indexKey, id int64, add bool) {
	ids := m[k]
	if add {
		if len(ids) == 0 || ids[len(ids)-1] != id { // an inventory may list a digest twice
			m[k] = append(ids, id)
		}
		return
	}
	if i := slices.Index(ids, id); i >= 0 {
		ids = slices.Delete(ids, i, i+1)
		if len(ids) == 0 {
			delete(m, k)
		} else {
			m[k] = ids
		}
	}
}

// candidates returns the bindings of a key that current may be in tolerance of: for keys with
// one binding (retail, OEM) all of them; for MAK pools only the bindings that share a digest with
// current in enough classes. A binding matches with the votes of the classes where it shares a
// digest, plus the classes both lack. Taking current's classes from the rarest digests up, once
// the classes not yet taken carry fewer votes than a match needs, every match shares a digest in
// a class taken: the others need not be looked at. In a fleet of identical VMs the shared memory,
// CPU and BIOS digests are then never walked; the NIC, disk and system digests decide.
func (st *state) candidates(k *keyRec, current hwid.Inventory, p hwid.Policy) []rules.Binding {
	ids := st.candidateIDs(k, current, p)
	out := make([]rules.Binding, 0, len(ids))
	for _, id := range ids {
		b := st.bindings[id]
		out = append(out, rules.Binding{ID: b.id, Hardware: b.hw})
	}
	return out
}

func (st *state) candidateIDs(k *keyRec, current hwid.Inventory, p hwid.Policy) []int64 {
	if k.Channel != edition.VolumeMAK || len(k.bindings) <= 8 {
		return k.bindings
	}
	type bucket struct {
		votes int
		size  int
		lists [][]int64
	}
	byClass := map[hwid.Class]*bucket{}
	precise := rules.Precise(current)
	for _, c := range current.Components {
		v := p.Votes[c.Class]
		if v <= 0 || len(c.Digest) < 3 {
			continue
		}
		b := byClass[c.Class]
		if b == nil {
			b = &bucket{votes: v}
			byClass[c.Class] = b
		}
		short, ok := digestKey(k, c.Class, c.Digest[:3])
		if !ok {
			continue
		}
		b.lists = append(b.lists, st.short[short])
		if !precise {
			b.lists = append(b.lists, st.prefix[short])
		} else if full, ok := digestKey(k, c.Class, c.Digest); ok {
			b.lists = append(b.lists, st.exact[full])
		}
	}
	need := p.Required(current.Dockable)
	remaining := 0
	for c, v := range p.Votes {
		if byClass[c] == nil {
			need -= v // a binding that lacks the class too matches it without sharing anything
		}
	}
	if need <= 0 {
		return k.bindings
	}
	buckets := make([]*bucket, 0, len(byClass))
	for _, b := range byClass {
		for _, l := range b.lists {
			b.size += len(l)
		}
		remaining += b.votes
		buckets = append(buckets, b)
	}
	slices.SortFunc(buckets, func(a, b *bucket) int { return a.size - b.size })
	var ids []int64
	for _, b := range buckets {
		if remaining < need {
			break
		}
		for _, l := range b.lists {
			ids = append(ids, l...)
		}
		remaining -= b.votes
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// Hardware encoding in the bindings table: version 1, flags (bit 0 dockable), a component count,
// then per component its class index in hwid.Classes, the digest's length and its bytes.
func encodeHardware(inv hwid.Inventory) ([]byte, error) {
	if len(inv.Components) > 255 {
		return nil, errors.New("more than 255 components")
	}
	out := []byte{1, 0, byte(len(inv.Components))}
	if inv.Dockable {
		out[1] = 1
	}
	for _, c := range inv.Components {
		i := slices.Index(hwid.Classes, c.Class)
		if i < 0 {
			return nil, fmt.Errorf("unknown component class %q", c.Class)
		}
		if len(c.Digest) > 64 {
			return nil, fmt.Errorf("%s digest longer than 64", c.Class)
		}
		out = append(out, byte(i), byte(len(c.Digest)))
		out = append(out, c.Digest...)
	}
	return out, nil
}

func decodeHardware(b []byte) (hwid.Inventory, error) {
	var inv hwid.Inventory
	if len(b) < 3 || b[0] != 1 {
		return inv, errors.New("hardware: not a version 1 record")
	}
	inv.Dockable = b[1]&1 == 1
	n := int(b[2])
	off := 3
	for i := 0; i < n; i++ {
		if off+2 > len(b) {
			return inv, fmt.Errorf("hardware: component %d truncated at offset %d", i, off)
		}
		ci, l := int(b[off]), int(b[off+1])
		if ci >= len(hwid.Classes) {
			return inv, fmt.Errorf("hardware: component %d: class index %d at offset %d", i, ci, off)
		}
		off += 2
		if off+l > len(b) {
			return inv, fmt.Errorf("hardware: component %d digest truncated at offset %d", i, off)
		}
		inv.Components = append(inv.Components, hwid.Component{Class: hwid.Classes[ci], Digest: string(b[off : off+l])})
		off += l
	}
	if off != len(b) {
		return inv, fmt.Errorf("hardware: %d bytes after the last component", len(b)-off)
	}
	return inv, nil
}
