package fwimage

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/oemact/oemact/firmware/finding"
)

// Kind says what an image is, by the outermost structure found in it.
type Kind uint8

const (
	KindNone     Kind = iota
	KindVolume        // UEFI firmware volumes (_FVH): an OVMF build, a BIOS region
	KindCapsule       // a UEFI capsule: capsule header, then the volumes
	KindFlash         // a whole flash image starting with an Intel flash descriptor
	KindCoreboot      // a coreboot ROM: FMAP, CBFS master header or CBFS files
	KindBlob          // none of those, but holding a checksummed ACPI table past its start
)

var kindNames = [...]string{KindNone: "none", KindVolume: "uefi-volume", KindCapsule: "uefi-capsule",
	KindFlash: "intel-flash", KindCoreboot: "coreboot", KindBlob: "blob"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Limits bound what one walk may use. Zero fields take DefaultLimits' values.
type Limits struct {
	Section int64 // bytes one compressed section may decompress to
	Total   int64 // bytes all compressed sections of one image may decompress to
	Depth   int   // nesting of structures (volume, file, section, decompressed data...)
	Nodes   int   // structures recorded for one image
	File    int64 // bytes read from an image file (firmware.Load and LoadImage read up to this)
}

// DefaultLimits hold measured images with room to spare: Debian's OVMF_CODE.fd decompresses its
// main volume to 13,500,560 bytes in 7 levels of nesting and about 640 structures; flash chips
// hold at most 64 MiB.
var DefaultLimits = Limits{Section: 64 << 20, Total: 128 << 20, Depth: 32, Nodes: 1 << 16, File: 256 << 20}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.Section > 0 {
		d.Section = l.Section
	}
	if l.Total > 0 {
		d.Total = l.Total
	}
	if l.Depth > 0 {
		d.Depth = l.Depth
	}
	if l.Nodes > 0 {
		d.Nodes = l.Nodes
	}
	if l.File > 0 {
		d.File = l.File
	}
	return d
}

// Location says where something is in an image file. Offset is the byte offset in the file.
// Bytes that are not in the file as such but in the output of a compressed section have
// Decompressed set: Offset is then the file offset of the outermost compressed data they came
// from, and DataOffset their offset in the output of the innermost one.
//
// In JSON, "decompressed" and "data_offset" are there only for decompressed bytes (and then
// always, data_offset 0 included).
type Location struct {
	Image        string `json:"image"`
	Offset       int64  `json:"offset"`
	Path         string `json:"path"`
	Decompressed bool   `json:"decompressed,omitempty"`
	DataOffset   int64  `json:"data_offset,omitempty"`
}

func (l Location) MarshalJSON() ([]byte, error) {
	type plain struct {
		Image  string `json:"image"`
		Offset int64  `json:"offset"`
		Path   string `json:"path"`
	}
	if !l.Decompressed {
		return json.Marshal(plain{l.Image, l.Offset, l.Path})
	}
	return json.Marshal(struct {
		plain
		Decompressed bool  `json:"decompressed"`
		DataOffset   int64 `json:"data_offset"`
	}{plain{l.Image, l.Offset, l.Path}, true, l.DataOffset})
}

func (l Location) String() string {
	where := l.Path
	if where == "" {
		where = "(image)"
	}
	if l.Decompressed {
		return fmt.Sprintf("%s: %s, offset 0x%x of the data decompressed from file offset 0x%x", l.Image, where, l.DataOffset, l.Offset)
	}
	return fmt.Sprintf("%s: %s, file offset 0x%x", l.Image, where, l.Offset)
}

// Table is a checksummed ACPI table found in an image.
type Table struct {
	Signature string
	Raw       []byte // the table's bytes, as long as its Length field says (a copy)
	Loc       Location
	node      *Node
}

// Image is what a walk found: the structures, the ACPI tables and the problems.
type Image struct {
	Name   string // the file, as given
	Size   int64
	Kind   Kind
	Nodes  []*Node // the outermost structures, in file order
	Tables []Table // by file offset, then by offset in decompressed data
	Errors []*FormatError
	// Decompressed counts the bytes all compressed sections decompressed to; NodeCount the
	// structures recorded.
	Decompressed int64
	NodeCount    int
}

// Findings returns the walk's problems as findings, and an info finding when no table was
// found.
func (im *Image) Findings() finding.List {
	var out finding.List
	for _, e := range im.Errors {
		out = append(out, e.Finding())
	}
	if len(im.Tables) == 0 {
		out = append(out, finding.Finding{Code: CodeNoTables, Severity: finding.Info, Table: "image", Path: im.Name,
			Offset: finding.NoOffset, Message: fmt.Sprintf("no checksummed ACPI table in this %s image (%d bytes walked)", im.Kind, im.Size)})
	}
	return out
}

