// Package catalog is the catalog of TEST product keys: each key's label, channel, edition and
// what the emulated service knows of it (OEM ID, MAK pool, blocked), read from YAML or the
// compact wire form the guest agent gets. Keys are derived from their labels
// (firmware/productkey.Derive), so a real key cannot be slipped in. It is not the key format
// (firmware/productkey) and holds no activation rules.
//
// # Labels
//
// A key is named by its label, and the label grammar (see Label) says what a label means:
//
//	retail/EDITION               a retail key
//	oem-slp/OEMID/EDITION        the OEM:SLP key of the OEM whose SLIC marker names OEMID
//	oem-coa/EDITION              an OEM key from a Certificate of Authenticity
//	oem-dm/EDITION               an OA 3.0 key, as an MSDM table carries it
//	gvlk/EDITION                 a KMS client key
//	mak/EDITION                  a Multiple Activation Key (its pool size comes from a catalog)
//
// with an optional /TAG at the end (retail/win7-ultimate/blocked). A catalog file lists keys
// with what a label cannot say (a MAK's pool, a blocked key). A label no file lists is still a
// valid TEST key when the grammar reads it and it has no tag and is not a MAK: its channel, OEM
// ID and edition are the label's. So oem-slp/NEWOEM/win7-professional is the TEST OEM:SLP key of
// OEM NEWOEM for any OEM ID, listed or not.
//
// Labels in a file may also be free names ("test key 1"); a file label that reads as the grammar
// must agree with its entry's channel, OEM ID and edition. Catalogs extend one another (Extend):
// a label defined twice is an error naming both places.
package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/oemact/oemact/firmware/fileio"
	"github.com/oemact/oemact/firmware/productkey"
	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/yamldoc"
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
	// Label is what the key is derived from (see productkey.Derive and Label).
	Label string
	// File and Line are where the entry is listed; File is "" for a key no catalog lists, which
	// the label grammar alone defines (see Catalog.Label).
	File string
	Line int
}

// Place says where the entry is defined: FILE:LINE, or that no catalog lists it.
func (e *Entry) Place() string {
	if e.File == "" {
		return "no catalog (the label grammar)"
	}
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	return e.File
}

// Catalog maps TEST keys to what they license.
type Catalog struct {
	// Path is the first file the catalog was read from; Sources names every one.
	Path    string
	files   []string
	entries map[string]*Entry // by the whole key
	labels  map[string]*Entry
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
	// File and Line travel in the wire form only.
	File string `yaml:"-" json:"file,omitempty"`
	Line int    `yaml:"-" json:"line,omitempty"`
}

// Load reads a catalog file; errors name the file and line.
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

// Parse reads a catalog from YAML; name is used in errors, which name the file, the line and
// the field (see yamldoc).
func Parse(b []byte, name string) (*Catalog, error) {
	var raw rawCatalog
	doc, err := yamldoc.Decode(b, name, &raw)
	if err != nil {
		var e *yamldoc.Error
		if errors.As(err, &e) && e.Msg == "empty document" {
			return nil, fmt.Errorf("%s: empty key catalog", name)
		}
		return nil, err
	}
	lines := make([]int, len(raw.Keys))
	for i := range lines {
		lines[i] = doc.Line(fmt.Sprintf("keys.%d", i))
	}
	return build(raw.Keys, lines, name)
}

