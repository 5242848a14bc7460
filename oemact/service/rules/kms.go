package rules

import (
	"fmt"
	"sort"
	"time"

	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/service/api"
)

// KMSClient is a client machine ID the KMS host has seen, with its latest request time.
type KMSClient struct {
	CMID     string
	LastSeen time.Time
}

// KMSDecision is the host's answer to one request and its new list of clients.
type KMSDecision struct {
	Activated  bool
	Code       string
	Message    string
	Count      int
	Threshold  int
	ValidUntil time.Time // zero unless activated
	// Clients is the host's list after the request: at most Keep, most recent first.
	Clients []KMSClient
	// Dropped lists the client IDs the host forgot (outside the window, or beyond Keep).
	Dropped []string
}

// CheckKMSEdition refuses editions that are not licensed through KMS.
func CheckKMSEdition(ed edition.Edition) error {
	if !ed.Allows(edition.VolumeGVLK) {
		return refuse(api.CodeNotVolumeEdition, "%s is not a volume-licensed edition: it cannot activate against a KMS host", ed.Name)
	}
	return nil
}

// KMS decides one KMS request at time now, from the host's clients (any order). The count is the
// number of distinct client IDs whose latest request is within the window before now (a client
// silent for longer drops out), this one included; the host keeps at most cfg.Keep of them, the
// most recent. A client activates when the count reaches its release's threshold (25 for client
// releases, 5 for servers); Windows 7 volume editions also need a Windows marker in the BIOS. The
// request counts in either case: the host saw the machine.
func KMS(cfg KMSConfig, clients []KMSClient, cmid string, ed edition.Edition, markerPresent bool, now time.Time) KMSDecision {
	cutoff := now.Add(-cfg.Window)
	var out []KMSClient
	var dropped []string
	own := now
	for _, c := range clients {
		if c.CMID == cmid {
			if c.LastSeen.After(own) {
				own = c.LastSeen // a request never moves a client's time back
			}
			continue
		}
		if !c.LastSeen.After(cutoff) {
			dropped = append(dropped, c.CMID)
			continue
		}
		out = append(out, c)
	}
	out = append(out, KMSClient{CMID: cmid, LastSeen: own})
	sort.Slice(out, func(i, j int) bool {
		if !out[i].LastSeen.Equal(out[j].LastSeen) {
			return out[i].LastSeen.After(out[j].LastSeen)
		}
		return out[i].CMID < out[j].CMID
	})
	if len(out) > cfg.Keep {
		for _, c := range out[cfg.Keep:] {
			dropped = append(dropped, c.CMID)
		}
		out = out[:cfg.Keep]
	}
	count := 0
	for _, c := range out {
		if c.LastSeen.After(cutoff) {
			count++
		}
	}
	info := ed.ReleaseInfo()
	d := KMSDecision{Count: count, Threshold: info.KMSThreshold, Clients: out, Dropped: dropped}
	switch {
	case count < info.KMSThreshold:
		d.Code = api.CodeKMSBelowThreshold
		d.Message = fmt.Sprintf("the KMS host has seen %d distinct clients in %d days; %s activates from %d", count, int(cfg.Window/day), info.Name, info.KMSThreshold)
	case ed.Release == edition.Win7 && !markerPresent:
		d.Code = api.CodeKMSMarkerRequired
		d.Message = fmt.Sprintf("%s volume editions use KMS only on a machine whose BIOS carries a Windows marker", info.Name)
	default:
		d.Activated = true
		d.Code = api.CodeKMSActivated
		d.ValidUntil = now.Add(cfg.Validity)
		d.Message = fmt.Sprintf("activated by the KMS host for %d days (count %d, threshold %d)", int(cfg.Validity/day), count, info.KMSThreshold)
	}
	return d
}
