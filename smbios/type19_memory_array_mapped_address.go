package smbios

import "fmt"

// MemoryArrayMappedAddress is SMBIOS type 19: the physical address range a memory array maps.
type MemoryArrayMappedAddress struct {
	Header
	// StartingAddress and EndingAddress (0x04, 0x08) are in KiB; 0xFFFFFFFF in the start means
	// the extended (byte) addresses hold the range.
	StartingAddress         uint32
	EndingAddress           uint32
	MemoryArrayHandle       uint16 // 0x0C
	PartitionWidth          uint8  // 0x0E
	ExtendedStartingAddress uint64 // 0x0F (2.7), bytes
	ExtendedEndingAddress   uint64 // 0x17 (2.7), bytes
}

const arrayMappedMinLength = 0x0F

func init() {
	registerType(&typeSpec{typ: 19, title: "Memory Array Mapped Address", minLength: arrayMappedMinLength,
		lengths: []versionLength{since(2, 1, 0x0F), since(2, 7, 0x1F)},
		parse:   parser(ParseMemoryArrayMappedAddress)})
}

func (m *MemoryArrayMappedAddress) fields() []field {
	return []field{
		fDWord(0x04, "Starting Address", &m.StartingAddress),
		fDWord(0x08, "Ending Address", &m.EndingAddress),
		fWord(0x0C, "Memory Array Handle", &m.MemoryArrayHandle),
		fByte(0x0E, "Partition Width", &m.PartitionWidth),
		fQWord(0x0F, "Extended Starting Address", &m.ExtendedStartingAddress),
		fQWord(0x17, "Extended Ending Address", &m.ExtendedEndingAddress),
	}
}

// ParseMemoryArrayMappedAddress decodes a type 19 structure.
func ParseMemoryArrayMappedAddress(s *Structure, v Version) (*MemoryArrayMappedAddress, error) {
	if err := checkType(s, 19, arrayMappedMinLength); err != nil {
		return nil, err
	}
	m := &MemoryArrayMappedAddress{}
	decodeFields(&m.Header, s, v, m.fields())
	return m, nil
}

// Structure encodes the mapped address range.
func (m *MemoryArrayMappedAddress) Structure() (*Structure, error) {
	return encodeFields(&m.Header, 19, m.fields(), arrayMappedMinLength)
}

func (m *MemoryArrayMappedAddress) extended() bool {
	return m.present(0x1F) && m.StartingAddress == 0xFFFFFFFF
}

// Fields renders the structure as dmidecode 3.4 does.
func (m *MemoryArrayMappedAddress) Fields() []Field {
	if !m.present(arrayMappedMinLength) {
		return nil
	}
	var fs []Field
	if m.extended() {
		start, end := m.ExtendedStartingAddress, m.ExtendedEndingAddress
		fs = append(fs, attrf("Starting Address", "0x%016Xk", start), attrf("Ending Address", "0x%016Xk", end))
		size := "Invalid"
		if start != end {
			size = memorySizeText(end-start+1, 0)
		}
		fs = append(fs, attr("Range Size", size))
	} else {
		start, end := m.StartingAddress, m.EndingAddress
		fs = append(fs, attrf("Starting Address", "0x%08X%03X", start>>2, (start&3)<<10),
			attrf("Ending Address", "0x%08X%03X", end>>2, (end&3)<<10+0x3FF))
		size := "Invalid"
		if n := end - start + 1; n != 0 {
			size = memorySizeText(uint64(n), 1)
		}
		fs = append(fs, attr("Range Size", size))
	}
	return append(fs, attr("Physical Array Handle", handleText(m.MemoryArrayHandle)),
		attr("Partition Width", fmt.Sprint(m.PartitionWidth)))
}

func (m *MemoryArrayMappedAddress) String() string {
	return renderText(&m.Header, m.length(), TypeTitle(19), m.Fields())
}

func (*MemoryArrayMappedAddress) structureType() uint8 { return 19 }

func (m *MemoryArrayMappedAddress) buildLength(v Version) int { return int(DefaultLength(19, v)) }

func (m *MemoryArrayMappedAddress) setDefaults(*buildContext) {}
