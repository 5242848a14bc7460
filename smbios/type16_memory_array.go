package smbios

// PhysicalMemoryArray is SMBIOS type 16: a set of memory devices working together.
type PhysicalMemoryArray struct {
	Header
	Location        uint8  // 0x04
	Use             uint8  // 0x05
	ErrorCorrection uint8  // 0x06
	MaximumCapacity uint32 // 0x07, KiB; 0x80000000 means see ExtendedMaximumCapacity
	// ErrorInformationHandle (0x0B): 0xFFFE not provided, 0xFFFF no error.
	ErrorInformationHandle  uint16
	NumberOfDevices         uint16 // 0x0D
	ExtendedMaximumCapacity uint64 // 0x0F (2.7), bytes
}

const memoryArrayMinLength = 0x0F

func (a *PhysicalMemoryArray) fields() []field {
	return []field{
		fByte(0x04, "Location", &a.Location),
		fByte(0x05, "Use", &a.Use),
		fByte(0x06, "Memory Error Correction", &a.ErrorCorrection),
		fDWord(0x07, "Maximum Capacity", &a.MaximumCapacity),
		fWord(0x0B, "Memory Error Information Handle", &a.ErrorInformationHandle),
		fWord(0x0D, "Number of Memory Devices", &a.NumberOfDevices),
		fQWord(0x0F, "Extended Maximum Capacity", &a.ExtendedMaximumCapacity),
	}
}

// ParsePhysicalMemoryArray decodes a type 16 structure.
func ParsePhysicalMemoryArray(s *Structure, v Version) (*PhysicalMemoryArray, error) {
	if err := checkType(s, 16, memoryArrayMinLength); err != nil {
		return nil, err
	}
	a := &PhysicalMemoryArray{}
	decodeFields(&a.Header, s, v, a.fields())
	return a, nil
}

// Structure encodes the array.
func (a *PhysicalMemoryArray) Structure() (*Structure, error) {
	return encodeFields(&a.Header, 16, a.fields(), memoryArrayMinLength)
}

// MaximumCapacityBytes is the largest total memory the array supports, 0 when unknown.
func (a *PhysicalMemoryArray) MaximumCapacityBytes() uint64 {
	if a.MaximumCapacity == 0x80000000 {
		if !a.present(0x17) {
			return 0
		}
		return a.ExtendedMaximumCapacity
	}
	return uint64(a.MaximumCapacity) << 10
}

var (
	memoryArrayLocationNames = []string{
		"Other", "Unknown", "System Board Or Motherboard", "ISA Add-on Card", "EISA Add-on Card",
		"PCI Add-on Card", "MCA Add-on Card", "PCMCIA Add-on Card", "Proprietary Add-on Card", "NuBus",
	}
	memoryArrayLocationA0Names = []string{
		"PC-98/C20 Add-on Card", "PC-98/C24 Add-on Card", "PC-98/E Add-on Card", "PC-98/Local Bus Add-on Card",
		"CXL Flexbus 1.0",
	}
	memoryArrayUseNames = []string{"Other", "Unknown", "System Memory", "Video Memory", "Flash Memory", "Non-volatile RAM", "Cache Memory"}
	memoryArrayECCNames = []string{"Other", "Unknown", "None", "Parity", "Single-bit ECC", "Multi-bit ECC", "CRC"}
)

// LocationName names where the array is ("System Board Or Motherboard").
func (a *PhysicalMemoryArray) LocationName() string {
	if a.Location >= 0xA0 {
		return enumName(int(a.Location), 0xA0, memoryArrayLocationA0Names)
	}
	return enumName(int(a.Location), 1, memoryArrayLocationNames)
}

func errorHandleText(h uint16) string {
	switch h {
	case 0xFFFE:
		return "Not Provided"
	case 0xFFFF:
		return "No Error"
	}
	return handleText(h)
}

// Fields renders the structure as dmidecode 3.4 does.
func (a *PhysicalMemoryArray) Fields() []Field {
	if !a.present(memoryArrayMinLength) {
		return nil
	}
	capacity := "Unknown"
	switch {
	case a.MaximumCapacity != 0x80000000:
		capacity = memorySizeText(uint64(a.MaximumCapacity), 1)
	case a.present(0x17):
		capacity = memorySizeText(a.ExtendedMaximumCapacity, 0)
	}
	return []Field{
		attr("Location", a.LocationName()),
		attr("Use", enumName(int(a.Use), 1, memoryArrayUseNames)),
		attr("Error Correction Type", enumName(int(a.ErrorCorrection), 1, memoryArrayECCNames)),
		attr("Maximum Capacity", capacity),
		attr("Error Information Handle", errorHandleText(a.ErrorInformationHandle)),
		attrf("Number Of Devices", "%d", a.NumberOfDevices),
	}
}

func (a *PhysicalMemoryArray) String() string {
	return renderText(&a.Header, a.length(), TypeTitle(16), a.Fields())
}

func init() {
	registerType(&typeSpec{typ: 16, title: "Physical Memory Array", minLength: memoryArrayMinLength,
		lengths: []versionLength{since(2, 1, 0x0F), since(2, 7, 0x17)},
		parse:   parser(ParsePhysicalMemoryArray)})
}

func (*PhysicalMemoryArray) structureType() uint8 { return 16 }

func (a *PhysicalMemoryArray) buildLength(v Version) int { return int(DefaultLength(16, v)) }

// setDefaults: no error information structure.
func (a *PhysicalMemoryArray) setDefaults(*buildContext) {
	if a.ErrorInformationHandle == 0 {
		a.ErrorInformationHandle = 0xFFFE
	}
}
