// Package geo maps a request's source address to a country with a table the operator configures:
// lines of "CIDR COUNTRY". It is how the emulated service applies the market limits of editions
// such as Windows 7 Starter; it is not a geolocation database.
package geo

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/oemact/oemact/firmware/fileio"
)

// DefaultCountry is the country the default table gives loopback and private addresses: a test
// lab is taken to be outside Windows 7 Starter's markets unless the operator says otherwise
// (`oemact serve --default-country IN`). This is the project's choice, not a measured fact.
const DefaultCountry = "US"

// LocalPrefixes are the ranges of the default table that map to its default country: loopback,
// RFC 1918 private ranges, IPv6 unique local addresses (RFC 4193).
var LocalPrefixes = []string{"127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7"}

// DocumentationCountries are the default table's other entries: the documentation ranges (RFC
// 5737, RFC 3849), which no real request comes from, each given a country so that tests and
// scenarios can place a machine (a scenario's ip:) without stating where any real address is.
// 192.0.2.0/24 and 198.51.100.0/24 are in Windows 7 Starter's markets (edition.StarterMarkets),
// 203.0.113.0/24 and 2001:db8::/32 outside them.
var DocumentationCountries = []struct{ Prefix, Country string }{
	{"192.0.2.0/24", "IN"},
	{"198.51.100.0/24", "BR"},
	{"203.0.113.0/24", "US"},
	{"2001:db8::/32", "DE"},
}

type entry struct {
	prefix  netip.Prefix
	country string
	source  string // "default" or file:line
}

// Table is an immutable CIDR to country table; the longest matching prefix wins.
type Table struct {
	entries []entry // longest prefix first
}

// Default returns the default table: LocalPrefixes map to country, DocumentationCountries to
// their own.
func Default(country string) (*Table, error) {
	if err := checkCountry(country); err != nil {
		return nil, fmt.Errorf("default country: %w", err)
	}
	t := &Table{}
	for _, p := range LocalPrefixes {
		t.entries = append(t.entries, entry{prefix: netip.MustParsePrefix(p), country: country, source: "default"})
	}
	for _, d := range DocumentationCountries {
		t.entries = append(t.entries, entry{prefix: netip.MustParsePrefix(d.Prefix), country: d.Country, source: "default"})
	}
	t.sort()
	return t, nil
}

// Load reads a table file and lays it over base (nil for none): a file line for the same prefix
// as a base entry replaces it, so a file can move loopback to another country.
func Load(path string, base *Table) (*Table, error) {
	b, err := fileio.ReadFile(path, fileio.YAMLLimit)
	if err != nil {
		return nil, fmt.Errorf("geo table: %w", err)
	}
	return Parse(b, path, base)
}

// Parse reads a table: one "CIDR COUNTRY" per line (ISO 3166-1 alpha-2, upper case), '#' starts
// a comment, blank lines are skipped. Errors give name:line.
func Parse(b []byte, name string, base *Table) (*Table, error) {
	t := &Table{}
	seen := map[netip.Prefix]int{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		f := strings.Fields(text)
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 {
			return nil, fmt.Errorf("%s:%d: want \"CIDR COUNTRY\", got %d fields", name, line, len(f))
		}
		p, err := netip.ParsePrefix(f[0])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, line, err)
		}
		if p != p.Masked() {
			return nil, fmt.Errorf("%s:%d: %s has host bits set; write %s", name, line, p, p.Masked())
		}
		if err := checkCountry(f[1]); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		if prev, dup := seen[p]; dup {
			return nil, fmt.Errorf("%s:%d: %s already mapped at line %d", name, line, p, prev)
		}
		seen[p] = line
		t.entries = append(t.entries, entry{prefix: p, country: f[1], source: fmt.Sprintf("%s:%d", name, line)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if base != nil {
		for _, e := range base.entries {
			if _, over := seen[e.prefix]; !over {
				t.entries = append(t.entries, e)
			}
		}
	}
	t.sort()
	return t, nil
}

func (t *Table) sort() {
	sort.SliceStable(t.entries, func(i, j int) bool { return t.entries[i].prefix.Bits() > t.entries[j].prefix.Bits() })
}

// Country returns the country of an address, and false when no entry covers it.
func (t *Table) Country(addr netip.Addr) (string, bool) {
	if t == nil {
		return "", false
	}
	addr = addr.Unmap()
	for _, e := range t.entries {
		if e.prefix.Contains(addr) {
			return e.country, true
		}
	}
	return "", false
}

// Len is the number of entries.
func (t *Table) Len() int { return len(t.entries) }

func checkCountry(c string) error {
	if len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' {
		return fmt.Errorf("country %q is not an upper-case ISO 3166-1 alpha-2 code", c)
	}
	return nil
}
