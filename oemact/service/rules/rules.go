// Package rules holds the decisions of oemact's emulated activation service as pure functions:
// given a catalog key, the bindings the service keeps and a request, what is the answer and what
// must change. It reads no database and no clock; the store (oemact/service/store) keeps the state
// and the server (oemact/service) wires both.
//
// The rules are the project's model of Windows 7 / Server 2008 R2 activation (DESIGN.md), not
// Microsoft's implementation.
package rules

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/hwid"
	"github.com/oemact/oemact/oemact/service/api"
)

// Config holds the numbers the rules use. DefaultConfig gives DESIGN.md's.
type Config struct {
	// Policy decides whether hardware is in tolerance of a binding (default hwid.VotePolicy).
	Policy hwid.Policy
	// RetailOnlineMoves is how many times a retail or OEM:COA key may move to out-of-tolerance
	// hardware through online activation. Default 0: a copy moves to new hardware only by
	// telephone, where a person confirms the old copy is gone (one copy at a time), which is how
	// Windows 7 retail licences were transferred; tests that model online transfers raise it.
	RetailOnlineMoves int
	KMS               KMSConfig
}

// KMSConfig holds the KMS host's numbers.
type KMSConfig struct {
	Window   time.Duration // distinct clients are counted over this window (30 days)
	Keep     int           // the host keeps this many most recent clients (50)
	Validity time.Duration // an activation lasts this long (180 days)
	Renewal  time.Duration // an activated client renews this often (7 days)
	Retry    time.Duration // an unactivated client retries this often (2 hours)
}

const day = 24 * time.Hour

// DefaultConfig returns DESIGN.md's numbers: the vote policy, no online moves, and KMS with a
// 30-day window, 50 clients kept, 180-day validity, 7-day renewal, 2-hour retry.
func DefaultConfig() Config {
	return Config{
		Policy: hwid.VotePolicy,
		KMS:    KMSConfig{Window: 30 * day, Keep: 50, Validity: 180 * day, Renewal: 7 * day, Retry: 2 * time.Hour},
	}
}

// Validate checks the numbers can work.
func (c Config) Validate() error {
	if err := c.Policy.Validate(); err != nil {
		return err
	}
	switch {
	case c.RetailOnlineMoves < 0:
		return fmt.Errorf("retail online moves %d: must be 0 or more", c.RetailOnlineMoves)
	case c.KMS.Window <= 0, c.KMS.Validity <= 0, c.KMS.Renewal <= 0, c.KMS.Retry <= 0:
		return fmt.Errorf("KMS durations must be positive")
	case c.KMS.Keep < 1:
		return fmt.Errorf("KMS keep %d: must be at least 1", c.KMS.Keep)
	}
	return nil
}

// Via is how a request reached the service.
type Via string

const (
	Online Via = "online"
	Phone  Via = "phone"
	Batch  Via = "batch" // a MAK proxy batch item (telephone format, MAK only)
)

// Key is what the rules know of a catalog key: never the key itself.
type Key struct {
	ID       string
	Channel  edition.Channel
	Edition  edition.Edition
	MAKLimit int
	Blocked  bool
	// OnlineMoves is how many online moves the key has used.
	OnlineMoves int
}

// Binding is a key bound to hardware: digests only. Digests from an installation ID have 3 hex
// digits (12 bits); from online activation, hwid's 16.
type Binding struct {
	ID       int64
	Hardware hwid.Inventory
}

// Refusal is a decision not to activate; Code is an api error code.
type Refusal struct {
	Code    string
	Message string
}

func (r *Refusal) Error() string { return r.Code + ": " + r.Message }

