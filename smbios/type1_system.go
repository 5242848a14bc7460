package smbios

// SystemInfo is SMBIOS type 1, system information: the identity of the machine as a product.
type SystemInfo struct {
	Header
	Manufacturer string // 0x04
	ProductName  string // 0x05
	Version      string // 0x06
	SerialNumber string // 0x07
	// UUID (0x08, 2.1) in text byte order; the table stores the first three fields little-endian
	// from SMBIOS 2.6 on.
	UUID       UUID
	WakeUpType uint8  // 0x18 (2.1)
	SKUNumber  string // 0x19 (2.4)
	Family     string // 0x1A (2.4)
}

const systemMinLength = 0x08

func (s *SystemInfo) fields() []field {
	return []field{
		fString(0x04, "Manufacturer", &s.Manufacturer),
		fString(0x05, "Product Name", &s.ProductName),
		fString(0x06, "Version", &s.Version),
		fString(0x07, "Serial Number", &s.SerialNumber),
		fUUID(0x08, "UUID", &s.UUID),
		fByte(0x18, "Wake-up Type", &s.WakeUpType),
		fString(0x19, "SKU Number", &s.SKUNumber),
		fString(0x1A, "Family", &s.Family),
	}
}

// ParseSystemInfo decodes a type 1 structure from a table of version v (the version decides the
// UUID byte order).
func ParseSystemInfo(st *Structure, v Version) (*SystemInfo, error) {
	if err := checkType(st, 1, systemMinLength); err != nil {
		return nil, err
	}
	s := &SystemInfo{}
	decodeFields(&s.Header, st, v, s.fields())
	return s, nil
}

// Structure encodes the system information.
func (s *SystemInfo) Structure() (*Structure, error) {
	return encodeFields(&s.Header, 1, s.fields(), systemMinLength)
}

// HasUUID reports whether the structure is long enough to carry a UUID (SMBIOS 2.1).
func (s *SystemInfo) HasUUID() bool { return s.present(0x19) }

var wakeUpTypeNames = []string{
	"Reserved", // 0x00
	"Other",
	"Unknown",
	"APM Timer",
	"Modem Ring",
	"LAN Remote",
	"Power Switch",
	"PCI PME#",
	"AC Power Restored", // 0x08
}

// WakeUpTypeName names the event that last turned the system on.
func (s *SystemInfo) WakeUpTypeName() string { return enumName(int(s.WakeUpType), 0, wakeUpTypeNames) }

// Fields renders the structure as dmidecode 3.4 does.
func (s *SystemInfo) Fields() []Field {
	if !s.present(systemMinLength) {
		return nil
	}
	fs := []Field{
		attr("Manufacturer", s.stringDisplay(0x04, s.Manufacturer)),
		attr("Product Name", s.stringDisplay(0x05, s.ProductName)),
		attr("Version", s.stringDisplay(0x06, s.Version)),
		attr("Serial Number", s.stringDisplay(0x07, s.SerialNumber)),
	}
	if !s.present(0x19) {
		return fs
	}
	fs = append(fs, attr("UUID", s.UUID.Display()), attr("Wake-up Type", s.WakeUpTypeName()))
	if !s.present(0x1B) {
		return fs
	}
	return append(fs,
		attr("SKU Number", s.stringDisplay(0x19, s.SKUNumber)),
		attr("Family", s.stringDisplay(0x1A, s.Family)))
}

func (s *SystemInfo) String() string {
	return renderText(&s.Header, s.length(), TypeTitle(1), s.Fields())
}

func init() {
	registerType(&typeSpec{typ: 1, title: "System Information", minLength: systemMinLength,
		lengths: []versionLength{since(2, 0, 0x08), since(2, 1, 0x19), since(2, 4, 0x1B)},
		parse:   parser(ParseSystemInfo)})
}

func (*SystemInfo) structureType() uint8 { return 1 }

func (s *SystemInfo) buildLength(v Version) int { return int(DefaultLength(1, v)) }

// setDefaults: wake-up type "Power Switch".
func (s *SystemInfo) setDefaults(*buildContext) {
	if s.WakeUpType == 0 && s.present(0x19) {
		s.WakeUpType = 0x06
	}
}
