package smbios

import (
	"fmt"
	"strconv"
	"strings"
)

// MemoryDevice is SMBIOS type 17: one memory socket and the module in it.
type MemoryDevice struct {
	Header
	PhysicalMemoryArrayHandle uint16 // 0x04
	ErrorInformationHandle    uint16 // 0x06
	TotalWidth                uint16 // 0x08, bits; 0xFFFF unknown
	DataWidth                 uint16 // 0x0A, bits
	// Size (0x0C): 0 no module, 0xFFFF unknown, 0x7FFF see ExtendedSize; bit 15 set means KiB,
	// clear means MiB.
	Size                              uint16
	FormFactor                        uint8  // 0x0E
	DeviceSet                         uint8  // 0x0F
	DeviceLocator                     string // 0x10
	BankLocator                       string // 0x11
	MemoryType                        uint8  // 0x12
	TypeDetail                        uint16 // 0x13
	Speed                             uint16 // 0x15 (2.3), MT/s; 0xFFFF see ExtendedSpeed
	Manufacturer                      string // 0x17
	SerialNumber                      string // 0x18
	AssetTag                          string // 0x19
	PartNumber                        string // 0x1A
	Attributes                        uint8  // 0x1B (2.6): bits 3:0 rank
	ExtendedSize                      uint32 // 0x1C (2.7), MiB
	ConfiguredMemorySpeed             uint16 // 0x20, MT/s
	MinimumVoltage                    uint16 // 0x22 (2.8), mV
	MaximumVoltage                    uint16 // 0x24
	ConfiguredVoltage                 uint16 // 0x26
	MemoryTechnology                  uint8  // 0x28 (3.2)
	OperatingModes                    uint16 // 0x29
	FirmwareVersion                   string // 0x2B
	ModuleManufacturerID              uint16 // 0x2C
	ModuleProductID                   uint16 // 0x2E
	SubsystemControllerManufacturerID uint16 // 0x30
	SubsystemControllerProductID      uint16 // 0x32
	NonVolatileSize                   uint64 // 0x34, bytes
	VolatileSize                      uint64 // 0x3C
	CacheSize                         uint64 // 0x44
	LogicalSize                       uint64 // 0x4C
	ExtendedSpeed                     uint32 // 0x54 (3.3)
	ExtendedConfiguredSpeed           uint32 // 0x58
	PMIC0ManufacturerID               uint16 // 0x5C (3.7)
	PMIC0RevisionNumber               uint16 // 0x5E
	RCDManufacturerID                 uint16 // 0x60
	RCDRevisionNumber                 uint16 // 0x62
}

const memoryDeviceMinLength = 0x15