func refuse(code, format string, args ...any) *Refusal {
	return &Refusal{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Action is the change a decision asks the store to make.
type Action int

const (
	None   Action = iota // nothing but counting
	Bind                 // a new binding of the key to the request's hardware
	Rebind               // binding BindingID now holds the request's hardware
)

// Decision is an activation answer and the change behind it.
type Decision struct {
	Result  string // api.ResultActivated, ResultReactivated, ResultMoved or ResultBlocked
	Code    string
	Message string
	Action  Action
	// BindingID is the binding matched (reactivation) or moved (Rebind).
	BindingID int64
	// UsesMove is true when the decision uses one of the key's online moves.
	UsesMove bool
	// Diff is the hardware comparison that decided, when there was one.
	Diff *hwid.Diff
}

// CheckChannel refuses keys whose channel does not activate through via.
func CheckChannel(k Key, via Via) error {
	switch k.Channel {
	case edition.VolumeGVLK:
		return refuse(api.CodeWrongChannel, "key %s is a KMS client key (Volume:GVLK): it activates against a KMS host (%s), not here", k.ID, api.PathKMS)
	case edition.OEMSLP:
		return refuse(api.CodeSLPOffline, "key %s is an OEM:SLP key: OEM Activation 2.1 is offline, against the SLIC marker in the firmware; it never activates through the service", k.ID)
	}
	if via == Batch && k.Channel != edition.VolumeMAK {
		return refuse(api.CodeWrongChannel, "key %s is a %s key: proxy batches activate MAK keys only", k.ID, k.Channel)
	}
	switch k.Channel {
	case edition.Retail, edition.OEMCOA, edition.OEMDM, edition.VolumeMAK:
		return nil
	}
	return refuse(api.CodeWrongChannel, "key %s: channel %q does not activate through the service", k.ID, k.Channel)
}

// CheckEdition refuses a request whose installed edition is not the key's. An empty edition is
// not checked.
func CheckEdition(k Key, requested string) error {
	if requested == "" || strings.EqualFold(requested, k.Edition.ID) {
		return nil
	}
	return refuse(api.CodeEditionMismatch, "key %s is for %s (%s), the request is for edition %q", k.ID, k.Edition.Name, k.Edition.ID, requested)
}

// CheckMarket applies an edition's target markets (Windows 7 Starter): country is the request's,
// known is false when the service's table has no entry for the request's address. An address of
// no known country is refused too (the model's choice: a market-restricted edition cannot show it
// is in its market), with the same code.
func CheckMarket(ed edition.Edition, country string, known bool) error {
	if len(ed.Markets) == 0 {
		return nil
	}
	if !known {
		return refuse(api.CodeMarketRestricted, "%s activates only in its target markets (%s); the request's address is in no country of the service's table (see --geo)", ed.Name, strings.Join(ed.Markets, ", "))
	}
	if !slices.Contains(ed.Markets, country) {
		return refuse(api.CodeMarketRestricted, "%s activates only in its target markets (%s); the request comes from %s", ed.Name, strings.Join(ed.Markets, ", "), country)
	}
	return nil
}

// Compare measures current against a binding's hardware. When either side comes from an
// installation ID, both are compared at its 12-bit precision.
func Compare(p hwid.Policy, baseline, current hwid.Inventory) hwid.Diff {
	n := precision(baseline)
	if m := precision(current); m < n {
		n = m
	}
	return p.Compare(truncate(baseline, n), truncate(current, n))
}

// precision is the shortest digest in an inventory (0 for none).
func precision(inv hwid.Inventory) int {
	n := 1 << 30
	for _, c := range inv.Components {
		if len(c.Digest) < n {
			n = len(c.Digest)
		}
	}
	return n
}

func truncate(inv hwid.Inventory, n int) hwid.Inventory {
	short := false
	for _, c := range inv.Components {
		if len(c.Digest) > n {
			short = true
			break
		}
	}
	if !short {
		return inv
	}
	out := hwid.Inventory{Dockable: inv.Dockable, Components: make([]hwid.Component, len(inv.Components))}
	for i, c := range inv.Components {
		if len(c.Digest) > n {
			c.Digest = c.Digest[:n]
		}
		out.Components[i] = hwid.Component{Class: c.Class, Digest: c.Digest}
	}
	return out
}

// Precise reports whether an inventory carries full digests (not an installation ID's 12 bits):
// only such hardware replaces a binding's on reactivation.
func Precise(inv hwid.Inventory) bool { return precision(inv) >= 16 || len(inv.Components) == 0 }

// Activate decides an activation of key k from hardware current. bindings are the key's bindings
// that may match (for retail and OEM:DM keys, the key's one binding if any; for MAK keys, at least
// every binding that shares a component digest with current, see MayMatchWithoutSharing); used is
// how many activations of a MAK pool are in use. Call CheckChannel, CheckEdition and CheckMarket
// first.
func Activate(cfg Config, k Key, bindings []Binding, used int, current hwid.Inventory, via Via) (Decision, error) {
	if k.Blocked {
		return Decision{Result: api.ResultBlocked, Code: api.CodeKeyBlocked, Action: None,
			Message: fmt.Sprintf("key %s is blocked: the copy enters non-genuine grace", k.ID)}, nil
	}
	best, diff, ok := bestMatch(cfg.Policy, bindings, current)
	switch k.Channel {
	case edition.Retail, edition.OEMCOA:
		if len(bindings) == 0 {
			return Decision{Result: api.ResultActivated, Action: Bind, Message: fmt.Sprintf("key %s activated and bound to this hardware", k.ID)}, nil
		}
		if ok {
			return reactivation(best, diff, current), nil
		}
		b := bindings[0]
		d := Compare(cfg.Policy, b.Hardware, current)
		switch {
		case via == Phone:
			return Decision{Result: api.ResultMoved, Action: Rebind, BindingID: b.ID, Diff: &d,
				Message: fmt.Sprintf("key %s moved to this hardware by telephone activation (%s); the copy on the old hardware is no longer activated", k.ID, d)}, nil
		case k.OnlineMoves < cfg.RetailOnlineMoves:
			return Decision{Result: api.ResultMoved, Action: Rebind, BindingID: b.ID, UsesMove: true, Diff: &d,
				Message: fmt.Sprintf("key %s moved to this hardware online (move %d of %d allowed)", k.ID, k.OnlineMoves+1, cfg.RetailOnlineMoves)}, nil
		}
		return Decision{}, refuse(api.CodeKeyInUse, "key %s is in use on other hardware (%s); a retail copy moves by telephone activation", k.ID, d)
	case edition.OEMDM:
		if len(bindings) == 0 {
			return Decision{Result: api.ResultActivated, Action: Bind, Message: fmt.Sprintf("OEM Activation 3.0 key %s bound to this hardware", k.ID)}, nil
		}
		if ok {
			return reactivation(best, diff, current), nil
		}
		d := Compare(cfg.Policy, bindings[0].Hardware, current)
		return Decision{}, refuse(api.CodeKeyBoundOther, "OEM Activation 3.0 key %s is bound to the device it shipped with (%s)", k.ID, d)
	case edition.VolumeMAK:
		if ok {
			return reactivation(best, diff, current), nil
		}
		if used >= k.MAKLimit {
			return Decision{}, refuse(api.CodeMAKExhausted, "MAK %s has used all %d activations of its pool", k.ID, k.MAKLimit)
		}
		return Decision{Result: api.ResultActivated, Action: Bind,
			Message: fmt.Sprintf("MAK %s activated: %d of %d activations used", k.ID, used+1, k.MAKLimit)}, nil
	}
	return Decision{}, CheckChannel(k, via)
}

func reactivation(b Binding, d hwid.Diff, current hwid.Inventory) Decision {
	dec := Decision{Result: api.ResultReactivated, Action: None, BindingID: b.ID, Diff: &d,
		Message: fmt.Sprintf("same hardware (%s): reactivated without a new activation", d)}
	// The binding follows the copy, as the client's baseline does at reactivation, so changes
	// accumulate only between activations. An installation ID's 12-bit digests never replace
	// full ones.
	if Precise(current) && !sameDigests(b.Hardware, current) {
		dec.Action = Rebind
	}
	return dec
}

// bestMatch returns the in-tolerance binding with the most matching votes (the lowest ID on a tie).
func bestMatch(p hwid.Policy, bindings []Binding, current hwid.Inventory) (Binding, hwid.Diff, bool) {
	var best Binding
	var bestDiff hwid.Diff
	found := false
	for _, b := range bindings {
		d := Compare(p, b.Hardware, current)
		if !d.InTolerance {
			continue
		}
		if !found || d.Matching > bestDiff.Matching || (d.Matching == bestDiff.Matching && b.ID < best.ID) {
			best, bestDiff, found = b, d, true
		}
	}
	return best, bestDiff, found
}

func sameDigests(a, b hwid.Inventory) bool {
	if a.Dockable != b.Dockable || len(a.Components) != len(b.Components) {
		return false
	}
	da, db := a.Digests(), b.Digests()
	for c, l := range da {
		if !slices.Equal(l, db[c]) {
			return false
		}
	}
	return true
}

// MayMatchWithoutSharing reports whether current could be in tolerance of a binding with which it
// shares no component digest: only when the votes of the classes current lacks (which match a
// binding that lacks them too) reach the requirement. When false, the bindings that share a digest
// with current are the only candidates, which lets a store index bindings by digest.
func MayMatchWithoutSharing(p hwid.Policy, current hwid.Inventory) bool {
	have := map[hwid.Class]bool{}
	for _, c := range current.Components {
		have[c.Class] = true
	}
	absent := 0
	for c, v := range p.Votes {
		if !have[c] {
			absent += v
		}
	}
	return absent >= p.Required(current.Dockable)
}
