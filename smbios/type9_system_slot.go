package smbios

import (
	"fmt"
)

// SystemSlot is SMBIOS type 9, system slot information: one expansion slot.
type SystemSlot struct {
	Header
	Designation      string // 0x04
	SlotType         uint8  // 0x05
	DataBusWidth     uint8  // 0x06
	CurrentUsage     uint8  // 0x07
	SlotLength       uint8  // 0x08
	SlotID           uint16 // 0x09 (two bytes whose meaning depends on the slot type)
	Characteristic1  uint8  // 0x0B
	Characteristic2  uint8  // 0x0C (2.1)
	SegmentGroup     uint16 // 0x0D (2.6)
	BusNumber        uint8  // 0x0F
	DeviceFunction   uint8  // 0x10
	DataBusWidthBase uint8  // 0x11 (3.2)
	// PeerGroupingCount (0x12, 3.2) counts the 5-byte peer records from 0x13; they and the
	// fields after them (3.4) are kept as they were read.
	PeerGroupingCount uint8
}

const systemSlotMinLength = 0x0C

func init() {
	registerType(&typeSpec{typ: 9, title: "System Slot Information", minLength: systemSlotMinLength,
		lengths:     []versionLength{since(2, 0, 0x0C), since(2, 1, 0x0D), since(2, 6, 0x11), since(3, 2, 0x13)},
		fixedLength: slotFixedLength,
		parse:       parser(ParseSystemSlot)})
}

// slotFixedLength is a type 9 structure's length without its peer records.
func slotFixedLength(s *Structure) int {
	if n, ok := s.Byte(0x12); ok && s.Length() >= 0x13+5*int(n) {
		return s.Length() - 5*int(n)
	}
	return s.Length()
}

func (s *SystemSlot) fields() []field {
	return []field{
		fString(0x04, "Slot Designation", &s.Designation),
		fByte(0x05, "Slot Type", &s.SlotType),
		fByte(0x06, "Slot Data Bus Width", &s.DataBusWidth),
		fByte(0x07, "Current Usage", &s.CurrentUsage),
		fByte(0x08, "Slot Length", &s.SlotLength),
		fWord(0x09, "Slot ID", &s.SlotID),
		fByte(0x0B, "Slot Characteristics 1", &s.Characteristic1),
		fByte(0x0C, "Slot Characteristics 2", &s.Characteristic2),
		fWord(0x0D, "Segment Group Number", &s.SegmentGroup),
		fByte(0x0F, "Bus Number", &s.BusNumber),
		fByte(0x10, "Device/Function Number", &s.DeviceFunction),
		fByte(0x11, "Data Bus Width", &s.DataBusWidthBase),
		fByte(0x12, "Peer Grouping Count", &s.PeerGroupingCount),
	}
}

// ParseSystemSlot decodes a type 9 structure.
func ParseSystemSlot(st *Structure, v Version) (*SystemSlot, error) {
	if err := checkType(st, 9, systemSlotMinLength); err != nil {
		return nil, err
	}
	s := &SystemSlot{}
	decodeFields(&s.Header, st, v, s.fields())
	return s, nil
}

// Structure encodes the slot; peer records read from a table are kept.
func (s *SystemSlot) Structure() (*Structure, error) {
	return encodeFields(&s.Header, 9, s.fields(), systemSlotMinLength)
}

// slotBusWidthPrefix is dmidecode 3.4's prefix of the slot type for a data bus width.
var slotBusWidthPrefix = []string{"", "", "8-bit ", "16-bit ", "32-bit ", "64-bit ", "128-bit ",
	"x1 ", "x2 ", "x4 ", "x8 ", "x12 ", "x16 ", "x32 "}

var slotTypeNames = []string{"Other", "Unknown", "ISA", "MCA", "EISA", "PCI", "PC Card (PCMCIA)", "VLB",
	"Proprietary", "Processor Card", "Proprietary Memory Card", "I/O Riser Card", "NuBus", "PCI-66", "AGP",
	"AGP 2x", "AGP 4x", "PCI-X", "AGP 8x", "M.2 Socket 1-DP", "M.2 Socket 1-SD", "M.2 Socket 2", "M.2 Socket 3",
	"MXM Type I", "MXM Type II", "MXM Type III", "MXM Type III-HE", "MXM Type IV", "MXM 3.0 Type A",
	"MXM 3.0 Type B", "PCI Express 2 SFF-8639 (U.2)", "PCI Express 3 SFF-8639 (U.2)",
	"PCI Express Mini 52-pin with bottom-side keep-outs", "PCI Express Mini 52-pin without bottom-side keep-outs",
	"PCI Express Mini 76-pin", "PCI Express 4 SFF-8639 (U.2)", "PCI Express 5 SFF-8639 (U.2)",
	"OCP NIC 3.0 Small Form Factor (SFF)", "OCP NIC 3.0 Large Form Factor (LFF)", "OCP NIC Prior to 3.0"}

var slotTypeNamesA0 = []string{"PC-98/C20", "PC-98/C24", "PC-98/E", "PC-98/Local Bus", "PC-98/Card",
	"PCI Express", "PCI Express x1", "PCI Express x2", "PCI Express x4", "PCI Express x8", "PCI Express x16",
	"PCI Express 2", "PCI Express 2 x1", "PCI Express 2 x2", "PCI Express 2 x4", "PCI Express 2 x8",
	"PCI Express 2 x16", "PCI Express 3", "PCI Express 3 x1", "PCI Express 3 x2", "PCI Express 3 x4",
	"PCI Express 3 x8", "PCI Express 3 x16", "", "PCI Express 4", "PCI Express 4 x1", "PCI Express 4 x2",
	"PCI Express 4 x4", "PCI Express 4 x8", "PCI Express 4 x16", "PCI Express 5", "PCI Express 5 x1",
	"PCI Express 5 x2", "PCI Express 5 x4", "PCI Express 5 x8", "PCI Express 5 x16", "PCI Express 6+",
	"EDSFF E1", "EDSFF E3"}

