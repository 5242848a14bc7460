// Package hwid is the hardware identity of the activation model: an inventory of components with
// one digest each, policies that decide whether a machine is still "the same hardware", and a diff
// that explains the verdict.
//
// The policies are a model of the published Windows XP activation rules, labelled as such; they are
// not Windows' algorithm. Collecting an inventory from a running system is in collect.go.
package hwid

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
)

// Class is a kind of hardware component.
type Class string

const (
	NIC               Class = "nic"                // network adapter MAC address
	Disk              Class = "disk"               // disk serial or device id
	Memory            Class = "memory"             // installed memory, as a range
	CPU               Class = "cpu"                // processor model and count
	Display           Class = "display"            // display adapter (PCI vendor:device)
	StorageController Class = "storage_controller" // disk controller (PCI vendor:device)
	System            Class = "system"             // SMBIOS system UUID and serial number
	Board             Class = "board"              // SMBIOS baseboard manufacturer, product, serial
	BIOS              Class = "bios"               // SMBIOS BIOS vendor and version
	TPM               Class = "tpm"                // TPM endorsement key (digest of the EK public area)
)

// Classes lists every class in a fixed order, used for stable output.
var Classes = []Class{NIC, Disk, Memory, CPU, Display, StorageController, System, Board, BIOS, TPM}

// Component is one piece of hardware. Value is the raw identifier as read on the machine; it stays
// local (JSON omits it when empty) and only Digest is sent to an activation service. Source says
// where Collect read it (a file under /proc or /sys); it stays local too.
type Component struct {
	Class  Class  `json:"class"`
	Value  string `json:"value,omitempty"`
	Digest string `json:"digest"`
	Source string `json:"source,omitempty"`
}

// NewComponent makes a component and its digest: the first 8 bytes of SHA-256 over the class
// and the value, in hex. Values are compared after trimming spaces and folding case.
func NewComponent(c Class, value string) Component {
	return Component{Class: c, Value: value, Digest: Digest(c, value)}
}

// Digest returns the digest NewComponent gives a value.
func Digest(c Class, value string) string {
	norm := strings.ToLower(strings.TrimSpace(value))
	sum := sha256.Sum256([]byte("oemact hwid\x00" + string(c) + "\x00" + norm))
	return hex.EncodeToString(sum[:8])
}

// Inventory is a machine's hardware identity.
type Inventory struct {
	Components []Component `json:"components"`
	// Dockable machines (laptops, from the SMBIOS chassis type) get a looser tolerance.
	Dockable bool `json:"dockable"`
	// Notes are what Collect could not read (a file that exists but is unreadable); local only.
	Notes []string `json:"notes,omitempty"`
}

// Add appends a component with its digest.
func (inv *Inventory) Add(c Class, value string) {
	inv.Components = append(inv.Components, NewComponent(c, value))
}

// Digests groups the digests by class, each list sorted.
func (inv Inventory) Digests() map[Class][]string {
	out := map[Class][]string{}
	for _, c := range inv.Components {
		out[c.Class] = append(out[c.Class], c.Digest)
	}
	for k := range out {
		sort.Strings(out[k])
	}
	return out
}

// Redacted returns a copy without raw values: what may leave the machine.
func (inv Inventory) Redacted() Inventory {
	out := Inventory{Dockable: inv.Dockable, Components: make([]Component, len(inv.Components))}
	for i, c := range inv.Components {
		out.Components[i] = Component{Class: c.Class, Digest: c.Digest}
	}
	return out
}

// Policy decides whether a machine is in tolerance of the hardware it was activated on. Each class
// has a number of votes; a class keeps its votes while one of its baseline digests is still
// present. The machine is in tolerance while the matching votes are at least MinMatching
// (MinMatchingDockable for dockable machines). Classes not listed carry no votes.
type Policy struct {
	Name                string        `json:"name"`
	Description         string        `json:"description"`
	Votes               map[Class]int `json:"votes"`
	MinMatching         int           `json:"min_matching"`
	MinMatchingDockable int           `json:"min_matching_dockable"`
}