// Visit calls fn for every node, depth first in file order, with its depth (0 for the outermost).
func (im *Image) Visit(fn func(n *Node, depth int)) {
	var walk func(ns []*Node, depth int)
	walk = func(ns []*Node, depth int) {
		for _, n := range ns {
			fn(n, depth)
			walk(n.Children, depth+1)
		}
	}
	walk(im.Nodes, 0)
}

// Walk walks an image held in b; name is the file it came from, for locations. It never fails:
// what it cannot walk is in Image.Errors, and the ACPI tables in the parts it can are found.
func Walk(name string, b []byte, lim Limits) *Image {
	return walk(name, b, lim, nil)
}

// walk is Walk, calling onNode (when not nil) with each node and its bytes as it is found.
func walk(name string, b []byte, lim Limits, onNode func(n *Node, b []byte)) *Image {
	w := &walker{im: &Image{Name: name, Size: int64(len(b)), Kind: detect(b)}, lim: lim.withDefaults(), onNode: onNode}
	d := &data{b: b}
	switch w.im.Kind {
	case KindCapsule:
		w.capsule(d)
	case KindFlash:
		w.flash(d)
	default:
		w.region(d, 0, int64(len(b)), nil, 0)
	}
	w.scan(d)
	w.finish()
	if w.im.Kind == KindNone && len(w.im.Tables) > 0 {
		w.im.Kind = KindBlob
	}
	return w.im
}

// Detect reports whether b looks like a firmware image and of which kind: a structure at its
// start (capsule, flash descriptor, volume, coreboot), or any volume or coreboot structure inside,
// or else a checksummed ACPI table somewhere past offset 0 (KindBlob). A file that is one ACPI
// table is not an image.
func Detect(b []byte) (Kind, bool) {
	if k := detect(b); k != KindNone {
		return k, true
	}
	found := false
	scanTables(b, func(off, _ int) bool {
		found = off > 0
		return !found
	})
	if found {
		return KindBlob, true
	}
	return KindNone, false
}

// DetectStructure is Detect without the scan: whether b shows a capsule, flash descriptor,
// volume or coreboot structure, at its start or (volumes, FMAP) inside.
func DetectStructure(b []byte) (Kind, bool) {
	k := detect(b)
	return k, k != KindNone
}

func detect(b []byte) Kind {
	switch {
	case capsuleAt(b) != nil:
		return KindCapsule
	case isFlashDescriptor(b):
		return KindFlash
	case hasVolumeAt(b, 0):
		return KindVolume
	case hasCoreboot(b):
		return KindCoreboot
	case firstVolume(b, 0, int64(len(b))) >= 0:
		return KindVolume
	}
	return KindNone
}

// data is bytes that structures are read from: the file, or the output of a compressed section.
type data struct {
	b       []byte
	origin  *Node // the compressed node this is the output of; nil for the file
	fileOff int64 // for decompressed data, the file offset of the outermost compressed data
	nodes   []*Node
}

func (d *data) loc(off int64) Location {
	if d.origin == nil {
		return Location{Offset: off}
	}
	return Location{Offset: d.fileOff, Decompressed: true, DataOffset: off}
}

type walker struct {
	im     *Image
	lim    Limits
	onNode func(n *Node, b []byte)
}

// add records a node found at offset off of d under parent (nil for the outermost). It fails
// when the image holds more nodes, or nests deeper, than the limits allow.
func (w *walker) add(d *data, parent *Node, n *Node, off int64, depth int) bool {
	if w.im.NodeCount >= w.lim.Nodes {
		if w.im.NodeCount == w.lim.Nodes {
			w.fail(d, off, parent, ErrLimit, "more than %d structures in this image: the rest is not walked (the ACPI table scan still covers every byte)", w.lim.Nodes)
			w.im.NodeCount++
		}
		return false
	}
	if depth >= w.lim.Depth {
		w.fail(d, off, parent, ErrLimit, "structures nest deeper than %d levels: not walked further", w.lim.Depth)
		return false
	}
	w.im.NodeCount++
	n.off, n.parent, n.Loc = off, parent, d.loc(off)
	switch {
	case parent == nil:
		n.rel = off
	case parent.data == d:
		n.rel = off - parent.off
	default: // in the parent's decompressed output, which stands for the parent's body
		n.rel = parent.HeaderSize + off
	}
	n.data = d
	if parent == nil {
		w.im.Nodes = append(w.im.Nodes, n)
	} else {
		parent.Children = append(parent.Children, n)
	}
	d.nodes = append(d.nodes, n)
	if w.onNode != nil {
		w.onNode(n, d.b[off:min(off+n.Size, int64(len(d.b)))])
	}
	return true
}

// fail records a problem at offset off of d, inside node n (nil: the image).
func (w *walker) fail(d *data, off int64, n *Node, sentinel error, format string, args ...any) {
	w.im.Errors = append(w.im.Errors, &FormatError{Loc: d.loc(off), Msg: fmt.Sprintf(format, args...), Err: sentinel, node: n,
		Warning: sentinel == ErrUnsupported || sentinel == ErrChecksum})
}