// TypeName names the slot type as dmidecode does.
func (s *SystemSlot) TypeName() string {
	switch t := s.SlotType; {
	case t == 0x30:
		return "CXL FLexbus 1.0"
	case t >= 0xA0:
		return enumName(int(t), 0xA0, slotTypeNamesA0)
	}
	return enumName(int(s.SlotType), 1, slotTypeNames)
}

func (s *SystemSlot) busWidthPrefix() string {
	if s.DataBusWidth >= 1 && int(s.DataBusWidth) <= len(slotBusWidthPrefix) {
		return slotBusWidthPrefix[s.DataBusWidth-1]
	}
	return outOfSpec + " "
}

var (
	slotUsageNames  = []string{"Other", "Unknown", "Available", "In Use", "Unavailable"}
	slotLengthNames = []string{"Other", "Unknown", "Short", "Long", "2.5\" drive form factor", "3.5\" drive form factor"}
	slotChar1Names  = []string{"5.0 V is provided", "3.3 V is provided", "Opening is shared", "PC Card-16 is supported",
		"Cardbus is supported", "Zoom Video is supported", "Modem ring resume is supported"}
	slotChar2Names = []string{"PME signal is supported", "Hot-plug devices are supported", "SMBus signal is supported",
		"PCIe slot bifurcation is supported", "Async/surprise removal is supported", "Flexbus slot, CXL 1.0 capable",
		"Flexbus slot, CXL 2.0 capable"}
)

// slotIDText is the slot ID as dmidecode prints it, "" for slot types without one.
func (s *SystemSlot) slotIDText() string {
	lo, hi := uint8(s.SlotID), uint8(s.SlotID>>8)
	switch t := s.SlotType; {
	case t == 0x04 || t == 0x05:
		return fmt.Sprint(lo)
	case t == 0x07:
		return fmt.Sprintf("Adapter %d, Socket %d", lo, hi)
	case t == 0x06 || t == 0x0E || t == 0x0F || t == 0x10 || t == 0x11 || t == 0x12 || t == 0x13 ||
		(t >= 0x1F && t <= 0x23) || (t >= 0xA5 && t <= 0xC4 && t != 0xB7):
		return fmt.Sprint(lo)
	}
	return ""
}

func (s *SystemSlot) characteristics() Field {
	c2 := s.Characteristic2
	if !s.present(0x0D) {
		c2 = 0
	}
	switch {
	case s.Characteristic1&1 != 0:
		return attr("Characteristics", "Unknown")
	case s.Characteristic1&0xFE == 0 && c2 == 0:
		return attr("Characteristics", "None")
	}
	items := append(bitNames(uint64(s.Characteristic1), 1, 7, slotChar1Names), bitNames(uint64(c2), 0, 6, slotChar2Names)...)
	return list("Characteristics", "", items)
}

// Fields renders the structure as dmidecode 3.4 does.
func (s *SystemSlot) Fields() []Field {
	if !s.present(systemSlotMinLength) {
		return nil
	}
	fs := []Field{
		attr("Designation", s.stringDisplay(0x04, s.Designation)),
		attr("Type", s.busWidthPrefix()+s.TypeName()),
		attr("Current Usage", enumName(int(s.CurrentUsage), 1, slotUsageNames)),
		attr("Length", enumName(int(s.SlotLength), 1, slotLengthNames)),
	}
	if id := s.slotIDText(); id != "" {
		fs = append(fs, attr("ID", id))
	}
	fs = append(fs, s.characteristics())
	if !s.present(0x11) {
		return fs
	}
	if a := busAddress(s.SegmentGroup, s.BusNumber, s.DeviceFunction); a != "" {
		fs = append(fs, attr("Bus Address", a))
	}
	if !s.present(0x13) {
		return fs
	}
	fs = append(fs, attr("Data Bus Width", fmt.Sprint(s.DataBusWidthBase)), attr("Peer Devices", fmt.Sprint(s.PeerGroupingCount)))
	return append(fs, s.peers()...)
}

// peers renders the peer records of a decoded structure.
func (s *SystemSlot) peers() []Field {
	if s.raw == nil || s.raw.Length() < 0x13+5*int(s.PeerGroupingCount) {
		return nil
	}
	var fs []Field
	for i := 0; i < int(s.PeerGroupingCount); i++ {
		off := 0x13 + 5*i
		seg, _ := s.raw.Word(off)
		bus, _ := s.raw.Byte(off + 2)
		devfn, _ := s.raw.Byte(off + 3)
		width, _ := s.raw.Byte(off + 4)
		fs = append(fs, attrf(fmt.Sprintf("Peer Device %d", i+1), "%04x:%02x:%02x.%x (Width %d)", seg, bus, devfn>>3, devfn&7, width))
	}
	return fs
}

func (s *SystemSlot) String() string {
	return renderText(&s.Header, s.length(), TypeTitle(9), s.Fields())
}

func (*SystemSlot) structureType() uint8 { return 9 }

func (s *SystemSlot) buildLength(v Version) int { return int(DefaultLength(9, v)) }

func (s *SystemSlot) setDefaults(*buildContext) {}
