package smbios

import (
	"bytes"
	"fmt"
)

// ChassisType is the chassis (enclosure) type, bits 6:0 of type 3's byte 0x05.
type ChassisType uint8

var chassisTypeNames = []string{
	"Other", // 0x01
	"Unknown",
	"Desktop",
	"Low Profile Desktop",
	"Pizza Box",
	"Mini Tower",
	"Tower",
	"Portable",
	"Laptop",
	"Notebook",
	"Hand Held",
	"Docking Station",
	"All In One",
	"Sub Notebook",
	"Space-saving",
	"Lunch Box",
	"Main Server Chassis",
	"Expansion Chassis",
	"Sub Chassis",
	"Bus Expansion Chassis",
	"Peripheral Chassis",
	"RAID Chassis",
	"Rack Mount Chassis",
	"Sealed-case PC",
	"Multi-system",
	"CompactPCI",
	"AdvancedTCA",
	"Blade",
	"Blade Enclosing",
	"Tablet",
	"Convertible",
	"Detachable",
	"IoT Gateway",
	"Embedded PC",
	"Mini PC",
	"Stick PC", // 0x24
}

// Chassis types used by name elsewhere.
const (
	ChassisOther     ChassisType = 0x01
	ChassisUnknown   ChassisType = 0x02
	ChassisDesktop   ChassisType = 0x03
	ChassisTower     ChassisType = 0x07
	ChassisPortable  ChassisType = 0x08
	ChassisLaptop    ChassisType = 0x09
	ChassisNotebook  ChassisType = 0x0A
	ChassisRackMount ChassisType = 0x17
)

// String names the type as dmidecode does ("Desktop"), or "<OUT OF SPEC>".
func (t ChassisType) String() string { return enumName(int(t&0x7F), 1, chassisTypeNames) }

// Valid reports whether the type is one the specification defines (0x01-0x24).
func (t ChassisType) Valid() bool { return t >= 0x01 && t <= 0x24 }

// Portable reports whether the type is a machine carried around and docked: portable, laptop,
// notebook, hand held, sub notebook, tablet, convertible, detachable (SMBIOS 7.4.1). The
// activation model gives these a looser hardware tolerance.
func (t ChassisType) Portable() bool {
	switch t {
	case 0x08, 0x09, 0x0A, 0x0B, 0x0E, 0x1E, 0x1F, 0x20:
		return true
	}
	return false
}

// ParseChassisType reads a dmidecode name ("Notebook", case-insensitive) or a number.
func ParseChassisType(s string) (ChassisType, error) {
	for i, n := range chassisTypeNames {
		if equalFold(n, s) {
			return ChassisType(i + 1), nil
		}
	}
	var v uint
	if _, err := fmt.Sscanf(s, "%v", &v); err == nil && v >= 1 && v <= 0x7F {
		return ChassisType(v), nil
	}
	return 0, fmt.Errorf("chassis type %q: want a name like Desktop, Notebook, Laptop, Tower, Rack Mount Chassis, or a number 1-127", s)
}

// ChassisInfo is SMBIOS type 3, system enclosure or chassis.
type ChassisInfo struct {
	Header
	Manufacturer string // 0x04
	// TypeAndLock (0x05): bits 6:0 the chassis type, bit 7 a chassis lock is present.
	TypeAndLock        uint8
	Version            string // 0x06
	SerialNumber       string // 0x07
	AssetTag           string // 0x08
	BootUpState        uint8  // 0x09 (2.1)
	PowerSupplyState   uint8  // 0x0A
	ThermalState       uint8  // 0x0B
	SecurityStatus     uint8  // 0x0C
	OEMDefined         uint32 // 0x0D (2.3)
	Height             uint8  // 0x11, in U (1.75 in), 0 unspecified
	NumberOfPowerCords uint8  // 0x12, 0 unspecified
	// Contained elements (0x13 count, 0x14 record length, records from 0x15), kept raw.
	ContainedElementCount        uint8
	ContainedElementRecordLength uint8
	ContainedElements            []byte
	SKUNumber                    string // 0x15 + count*length (2.7)
}