// Total is the sum of the policy's votes.
func (p Policy) Total() int {
	n := 0
	for _, v := range p.Votes {
		n += v
	}
	return n
}

// Required returns the matching votes needed for an inventory.
func (p Policy) Required(dockable bool) int {
	if dockable {
		return p.MinMatchingDockable
	}
	return p.MinMatching
}

// Validate checks that a policy can be met at all.
func (p Policy) Validate() error {
	t := p.Total()
	switch {
	case t <= 0:
		return fmt.Errorf("hwid policy %q: no votes", p.Name)
	case p.MinMatching <= 0 || p.MinMatching > t:
		return fmt.Errorf("hwid policy %q: min_matching %d must be between 1 and the %d votes", p.Name, p.MinMatching, t)
	case p.MinMatchingDockable <= 0 || p.MinMatchingDockable > t:
		return fmt.Errorf("hwid policy %q: min_matching_dockable %d must be between 1 and the %d votes", p.Name, p.MinMatchingDockable, t)
	}
	for c, v := range p.Votes {
		if v < 0 {
			return fmt.Errorf("hwid policy %q: class %s has negative votes", p.Name, c)
		}
	}
	return nil
}

// VotePolicy is the default: the published Windows XP activation model (10 votes, the network
// adapter worth 3; in tolerance while at least 7 match, 4 on dockable machines). The classes are
// this model's choice of what a VM can change. It is a model, not Windows' algorithm.
var VotePolicy = Policy{
	Name:        "vote",
	Description: "model of the published Windows XP rule: 10 votes, NIC worth 3, 7 must match (4 if dockable)",
	Votes: map[Class]int{
		NIC: 3, Disk: 1, Memory: 1, CPU: 1, Display: 1, StorageController: 1, System: 1, BIOS: 1,
	},
	MinMatching:         7,
	MinMatchingDockable: 4,
}

// KMSPolicy weighs disk changes most, as KMS clients do: a disk swap alone takes a KMS client out
// of tolerance. Same 10 votes and thresholds as VotePolicy; a model, not Windows' algorithm.
var KMSPolicy = Policy{
	Name:        "kms-disk",
	Description: "KMS client model: 10 votes, disk worth 4, 7 must match (4 if dockable)",
	Votes: map[Class]int{
		Disk: 4, NIC: 1, Memory: 1, CPU: 1, Display: 1, StorageController: 1, System: 1,
	},
	MinMatching:         7,
	MinMatchingDockable: 4,
}

// Policies lists the built-in policies by name.
var Policies = map[string]Policy{VotePolicy.Name: VotePolicy, KMSPolicy.Name: KMSPolicy}

// LookupPolicy finds a built-in policy.
func LookupPolicy(name string) (Policy, error) {
	if p, ok := Policies[name]; ok {
		return p, nil
	}
	names := make([]string, 0, len(Policies))
	for n := range Policies {
		names = append(names, n)
	}
	sort.Strings(names)
	return Policy{}, fmt.Errorf("unknown hwid policy %q (known: %s)", name, strings.Join(names, ", "))
}

// Change is one class whose baseline digests are all gone.
type Change struct {
	Class Class    `json:"class"`
	Votes int      `json:"votes"`
	Old   []string `json:"old"`
	New   []string `json:"new"`
}

// Diff is the verdict of comparing an inventory with the baseline taken at activation.
type Diff struct {
	Policy      string `json:"policy"`
	Total       int    `json:"total_votes"`
	Matching    int    `json:"matching_votes"`
	Lost        int    `json:"lost_votes"`
	Required    int    `json:"required_votes"`
	Remaining   int    `json:"remaining_votes"` // votes that can still be lost before tolerance is exceeded
	InTolerance bool   `json:"in_tolerance"`
	// Dockable: the current inventory counted as dockable, which chose Required.
	Dockable bool     `json:"dockable"`
	Changes  []Change `json:"changes"`
}

