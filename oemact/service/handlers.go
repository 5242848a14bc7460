package service

import (
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/oemact/oemact/firmware/productkey"
	"github.com/oemact/oemact/oemact/catalog"
	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/hwid"
	"github.com/oemact/oemact/oemact/service/api"
	"github.com/oemact/oemact/oemact/service/phone"
	"github.com/oemact/oemact/oemact/service/rules"
	"github.com/oemact/oemact/oemact/service/store"
	"go.yaml.in/yaml/v3"
)

var (
	cmidPattern    = lazyRegexp(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	batchIDPattern = lazyRegexp(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`)
	refPattern     = lazyRegexp(`^[A-Za-z0-9._:-]{1,64}$`)
	keyIDPattern   = lazyRegexp(`^[0-9a-f]{16}$`)
)

// parseKey reads a product key; the error never holds the key.
func parseKey(s string) (productkey.Key, *api.Error) {
	if s == "" {
		return productkey.Key{}, api.Errorf(api.CodeMissingField, "key: missing")
	}
	k, err := productkey.Parse(s)
	if err != nil {
		return productkey.Key{}, api.Errorf(api.CodeInvalidKey, "key: %v", err)
	}
	return k, nil
}

// parseHardware checks an online request's hardware: known classes, hwid's 16-hex-digit digests.
func parseHardware(h api.Hardware) (hwid.Inventory, *api.Error) {
	inv := hwid.Inventory{Dockable: h.Dockable}
	if len(h.Components) == 0 {
		return inv, api.Errorf(api.CodeInvalidHardware, "hardware.components: empty; send the digests of the machine's components (hwid.Inventory.Redacted)")
	}
	if len(h.Components) > api.MaxComponents {
		return inv, api.Errorf(api.CodeInvalidHardware, "hardware.components: %d components, at most %d", len(h.Components), api.MaxComponents)
	}
	for i, c := range h.Components {
		if !slices.Contains(hwid.Classes, hwid.Class(c.Class)) {
			return inv, api.Errorf(api.CodeInvalidHardware, "hardware.components[%d].class: not a hardware class (known: nic, disk, memory, cpu, display, storage_controller, system, board, bios, tpm)", i)
		}
		if !isDigest(c.Digest) {
			return inv, api.Errorf(api.CodeInvalidHardware, "hardware.components[%d].digest: want 16 lower-case hex digits (hwid.Digest)", i)
		}
		inv.Components = append(inv.Components, hwid.Component{Class: hwid.Class(c.Class), Digest: c.Digest})
	}
	return inv, nil
}

// isDigest reports whether s has hwid.Digest's form: 16 lower-case hex digits.
func isDigest(s string) bool {
	if len(s) != 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// origin is where a request comes from, as its geography is judged: the connection's address, or
// the request's client_ip on a server that trusts it (see api.ClientIPNote).
type origin struct {
	country string
	known   bool
}

// origin maps the request's address to a country; the address itself is never kept or logged.
func (s *Server) origin(r *http.Request, clientIP string) (origin, *api.Error) {
	host := clientIP
	if clientIP == "" {
		var err error
		if host, _, err = net.SplitHostPort(r.RemoteAddr); err != nil {
			host = r.RemoteAddr
		}
	} else if !s.cfg.TrustClientIP {
		return origin{}, api.Errorf(api.CodeClientIP, "%s", api.ClientIPNote)
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		if clientIP != "" {
			return origin{}, api.Errorf(api.CodeInvalidField, "client_ip: not an IPv4 or IPv6 address")
		}
		return origin{}, nil
	}
	var o origin
	o.country, o.known = s.geo.Country(addr)
	return o, nil
}

var (
	versionPattern  = lazyRegexp(`^[0-9]{1,3}(\.[0-9]{1,6}){1,3}$`)
	languagePattern = lazyRegexp(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$`)
)

// checkSoftware checks the form of the software version and language an online request carries
// (DESIGN.md's list); neither is kept.
func checkSoftware(version, language string) *api.Error {
	if version != "" && !versionPattern().MatchString(version) {
		return api.Errorf(api.CodeInvalidField, "software_version: want a Windows version such as 6.1.7600")
	}
	if language != "" && !languagePattern().MatchString(language) {
		return api.Errorf(api.CodeInvalidField, "language: want a language tag such as en-US")
	}
	return nil
}

// activation is what one key activation needs inside the writer.
type activation struct {
	hash    [32]byte
	hw      hwid.Inventory
	via     rules.Via
	edition string
	country string
	known   bool
}

// activationResult is what a decision leaves for the answer.
type activationResult struct {
	key      store.Key
	decision rules.Decision
}

// activate runs the rules for one key inside the writer and applies the decision.
func (s *Server) activate(tx *store.Tx, a activation, kind string) (activationResult, error) {
	k, ok := tx.KeyByHash(a.hash)
	if !ok {
		return activationResult{}, errorf(api.CodeKeyUnknown, "the key is not in the service's catalog")
	}
	rk := rules.Key{ID: k.ID, Channel: k.Channel, Edition: k.Edition, MAKLimit: k.MAKLimit, Blocked: k.Blocked, OnlineMoves: k.OnlineMoves}
	if err := rules.CheckChannel(rk, a.via); err != nil {
		return activationResult{}, err
	}
	if err := rules.CheckEdition(rk, a.edition); err != nil {
		return activationResult{}, err
	}
	if err := rules.CheckMarket(k.Edition, a.country, a.known); err != nil {
		return activationResult{}, err
	}
	d, err := rules.Activate(s.rules, rk, tx.Candidates(k.ID, a.hw, s.rules.Policy), k.MAKUsed, a.hw, a.via)
	if err != nil {
		return activationResult{}, err
	}
	switch d.Action {
	case rules.Bind:
		if _, err := tx.Bind(k.ID, a.hw, a.via); err != nil {
			return activationResult{}, err
		}
	case rules.Rebind:
		if err := tx.Rebind(d.BindingID, a.hw, a.via); err != nil {
			return activationResult{}, err
		}
	}
	if d.UsesMove {
		tx.UseOnlineMove(k.ID)
	}
	tx.Count(store.Outcome{Kind: kind, Channel: string(k.Channel), Edition: k.Edition.ID, Result: d.Result})
	k, _ = tx.KeyByID(k.ID)
	return activationResult{key: k, decision: d}, nil
}

func activateResponse(res activationResult, cid string) *api.ActivateResponse {
	out := &api.ActivateResponse{Result: res.decision.Result, Code: res.decision.Code, Message: res.decision.Message,
		KeyID: res.key.ID, Channel: string(res.key.Channel), Edition: res.key.Edition.ID}
	if res.decision.Result != api.ResultBlocked {
		out.ConfirmationID = cid
	}
	if res.key.Channel == edition.VolumeMAK {
		rem := res.key.MAKLimit - res.key.MAKUsed
		out.MAKRemaining = &rem
	}
	if d := res.decision.Diff; d != nil {
		out.Votes = &api.Votes{Policy: d.Policy, Matching: d.Matching, Required: d.Required, Total: d.Total}
	}
	return out
}

func (s *Server) handleActivate(w http.ResponseWriter, r *http.Request) (any, *api.Error) {
	var req api.ActivateRequest
	if e := decode(w, r, &req, api.MaxBody); e != nil {
		return nil, e
	}
	key, e := parseKey(req.Key)
	if e != nil {
		return nil, e
	}
	hw, e := parseHardware(req.Hardware)
	if e != nil {
		return nil, e
	}
	if req.Edition != "" {
		if _, err := edition.Lookup(req.Edition); err != nil {
			return nil, api.Errorf(api.CodeInvalidField, "edition: %v", err)
		}
	}
	if e := checkSoftware(req.SoftwareVersion, req.Language); e != nil {
		return nil, e
	}
	from, e := s.origin(r, req.ClientIP)
	if e != nil {
		return nil, e
	}
	a := activation{hw: hw, via: rules.Online, edition: req.Edition, country: from.country, known: from.known}
	a.hash, _ = s.store.KeyHash(key)
	var res activationResult
	ctx, cancel := s.withTimeout(r)
	defer cancel()
	err := s.store.Do(ctx, func(tx *store.Tx) error {
		var err error
		res, err = s.activate(tx, a, "online")
		return err
	})
	if err != nil {
		return nil, decisionError(err)
	}
	var cid string
	if iid, err := phone.NewInstallationID(key, hw); err == nil {
		cid, _ = phone.Confirm(iid, s.store.Secret())
	}
	return activateResponse(res, cid), nil
}

func (s *Server) handlePhone(w http.ResponseWriter, r *http.Request) (any, *api.Error) {
	var req api.PhoneRequest
	if e := decode(w, r, &req, api.MaxBody); e != nil {
		return nil, e
	}
	if req.InstallationID == "" {
		return nil, api.Errorf(api.CodeMissingField, "installation_id: missing")
	}
	in, err := phone.ParseInstallationID(req.InstallationID)
	if err != nil {
		return nil, api.Errorf(api.CodeInvalidIID, "%v", err)
	}
	from, e := s.origin(r, req.ClientIP)
	if e != nil {
		return nil, e
	}
	a := activation{hw: in.Hardware, via: rules.Phone, country: from.country, known: from.known}
	a.hash, _ = s.store.KeyHash(in.Key)
	var res activationResult
	ctx, cancel := s.withTimeout(r)
	defer cancel()
	if err := s.store.Do(ctx, func(tx *store.Tx) error {
		var err error
		res, err = s.activate(tx, a, "phone")
		return err
	}); err != nil {
		return nil, decisionError(err)
	}
	cid, err := phone.Confirm(req.InstallationID, s.store.Secret())
	if err != nil {
		return nil, decisionError(err)
	}
	return activateResponse(res, cid), nil
}

func (s *Server) handleBatch(w http.ResponseWriter, r *http.Request) (any, *api.Error) {
	var req api.BatchRequest
	if e := decode(w, r, &req, api.MaxBatchBody); e != nil {
		return nil, e
	}
	if !batchIDPattern().MatchString(req.BatchID) {
		return nil, api.Errorf(api.CodeInvalidBatchID, "batch_id: want 1 to %d of A-Z a-z 0-9 . _ : - starting with a letter or digit", api.MaxBatchIDLen)
	}
	if len(req.Items) == 0 {
		return nil, api.Errorf(api.CodeMissingField, "items: empty; send at least one installation ID")
	}
	if len(req.Items) > api.MaxBatchItems {
		return nil, api.Errorf(api.CodeBodyTooLarge, "items: %d, at most %d per batch", len(req.Items), api.MaxBatchItems)
	}
	type item struct {
		a   activation
		iid string
		bad *api.Error
	}
	items := make([]item, len(req.Items))
	from, e := s.origin(r, req.ClientIP)
	if e != nil {
		return nil, e
	}
	for i, it := range req.Items {
		if it.Ref != "" && !refPattern().MatchString(it.Ref) {
			return nil, api.Errorf(api.CodeInvalidField, "items[%d].ref: want 1 to %d of A-Z a-z 0-9 . _ : -", i, api.MaxItemRefLen)
		}
		in, err := phone.ParseInstallationID(it.InstallationID)
		if err != nil {
			// One machine's typo does not sink the batch: its item is refused, alone.
			items[i].bad = api.Errorf(api.CodeInvalidIID, "%v", err)
			continue
		}
		items[i].a = activation{hw: in.Hardware, via: rules.Batch, country: from.country, known: from.known}
		items[i].a.hash, _ = s.store.KeyHash(in.Key)
		items[i].iid = it.InstallationID
	}
	contentMAC := s.store.MAC("oemact batch v1", canonicalJSON(req))
	var resp api.BatchResponse
	ctx, cancel := s.withTimeout(r)
	defer cancel()
	err := s.store.Do(ctx, func(tx *store.Tx) error {
		storedMAC, stored, found, err := tx.Batch(req.BatchID)
		if err != nil {
			return err
		}
		if found {
			if !hmac.Equal(storedMAC, contentMAC) {
				return errorf(api.CodeBatchIDReused, "batch %s was already used for other content; a replay must be identical, new content needs a new batch_id", req.BatchID)
			}
			if err := json.Unmarshal(stored, &resp); err != nil {
				return fmt.Errorf("stored batch %s: %w", req.BatchID, err)
			}
			resp.Replayed = true
			return nil
		}
		resp = api.BatchResponse{BatchID: req.BatchID, Items: make([]api.BatchItemResult, len(items))}
		for i, it := range items {
			out := &resp.Items[i]
			out.Ref = req.Items[i].Ref
			if it.bad != nil {
				out.Result, out.Code, out.Message = api.ResultRefused, it.bad.Code, it.bad.Message
				continue
			}
			var res activationResult
			err := tx.Savepoint(func() error {
				var err error
				res, err = s.activate(tx, it.a, "batch")
				return err
			})
			if err != nil {
				e := decisionError(err)
				if e.Code == api.CodeInternal {
					return err
				}
				out.Result, out.Code, out.Message = api.ResultRefused, e.Code, e.Message
				continue
			}
			ar := activateResponse(res, "")
			out.Result, out.Code, out.Message, out.KeyID, out.MAKRemaining = ar.Result, ar.Code, ar.Message, ar.KeyID, ar.MAKRemaining
			if ar.Result != api.ResultBlocked {
				cid, err := phone.Confirm(it.iid, s.store.Secret())
				if err != nil {
					return err
				}
				out.ConfirmationID = cid
			}
		}
		b, err := json.Marshal(resp)
		if err != nil {
			return err
		}
		return tx.PutBatch(req.BatchID, contentMAC, b)
	})
	if err != nil {
		return nil, decisionError(err)
	}
	return &resp, nil
}

func (s *Server) handleKMS(w http.ResponseWriter, r *http.Request) (any, *api.Error) {
	var req api.KMSRequest
	if e := decode(w, r, &req, api.MaxBody); e != nil {
		return nil, e
	}
	if req.CMID == "" {
		return nil, api.Errorf(api.CodeMissingField, "cmid: missing")
	}
	if !cmidPattern().MatchString(req.CMID) {
		return nil, api.Errorf(api.CodeInvalidCMID, "cmid: want a UUID (8-4-4-4-12 hex digits)")
	}
	cmid := strings.ToLower(req.CMID)
	if req.Edition == "" {
		return nil, api.Errorf(api.CodeMissingField, "edition: missing")
	}
	ed, err := edition.Lookup(req.Edition)
	if err != nil {
		return nil, api.Errorf(api.CodeInvalidField, "edition: %v", err)
	}
	now := s.clock.Now().UTC()
	if req.RequestTime != nil {
		if !s.cfg.TrustClientTime {
			return nil, api.Errorf(api.CodeClientTime, "request_time is honoured only by a server started with --trust-client-time (tests); leave it out")
		}
		now = req.RequestTime.UTC()
		if why := s.checkTime(now); why != "" {
			return nil, api.Errorf(api.CodeInvalidField, "request_time: %s", why)
		}
	} else if why := s.checkTime(now); why != "" {
		return nil, api.Errorf(api.CodeInternal, "the service clock: %s", why)
	}
	if err := rules.CheckKMSEdition(ed); err != nil {
		return nil, decisionError(err)
	}
	var d rules.KMSDecision
	ctx, cancel := s.withTimeout(r)
	defer cancel()
	if err := s.store.Do(ctx, func(tx *store.Tx) error {
		d = rules.KMS(s.rules.KMS, tx.KMSClients(), cmid, ed, req.MarkerPresent, now)
		tx.SetKMSClients(d.Clients)
		result := "not-activated"
		if d.Activated {
			result = api.ResultActivated
		}
		tx.Count(store.Outcome{Kind: "kms", Channel: string(edition.VolumeGVLK), Edition: ed.ID, Result: result})
		return nil
	}); err != nil {
		return nil, decisionError(err)
	}
	out := &api.KMSResponse{Activated: d.Activated, Code: d.Code, Message: d.Message, Count: d.Count, Threshold: d.Threshold, Time: now,
		RenewalMinutes: int(s.rules.KMS.Renewal / time.Minute), RetryMinutes: int(s.rules.KMS.Retry / time.Minute),
		ValidityMinutes: int(s.rules.KMS.Validity / time.Minute)}
	if d.Activated {
		v := d.ValidUntil
		out.ValidUntil = &v
	}
	return out, nil
}

// checkTime says why a KMS decision cannot be taken at t (UTC): before api.MinTime, or so late
// that the validity it may grant ends after api.MaxTime, where no answer can carry it.
func (s *Server) checkTime(t time.Time) string {
	last := api.MaxTime.Add(-s.rules.KMS.Validity)
	if t.Before(api.MinTime) || t.After(last) {
		return fmt.Sprintf("%s UTC is outside the supported range, %s to %s (the %d-day validity must end by %s)",
			t.Format(time.RFC3339), api.MinTime.Format(time.DateOnly), last.Format(time.RFC3339),
			int(s.rules.KMS.Validity/(24*time.Hour)), api.MaxTime.Format(time.DateOnly))
	}
	return ""
}

func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) (any, *api.Error) {
	var out api.Stats
	ctx, cancel := s.withTimeout(r)
	defer cancel()
	now := s.clock.Now().UTC()
	if err := s.store.Do(ctx, func(tx *store.Tx) error {
		for o, n := range tx.Outcomes() {
			out.Outcomes = append(out.Outcomes, api.OutcomeCount{Kind: o.Kind, Channel: o.Channel, Edition: o.Edition, Result: o.Result, Count: n})
		}
		for _, k := range tx.Keys() {
			if k.Channel == edition.VolumeMAK {
				out.MAK = append(out.MAK, api.MAKPool{KeyID: k.ID, Edition: k.Edition.ID, Limit: k.MAKLimit, Used: k.MAKUsed, Remaining: k.MAKLimit - k.MAKUsed})
			}
		}
		clients := tx.KMSClients()
		for _, c := range clients {
			if s.cfg.TrustClientTime && c.LastSeen.After(now) {
				now = c.LastSeen // the clients' clock is ahead of ours: count as of their latest request
			}
		}
		cutoff := now.Add(-s.rules.KMS.Window)
		out.KMS = api.KMSStats{Kept: len(clients), WindowDays: int(s.rules.KMS.Window / (24 * time.Hour)), Time: now}
		for _, c := range clients {
			if c.LastSeen.After(cutoff) {
				out.KMS.Count++
			}
		}
		return nil
	}); err != nil {
		return nil, decisionError(err)
	}
	sortOutcomes(out.Outcomes)
	out.Refused = s.refusalCounts()
	return &out, nil
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) (any, *api.Error) {
	ctx, cancel := s.withTimeout(r)
	defer cancel()
	var keys int
	// Through the writer: a healthy answer means decisions are being taken.
	if err := s.store.Do(ctx, func(tx *store.Tx) error { keys = len(tx.Keys()); return nil }); err != nil {
		return nil, decisionError(err)
	}
	return &api.Health{Status: "ok", SchemaVersion: s.store.Version(), Keys: keys}, nil
}