func (m *MemoryDevice) fields() []field {
	return []field{
		fWord(0x04, "Physical Memory Array Handle", &m.PhysicalMemoryArrayHandle),
		fWord(0x06, "Memory Error Information Handle", &m.ErrorInformationHandle),
		fWord(0x08, "Total Width", &m.TotalWidth),
		fWord(0x0A, "Data Width", &m.DataWidth),
		fWord(0x0C, "Size", &m.Size),
		fByte(0x0E, "Form Factor", &m.FormFactor),
		fByte(0x0F, "Device Set", &m.DeviceSet),
		fString(0x10, "Device Locator", &m.DeviceLocator),
		fString(0x11, "Bank Locator", &m.BankLocator),
		fByte(0x12, "Memory Type", &m.MemoryType),
		fWord(0x13, "Type Detail", &m.TypeDetail),
		fWord(0x15, "Speed", &m.Speed),
		fString(0x17, "Manufacturer", &m.Manufacturer),
		fString(0x18, "Serial Number", &m.SerialNumber),
		fString(0x19, "Asset Tag", &m.AssetTag),
		fString(0x1A, "Part Number", &m.PartNumber),
		fByte(0x1B, "Attributes", &m.Attributes),
		fDWord(0x1C, "Extended Size", &m.ExtendedSize),
		fWord(0x20, "Configured Memory Speed", &m.ConfiguredMemorySpeed),
		fWord(0x22, "Minimum Voltage", &m.MinimumVoltage),
		fWord(0x24, "Maximum Voltage", &m.MaximumVoltage),
		fWord(0x26, "Configured Voltage", &m.ConfiguredVoltage),
		fByte(0x28, "Memory Technology", &m.MemoryTechnology),
		fWord(0x29, "Memory Operating Mode Capability", &m.OperatingModes),
		fString(0x2B, "Firmware Version", &m.FirmwareVersion),
		fWord(0x2C, "Module Manufacturer ID", &m.ModuleManufacturerID),
		fWord(0x2E, "Module Product ID", &m.ModuleProductID),
		fWord(0x30, "Memory Subsystem Controller Manufacturer ID", &m.SubsystemControllerManufacturerID),
		fWord(0x32, "Memory Subsystem Controller Product ID", &m.SubsystemControllerProductID),
		fQWord(0x34, "Non-volatile Size", &m.NonVolatileSize),
		fQWord(0x3C, "Volatile Size", &m.VolatileSize),
		fQWord(0x44, "Cache Size", &m.CacheSize),
		fQWord(0x4C, "Logical Size", &m.LogicalSize),
		fDWord(0x54, "Extended Speed", &m.ExtendedSpeed),
		fDWord(0x58, "Extended Configured Memory Speed", &m.ExtendedConfiguredSpeed),
		fWord(0x5C, "PMIC0 Manufacturer ID", &m.PMIC0ManufacturerID),
		fWord(0x5E, "PMIC0 Revision Number", &m.PMIC0RevisionNumber),
		fWord(0x60, "RCD Manufacturer ID", &m.RCDManufacturerID),
		fWord(0x62, "RCD Revision Number", &m.RCDRevisionNumber),
	}
}

// ParseMemoryDevice decodes a type 17 structure.
func ParseMemoryDevice(s *Structure, v Version) (*MemoryDevice, error) {
	if err := checkType(s, 17, memoryDeviceMinLength); err != nil {
		return nil, err
	}
	m := &MemoryDevice{}
	decodeFields(&m.Header, s, v, m.fields())
	return m, nil
}

// Structure encodes the memory device.
func (m *MemoryDevice) Structure() (*Structure, error) {
	return encodeFields(&m.Header, 17, m.fields(), memoryDeviceMinLength)
}

// Installed reports whether a module sits in the socket (Size is not 0).
func (m *MemoryDevice) Installed() bool { return m.Size != 0 }

// SizeBytes is the module size in bytes, with the extended-size rules: 0x7FFF defers to
// ExtendedSize (MiB), bit 15 selects KiB. It is 0 when no module is installed or the size is
// unknown.
func (m *MemoryDevice) SizeBytes() uint64 {
	switch {
	case m.Size == 0 || m.Size == 0xFFFF:
		return 0
	case m.Size == 0x7FFF && m.present(0x20):
		return uint64(m.ExtendedSize&0x7FFFFFFF) << 20
	case m.Size&0x8000 != 0:
		return uint64(m.Size&0x7FFF) << 10
	}
	return uint64(m.Size&0x7FFF) << 20
}

// SizeText renders the size as dmidecode does ("16 GB", "No Module Installed").
func (m *MemoryDevice) SizeText() string {
	if m.Size == 0x7FFF && m.present(0x20) {
		code := m.ExtendedSize & 0x7FFFFFFF
		switch {
		case code&0x3FF != 0:
			return fmt.Sprintf("%d MB", code)
		case code&0xFFC00 != 0:
			return fmt.Sprintf("%d GB", code>>10)
		}
		return fmt.Sprintf("%d TB", code>>20)
	}
	switch m.Size {
	case 0:
		return "No Module Installed"
	case 0xFFFF:
		return "Unknown"
	}
	s := uint64(m.Size & 0x7FFF)
	if m.Size&0x8000 == 0 {
		s <<= 10
	}
	return memorySizeText(s, 1)
}

// SpeedMTs is the module's maximum speed in MT/s, 0 when unknown.
func (m *MemoryDevice) SpeedMTs() uint32 { return m.speed(m.Speed, m.ExtendedSpeed) }

