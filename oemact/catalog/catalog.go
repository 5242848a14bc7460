// Package catalog is the catalog of TEST product keys: each key's label, channel, edition and
// what the emulated service knows of it (OEM ID, MAK pool, blocked), read from YAML or the
// compact wire form the guest agent gets. Keys are derived from their labels
// (firmware/productkey.Derive), so a real key cannot be slipped in.
package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/oemact/oemact/firmware/fileio"
	"github.com/oemact/oemact/firmware/productkey"
	"github.com/oemact/oemact/oemact/edition"
	"go.yaml.in/yaml/v3"
)

// Entry is one TEST key of the catalog.
type Entry struct {
	Key     productkey.Key
	Channel edition.Channel
	Edition edition.Edition
	// OEMID is, for OEM:SLP keys, the OEM (as in the SLIC marker's OEM ID) whose SLP key it is.
	OEMID string
	// MAKLimit is, for Volume:MAK keys, how many activations the key's pool holds.
	MAKLimit int
	// Blocked keys activate into non-genuine grace (the service has blocked them).
	Blocked bool
	Note    string
	// Label is what the key is derived from (see Derive).
	Label string
	// Line is where the entry starts in the catalog file.
	Line int
}

// Catalog maps TEST keys to what they license.
type Catalog struct {
	Path    string
	entries map[string]*Entry
	order   []*Entry
}

type rawCatalog struct {
	Keys []rawEntry `yaml:"keys"`
}

type rawEntry struct {
	Label    string `yaml:"label" json:"label"`
	Key      string `yaml:"key" json:"key"`
	Channel  string `yaml:"channel" json:"channel"`
	Edition  string `yaml:"edition" json:"edition"`
	OEMID    string `yaml:"oem_id" json:"oem_id,omitempty"`
	MAKLimit int    `yaml:"mak_limit" json:"mak_limit,omitempty"`
	Blocked  bool   `yaml:"blocked" json:"blocked,omitempty"`
	Note     string `yaml:"note" json:"note,omitempty"`
}

