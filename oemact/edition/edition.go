// Package edition lists the Windows releases and editions that the activation model knows, the
// licence channels each edition allows, and the per-release numbers (SLIC version, KMS threshold).
//
// It is reference data only; the rules that use it live in the model packages.
package edition

import (
	"fmt"
	"sort"
	"strings"
)

// Release is a Windows release, by its short ID ("win7").
type Release string

const (
	Vista        Release = "vista"
	Server2008   Release = "server2008"
	Win7         Release = "win7"
	Server2008R2 Release = "server2008r2"
	Win8         Release = "win8"
)

// SLIC marker versions (SLICVersion field of the Windows marker).
const (
	SLIC20 uint32 = 0x00020000 // OEM Activation 2.0: Windows Vista / Server 2008
	SLIC21 uint32 = 0x00020001 // OEM Activation 2.1: Windows 7 / Server 2008 R2
)

// ReleaseInfo holds the numbers the model uses for a release. Sources: DESIGN.md's activation
// model (SLIC 2.0 for Vista/2008, 2.1 for Windows 7/2008 R2; KMS thresholds 25 clients, 5 servers).
type ReleaseInfo struct {
	ID   Release `json:"id"`
	Name string  `json:"name"`
	// Server releases count towards the KMS server threshold.
	Server bool `json:"server"`
	// SLICVersion is the lowest SLIC marker version that OEM Activation 2.x accepts for the
	// release; 0 when the release does not use SLIC (Windows 8 uses the MSDM of OA 3.0).
	SLICVersion uint32 `json:"slic_version"`
	// KMSThreshold is how many distinct clients a KMS host must have seen in its window before
	// it activates clients of this release.
	KMSThreshold int `json:"kms_threshold"`
	// Version is the release's version and build number as Windows reports it (the first
	// release-to-manufacturing build): what an activation request carries as its software version.
	Version string `json:"version"`
}

var releases = []ReleaseInfo{
	{ID: Vista, Name: "Windows Vista", SLICVersion: SLIC20, KMSThreshold: 25, Version: "6.0.6000"},
	{ID: Server2008, Name: "Windows Server 2008", Server: true, SLICVersion: SLIC20, KMSThreshold: 5, Version: "6.0.6001"},
	{ID: Win7, Name: "Windows 7", SLICVersion: SLIC21, KMSThreshold: 25, Version: "6.1.7600"},
	{ID: Server2008R2, Name: "Windows Server 2008 R2", Server: true, SLICVersion: SLIC21, KMSThreshold: 5, Version: "6.1.7600"},
	{ID: Win8, Name: "Windows 8", KMSThreshold: 25, Version: "6.2.9200"},
}

var releaseAliases = map[string]Release{
	"windows7": Win7, "win2008r2": Server2008R2, "2008r2": Server2008R2,
	"win2008": Server2008, "2008": Server2008, "windowsvista": Vista, "windows8": Win8,
}

// Releases returns every release the model knows, oldest first.
func Releases() []ReleaseInfo { return append([]ReleaseInfo(nil), releases...) }

// LookupRelease finds a release by ID or a common alias, case-insensitively.
func LookupRelease(s string) (ReleaseInfo, error) {
	k := strings.ToLower(strings.NewReplacer(" ", "", "-", "", "_", "").Replace(s))
	if r, ok := releaseAliases[k]; ok {
		k = string(r)
	}
	for _, r := range releases {
		if string(r.ID) == k {
			return r, nil
		}
	}
	ids := make([]string, len(releases))
	for i, r := range releases {
		ids[i] = string(r.ID)
	}
	return ReleaseInfo{}, fmt.Errorf("unknown Windows release %q (known: %s)", s, strings.Join(ids, ", "))
}

// Info returns the release's numbers; it panics only on a Release constant that is not listed,
// which is a programming error.
func (r Release) Info() ReleaseInfo {
	info, err := LookupRelease(string(r))
	if err != nil {
		panic(err)
	}
	return info
}

// Channel is how a licence was sold, which decides how it activates.
type Channel string

const (
	Retail     Channel = "Retail"      // one key per copy; online or telephone activation
	OEMSLP     Channel = "OEM:SLP"     // System-Locked Pre-installation: OA 2.x, bound to the SLIC
	OEMCOA     Channel = "OEM:COA"     // OEM key on the Certificate of Authenticity: activates like retail
	OEMDM      Channel = "OEM:DM"      // OA 3.0: per-device key in the MSDM table
	VolumeGVLK Channel = "Volume:GVLK" // KMS client key
	VolumeMAK  Channel = "Volume:MAK"  // Multiple Activation Key: a pool of activations
)

var channels = []Channel{Retail, OEMSLP, OEMCOA, OEMDM, VolumeGVLK, VolumeMAK}

// Channels returns every channel.
func Channels() []Channel { return append([]Channel(nil), channels...) }

// ParseChannel reads a channel name as Windows' slmgr prints it ("OEM:SLP"), case-insensitively.
func ParseChannel(s string) (Channel, error) {
	for _, c := range channels {
		if strings.EqualFold(s, string(c)) {
			return c, nil
		}
	}
	names := make([]string, len(channels))
	for i, c := range channels {
		names[i] = string(c)
	}
	return "", fmt.Errorf("unknown licence channel %q (known: %s)", s, strings.Join(names, ", "))
}

