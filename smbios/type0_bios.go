package smbios

import "fmt"

// BIOSInfo is SMBIOS type 0, BIOS (platform firmware) information.
type BIOSInfo struct {
	Header
	Vendor                 string // 0x04
	Version                string // 0x05
	StartingAddressSegment uint16 // 0x06; 0 on UEFI systems
	ReleaseDate            string // 0x08, mm/dd/yyyy
	ROMSize                uint8  // 0x09: 64K * (n+1); 0xFF means see ExtendedROMSize
	Characteristics        uint64 // 0x0A
	CharacteristicsExt1    uint8  // 0x12 (2.1)
	CharacteristicsExt2    uint8  // 0x13 (2.3)
	BIOSMajorRelease       uint8  // 0x14 (2.4); 0xFF: not provided
	BIOSMinorRelease       uint8  // 0x15
	ECMajorRelease         uint8  // 0x16; 0xFF: no embedded controller firmware
	ECMinorRelease         uint8  // 0x17
	ExtendedROMSize        uint16 // 0x18 (3.1): bits 15:14 unit (0 MiB, 1 GiB), 13:0 size
}

const biosMinLength = 0x12

func (b *BIOSInfo) fields() []field {
	return []field{
		fString(0x04, "Vendor", &b.Vendor),
		fString(0x05, "Version", &b.Version),
		fWord(0x06, "Starting Address Segment", &b.StartingAddressSegment),
		fString(0x08, "Release Date", &b.ReleaseDate),
		fByte(0x09, "ROM Size", &b.ROMSize),
		fQWord(0x0A, "Characteristics", &b.Characteristics),
		fByte(0x12, "Characteristics Extension Byte 1", &b.CharacteristicsExt1),
		fByte(0x13, "Characteristics Extension Byte 2", &b.CharacteristicsExt2),
		fByte(0x14, "System BIOS Major Release", &b.BIOSMajorRelease),
		fByte(0x15, "System BIOS Minor Release", &b.BIOSMinorRelease),
		fByte(0x16, "Embedded Controller Firmware Major Release", &b.ECMajorRelease),
		fByte(0x17, "Embedded Controller Firmware Minor Release", &b.ECMinorRelease),
		fWord(0x18, "Extended BIOS ROM Size", &b.ExtendedROMSize),
	}
}

// ParseBIOSInfo decodes a type 0 structure from a table of version v.
func ParseBIOSInfo(s *Structure, v Version) (*BIOSInfo, error) {
	if err := checkType(s, 0, biosMinLength); err != nil {
		return nil, err
	}
	b := &BIOSInfo{}
	decodeFields(&b.Header, s, v, b.fields())
	return b, nil
}

// Structure encodes the BIOS information.
func (b *BIOSInfo) Structure() (*Structure, error) {
	return encodeFields(&b.Header, 0, b.fields(), biosMinLength)
}

// ROMSizeBytes is the BIOS ROM size in bytes, from the extended field when the 8-bit one says so.
// It is 0 when the unit is out of specification.
func (b *BIOSInfo) ROMSizeBytes() uint64 {
	if b.ROMSize != 0xFF {
		return uint64(b.ROMSize+1) << 16
	}
	code := b.ExtendedROMSize
	if b.Length != 0 && b.Length < 0x1A {
		code = 16 // dmidecode's reading of a short structure: 16 MiB
	}
	switch code >> 14 {
	case 0:
		return uint64(code&0x3FFF) << 20
	case 1:
		return uint64(code&0x3FFF) << 30
	}
	return 0
}

// RuntimeSize is the size of the BIOS runtime image below 1 MiB (from the starting segment), or 0
// on systems without one (UEFI).
func (b *BIOSInfo) RuntimeSize() uint32 {
	if b.StartingAddressSegment == 0 {
		return 0
	}
	return (0x10000 - uint32(b.StartingAddressSegment)) << 4
}

// UEFI reports whether the firmware says it supports UEFI.
func (b *BIOSInfo) UEFI() bool { return b.CharacteristicsExt2&(1<<3) != 0 }

// VirtualMachine reports whether the firmware says the system is a virtual machine.
func (b *BIOSInfo) VirtualMachine() bool { return b.CharacteristicsExt2&(1<<4) != 0 }

// Revision returns the BIOS release as "5.14", or "" when not provided.
func (b *BIOSInfo) Revision() string {
	if b.Length != 0 && b.Length < 0x18 || b.BIOSMajorRelease == 0xFF || b.BIOSMinorRelease == 0xFF {
		return ""
	}
	return fmt.Sprintf("%d.%d", b.BIOSMajorRelease, b.BIOSMinorRelease)
}

// FirmwareRevision returns the embedded controller firmware release, or "".
func (b *BIOSInfo) FirmwareRevision() string {
	if b.Length != 0 && b.Length < 0x18 || b.ECMajorRelease == 0xFF || b.ECMinorRelease == 0xFF {
		return ""
	}
	return fmt.Sprintf("%d.%d", b.ECMajorRelease, b.ECMinorRelease)
}

