package smbios

import (
	"fmt"
	"sort"
	"strings"
)

// IdentityField is one field of a platform's SMBIOS identity, named by a stable key. The table
// IdentityFields is the one list of them: profiles set them by key, scenarios change them by key,
// hardware identity and the TPM binding read them by key.
type IdentityField struct {
	// Key is "section.field" in snake_case; the section names the structure ("system" is type 1).
	Key string
	// Type is the structure type the field is in. The identity is the first structure's.
	Type uint8
	// Offset is the field's offset in the structure; Name is the specification's name for it.
	Offset int
	Name   string
	// Core marks the fields that name the machine, its board and its firmware: what Identity
	// holds as text and what hardware identity and the TPM binding read. The chassis is the
	// case, not the machine, and is not core.
	Core bool
	get  func(Typed) string
	set  func(Typed, string) error
}

// identitySections names the structure types the identity fields live in.
var identitySections = []struct {
	name string
	typ  uint8
}{{"bios", 0}, {"system", 1}, {"baseboard", 2}, {"chassis", 3}}

// identityFields is the registry. Its order is the order IdentityFields and texts list them.
var identityFields = []IdentityField{
	textField("bios.vendor", 0x04, "Vendor", true, func(b *BIOSInfo) *string { return &b.Vendor }),
	textField("bios.version", 0x05, "Version", true, func(b *BIOSInfo) *string { return &b.Version }),
	textField("bios.release_date", 0x08, "Release Date", true, func(b *BIOSInfo) *string { return &b.ReleaseDate }),
	textField("system.manufacturer", 0x04, "Manufacturer", true, func(s *SystemInfo) *string { return &s.Manufacturer }),
	textField("system.product_name", 0x05, "Product Name", true, func(s *SystemInfo) *string { return &s.ProductName }),
	textField("system.version", 0x06, "Version", false, func(s *SystemInfo) *string { return &s.Version }),
	textField("system.serial_number", 0x07, "Serial Number", true, func(s *SystemInfo) *string { return &s.SerialNumber }),
	{Key: "system.uuid", Type: 1, Offset: 0x08, Name: "UUID", Core: true, get: getUUID, set: setUUID},
	textField("system.sku_number", 0x19, "SKU Number", false, func(s *SystemInfo) *string { return &s.SKUNumber }),
	textField("system.family", 0x1A, "Family", false, func(s *SystemInfo) *string { return &s.Family }),
	textField("baseboard.manufacturer", 0x04, "Manufacturer", true, func(b *BaseboardInfo) *string { return &b.Manufacturer }),
	textField("baseboard.product_name", 0x05, "Product Name", true, func(b *BaseboardInfo) *string { return &b.Product }),
	textField("baseboard.version", 0x06, "Version", false, func(b *BaseboardInfo) *string { return &b.Version }),
	textField("baseboard.serial_number", 0x07, "Serial Number", true, func(b *BaseboardInfo) *string { return &b.SerialNumber }),
	textField("baseboard.asset_tag", 0x08, "Asset Tag", false, func(b *BaseboardInfo) *string { return &b.AssetTag }),
	textField("chassis.manufacturer", 0x04, "Manufacturer", false, func(c *ChassisInfo) *string { return &c.Manufacturer }),
	{Key: "chassis.type", Type: 3, Offset: 0x05, Name: "Type", get: getChassisType, set: setChassisType},
	textField("chassis.version", 0x06, "Version", false, func(c *ChassisInfo) *string { return &c.Version }),
	textField("chassis.serial_number", 0x07, "Serial Number", false, func(c *ChassisInfo) *string { return &c.SerialNumber }),
	textField("chassis.asset_tag", 0x08, "Asset Tag", false, func(c *ChassisInfo) *string { return &c.AssetTag }),
}

// textField is a string field of the typed view T, found by ptr.
func textField[T builtType](key string, off int, name string, core bool, ptr func(T) *string) IdentityField {
	var zero T
	return IdentityField{Key: key, Type: zero.structureType(), Offset: off, Name: name, Core: core,
		get: func(t Typed) string {
			if x, ok := t.(T); ok && x.header().present(off+1) {
				return *ptr(x)
			}
			return ""
		},
		set: func(t Typed, v string) error {
			x, ok := t.(T)
			if !ok {
				return fmt.Errorf("smbios: %s is a field of type %d structures, not of %T", key, zero.structureType(), t)
			}
			*ptr(x) = v
			return nil
		}}
}

// getUUID is the UUID's text, "" when absent, not present (all FF) or not settable (all zero):
// none of those names a machine.
func getUUID(t Typed) string {
	s, ok := t.(*SystemInfo)
	if !ok || !s.HasUUID() || s.UUID.IsNotPresent() || s.UUID.IsNotSettable() {
		return ""
	}
	return s.UUID.String()
}

func setUUID(t Typed, v string) error {
	s, ok := t.(*SystemInfo)
	if !ok {
		return fmt.Errorf("smbios: system.uuid is a field of type 1 structures, not of %T", t)
	}
	u, err := ParseUUID(v)
	if err != nil {
		return err
	}
	s.UUID = u
	return nil
}

// getChassisType is the type's dmidecode name ("Notebook").
func getChassisType(t Typed) string {
	if c, ok := t.(*ChassisInfo); ok && c.present(0x06) {
		return c.Type().String()
	}
	return ""
}

func setChassisType(t Typed, v string) error {
	c, ok := t.(*ChassisInfo)
	if !ok {
		return fmt.Errorf("smbios: chassis.type is a field of type 3 structures, not of %T", t)
	}
	ct, err := ParseChassisType(v)
	if err != nil {
		return err
	}
	c.SetType(ct)
	return nil
}

