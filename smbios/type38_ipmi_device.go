package smbios

import "fmt"

// IPMIDevice is SMBIOS type 38, IPMI device information: the baseboard management controller's
// system interface.
type IPMIDevice struct {
	Header
	InterfaceType         uint8  // 0x04
	SpecificationRevision uint8  // 0x05: BCD, major in bits 7:4
	I2CTargetAddress      uint8  // 0x06
	NVStorageAddress      uint8  // 0x07: 0xFF not present
	BaseAddress           uint64 // 0x08: bit 0 set for I/O space
	// BaseAddressModifier (0x10): bits 7:6 register spacing, bit 4 LS bit of the address,
	// bit 3 interrupt info, bit 1 polarity, bit 0 trigger mode.
	BaseAddressModifier uint8
	InterruptNumber     uint8 // 0x11
}

const ipmiMinLength = 0x10

func init() {
	registerType(&typeSpec{typ: 38, title: "IPMI Device Information", minLength: ipmiMinLength,
		lengths: []versionLength{since(2, 3, 0x12)},
		parse:   parser(ParseIPMIDevice)})
}

func (d *IPMIDevice) fields() []field {
	return []field{
		fByte(0x04, "Interface Type", &d.InterfaceType),
		fByte(0x05, "IPMI Specification Revision", &d.SpecificationRevision),
		fByte(0x06, "I2C Target Address", &d.I2CTargetAddress),
		fByte(0x07, "NV Storage Device Address", &d.NVStorageAddress),
		fQWord(0x08, "Base Address", &d.BaseAddress),
		fByte(0x10, "Base Address Modifier", &d.BaseAddressModifier),
		fByte(0x11, "Interrupt Number", &d.InterruptNumber),
	}
}

// ParseIPMIDevice decodes a type 38 structure.
func ParseIPMIDevice(s *Structure, v Version) (*IPMIDevice, error) {
	if err := checkType(s, 38, ipmiMinLength); err != nil {
		return nil, err
	}
	d := &IPMIDevice{}
	decodeFields(&d.Header, s, v, d.fields())
	return d, nil
}

// Structure encodes the device information.
func (d *IPMIDevice) Structure() (*Structure, error) {
	return encodeFields(&d.Header, 38, d.fields(), ipmiMinLength)
}

var (
	ipmiInterfaceNames = []string{"Unknown", "KCS (Keyboard Control Style)", "SMIC (Server Management Interface Chip)",
		"BT (Block Transfer)", "SSIF (SMBus System Interface)"}
	ipmiSpacingNames = []string{"Successive Byte Boundaries", "32-bit Boundaries", "16-byte Boundaries", outOfSpec}
)

// baseAddressText is the base address as dmidecode prints it.
func (d *IPMIDevice) baseAddressText() string {
	if d.InterfaceType == 0x04 { // SSIF: an SMBus address
		return fmt.Sprintf("0x%02X (SMBus)", uint8(d.BaseAddress)>>1)
	}
	var lsb uint64
	if d.present(0x11) {
		lsb = uint64(d.BaseAddressModifier>>4) & 1
	}
	space := "Memory-mapped"
	if d.BaseAddress&1 != 0 {
		space = "I/O"
	}
	return fmt.Sprintf("0x%016X (%s)", d.BaseAddress&^1|lsb, space)
}

// Fields renders the structure as dmidecode 3.4 does.
func (d *IPMIDevice) Fields() []Field {
	if !d.present(ipmiMinLength) {
		return nil
	}
	fs := []Field{
		attr("Interface Type", enumName(int(d.InterfaceType), 0, ipmiInterfaceNames)),
		attrf("Specification Version", "%d.%d", d.SpecificationRevision>>4, d.SpecificationRevision&0x0F),
		attrf("I2C Slave Address", "0x%02x", d.I2CTargetAddress>>1),
	}
	if d.NVStorageAddress != 0xFF {
		fs = append(fs, attr("NV Storage Device Address", fmt.Sprint(d.NVStorageAddress)))
	} else {
		fs = append(fs, attr("NV Storage Device", "Not Present"))
	}
	fs = append(fs, attr("Base Address", d.baseAddressText()))
	if !d.present(0x12) {
		return fs
	}
	m := d.BaseAddressModifier
	if d.InterfaceType != 0x04 {
		fs = append(fs, attr("Register Spacing", ipmiSpacingNames[m>>6]))
		if m&(1<<3) != 0 {
			polarity, trigger := "Active Low", "Edge"
			if m&(1<<1) != 0 {
				polarity = "Active High"
			}
			if m&1 != 0 {
				trigger = "Level"
			}
			fs = append(fs, attr("Interrupt Polarity", polarity), attr("Interrupt Trigger Mode", trigger))
		}
	}
	if d.InterruptNumber != 0 {
		fs = append(fs, attr("Interrupt Number", fmt.Sprint(d.InterruptNumber)))
	}
	return fs
}

func (d *IPMIDevice) String() string {
	return renderText(&d.Header, d.length(), TypeTitle(38), d.Fields())
}

func (*IPMIDevice) structureType() uint8 { return 38 }

func (d *IPMIDevice) buildLength(v Version) int { return int(DefaultLength(38, v)) }

func (d *IPMIDevice) setDefaults(*buildContext) {}