// Characteristic flags, as dmidecode names them (bits 4-31 of the characteristics, then the two
// extension bytes).
var (
	biosCharacteristicNames = []string{
		"ISA is supported", // bit 4
		"MCA is supported",
		"EISA is supported",
		"PCI is supported",
		"PC Card (PCMCIA) is supported",
		"PNP is supported",
		"APM is supported",
		"BIOS is upgradeable",
		"BIOS shadowing is allowed",
		"VLB is supported",
		"ESCD support is available",
		"Boot from CD is supported",
		"Selectable boot is supported",
		"BIOS ROM is socketed",
		"Boot from PC Card (PCMCIA) is supported",
		"EDD is supported",
		"Japanese floppy for NEC 9800 1.2 MB is supported (int 13h)",
		"Japanese floppy for Toshiba 1.2 MB is supported (int 13h)",
		"5.25\"/360 kB floppy services are supported (int 13h)",
		"5.25\"/1.2 MB floppy services are supported (int 13h)",
		"3.5\"/720 kB floppy services are supported (int 13h)",
		"3.5\"/2.88 MB floppy services are supported (int 13h)",
		"Print screen service is supported (int 5h)",
		"8042 keyboard services are supported (int 9h)",
		"Serial services are supported (int 14h)",
		"Printer services are supported (int 17h)",
		"CGA/mono video services are supported (int 10h)",
		"NEC PC-98", // bit 31
	}
	biosExt1Names = []string{
		"ACPI is supported",
		"USB legacy is supported",
		"AGP is supported",
		"I2O boot is supported",
		"LS-120 boot is supported",
		"ATAPI Zip drive boot is supported",
		"IEEE 1394 boot is supported",
		"Smart battery is supported",
	}
	biosExt2Names = []string{
		"BIOS boot specification is supported",
		"Function key-initiated network boot is supported",
		"Targeted content distribution is supported",
		"UEFI is supported",
		"System is a virtual machine",
		"Manufacturing mode is supported",
		"Manufacturing mode is enabled",
	}
)

// CharacteristicNames lists the characteristics the firmware claims, extension bytes included.
func (b *BIOSInfo) CharacteristicNames() []string {
	var out []string
	if b.Characteristics&(1<<3) != 0 {
		out = []string{"BIOS characteristics not supported"}
	} else {
		out = bitNames(b.Characteristics, 4, 31, biosCharacteristicNames)
	}
	if b.present(0x13) {
		out = append(out, bitNames(uint64(b.CharacteristicsExt1), 0, 7, biosExt1Names)...)
	}
	if b.present(0x14) {
		out = append(out, bitNames(uint64(b.CharacteristicsExt2), 0, 6, biosExt2Names)...)
	}
	return out
}

// present reports whether the structure reaches length n (a built structure reaches every field).
func (h *Header) present(n int) bool { return h.Length == 0 || int(h.Length) >= n }

func (b *BIOSInfo) romSizeText() string {
	if b.ROMSize != 0xFF {
		return memorySizeText(uint64(b.ROMSize+1)<<6, 1)
	}
	code := b.ExtendedROMSize
	if !b.present(0x1A) {
		code = 16
	}
	unit := [...]string{"MB", "GB", outOfSpec, outOfSpec}[code>>14]
	return fmt.Sprintf("%d %s", code&0x3FFF, unit)
}

// Fields renders the structure as dmidecode 3.4 does.
func (b *BIOSInfo) Fields() []Field {
	if !b.present(biosMinLength) {
		return nil
	}
	fs := []Field{
		attr("Vendor", b.stringDisplay(0x04, b.Vendor)),
		attr("Version", b.stringDisplay(0x05, b.Version)),
		attr("Release Date", b.stringDisplay(0x08, b.ReleaseDate)),
	}
	if b.StartingAddressSegment != 0 {
		fs = append(fs, attrf("Address", "0x%04X0", b.StartingAddressSegment))
		rt := b.RuntimeSize()
		if rt&0x3FF != 0 {
			fs = append(fs, attrf("Runtime Size", "%d bytes", rt))
		} else {
			fs = append(fs, attrf("Runtime Size", "%d kB", rt>>10))
		}
	}
	fs = append(fs, attr("ROM Size", b.romSizeText()))
	fs = append(fs, list("Characteristics", "", b.CharacteristicNames()))
	if b.present(0x18) {
		if r := b.Revision(); r != "" {
			fs = append(fs, attr("BIOS Revision", r))
		}
		if r := b.FirmwareRevision(); r != "" {
			fs = append(fs, attr("Firmware Revision", r))
		}
	}
	return fs
}

func (b *BIOSInfo) String() string {
	return renderText(&b.Header, b.length(), TypeTitle(0), b.Fields())
}

func (h *Header) length() int {
	if h.Length != 0 {
		return int(h.Length)
	}
	return 0
}

// checkType verifies a structure's type before a typed decode. Too-short structures are decoded
// anyway (fields they lack stay zero) but lint reports them.
func checkType(s *Structure, typ uint8, _ int) error {
	if s == nil {
		return fmt.Errorf("smbios: no structure")
	}
	if s.Type != typ {
		return fmt.Errorf("smbios: structure handle 0x%04X is type %d, not type %d", s.Handle, s.Type, typ)
	}
	return nil
}

func init() {
	registerType(&typeSpec{typ: 0, title: "BIOS Information", minLength: biosMinLength,
		lengths: []versionLength{since(2, 0, 0x12), since(2, 1, 0x13), since(2, 3, 0x14), since(2, 4, 0x18), since(3, 1, 0x1A)},
		parse:   parser(ParseBIOSInfo)})
}

func (*BIOSInfo) structureType() uint8 { return 0 }

func (b *BIOSInfo) buildLength(v Version) int { return int(DefaultLength(0, v)) }

// setDefaults: BIOS and embedded-controller releases 0xFF ("not provided") when both halves
// are zero.
func (b *BIOSInfo) setDefaults(*buildContext) {
	if b.BIOSMajorRelease == 0 && b.BIOSMinorRelease == 0 && b.present(0x18) {
		b.BIOSMajorRelease, b.BIOSMinorRelease = 0xFF, 0xFF
	}
	if b.ECMajorRelease == 0 && b.ECMinorRelease == 0 && b.present(0x18) {
		b.ECMajorRelease, b.ECMinorRelease = 0xFF, 0xFF
	}
}