func keyInfo(k store.Key) *api.KeyInfo {
	return &api.KeyInfo{KeyID: k.ID, Channel: string(k.Channel), Edition: k.Edition.ID, OEMID: k.OEMID, MAKLimit: k.MAKLimit, MAKUsed: k.MAKUsed, Blocked: k.Blocked}
}

func (s *Server) handleAddKey(w http.ResponseWriter, r *http.Request) (any, *api.Error) {
	if e := s.admin(r); e != nil {
		return nil, e
	}
	var req api.AddKeyRequest
	if e := decode(w, r, &req, api.MaxBody); e != nil {
		return nil, e
	}
	if req.MAKLimit < 0 {
		return nil, api.Errorf(api.CodeInvalidField, "mak_limit: %d is negative", req.MAKLimit)
	}
	key, e := parseKey(req.Key)
	if e != nil {
		return nil, e
	}
	// The catalog file's rules, applied by the catalog's own parser: only derived TEST keys, the
	// edition must sell through the channel, OEM IDs for SLP keys, limits for MAKs.
	doc, err := yaml.Marshal(map[string]any{"keys": []map[string]any{{
		"label": req.Label, "key": key.Reveal(), "channel": req.Channel, "edition": req.Edition,
		"oem_id": req.OEMID, "mak_limit": req.MAKLimit, "blocked": req.Blocked,
	}}})
	if err != nil {
		return nil, api.Errorf(api.CodeInternal, "encoding the key entry failed")
	}
	cat, err := catalog.Parse(doc, "request")
	if err != nil {
		return nil, api.Errorf(api.CodeCatalogInvalid, "%s", strings.TrimPrefix(strings.TrimPrefix(err.Error(), "request:"), "1: "))
	}
	entry := cat.Entries()[0]
	h, id := s.store.KeyHash(key)
	k := store.Key{ID: id, Channel: entry.Channel, Edition: entry.Edition, OEMID: entry.OEMID, MAKLimit: entry.MAKLimit, Blocked: entry.Blocked, Source: "admin"}
	ctx, cancel := s.withTimeout(r)
	defer cancel()
	if err := s.store.Do(ctx, func(tx *store.Tx) error {
		if _, ok := tx.KeyByHash(h); ok {
			return errorf(api.CodeKeyExists, "the key is already in the catalog as %s", id)
		}
		return tx.AddKey(h, k)
	}); err != nil {
		return nil, decisionError(err)
	}
	s.log.Info("catalog key added", "key_id", id, "channel", string(k.Channel), "edition", k.Edition.ID)
	return keyInfo(k), nil
}