// ConfiguredSpeedMTs is the configured speed in MT/s, 0 when unknown.
func (m *MemoryDevice) ConfiguredSpeedMTs() uint32 {
	return m.speed(m.ConfiguredMemorySpeed, m.ExtendedConfiguredSpeed)
}

func (m *MemoryDevice) speed(code uint16, ext uint32) uint32 {
	if code == 0xFFFF {
		if m.present(0x5C) {
			return ext
		}
		return 0
	}
	return uint32(code)
}

func speedText(v uint32) string {
	if v == 0 {
		return "Unknown"
	}
	return fmt.Sprintf("%d MT/s", v)
}

// Rank is the module's rank count, 0 when unknown.
func (m *MemoryDevice) Rank() int { return int(m.Attributes & 0x0F) }

var (
	memoryFormFactorNames = []string{
		"Other", "Unknown", "SIMM", "SIP", "Chip", "DIP", "ZIP", "Proprietary Card", "DIMM", "TSOP",
		"Row Of Chips", "RIMM", "SODIMM", "SRIMM", "FB-DIMM", "Die",
	}
	memoryTypeNames = []string{
		"Other", "Unknown", "DRAM", "EDRAM", "VRAM", "SRAM", "RAM", "ROM", "Flash", "EEPROM", "FEPROM",
		"EPROM", "CDRAM", "3DRAM", "SDRAM", "SGRAM", "RDRAM", "DDR", "DDR2", "DDR2 FB-DIMM", "Reserved",
		"Reserved", "Reserved", "DDR3", "FBD2", "DDR4", "LPDDR", "LPDDR2", "LPDDR3", "LPDDR4",
		"Logical non-volatile device", "HBM", "HBM2", "DDR5", "LPDDR5", // 0x23
	}
	memoryTypeDetailNames = []string{
		"Other", // bit 1
		"Unknown", "Fast-paged", "Static Column", "Pseudo-static", "RAMBus", "Synchronous", "CMOS",
		"EDO", "Window DRAM", "Cache DRAM", "Non-Volatile", "Registered (Buffered)",
		"Unbuffered (Unregistered)", "LRDIMM", // bit 15
	}
	memoryTechnologyNames = []string{"Other", "Unknown", "DRAM", "NVDIMM-N", "NVDIMM-F", "NVDIMM-P", "Intel Optane DC persistent memory"}
	memoryModeNames       = []string{"Other", "Unknown", "Volatile memory", "Byte-accessible persistent memory", "Block-accessible persistent memory"}
)

// FormFactorName names the module form factor ("DIMM", "SODIMM").
func (m *MemoryDevice) FormFactorName() string {
	return enumName(int(m.FormFactor), 1, memoryFormFactorNames)
}

// TypeName names the memory type ("DDR4").
func (m *MemoryDevice) TypeName() string { return enumName(int(m.MemoryType), 1, memoryTypeNames) }

// TypeDetailText renders the type detail flags ("Synchronous Unbuffered (Unregistered)").
func (m *MemoryDevice) TypeDetailText() string {
	if m.TypeDetail&0xFFFE == 0 {
		return "None"
	}
	return strings.Join(bitNames(uint64(m.TypeDetail), 1, 15, memoryTypeDetailNames), " ")
}

func widthText(v uint16) string {
	if v == 0xFFFF || v == 0 {
		return "Unknown"
	}
	return fmt.Sprintf("%d bits", v)
}

func memoryVoltageText(mv uint16) string {
	if mv == 0 {
		return "Unknown"
	}
	v := float64(float32(mv) / 1000)
	if mv%100 != 0 {
		return strconv.FormatFloat(v, 'g', 6, 64) + " V" // C's %g
	}
	return fmt.Sprintf("%.1f V", v)
}

func manufacturerIDText(code uint16) string {
	if code == 0 {
		return "Unknown"
	}
	return fmt.Sprintf("Bank %d, Hex 0x%02X", code&0x7F+1, code>>8)
}

