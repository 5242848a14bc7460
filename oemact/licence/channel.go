package licence

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/hwid"
)

// OEMBoardPolicy binds an OEM:SLP licence to its system board: the SMBIOS baseboard is the one
// component that counts, so disk, NIC, memory, CPU and display swaps never touch the licence, and
// a new board takes it out of tolerance. (The marker itself is checked apart, at every boot.) This
// follows the OEM licence terms, which tie the licence to the motherboard; it is the model's
// rule, not Windows' algorithm.
var OEMBoardPolicy = hwid.Policy{
	Name:                "oem-board",
	Description:         "OEM:SLP model: bound to the system board and the firmware marker; other components do not count",
	Votes:               map[hwid.Class]int{hwid.Board: 1},
	MinMatching:         1,
	MinMatchingDockable: 1,
}

// Path is how a channel's licence becomes activated.
type Path string

const (
	PathService  Path = "service"  // online or by telephone, answered by the activation service
	PathFirmware Path = "firmware" // offline at every boot, from the SLIC marker (OEM Activation 2.1)
	PathKMS      Path = "kms"      // from a KMS host on the organisation's network
)

// ActivationPath returns how a channel activates: Retail, OEM:COA, OEM:DM (the OA 3.0 key from the
// MSDM goes to the service) and Volume:MAK through the service; OEM:SLP from the firmware;
// Volume:GVLK from a KMS host.
func ActivationPath(ch edition.Channel) Path {
	switch ch {
	case edition.OEMSLP:
		return PathFirmware
	case edition.VolumeGVLK:
		return PathKMS
	}
	return PathService
}

// KMSNeedsMarker reports whether an edition's KMS clients need a Windows marker in the BIOS: the
// volume editions of Windows 7 are upgrades that need a qualifying OS, shown by the marker
// (DESIGN.md). Server 2008 R2 and older releases do not.
func KMSNeedsMarker(ed edition.Edition) bool { return ed.Release == edition.Win7 }

// KMSActivates applies the KMS threshold (oemact/edition: 25 for client releases, 5 for
// servers) to a host's count and explains the verdict.
func KMSActivates(ed edition.Edition, count int) (bool, string) {
	info := ed.ReleaseInfo()
	if count >= info.KMSThreshold {
		return true, fmt.Sprintf("the KMS host has counted %d machines; %s activates from %d", count, info.Name, info.KMSThreshold)
	}
	return false, fmt.Sprintf("the KMS host has counted %d machines; %s needs %d before it activates clients", count, info.Name, info.KMSThreshold)
}

// KMSAnswerFor is the answer a KMS host with the given count gives a client of the edition, by
// the model's rules (threshold only; the marker rule is the client's, see Machine.KMSResponse).
// The validity, renewal and retry numbers are the config's.
func KMSAnswerFor(ed edition.Edition, count int) KMSAnswer {
	ok, why := KMSActivates(ed, count)
	a := KMSAnswer{Reached: true, Count: count, Activated: ok, Message: why}
	if !ok {
		a.Code = CodeKMSCountLow
	}
	return a
}

// CountryRange maps an address prefix to a country (ISO 3166-1 alpha-2).
type CountryRange struct {
	Prefix  netip.Prefix `json:"prefix"`
	Country string       `json:"country"`
}

// CountryTable is the caller's IP-to-country table. The longest matching prefix wins.
type CountryTable []CountryRange

// DefaultCountries is the model's default table. It maps only the documentation ranges
// (RFC 5737, RFC 3849), so no test or scenario ever states where a real address is:
// 192.0.2.0/24 is India and 198.51.100.0/24 Brazil (both Windows 7 Starter markets in
// edition.StarterMarkets), 203.0.113.0/24 the United States and 2001:db8::/32 Germany (both
// outside them). Every other address has no country. Pass your own table to use real data.
var DefaultCountries = CountryTable{
	{netip.MustParsePrefix("192.0.2.0/24"), "IN"},
	{netip.MustParsePrefix("198.51.100.0/24"), "BR"},
	{netip.MustParsePrefix("203.0.113.0/24"), "US"},
	{netip.MustParsePrefix("2001:db8::/32"), "DE"},
}

// Country returns the country of an address, by the longest matching prefix.
func (t CountryTable) Country(ip netip.Addr) (string, bool) {
	ip = ip.Unmap()
	best, country := -1, ""
	for _, r := range t {
		if r.Prefix.Contains(ip) && r.Prefix.Bits() > best {
			best, country = r.Prefix.Bits(), strings.ToUpper(r.Country)
		}
	}
	return country, best >= 0
}

// MarketError says why an edition may not activate from an address.
type MarketError struct {
	Edition string
	IP      netip.Addr
	Country string // empty when the table has no country for the address
	Markets []string
}

func (e *MarketError) Error() string {
	where := "an address whose country is unknown"
	if e.Country != "" {
		where = e.Country
	}
	return fmt.Sprintf("%s activates only in its target markets (%s); the request came from %s (%s)",
		e.Edition, strings.Join(e.Markets, ", "), e.IP, where)
}

// CheckMarket applies an edition's geography (Windows 7 Starter: edition.StarterMarkets), judged
// by the request's IP through the caller's table. An address with no country is refused: the
// model's choice, since a market-restricted edition cannot show it is in its market.
func CheckMarket(ed edition.Edition, ip netip.Addr, table CountryTable) error {
	if len(ed.Markets) == 0 {
		return nil
	}
	country, ok := table.Country(ip)
	if ok && slices.ContainsFunc(ed.Markets, func(m string) bool { return strings.EqualFold(m, country) }) {
		return nil
	}
	return &MarketError{Edition: ed.Name, IP: ip, Country: country, Markets: ed.Markets}
}