// LoadCatalog reads a catalog file; errors name the file and line.
func Load(path string) (*Catalog, error) {
	b, err := fileio.ReadFile(path, fileio.YAMLLimit)
	if err != nil {
		return nil, fmt.Errorf("key catalog: %w", err)
	}
	c, err := Parse(b, path)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ParseCatalog reads a catalog from YAML; name is used in errors.
func Parse(b []byte, name string) (*Catalog, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty key catalog", name)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	// One parse: the node tree gives the lines and, checked against the known fields, the
	// strictness a second, KnownFields decoding would (the guest agent parses the catalog at every
	// boot, under emulation).
	if err := knownFields(&doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var raw rawCatalog
	if err := doc.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return build(raw.Keys, entryLines(&doc), name)
}

// build checks the entries and makes the catalog; lines[i] is entry i's line in the file.
func build(keys []rawEntry, lines []int, name string) (*Catalog, error) {
	c := &Catalog{Path: name, entries: map[string]*Entry{}}
	for i, r := range keys {
		line := 0
		if i < len(lines) {
			line = lines[i]
		}
		e, err := r.entry(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		if prev, dup := c.entries[e.Key.Reveal()]; dup {
			return nil, fmt.Errorf("%s:%d: key %s already listed at line %d", name, line, e.Key.Masked(), prev.Line)
		}
		c.entries[e.Key.Reveal()] = e
		c.order = append(c.order, e)
	}
	return c, nil
}

// entryLines returns the line of each item of the top-level "keys" sequence.
func entryLines(doc *yaml.Node) []int {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "keys" {
			var out []int
			for _, item := range m.Content[i+1].Content {
				out = append(out, item.Line)
			}
			return out
		}
	}
	return nil
}

func (r rawEntry) entry(line int) (*Entry, error) {
	k, err := productkey.Parse(r.Key)
	if err != nil {
		return nil, err
	}
	if r.Label == "" {
		return nil, fmt.Errorf("key %s: label is missing (catalog keys must be productkey.Derive(label))", k.Masked())
	}
	if productkey.Derive(r.Label) != k {
		return nil, fmt.Errorf("key %s is not the TEST key derived from label %q; only derived test keys are allowed", k.Masked(), r.Label)
	}
	ch, err := edition.ParseChannel(r.Channel)
	if err != nil {
		return nil, err
	}
	ed, err := edition.Lookup(r.Edition)
	if err != nil {
		return nil, err
	}
	if !ed.Allows(ch) {
		return nil, fmt.Errorf("key %s: %s is not sold through channel %s", k.Masked(), ed.Name, ch)
	}
	e := &Entry{Key: k, Channel: ch, Edition: ed, OEMID: r.OEMID, MAKLimit: r.MAKLimit, Blocked: r.Blocked, Note: r.Note, Label: r.Label, Line: line}
	switch {
	case ch == edition.OEMSLP && r.OEMID == "":
		return nil, fmt.Errorf("key %s: an OEM:SLP key needs oem_id (the OEM ID of its SLIC marker)", k.Masked())
	case ch != edition.OEMSLP && r.OEMID != "":
		return nil, fmt.Errorf("key %s: oem_id is only for OEM:SLP keys", k.Masked())
	case len(r.OEMID) > 6:
		return nil, fmt.Errorf("key %s: oem_id %q is longer than the 6 bytes of an ACPI OEM ID", k.Masked(), r.OEMID)
	case ch == edition.VolumeMAK && r.MAKLimit <= 0:
		return nil, fmt.Errorf("key %s: a Volume:MAK key needs mak_limit > 0", k.Masked())
	case ch != edition.VolumeMAK && r.MAKLimit != 0:
		return nil, fmt.Errorf("key %s: mak_limit is only for Volume:MAK keys", k.Masked())
	}
	return e, nil
}

// Lookup finds a key. The error never contains the whole key.
func (c *Catalog) Lookup(k productkey.Key) (*Entry, error) {
	if e, ok := c.entries[k.Reveal()]; ok {
		return e, nil
	}
	return nil, fmt.Errorf("key %s is not in the catalog %s", k.Masked(), c.Path)
}

// Entries returns every entry in file order.
func (c *Catalog) Entries() []*Entry { return append([]*Entry(nil), c.order...) }

// Find returns the entries for a channel and edition (either may be empty to match all), sorted
// by line, so tests and scenarios can ask for "a MAK key for Windows 7 Professional".
func (c *Catalog) Find(ch edition.Channel, editionID string) []*Entry {
	var out []*Entry
	for _, e := range c.order {
		if ch != "" && e.Channel != ch {
			continue
		}
		if editionID != "" && !strings.EqualFold(e.Edition.ID, editionID) {
			continue
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out
}

var (
	catalogFields = map[string]bool{"keys": true}
	entryFields   = map[string]bool{"label": true, "key": true, "channel": true, "edition": true,
		"oem_id": true, "mak_limit": true, "blocked": true, "note": true}
)

// knownFields rejects mapping keys the catalog does not have, as yaml's KnownFields does.
func knownFields(doc *yaml.Node) error {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil // doc.Decode reports the type error
	}
	check := func(m *yaml.Node, known map[string]bool, what string) error {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if k := m.Content[i]; !known[k.Value] {
				return fmt.Errorf("line %d: field %s not found in %s", k.Line, k.Value, what)
			}
		}
		return nil
	}
	if err := check(top, catalogFields, "the catalog"); err != nil {
		return err
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value != "keys" || top.Content[i+1].Kind != yaml.SequenceNode {
			continue
		}
		for _, item := range top.Content[i+1].Content {
			if item.Kind == yaml.MappingNode {
				if err := check(item, entryFields, "a catalog entry"); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Wire is the catalog in a compact JSON form with the keys whole, for handing a catalog to the
// guest agent (it is the same TEST data as the YAML file, which YAML parsing makes slow to read at
// every boot under emulation). ParseWire reads it back with every check the YAML loader makes.
func (c *Catalog) Wire() ([]byte, error) {
	raw := make([]rawEntry, len(c.order))
	for i, e := range c.order {
		raw[i] = rawEntry{Label: e.Label, Key: e.Key.Reveal(), Channel: string(e.Channel), Edition: e.Edition.ID,
			OEMID: e.OEMID, MAKLimit: e.MAKLimit, Blocked: e.Blocked, Note: e.Note}
	}
	return json.Marshal(struct {
		Path string     `json:"path"`
		Keys []rawEntry `json:"keys"`
	}{c.Path, raw})
}

// ParseWire reads what Wire wrote; entries are numbered from 1 in errors.
func ParseWire(b []byte) (*Catalog, error) {
	var w struct {
		Path string     `json:"path"`
		Keys []rawEntry `json:"keys"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("key catalog (wire form): %w", err)
	}
	lines := make([]int, len(w.Keys))
	for i := range lines {
		lines[i] = i + 1
	}
	return build(w.Keys, lines, w.Path)
}