func productIDText(code uint16) string {
	if code == 0 {
		return "Unknown"
	}
	return fmt.Sprintf("0x%04X", code)
}

func optionalSizeText(code uint64) string {
	switch code {
	case ^uint64(0):
		return "Unknown"
	case 0:
		return "None"
	}
	return memorySizeText(code, 0)
}

// Fields renders the structure as dmidecode 3.4 does.
func (m *MemoryDevice) Fields() []Field {
	if !m.present(memoryDeviceMinLength) {
		return nil
	}
	set := fmt.Sprint(m.DeviceSet)
	switch m.DeviceSet {
	case 0:
		set = "None"
	case 0xFF:
		set = "Unknown"
	}
	fs := []Field{
		attr("Array Handle", handleText(m.PhysicalMemoryArrayHandle)),
		attr("Error Information Handle", errorHandleText(m.ErrorInformationHandle)),
		attr("Total Width", widthText(m.TotalWidth)),
		attr("Data Width", widthText(m.DataWidth)),
		attr("Size", m.SizeText()),
		attr("Form Factor", m.FormFactorName()),
		attr("Set", set),
		attr("Locator", m.stringDisplay(0x10, m.DeviceLocator)),
		attr("Bank Locator", m.stringDisplay(0x11, m.BankLocator)),
		attr("Type", m.TypeName()),
		attr("Type Detail", m.TypeDetailText()),
	}
	// dmidecode skips the rest for an empty socket: it is irrelevant.
	if !m.present(0x17) || m.Size == 0 {
		return fs
	}
	fs = append(fs, attr("Speed", speedText(m.SpeedMTs())))
	if !m.present(0x1B) {
		return fs
	}
	fs = append(fs,
		attr("Manufacturer", m.stringDisplay(0x17, m.Manufacturer)),
		attr("Serial Number", m.stringDisplay(0x18, m.SerialNumber)),
		attr("Asset Tag", m.stringDisplay(0x19, m.AssetTag)),
		attr("Part Number", m.stringDisplay(0x1A, m.PartNumber)))
	if !m.present(0x1C) {
		return fs
	}
	rank := "Unknown"
	if r := m.Rank(); r != 0 {
		rank = fmt.Sprint(r)
	}
	fs = append(fs, attr("Rank", rank))
	if !m.present(0x22) {
		return fs
	}
	fs = append(fs, attr("Configured Memory Speed", speedText(m.ConfiguredSpeedMTs())))
	if !m.present(0x28) {
		return fs
	}
	fs = append(fs,
		attr("Minimum Voltage", memoryVoltageText(m.MinimumVoltage)),
		attr("Maximum Voltage", memoryVoltageText(m.MaximumVoltage)),
		attr("Configured Voltage", memoryVoltageText(m.ConfiguredVoltage)))
	if !m.present(0x34) {
		return fs
	}
	modes := "None"
	if m.OperatingModes&0xFFFE != 0 {
		modes = strings.Join(bitNames(uint64(m.OperatingModes), 1, 5, memoryModeNames), " ")
	}
	fs = append(fs,
		attr("Memory Technology", enumName(int(m.MemoryTechnology), 1, memoryTechnologyNames)),
		attr("Memory Operating Mode Capability", modes),
		attr("Firmware Version", m.stringDisplay(0x2B, m.FirmwareVersion)),
		attr("Module Manufacturer ID", manufacturerIDText(m.ModuleManufacturerID)),
		attr("Module Product ID", productIDText(m.ModuleProductID)),
		attr("Memory Subsystem Controller Manufacturer ID", manufacturerIDText(m.SubsystemControllerManufacturerID)),
		attr("Memory Subsystem Controller Product ID", productIDText(m.SubsystemControllerProductID)))
	for _, sz := range []struct {
		end  int
		name string
		v    uint64
	}{{0x3C, "Non-Volatile Size", m.NonVolatileSize}, {0x44, "Volatile Size", m.VolatileSize},
		{0x4C, "Cache Size", m.CacheSize}, {0x54, "Logical Size", m.LogicalSize}} {
		if !m.present(sz.end) {
			return fs
		}
		fs = append(fs, attr(sz.name, optionalSizeText(sz.v)))
	}
	return fs
}