func (s *Server) handleUpdateKey(w http.ResponseWriter, r *http.Request) (any, *api.Error) {
	if e := s.admin(r); e != nil {
		return nil, e
	}
	id := r.PathValue("key_id")
	if !keyIDPattern().MatchString(id) {
		return nil, api.Errorf(api.CodeInvalidKeyID, "key ID: want 16 lower-case hex digits (the key_id of an answer or of /v1/stats)")
	}
	var req api.UpdateKeyRequest
	if e := decode(w, r, &req, api.MaxBody); e != nil {
		return nil, e
	}
	if req.MAKLimit == nil && req.Blocked == nil {
		return nil, api.Errorf(api.CodeMissingField, "nothing to change: send mak_limit or blocked")
	}
	if req.MAKLimit != nil && *req.MAKLimit <= 0 {
		return nil, api.Errorf(api.CodeInvalidField, "mak_limit: %d; a MAK pool holds at least one activation", *req.MAKLimit)
	}
	var k store.Key
	ctx, cancel := s.withTimeout(r)
	defer cancel()
	if err := s.store.Do(ctx, func(tx *store.Tx) error {
		cur, ok := tx.KeyByID(id)
		if !ok {
			return errorf(api.CodeNotFound, "no key %s in the catalog", id)
		}
		if req.MAKLimit != nil && cur.Channel != edition.VolumeMAK {
			return errorf(api.CodeInvalidField, "mak_limit: key %s is a %s key, not a MAK", id, cur.Channel)
		}
		if req.MAKLimit != nil && *req.MAKLimit < cur.MAKUsed {
			return errorf(api.CodeLimitBelowCount, "key %s already uses %d activations; the limit cannot go below that", id, cur.MAKUsed)
		}
		var err error
		k, err = tx.UpdateKey(id, req.MAKLimit, req.Blocked)
		return err
	}); err != nil {
		return nil, decisionError(err)
	}
	s.log.Info("catalog key changed", "key_id", id)
	return keyInfo(k), nil
}

func sortOutcomes(o []api.OutcomeCount) {
	sort.Slice(o, func(i, j int) bool {
		a, b := o[i], o[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Channel != b.Channel {
			return a.Channel < b.Channel
		}
		if a.Edition != b.Edition {
			return a.Edition < b.Edition
		}
		return a.Result < b.Result
	})
}
