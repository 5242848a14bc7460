package smbios

// SystemBootInfo is SMBIOS type 32, system boot information: the status of the last boot.
type SystemBootInfo struct {
	Header
	Reserved [6]uint8 // 0x04
	// Status (0x0A) is the first byte of the boot status; vendors may add more bytes after it,
	// kept from a decoded structure.
	Status uint8
}

const systemBootMinLength = 0x0B

func init() {
	registerType(&typeSpec{typ: 32, title: "System Boot Information", minLength: systemBootMinLength,
		lengths: []versionLength{since(2, 3, 0x0B)},
		parse:   parser(ParseSystemBootInfo)})
}

func (b *SystemBootInfo) fields() []field {
	return []field{fByte(0x0A, "Boot Status", &b.Status)}
}

// ParseSystemBootInfo decodes a type 32 structure.
func ParseSystemBootInfo(s *Structure, v Version) (*SystemBootInfo, error) {
	if err := checkType(s, 32, systemBootMinLength); err != nil {
		return nil, err
	}
	b := &SystemBootInfo{}
	decodeFields(&b.Header, s, v, b.fields())
	for i := range b.Reserved {
		b.Reserved[i], _ = s.Byte(0x04 + i)
	}
	return b, nil
}

// Structure encodes the boot information.
func (b *SystemBootInfo) Structure() (*Structure, error) {
	s, err := encodeFields(&b.Header, 32, b.fields(), systemBootMinLength)
	if err != nil {
		return nil, err
	}
	copy(s.Formatted, b.Reserved[:])
	return s, nil
}

var bootStatusNames = []string{"No errors detected", "No bootable media", "Operating system failed to load",
	"Firmware-detected hardware failure", "Operating system-detected hardware failure", "User-requested boot",
	"System security violation", "Previously-requested image", "System watchdog timer expired"}

// StatusName names the boot status as dmidecode does.
func (b *SystemBootInfo) StatusName() string {
	switch s := b.Status; {
	case int(s) < len(bootStatusNames):
		return bootStatusNames[s]
	case s >= 192:
		return "Product-specific"
	case s >= 128:
		return "OEM-specific"
	}
	return outOfSpec
}

// Fields renders the structure as dmidecode 3.4 does.
func (b *SystemBootInfo) Fields() []Field {
	if !b.present(systemBootMinLength) {
		return nil
	}
	return []Field{attr("Status", b.StatusName())}
}

func (b *SystemBootInfo) String() string {
	return renderText(&b.Header, b.length(), TypeTitle(32), b.Fields())
}

func (*SystemBootInfo) structureType() uint8 { return 32 }

func (b *SystemBootInfo) buildLength(v Version) int { return int(DefaultLength(32, v)) }

func (b *SystemBootInfo) setDefaults(*buildContext) {}