func (m *MemoryDevice) String() string {
	return renderText(&m.Header, m.length(), TypeTitle(17), m.Fields())
}

func init() {
	registerType(&typeSpec{typ: 17, title: "Memory Device", minLength: memoryDeviceMinLength,
		lengths: []versionLength{since(2, 1, 0x15), since(2, 3, 0x1B), since(2, 6, 0x1C), since(2, 7, 0x22),
			since(2, 8, 0x28), since(3, 2, 0x54), since(3, 3, 0x5C), since(3, 7, 0x64)},
		parse: parser(ParseMemoryDevice)})
}

func (*MemoryDevice) structureType() uint8 { return 17 }

func (m *MemoryDevice) buildLength(v Version) int {
	return grownLength(&m.Header, m.fields(), int(DefaultLength(17, v)))
}

// SetSize sets the module size in bytes, choosing the encoding the specification asks for: KiB
// below 1 MiB, MiB up to 32 GiB - 1 MiB, the extended size beyond (SMBIOS 2.7). 0 means no
// module installed.
func (m *MemoryDevice) SetSize(bytes uint64) error {
	switch {
	case bytes == 0:
		m.Size, m.ExtendedSize = 0, 0
	case bytes < 1<<20:
		if bytes%1024 != 0 {
			return fmt.Errorf("smbios: memory size %d is not a whole number of KiB", bytes)
		}
		m.Size, m.ExtendedSize = uint16(bytes>>10)|0x8000, 0
	case bytes%(1<<20) != 0:
		return fmt.Errorf("smbios: memory size %d bytes is not a whole number of MiB", bytes)
	case bytes>>20 < 0x7FFF:
		m.Size, m.ExtendedSize = uint16(bytes>>20), 0
	case bytes>>20 <= 0x7FFFFFFF:
		m.Size, m.ExtendedSize = 0x7FFF, uint32(bytes>>20)
	default:
		return fmt.Errorf("smbios: memory size %d bytes exceeds what SMBIOS can describe", bytes)
	}
	return nil
}

// SetSpeed sets the module's maximum speed in MT/s, in the extended field (SMBIOS 3.3) when it
// does not fit 16 bits. SetConfiguredSpeed does the same for the configured speed.
func (m *MemoryDevice) SetSpeed(mts uint32) {
	if mts >= 0xFFFF {
		m.Speed, m.ExtendedSpeed = 0xFFFF, mts
	} else {
		m.Speed, m.ExtendedSpeed = uint16(mts), 0
	}
}

// SetConfiguredSpeed sets the configured speed in MT/s, like SetSpeed.
func (m *MemoryDevice) SetConfiguredSpeed(mts uint32) {
	if mts >= 0xFFFF {
		m.ConfiguredMemorySpeed, m.ExtendedConfiguredSpeed = 0xFFFF, mts
	} else {
		m.ConfiguredMemorySpeed, m.ExtendedConfiguredSpeed = uint16(mts), 0
	}
}

// setDefaults: in the first memory array, no error information structure, widths 64 bits when
// installed, form factor DIMM, type "Unknown", technology DRAM.
func (m *MemoryDevice) setDefaults(c *buildContext) {
	if m.PhysicalMemoryArrayHandle == 0 && len(c.arrays) > 0 {
		m.PhysicalMemoryArrayHandle = c.arrays[0].Handle
	}
	if m.ErrorInformationHandle == 0 {
		m.ErrorInformationHandle = 0xFFFE
	}
	if m.Installed() {
		if m.TotalWidth == 0 {
			m.TotalWidth = 64
		}
		if m.DataWidth == 0 {
			m.DataWidth = 64
		}
	}
	if m.FormFactor == 0 {
		m.FormFactor = 0x09
	}
	if m.MemoryType == 0 {
		m.MemoryType = 0x02
	}
	if m.MemoryTechnology == 0 && m.present(0x29) {
		m.MemoryTechnology = 0x03 // DRAM
	}
}
