package smbios

import "fmt"

// OnboardDevice is SMBIOS type 41, onboard devices extended information: one device built into
// the board, with its PCI address.
type OnboardDevice struct {
	Header
	ReferenceDesignation string // 0x04
	// DeviceType (0x05): bits 6:0 the type, bit 7 enabled.
	DeviceType     uint8
	TypeInstance   uint8  // 0x06
	SegmentGroup   uint16 // 0x07
	BusNumber      uint8  // 0x09
	DeviceFunction uint8  // 0x0A: bits 7:3 device, 2:0 function
}

const onboardDeviceMinLength = 0x0B

func init() {
	registerType(&typeSpec{typ: 41, title: "Onboard Device", minLength: onboardDeviceMinLength,
		lengths: []versionLength{since(2, 6, 0x0B)},
		parse:   parser(ParseOnboardDevice)})
}

func (d *OnboardDevice) fields() []field {
	return []field{
		fString(0x04, "Reference Designation", &d.ReferenceDesignation),
		fByte(0x05, "Device Type", &d.DeviceType),
		fByte(0x06, "Device Type Instance", &d.TypeInstance),
		fWord(0x07, "Segment Group Number", &d.SegmentGroup),
		fByte(0x09, "Bus Number", &d.BusNumber),
		fByte(0x0A, "Device/Function Number", &d.DeviceFunction),
	}
}

// ParseOnboardDevice decodes a type 41 structure.
func ParseOnboardDevice(s *Structure, v Version) (*OnboardDevice, error) {
	if err := checkType(s, 41, onboardDeviceMinLength); err != nil {
		return nil, err
	}
	d := &OnboardDevice{}
	decodeFields(&d.Header, s, v, d.fields())
	return d, nil
}

// Structure encodes the device.
func (d *OnboardDevice) Structure() (*Structure, error) {
	return encodeFields(&d.Header, 41, d.fields(), onboardDeviceMinLength)
}

// onboardDeviceTypeNames are dmidecode 3.4's names (SMBIOS 7.11.1), from 0x01.
var onboardDeviceTypeNames = []string{"Other", "Unknown", "Video", "SCSI Controller", "Ethernet", "Token Ring",
	"Sound", "PATA Controller", "SATA Controller", "SAS Controller", "Wireless LAN", "Bluetooth", "WWAN", "eMMC",
	"NVMe Controller", "UFS Controller"}

// TypeName names the device type as dmidecode does.
func (d *OnboardDevice) TypeName() string {
	return enumName(int(d.DeviceType&0x7F), 1, onboardDeviceTypeNames)
}

// busAddress renders a PCI segment/bus/device/function as dmidecode does, "" when all are
// "not applicable" (0xFFFF, 0xFF, 0xFF).
func busAddress(segment uint16, bus, devfn uint8) string {
	if segment == 0xFFFF && bus == 0xFF && devfn == 0xFF {
		return ""
	}
	return fmt.Sprintf("%04x:%02x:%02x.%x", segment, bus, devfn>>3, devfn&7)
}

// Fields renders the structure as dmidecode 3.4 does.
func (d *OnboardDevice) Fields() []Field {
	if !d.present(onboardDeviceMinLength) {
		return nil
	}
	status := "Disabled"
	if d.DeviceType&0x80 != 0 {
		status = "Enabled"
	}
	fs := []Field{
		attr("Reference Designation", d.stringDisplay(0x04, d.ReferenceDesignation)),
		attr("Type", d.TypeName()),
		attr("Status", status),
		attr("Type Instance", fmt.Sprint(d.TypeInstance)),
	}
	if a := busAddress(d.SegmentGroup, d.BusNumber, d.DeviceFunction); a != "" {
		fs = append(fs, attr("Bus Address", a))
	}
	return fs
}

func (d *OnboardDevice) String() string {
	return renderText(&d.Header, d.length(), TypeTitle(41), d.Fields())
}

func (*OnboardDevice) structureType() uint8 { return 41 }

func (d *OnboardDevice) buildLength(v Version) int { return int(DefaultLength(41, v)) }

func (d *OnboardDevice) setDefaults(*buildContext) {}
