package smbios

import "fmt"

// typeSpec is what the package knows about one structure type. Each typeN_*.go file registers
// the spec of its type (registerType in an init function); DefaultLength, GuessVersion,
// ParseTyped, the Builder and Lint read them, so adding a type touches no switch elsewhere.
type typeSpec struct {
	typ uint8
	// title is dmidecode's title for the structure ("System Information").
	title string
	// minLength is the shortest structure the specification allows; shorter ones decode with
	// the missing fields zero, and lint reports them.
	minLength int
	// lengths lists, by ascending version, the length the type has from that version on: its
	// header and every field the version defines, without variable lists (type 2's handles,
	// type 3's contained elements). The first entry is the base and says nothing of the version.
	lengths []versionLength
	// fixedLength is the structure's length without its variable list, for GuessVersion; nil
	// when the type has none.
	fixedLength func(*Structure) int
	// parse decodes the typed view.
	parse func(*Structure, Version) (Typed, error)
}

type versionLength struct {
	v      Version
	length uint8
}

func since(major, minor uint8, length uint8) versionLength {
	return versionLength{Version{Major: major, Minor: minor}, length}
}

var typeSpecs = map[uint8]*typeSpec{}

func registerType(s *typeSpec) {
	if _, dup := typeSpecs[s.typ]; dup {
		panic(fmt.Sprintf("smbios: type %d registered twice", s.typ))
	}
	typeSpecs[s.typ] = s
}

// parser adapts a typed decoder to typeSpec.parse without turning a nil pointer into a non-nil
// interface.
func parser[T Typed](f func(*Structure, Version) (T, error)) func(*Structure, Version) (Typed, error) {
	return func(s *Structure, v Version) (Typed, error) {
		t, err := f(s, v)
		if err != nil {
			return nil, err
		}
		return t, nil
	}
}

// KnownTypes lists the structure types this package decodes into typed views, ascending.
func KnownTypes() []uint8 {
	var out []uint8
	for t := 0; t < 256; t++ {
		if _, ok := typeSpecs[uint8(t)]; ok {
			out = append(out, uint8(t))
		}
	}
	return out
}

// DefaultLength is the length a structure of type typ has in SMBIOS version v: its header and
// every field that version defines. For type 3 it excludes contained elements; for type 2 it
// includes the handle count but no handles. 0 means the package does not know the type.
func DefaultLength(typ uint8, v Version) uint8 {
	spec := typeSpecs[typ]
	if spec == nil {
		return 0
	}
	v = v.Effective()
	n := uint8(spec.minLength)
	for _, l := range spec.lengths {
		if v.word() >= l.v.word() {
			n = l.length
		}
	}
	return n
}

// minLength is the shortest structure of type typ the specification allows, 0 when unknown.
func minLength(typ uint8) int {
	if spec := typeSpecs[typ]; spec != nil {
		return spec.minLength
	}
	return 0
}

// TypeTitle is dmidecode's title for a structure type ("System Information"), "" when this
// package does not know the type.
func TypeTitle(typ uint8) string {
	if spec := typeSpecs[typ]; spec != nil {
		return spec.title
	}
	return ""
}

// ParseTyped decodes s into its typed view when this package has one (KnownTypes), else returns
// nil and no error.
func ParseTyped(s *Structure, v Version) (Typed, error) {
	spec := typeSpecs[s.Type]
	if spec == nil || spec.parse == nil {
		return nil, nil
	}
	return spec.parse(s, v)
}

// GuessVersion infers the lowest SMBIOS version consistent with the structures' lengths, for
// tables that come without an entry point. It matters for the UUID byte order (2.6): a bare
// table whose structures all predate 2.6 is read in the older order. The guess is never below
// 2.0 and never above Latest. It reads the same per-type lengths as DefaultLength: a structure
// at least as long as a version's length has that version's fields.
func GuessVersion(ss []*Structure) Version {
	best := Version{Major: 2, Minor: 0}
	for _, s := range ss {
		spec := typeSpecs[s.Type]
		if spec == nil || len(spec.lengths) < 2 {
			continue
		}
		n := s.Length()
		if spec.fixedLength != nil {
			n = spec.fixedLength(s)
		}
		for _, l := range spec.lengths[1:] {
			if n >= int(l.length) && l.v.word() > best.word() {
				best = l.v
			}
		}
	}
	if best.word() > Latest.word() {
		best = Latest
	}
	return best
}

// fieldLister is a typed view whose formatted area is described by a field list.
type fieldLister interface {
	fields() []field
}

// stringFields lists a typed view's string fields.
func stringFields(tv Typed) []field {
	fl, ok := tv.(fieldLister)
	if !ok {
		return nil
	}
	var out []field
	for _, f := range fl.fields() {
		if f.kind == kindString {
			out = append(out, f)
		}
	}
	return out
}

// buildContext is what the Builder knows while it fills defaults: the structures others refer to.
type buildContext struct {
	chassis []*ChassisInfo
	arrays  []*PhysicalMemoryArray
}

// builtType is a typed view the Builder assembles: its type, its length in a version (the
// DefaultLength plus any list or field set beyond it) and the defaults it takes for zero fields.
type builtType interface {
	Typed
	structureType() uint8
	buildLength(v Version) int
	setDefaults(c *buildContext)
}