// scan finds the checksummed ACPI tables in d and gives each the innermost node holding it.
func (w *walker) scan(d *data) {
	scanTables(d.b, func(off, n int) bool {
		t := Table{Signature: string(d.b[off : off+4]), Raw: append([]byte(nil), d.b[off:off+n]...), Loc: d.loc(int64(off))}
		lo, hi := int64(off), int64(off+n)
		for _, nd := range d.nodes {
			if nd.off <= lo && hi <= nd.off+nd.Size && (t.node == nil || nd.Size <= t.node.Size) {
				t.node = nd
			}
		}
		if t.node == nil {
			t.node = d.origin
		}
		w.im.Tables = append(w.im.Tables, t)
		return true
	})
	for _, n := range d.nodes {
		n.data = nil
	}
	d.nodes = nil
}

// finish names every node's path, and the paths of the tables and errors.
func (w *walker) finish() {
	im := w.im
	var label func(ns []*Node)
	label = func(ns []*Node) {
		seen := map[string]int{}
		for _, n := range ns {
			seen[n.Name]++
			n.label = n.Name
			if k := seen[n.Name]; k > 1 {
				n.label = fmt.Sprintf("%s #%d", n.Name, k)
			}
			label(n.Children)
		}
	}
	label(im.Nodes)
	sort.SliceStable(im.Tables, func(i, j int) bool {
		a, b := im.Tables[i].Loc, im.Tables[j].Loc
		return a.Offset < b.Offset || a.Offset == b.Offset && a.DataOffset < b.DataOffset
	})
	im.Visit(func(n *Node, _ int) { n.Loc.Path, n.Loc.Image = n.Path(), im.Name })
	for i := range im.Tables {
		im.Tables[i].Loc.Image = im.Name
		if n := im.Tables[i].node; n != nil {
			im.Tables[i].Loc.Path = n.Path()
		}
	}
	for _, e := range im.Errors {
		e.Loc.Image = im.Name
		if e.node != nil {
			e.Loc.Path = e.node.Path()
		}
	}
}

// NodeKind says what structure a node is.
type NodeKind uint8

const (
	NodeVolume   NodeKind = iota // UEFI firmware volume
	NodeFile                     // FFS file
	NodeSection                  // FFS section
	NodeCapsule                  // UEFI capsule
	NodeRegion                   // Intel flash descriptor region
	NodeArea                     // FMAP area
	NodeCBFS                     // CBFS (a legacy one, found by its master header)
	NodeCBFSFile                 // CBFS file
	NodeSegment                  // a compressed segment of a CBFS payload
)

var nodeKindNames = [...]string{NodeVolume: "volume", NodeFile: "file", NodeSection: "section", NodeCapsule: "capsule",
	NodeRegion: "region", NodeArea: "fmap-area", NodeCBFS: "cbfs", NodeCBFSFile: "cbfs-file", NodeSegment: "cbfs-segment"}

func (k NodeKind) String() string {
	if int(k) < len(nodeKindNames) {
		return nodeKindNames[k]
	}
	return fmt.Sprintf("nodekind(%d)", int(k))
}

// Node is one structure of an image.
type Node struct {
	Kind NodeKind
	// Name is the node's part of a path: a volume's GUID, a file's UI name (else its GUID), a
	// section's kind ("Raw section") or a GUID-defined section's GUID, a region's, FMAP area's or
	// CBFS file's name.
	Name string
	GUID GUID   // volume (its name, else its file system), file, GUID-defined section, capsule
	Type uint32 // FFS file type, section type, CBFS file type
	// Loc is where the node starts; Loc.Path names it (with " #2" after a name its earlier
	// siblings have).
	Loc        Location
	Size       int64 // bytes, header included
	HeaderSize int64
	// Compression names the method of a compressed node ("lzma", "lz4"), whose children are read
	// from Decompressed bytes of its output.
	Compression  string
	Decompressed int64
	Children     []*Node

	parent *Node
	label  string
	off    int64 // offset in its data
	rel    int64 // offset from the parent's start, or in the parent's decompressed output
	data   *data // while the walk reads its data
}

// RelOffset is the node's offset from its parent's start (from the image's start for the
// outermost nodes). In a compressed parent, whose output stands for its body, it is the parent's
// header size plus the offset in the output, as UEFITool counts it.
func (n *Node) RelOffset() int64 { return n.rel }

// Parent returns the node holding n, or nil.
func (n *Node) Parent() *Node { return n.parent }

// Path names the node from the outermost structure down, parts separated by "/".
func (n *Node) Path() string {
	var parts []string
	for x := n; x != nil; x = x.parent {
		l := x.label
		if l == "" {
			l = x.Name
		}
		parts = append(parts, l)
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return strings.Join(parts, "/")
}

// The byte orders of the structures: UEFI, flash descriptors and FMAP are little-endian, CBFS is
// big-endian.
var (
	le = binary.LittleEndian
	be = binary.BigEndian
)

func align(off, base, to int64) int64 { return base + (off-base+to-1)/to*to }