// build checks the entries and makes the catalog; lines[i] is entry i's line in the file.
func build(keys []rawEntry, lines []int, name string) (*Catalog, error) {
	c := newCatalog(name)
	for i, r := range keys {
		line := 0
		if i < len(lines) {
			line = lines[i]
		}
		file := name
		if r.File != "" {
			file = r.File
		}
		e, err := r.entry(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, line, err)
		}
		e.File = file
		if err := c.add(e); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func newCatalog(name string) *Catalog {
	c := &Catalog{Path: name, entries: map[string]*Entry{}, labels: map[string]*Entry{}}
	if name != "" {
		c.files = []string{name}
	}
	return c
}

// add puts an entry in; a label or key that is already there is an error naming both places.
func (c *Catalog) add(e *Entry) error {
	if prev, dup := c.labels[e.Label]; dup {
		return fmt.Errorf("label %q is defined twice: at %s and at %s", e.Label, prev.Place(), e.Place())
	}
	if prev, dup := c.entries[e.Key.Reveal()]; dup {
		return fmt.Errorf("key %s is defined twice: at %s (label %q) and at %s (label %q)", e.Key.Masked(), prev.Place(), prev.Label, e.Place(), e.Label)
	}
	c.entries[e.Key.Reveal()] = e
	c.labels[e.Label] = e
	c.order = append(c.order, e)
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
	if err := e.agrees(); err != nil {
		return nil, err
	}
	return e, nil
}

// agrees checks that a label that reads as the grammar says what the entry says.
func (e *Entry) agrees() error {
	l, err := ParseLabel(e.Label)
	if err != nil {
		return nil // a free name
	}
	switch {
	case l.Channel != e.Channel:
		return fmt.Errorf("label %q names channel %s, the entry says %s", e.Label, l.Channel, e.Channel)
	case l.Edition.ID != e.Edition.ID:
		return fmt.Errorf("label %q names edition %s, the entry says %s", e.Label, l.Edition.ID, e.Edition.ID)
	case l.OEMID != e.OEMID:
		return fmt.Errorf("label %q names OEM ID %q, the entry says %q", e.Label, l.OEMID, e.OEMID)
	}
	return nil
}

// Lookup finds a key. The error never contains the whole key.
func (c *Catalog) Lookup(k productkey.Key) (*Entry, error) {
	if e, ok := c.entries[k.Reveal()]; ok {
		return e, nil
	}
	return nil, fmt.Errorf("key %s is not in the catalog (%s)", k.Masked(), c.Sources())
}

// Label finds the key a label names: the entry a catalog lists under it, or else, for a label the
// grammar reads (see Label) that has no tag and is not a MAK, the key the label alone defines
// (Entry.File is ""; Add puts such an entry in a catalog that must hand it on). Errors name the
// label as typed, and never a key: a product key given instead of a label is shown masked.
func (c *Catalog) Label(label string) (*Entry, error) {
	if e, ok := c.labels[label]; ok {
		return e, nil
	}
	l, err := ParseLabel(label)
	if err != nil {
		return nil, fmt.Errorf("key label %s is not in the key catalog (%s) and does not read as a label: %v", quoteLabel(label), c.Sources(), err)
	}
	switch {
	case l.Tag != "":
		return nil, fmt.Errorf("key label %q is not in the key catalog (%s): a label with a tag (/%s) names a key a catalog lists", label, c.Sources(), l.Tag)
	case l.Channel == edition.VolumeMAK:
		return nil, fmt.Errorf("key label %q is not in the key catalog (%s): a MAK's pool size is not in its label; list it in a catalog with mak_limit", label, c.Sources())
	}
	return &Entry{Key: l.Key(), Channel: l.Channel, Edition: l.Edition, OEMID: l.OEMID, Label: label}, nil
}

// Derivation is what a label stands for: its TEST key, what the label or the catalog says of the
// key, and where it is defined. 'oemact key derive' shows it.
type Derivation struct {
	Label    string          `json:"label"`
	Key      productkey.Key  `json:"-"`
	Channel  edition.Channel `json:"channel"`
	Edition  string          `json:"edition"`
	OEMID    string          `json:"oem_id,omitempty"`
	MAKLimit int             `json:"mak_limit,omitempty"`
	Blocked  bool            `json:"blocked,omitempty"`
	// Defined is FILE:LINE of the catalog entry, or "label grammar" for a label no catalog lists.
	Defined string `json:"defined"`
	// Note says why a label no catalog lists cannot name a key yet (a MAK's pool, a tag).
	Note string `json:"note,omitempty"`
}

// Derive returns what a label stands for: the listed entry, or for any label of the grammar (a MAK
// or a tagged one too) the key it derives, with a note when Label would not take it unlisted.
func (c *Catalog) Derive(label string) (*Derivation, error) {
	d := func(e *Entry) *Derivation {
		return &Derivation{Label: e.Label, Key: e.Key, Channel: e.Channel, Edition: e.Edition.ID, OEMID: e.OEMID,
			MAKLimit: e.MAKLimit, Blocked: e.Blocked, Defined: "label grammar"}
	}
	if e, ok := c.labels[label]; ok {
		out := d(e)
		out.Defined = e.Place()
		if e.File == "" {
			out.Defined = "label grammar"
		}
		return out, nil
	}
	if e, err := c.Label(label); err == nil {
		return d(e), nil
	}
	l, err := ParseLabel(label)
	if err != nil {
		return nil, fmt.Errorf("key label %s: %v", quoteLabel(label), err)
	}
	out := &Derivation{Label: label, Key: l.Key(), Channel: l.Channel, Edition: l.Edition.ID, OEMID: l.OEMID, Defined: "label grammar"}
	if l.Tag != "" {
		out.Note = "no catalog lists it: a tagged label names a key only when a catalog lists it"
	} else {
		out.Note = "no catalog lists it: a MAK is usable once a catalog lists it with its pool size (mak_limit)"
	}
	return out, nil
}

// Resolve finds a key given as a label or as the key itself (5x5, in the catalog). Errors name a
// label as typed and never show a key whole.
func (c *Catalog) Resolve(s string) (*Entry, error) {
	if !looksLikeKey(s) {
		return c.Label(s)
	}
	k, err := productkey.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%s is neither a key label nor a product key: %v", productkey.Mask(strings.ToUpper(strings.TrimSpace(s))), err)
	}
	return c.Lookup(k)
}