// IdentityFields lists every identity field, in a fixed order: bios, system, baseboard, chassis.
func IdentityFields() []IdentityField { return append([]IdentityField(nil), identityFields...) }

// LookupIdentityField finds a field by key. The error says what is wrong with the key and lists
// the keys of its section.
func LookupIdentityField(key string) (IdentityField, error) {
	for _, f := range identityFields {
		if f.Key == key {
			return f, nil
		}
	}
	sec, _, ok := strings.Cut(key, ".")
	if !ok {
		return IdentityField{}, fmt.Errorf("identity field %q: want section.field, such as system.serial_number", key)
	}
	var keys, sections []string
	for _, s := range identitySections {
		sections = append(sections, s.name)
	}
	for _, f := range identityFields {
		if f.Section() == sec {
			keys = append(keys, f.Key)
		}
	}
	if len(keys) == 0 {
		return IdentityField{}, fmt.Errorf("identity field %q: no section %q (%s)", key, sec, strings.Join(sections, ", "))
	}
	sort.Strings(keys)
	return IdentityField{}, fmt.Errorf("identity field %q: not a field of %s (%s)", key, sec, strings.Join(keys, ", "))
}

// Section is the key's first part, the structure's name ("system").
func (f IdentityField) Section() string { s, _, _ := strings.Cut(f.Key, "."); return s }

// Field is the key's second part ("serial_number").
func (f IdentityField) Field() string { _, s, _ := strings.Cut(f.Key, "."); return s }

// Get reads the field from the first structure of its type: the table's text ("" when the
// table has no such structure, the structure predates the field or leaves the string out), the
// UUID's text (see Identity.SystemUUID), or the chassis type's name.
func (f IdentityField) Get(in *Info) string { return f.value(in.firstTyped(f.Type)) }

// value reads the field from t, the first structure of its type decoded (nil when there is none).
func (f IdentityField) value(t Typed) string {
	if t == nil {
		return ""
	}
	return f.get(t)
}

// firstTyped decodes the first structure of the type; nil when the table has none or it does not
// decode.
func (in *Info) firstTyped(typ uint8) Typed {
	for _, s := range in.Structures {
		if s.Type != typ {
			continue
		}
		t, err := ParseTyped(s, in.Version)
		if err != nil {
			return nil
		}
		return t
	}
	return nil
}

// Set writes value into a typed view of the field's type: text as it is, a UUID in its text form,
// a chassis type by name or number.
func (f IdentityField) Set(t Typed, value string) error { return f.set(t, value) }

// SetIdentity sets one identity field of the first structure of its type in the table, keeping
// the rest of the structure as it was.
func (in *Info) SetIdentity(key, value string) error {
	f, err := LookupIdentityField(key)
	if err != nil {
		return err
	}
	for _, s := range in.Structures {
		if s.Type != f.Type {
			continue
		}
		t, err := ParseTyped(s, in.Version)
		if err != nil {
			return err
		}
		if err := f.Set(t, value); err != nil {
			return fmt.Errorf("smbios: %s: %w", key, err)
		}
		return in.Update(t)
	}
	return fmt.Errorf("smbios: %s: the table has no type %d structure", key, f.Type)
}

// IdentityValues reads every identity field (IdentityFields) by key, as Get does, decoding the
// first structure of each type once.
func (in *Info) IdentityValues() map[string]string {
	m := make(map[string]string, len(identityFields))
	views := make(map[uint8]Typed, len(identitySections))
	for _, f := range identityFields {
		t, ok := views[f.Type]
		if !ok {
			t = in.firstTyped(f.Type)
			views[f.Type] = t
		}
		m[f.Key] = f.value(t)
	}
	return m
}

// Identity is what hardware identity reads from SMBIOS: the core identity fields (those that name
// this machine and its board and firmware) and the chassis type. Empty strings mean absent.
type Identity struct {
	SystemManufacturer string
	SystemProduct      string
	SystemSerial       string
	// SystemUUID is the UUID's text form, "" when absent, not present (all FF) or not settable
	// (all zero).
	SystemUUID        string
	BoardManufacturer string
	BoardProduct      string
	BoardSerial       string
	BIOSVendor        string
	BIOSVersion       string
	BIOSReleaseDate   string
	ChassisType       ChassisType
}

// Portable reports whether the chassis type is one that docks (laptops and the like).
func (id Identity) Portable() bool { return id.ChassisType.Portable() }

// Identity collects the core identity fields from the first type 0, 1 and 2 structures, and
// the first chassis's type.
func (in *Info) Identity() Identity {
	v := in.IdentityValues()
	id := Identity{
		SystemManufacturer: v["system.manufacturer"], SystemProduct: v["system.product_name"],
		SystemSerial: v["system.serial_number"], SystemUUID: v["system.uuid"],
		BoardManufacturer: v["baseboard.manufacturer"], BoardProduct: v["baseboard.product_name"],
		BoardSerial: v["baseboard.serial_number"],
		BIOSVendor:  v["bios.vendor"], BIOSVersion: v["bios.version"], BIOSReleaseDate: v["bios.release_date"],
	}
	if cs, _ := in.Chassis(); len(cs) > 0 {
		id.ChassisType = cs[0].Type()
	}
	return id
}

// Keyword is dmidecode's -s keyword for the field ("system.serial_number" is
// "system-serial-number").
func (f IdentityField) Keyword() string {
	return strings.NewReplacer(".", "-", "_", "-").Replace(f.Key)
}