const chassisMinLength = 0x09

// Type returns the chassis type without the lock bit.
func (c *ChassisInfo) Type() ChassisType { return ChassisType(c.TypeAndLock & 0x7F) }

// SetType sets the chassis type, keeping the lock bit.
func (c *ChassisInfo) SetType(t ChassisType) { c.TypeAndLock = c.TypeAndLock&0x80 | uint8(t)&0x7F }

// Lock reports whether the chassis has a lock.
func (c *ChassisInfo) Lock() bool { return c.TypeAndLock&0x80 != 0 }

func (c *ChassisInfo) fixedFields() []field {
	return []field{
		fString(0x04, "Manufacturer", &c.Manufacturer),
		fByte(0x05, "Type", &c.TypeAndLock),
		fString(0x06, "Version", &c.Version),
		fString(0x07, "Serial Number", &c.SerialNumber),
		fString(0x08, "Asset Tag", &c.AssetTag),
		fByte(0x09, "Boot-up State", &c.BootUpState),
		fByte(0x0A, "Power Supply State", &c.PowerSupplyState),
		fByte(0x0B, "Thermal State", &c.ThermalState),
		fByte(0x0C, "Security Status", &c.SecurityStatus),
		fDWord(0x0D, "OEM-defined", &c.OEMDefined),
		fByte(0x11, "Height", &c.Height),
		fByte(0x12, "Number of Power Cords", &c.NumberOfPowerCords),
		fByte(0x13, "Contained Element Count", &c.ContainedElementCount),
		fByte(0x14, "Contained Element Record Length", &c.ContainedElementRecordLength),
	}
}

func (c *ChassisInfo) skuOffset() int {
	return 0x15 + int(c.ContainedElementCount)*int(c.ContainedElementRecordLength)
}

// ParseChassisInfo decodes a type 3 structure.
func ParseChassisInfo(s *Structure, v Version) (*ChassisInfo, error) {
	if err := checkType(s, 3, chassisMinLength); err != nil {
		return nil, err
	}
	c := &ChassisInfo{}
	decodeFields(&c.Header, s, v, c.fixedFields())
	if s.Length() > 0x15 {
		end := min(c.skuOffset(), s.Length())
		c.ContainedElements = append([]byte(nil), s.Formatted[0x15-4:end-4]...)
	}
	off := c.skuOffset()
	if n, ok := s.Byte(off); ok {
		c.SKUNumber, _ = s.String(n)
	}
	return c, nil
}

// elementsUnchanged reports whether the element list is what was decoded.
func (c *ChassisInfo) elementsUnchanged() bool {
	if c.raw == nil {
		return false
	}
	n, _ := c.raw.Byte(0x13)
	m, _ := c.raw.Byte(0x14)
	if n != c.ContainedElementCount || m != c.ContainedElementRecordLength {
		return false
	}
	end := min(0x15+int(n)*int(m), c.raw.Length())
	var was []byte
	if end > 0x15 {
		was = c.raw.Formatted[0x15-4 : end-4]
	}
	return bytes.Equal(was, c.ContainedElements)
}