// Compare measures current against the baseline recorded at the last activation. Because the
// baseline only moves at reactivation, changes accumulate: a NIC swap one week and a disk swap the
// next lose 4 votes together. The dockable flag of the current inventory chooses the threshold.
func (p Policy) Compare(baseline, current Inventory) Diff {
	old, cur := baseline.Digests(), current.Digests()
	d := Diff{Policy: p.Name, Total: p.Total(), Required: p.Required(current.Dockable), Dockable: current.Dockable}
	for _, c := range Classes {
		votes := p.Votes[c]
		if votes == 0 {
			continue
		}
		if sameClass(old[c], cur[c]) {
			d.Matching += votes
			continue
		}
		d.Lost += votes
		d.Changes = append(d.Changes, Change{Class: c, Votes: votes, Old: old[c], New: cur[c]})
	}
	d.InTolerance = d.Matching >= d.Required
	d.Remaining = d.Matching - d.Required
	if d.Remaining < 0 {
		d.Remaining = 0
	}
	return d
}

// sameClass: a class matches when any baseline digest is still present, or when it had no
// component in either inventory (a machine without a display adapter keeps that vote).
func sameClass(old, cur []string) bool {
	if len(old) == 0 && len(cur) == 0 {
		return true
	}
	for _, o := range old {
		for _, c := range cur {
			if o == c {
				return true
			}
		}
	}
	return false
}

// String explains the verdict in one line, e.g.
// "out of tolerance: 6 of 10 votes match, 7 required; changed: nic (3), disk (1)".
func (d Diff) String() string {
	verdict := "in tolerance"
	if !d.InTolerance {
		verdict = "out of tolerance"
	}
	s := fmt.Sprintf("%s: %d of %d votes match, %d required", verdict, d.Matching, d.Total, d.Required)
	if d.InTolerance {
		s += fmt.Sprintf(", %d more may be lost", d.Remaining)
	}
	if len(d.Changes) > 0 {
		parts := make([]string, len(d.Changes))
		for i, c := range d.Changes {
			parts[i] = fmt.Sprintf("%s (%d)", c.Class, c.Votes)
		}
		s += "; changed: " + strings.Join(parts, ", ")
	}
	return s
}

// Votes spells out the vote arithmetic behind the verdict, e.g. "vote policy: 4 of 10 votes lost
// (nic 3 + disk 1), 6 match, 7 required (not dockable): out of tolerance".
func (d Diff) Votes() string {
	lost := make([]string, len(d.Changes))
	for i, c := range d.Changes {
		lost[i] = fmt.Sprintf("%s %d", c.Class, c.Votes)
	}
	s := fmt.Sprintf("%s policy: %d of %d votes lost", d.Policy, d.Lost, d.Total)
	if len(lost) > 0 {
		s += " (" + strings.Join(lost, " + ") + ")"
	}
	dock := "not dockable"
	if d.Dockable {
		dock = "dockable"
	}
	verdict := "in tolerance"
	if !d.InTolerance {
		verdict = "out of tolerance"
	}
	return fmt.Sprintf("%s, %d match, %d required (%s): %s", s, d.Matching, d.Required, dock, verdict)
}

// MemoryRange buckets installed memory (MemTotal in KiB) into power-of-two ranges, so that the
// few MB the kernel reserves do not count as a change but a new DIMM does. QEMU guests see about
// 32 MB less than -m: 256 MB gives "128MiB-256MiB", 512 MB gives "256MiB-512MiB".
func MemoryRange(kib uint64) string {
	mib := kib / 1024
	if mib == 0 {
		return "0MiB-1MiB"
	}
	lo := uint64(1)
	for lo*2 <= mib {
		lo *= 2
	}
	return fmt.Sprintf("%s-%s", sizeName(lo), sizeName(lo*2))
}

func sizeName(mib uint64) string {
	if mib >= 1024 && mib%1024 == 0 {
		return fmt.Sprintf("%dGiB", mib/1024)
	}
	return fmt.Sprintf("%dMiB", mib)
}
