package licence

import (
	"fmt"
	"time"

	"github.com/oemact/oemact/oemact/edition"
)

// Terms is what the model applies to one edition: how it is sold, what its KMS host counts, its
// grace periods and where it activates. 'oemact editions' lists them.
type Terms struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Release  edition.Release   `json:"release"`
	Channels []edition.Channel `json:"channels"`
	// SLICVersion is the SLIC marker version OEM Activation 2.x needs ("2.1"); "" for a release
	// that uses the MSDM of OA 3.0 instead.
	SLICVersion string `json:"slic_version,omitempty"`
	// KMSClass is what a KMS host counts the edition as ("client" or "server") and KMSThreshold how
	// many of that class it must have seen before it activates; both empty for editions without a
	// KMS client key.
	KMSClass     string `json:"kms_class,omitempty"`
	KMSThreshold int    `json:"kms_threshold,omitempty"`
	// GraceDays is the out-of-box grace; OOTGraceDays the grace after a hardware or firmware
	// change; NonGenuineGraceDays after a blocked key; KMSGraceDays after a KMS activation expires
	// (volume editions only).
	GraceDays           int `json:"grace_days"`
	OOTGraceDays        int `json:"oot_grace_days"`
	NonGenuineGraceDays int `json:"non_genuine_grace_days"`
	KMSGraceDays        int `json:"kms_grace_days,omitempty"`
	MaxRearms           int `json:"max_rearms"`
	// Markets are the countries (ISO 3166-1 alpha-2) where the edition activates; empty: all.
	Markets []string `json:"markets,omitempty"`
}

// EditionTerms returns the terms of every edition under cfg, sorted by edition ID.
func EditionTerms(cfg Config) []Terms {
	var out []Terms
	for _, ed := range edition.All() {
		rel := ed.ReleaseInfo()
		t := Terms{ID: ed.ID, Name: ed.Name, Release: ed.Release, Channels: ed.Channels, Markets: ed.Markets,
			GraceDays: days(cfg.InitialGrace), OOTGraceDays: days(cfg.OOTGrace), NonGenuineGraceDays: days(cfg.NonGenuineGrace),
			MaxRearms: cfg.MaxRearms}
		if rel.SLICVersion != 0 {
			t.SLICVersion = fmt.Sprintf("%d.%d", rel.SLICVersion>>16, rel.SLICVersion&0xFFFF)
		}
		if ed.Allows(edition.VolumeGVLK) {
			t.KMSClass, t.KMSThreshold, t.KMSGraceDays = "client", rel.KMSThreshold, days(cfg.KMSGrace)
			if rel.Server {
				t.KMSClass = "server"
			}
		}
		out = append(out, t)
	}
	return out
}

// days counts whole days, as the grace periods are given.
func days(d time.Duration) int { return int(d / Day) }