// Structure encodes the chassis information.
func (c *ChassisInfo) Structure() (*Structure, error) {
	h := c.Header
	fs := c.fixedFields()
	sku := fString(c.skuOffset(), "SKU Number", &c.SKUNumber)
	rawSKU := -1
	if c.raw != nil {
		n, _ := c.raw.Byte(0x13)
		m, _ := c.raw.Byte(0x14)
		if off := 0x15 + int(n)*int(m); off < c.raw.Length() {
			rawSKU = off
			sku.origOff = off
		}
	}
	if c.elementsUnchanged() {
		// Keep the decoded layout; the SKU slot is where it was.
		if rawSKU >= 0 || c.SKUNumber != "" {
			fs = append(fs, sku)
		}
	} else {
		if len(c.ContainedElements) != int(c.ContainedElementCount)*int(c.ContainedElementRecordLength) {
			return nil, fmt.Errorf("smbios: type 3 handle 0x%04X: %d bytes of contained elements, the count (%d) and record length (%d) want %d",
				c.Handle, len(c.ContainedElements), c.ContainedElementCount, c.ContainedElementRecordLength,
				int(c.ContainedElementCount)*int(c.ContainedElementRecordLength))
		}
		base := c.skuOffset()
		hasSKU := c.SKUNumber != "" || rawSKU >= 0 || (c.raw == nil && int(h.Length) > base)
		switch {
		case hasSKU:
			h.Length = uint8(min(base+1, 0xFF))
			fs = append(fs, sku)
		case base > 0x15 || int(h.Length) >= 0x15:
			h.Length = uint8(min(base, 0xFF))
		}
		if base+1 > 0xFF {
			return nil, fmt.Errorf("smbios: type 3 handle 0x%04X: %d bytes of contained elements make the structure longer than 255 bytes", c.Handle, len(c.ContainedElements))
		}
	}
	s, err := encodeFields(&h, 3, fs, chassisMinLength)
	if err != nil {
		return nil, err
	}
	if !c.elementsUnchanged() && len(c.ContainedElements) > 0 {
		copy(s.Formatted[0x15-4:], c.ContainedElements)
	}
	return s, nil
}

var (
	chassisStateNames    = []string{"Other", "Unknown", "Safe", "Warning", "Critical", "Non-recoverable"}
	chassisSecurityNames = []string{"Other", "Unknown", "None", "External Interface Locked Out", "External Interface Enabled"}
	// structureTypeNames names structure types the way dmidecode lists contained elements.
	structureTypeNames = []string{
		"BIOS", "System", "Base Board", "Chassis", "Processor", "Memory Controller", "Memory Module",
		"Cache", "Port Connector", "System Slots", "On Board Devices", "OEM Strings",
		"System Configuration Options", "BIOS Language", "Group Associations", "System Event Log",
		"Physical Memory Array", "Memory Device", "32-bit Memory Error", "Memory Array Mapped Address",
		"Memory Device Mapped Address", "Built-in Pointing Device", "Portable Battery", "System Reset",
		"Hardware Security", "System Power Controls", "Voltage Probe", "Cooling Device",
		"Temperature Probe", "Electrical Current Probe", "Out-of-band Remote Access",
		"Boot Integrity Services", "System Boot", "64-bit Memory Error", "Management Device",
		"Management Device Component", "Management Device Threshold Data", "Memory Channel",
		"IPMI Device", "Power Supply", "Additional Information", "Onboard Device",
		"Management Controller Host Interface", "TPM Device", "Processor", "Firmware",
		"String Property", // 46
	}
)

func structureTypeName(code uint8) string {
	if code >= 128 {
		return "OEM-specific"
	}
	return enumName(int(code), 0, structureTypeNames)
}

// ChassisElement is one contained element record.
type ChassisElement struct {
	// IsStructureType: Type names an SMBIOS structure type; otherwise a baseboard type.
	IsStructureType bool
	Type            uint8
	Minimum         uint8
	Maximum         uint8
}

// Elements decodes the contained element records (those of at least 3 bytes).
func (c *ChassisInfo) Elements() []ChassisElement {
	m := int(c.ContainedElementRecordLength)
	if m < 3 {
		return nil
	}
	var out []ChassisElement
	for i := 0; i < int(c.ContainedElementCount) && (i+1)*m <= len(c.ContainedElements); i++ {
		r := c.ContainedElements[i*m:]
		out = append(out, ChassisElement{IsStructureType: r[0]&0x80 != 0, Type: r[0] & 0x7F, Minimum: r[1], Maximum: r[2]})
	}
	return out
}

func chassisHeightText(v uint8) string {
	if v == 0 {
		return "Unspecified"
	}
	return fmt.Sprintf("%d U", v)
}