// Family groups channels: "retail", "oem" or "volume".
func (c Channel) Family() string {
	switch c {
	case Retail:
		return "retail"
	case OEMSLP, OEMCOA, OEMDM:
		return "oem"
	case VolumeGVLK, VolumeMAK:
		return "volume"
	}
	return ""
}

// Edition is one Windows edition.
type Edition struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Release  Release   `json:"release"`
	Channels []Channel `json:"channels"`
	// Markets limits activation to these countries (ISO 3166-1 alpha-2), judged by the
	// activation request's IP; empty means everywhere.
	Markets []string `json:"markets,omitempty"`
}

// Allows reports whether the edition can be licensed through the channel.
func (e Edition) Allows(c Channel) bool {
	for _, x := range e.Channels {
		if x == c {
			return true
		}
	}
	return false
}

// VolumeOnly reports whether the edition is sold only through volume licensing.
func (e Edition) VolumeOnly() bool {
	for _, c := range e.Channels {
		if c.Family() != "volume" {
			return false
		}
	}
	return len(e.Channels) > 0
}

// StarterMarkets is the model's default list of target markets for Windows 7 Starter: a choice of
// this project, not Microsoft's list (which was never published as data). Override it per
// edition through the catalog's market settings where a test needs another list.
var StarterMarkets = []string{"BR", "CN", "ID", "IN", "MX", "PH", "RU", "TR", "VN", "ZA"}

var (
	consumer   = []Channel{Retail, OEMSLP, OEMCOA}
	business   = []Channel{Retail, OEMSLP, OEMCOA, VolumeGVLK, VolumeMAK}
	volumeOnly = []Channel{VolumeGVLK, VolumeMAK}
	server     = []Channel{Retail, OEMSLP, OEMCOA, VolumeGVLK, VolumeMAK}
	oemOnly    = []Channel{OEMSLP, OEMCOA}
)

var editions = []Edition{
	{ID: "vista-homebasic", Name: "Windows Vista Home Basic", Release: Vista, Channels: consumer},
	{ID: "vista-homepremium", Name: "Windows Vista Home Premium", Release: Vista, Channels: consumer},
	{ID: "vista-business", Name: "Windows Vista Business", Release: Vista, Channels: business},
	{ID: "vista-ultimate", Name: "Windows Vista Ultimate", Release: Vista, Channels: consumer},
	{ID: "vista-enterprise", Name: "Windows Vista Enterprise", Release: Vista, Channels: volumeOnly},
	{ID: "server2008-standard", Name: "Windows Server 2008 Standard", Release: Server2008, Channels: server},
	{ID: "server2008-enterprise", Name: "Windows Server 2008 Enterprise", Release: Server2008, Channels: server},
	{ID: "server2008-datacenter", Name: "Windows Server 2008 Datacenter", Release: Server2008, Channels: server},
	{ID: "win7-starter", Name: "Windows 7 Starter", Release: Win7, Channels: []Channel{Retail, OEMSLP, OEMCOA}, Markets: StarterMarkets},
	{ID: "win7-homebasic", Name: "Windows 7 Home Basic", Release: Win7, Channels: consumer},
	{ID: "win7-homepremium", Name: "Windows 7 Home Premium", Release: Win7, Channels: consumer},
	{ID: "win7-professional", Name: "Windows 7 Professional", Release: Win7, Channels: business},
	{ID: "win7-ultimate", Name: "Windows 7 Ultimate", Release: Win7, Channels: consumer},
	{ID: "win7-enterprise", Name: "Windows 7 Enterprise", Release: Win7, Channels: volumeOnly},
	{ID: "server2008r2-foundation", Name: "Windows Server 2008 R2 Foundation", Release: Server2008R2, Channels: oemOnly},
	{ID: "server2008r2-web", Name: "Windows Server 2008 R2 Web", Release: Server2008R2, Channels: server},
	{ID: "server2008r2-standard", Name: "Windows Server 2008 R2 Standard", Release: Server2008R2, Channels: server},
	{ID: "server2008r2-enterprise", Name: "Windows Server 2008 R2 Enterprise", Release: Server2008R2, Channels: server},
	{ID: "server2008r2-datacenter", Name: "Windows Server 2008 R2 Datacenter", Release: Server2008R2, Channels: server},
	{ID: "win8-core", Name: "Windows 8", Release: Win8, Channels: []Channel{Retail, OEMDM}},
	{ID: "win8-pro", Name: "Windows 8 Pro", Release: Win8, Channels: []Channel{Retail, OEMDM, VolumeGVLK, VolumeMAK}},
	{ID: "win8-enterprise", Name: "Windows 8 Enterprise", Release: Win8, Channels: volumeOnly},
}

// All returns every edition, sorted by ID.
func All() []Edition {
	out := append([]Edition(nil), editions...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Lookup finds an edition by ID ("win7-professional"), case-insensitively.
func Lookup(id string) (Edition, error) {
	for _, e := range editions {
		if strings.EqualFold(e.ID, id) {
			return e, nil
		}
	}
	return Edition{}, fmt.Errorf("unknown edition %q (run 'oemact editions' for the list)", id)
}

// ReleaseInfo returns the numbers of the edition's release.
func (e Edition) ReleaseInfo() ReleaseInfo { return e.Release.Info() }