// Add puts an entry in the catalog, typically one Label made from the grammar, so that whoever
// gets the catalog (the service, a guest) knows the key. A label or key already there is an error
// naming both places.
func (c *Catalog) Add(e *Entry) error { return c.add(e) }

// Extend adds every entry of other to c (c's file list grows by other's). A label defined in
// both is an error naming both places; c is then left as it was.
func (c *Catalog) Extend(other *Catalog) error {
	for _, e := range other.order {
		if prev, dup := c.labels[e.Label]; dup {
			return fmt.Errorf("label %q is defined twice: at %s and at %s", e.Label, prev.Place(), e.Place())
		}
		if prev, dup := c.entries[e.Key.Reveal()]; dup {
			return fmt.Errorf("key %s is defined twice: at %s (label %q) and at %s (label %q)", e.Key.Masked(), prev.Place(), prev.Label, e.Place(), e.Label)
		}
	}
	for _, e := range other.order {
		if err := c.add(e); err != nil {
			return err // checked above
		}
	}
	c.files = append(c.files, other.files...)
	return nil
}

// Sources names the files the catalog was read from, in order.
func (c *Catalog) Sources() string {
	if len(c.files) == 0 {
		return "an empty catalog"
	}
	return strings.Join(c.files, " + ")
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

// Wire is the catalog in a compact JSON form with the keys whole, for handing a catalog to the
// guest agent (it is the same TEST data as the YAML files, which YAML parsing makes slow to read
// at every boot under emulation). ParseWire reads it back with every check the YAML loader makes.
func (c *Catalog) Wire() ([]byte, error) {
	raw := make([]rawEntry, len(c.order))
	for i, e := range c.order {
		raw[i] = rawEntry{Label: e.Label, Key: e.Key.Reveal(), Channel: string(e.Channel), Edition: e.Edition.ID,
			OEMID: e.OEMID, MAKLimit: e.MAKLimit, Blocked: e.Blocked, Note: e.Note, File: e.File, Line: e.Line}
	}
	return json.Marshal(wireCatalog{Path: c.Path, Files: c.files, Keys: raw})
}

type wireCatalog struct {
	Path  string     `json:"path"`
	Files []string   `json:"files,omitempty"`
	Keys  []rawEntry `json:"keys"`
}

// ParseWire reads what Wire wrote; entries keep the files and lines they came from.
func ParseWire(b []byte) (*Catalog, error) {
	var w wireCatalog
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("key catalog (wire form): %w", err)
	}
	c := newCatalog(w.Path)
	c.files = append([]string(nil), w.Files...)
	for i, r := range w.Keys {
		e, err := r.entry(r.Line)
		if err != nil {
			return nil, fmt.Errorf("key catalog (wire form) entry %d (%s:%d): %w", i+1, r.File, r.Line, err)
		}
		e.File = r.File
		if err := c.add(e); err != nil {
			return nil, fmt.Errorf("key catalog (wire form): %w", err)
		}
	}
	return c, nil
}