// Fields renders the structure as dmidecode 3.4 does.
func (c *ChassisInfo) Fields() []Field {
	if !c.present(chassisMinLength) {
		return nil
	}
	lock := "Not Present"
	if c.Lock() {
		lock = "Present"
	}
	fs := []Field{
		attr("Manufacturer", c.stringDisplay(0x04, c.Manufacturer)),
		attr("Type", c.Type().String()),
		attr("Lock", lock),
		attr("Version", c.stringDisplay(0x06, c.Version)),
		attr("Serial Number", c.stringDisplay(0x07, c.SerialNumber)),
		attr("Asset Tag", c.stringDisplay(0x08, c.AssetTag)),
	}
	if !c.present(0x0D) {
		return fs
	}
	fs = append(fs,
		attr("Boot-up State", enumName(int(c.BootUpState), 1, chassisStateNames)),
		attr("Power Supply State", enumName(int(c.PowerSupplyState), 1, chassisStateNames)),
		attr("Thermal State", enumName(int(c.ThermalState), 1, chassisStateNames)),
		attr("Security Status", enumName(int(c.SecurityStatus), 1, chassisSecurityNames)))
	if !c.present(0x11) {
		return fs
	}
	fs = append(fs, attrf("OEM Information", "0x%08X", c.OEMDefined))
	if !c.present(0x13) {
		return fs
	}
	cords := "Unspecified"
	if c.NumberOfPowerCords != 0 {
		cords = fmt.Sprint(c.NumberOfPowerCords)
	}
	fs = append(fs, attr("Height", chassisHeightText(c.Height)), attr("Number Of Power Cords", cords))
	if !c.present(0x15) || !c.present(c.skuOffset()) {
		return fs
	}
	var items []string
	for _, e := range c.Elements() {
		name := boardTypeName(e.Type)
		if e.IsStructureType {
			name = structureTypeName(e.Type)
		}
		if e.Minimum == e.Maximum {
			items = append(items, fmt.Sprintf("%s (%d)", name, e.Minimum))
		} else {
			items = append(items, fmt.Sprintf("%s (%d-%d)", name, e.Minimum, e.Maximum))
		}
	}
	fs = append(fs, list("Contained Elements", fmt.Sprint(c.ContainedElementCount), items))
	if !c.present(c.skuOffset() + 1) {
		return fs
	}
	return append(fs, attr("SKU Number", c.stringDisplay(c.skuOffset(), c.SKUNumber)))
}

func (c *ChassisInfo) String() string {
	return renderText(&c.Header, c.length(), TypeTitle(3), c.Fields())
}

func init() {
	registerType(&typeSpec{typ: 3, title: "Chassis Information", minLength: chassisMinLength,
		lengths:     []versionLength{since(2, 0, 0x09), since(2, 1, 0x0D), since(2, 3, 0x15), since(2, 7, 0x16)},
		fixedLength: chassisFixedLength,
		parse:       parser(ParseChassisInfo)})
}

// chassisFixedLength is a type 3 structure's length without its contained elements.
func chassisFixedLength(s *Structure) int {
	n, ok1 := s.Byte(0x13)
	m, ok2 := s.Byte(0x14)
	if !ok1 || !ok2 || s.Length() < 0x15 {
		return s.Length()
	}
	return s.Length() - int(n)*int(m)
}

func (*ChassisInfo) structureType() uint8 { return 3 }

func (c *ChassisInfo) buildLength(v Version) int {
	return int(DefaultLength(3, v)) + len(c.ContainedElements)
}

func (c *ChassisInfo) fields() []field {
	return append(c.fixedFields(), fString(c.skuOffset(), "SKU Number", &c.SKUNumber))
}

// setDefaults: type "Unknown", states "Safe", security "None".
func (c *ChassisInfo) setDefaults(*buildContext) {
	if c.Type() == 0 {
		c.SetType(ChassisUnknown)
	}
	for _, st := range []*uint8{&c.BootUpState, &c.PowerSupplyState, &c.ThermalState, &c.SecurityStatus} {
		if *st == 0 {
			*st = 0x03
		}
	}
}
