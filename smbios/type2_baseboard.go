package smbios

import (
	"encoding/binary"
	"fmt"
)

// BaseboardInfo is SMBIOS type 2, baseboard (module) information.
type BaseboardInfo struct {
	Header
	Manufacturer      string // 0x04
	Product           string // 0x05
	Version           string // 0x06
	SerialNumber      string // 0x07
	AssetTag          string // 0x08
	FeatureFlags      uint8  // 0x09
	LocationInChassis string // 0x0A
	ChassisHandle     uint16 // 0x0B
	BoardType         uint8  // 0x0D
	// ContainedObjectHandles (0x0E count, then handles at 0x0F).
	ContainedObjectHandles []uint16
}

const baseboardMinLength = 0x08

func (b *BaseboardInfo) fields() []field {
	return []field{
		fString(0x04, "Manufacturer", &b.Manufacturer),
		fString(0x05, "Product", &b.Product),
		fString(0x06, "Version", &b.Version),
		fString(0x07, "Serial Number", &b.SerialNumber),
		fString(0x08, "Asset Tag", &b.AssetTag),
		fByte(0x09, "Feature Flags", &b.FeatureFlags),
		fString(0x0A, "Location In Chassis", &b.LocationInChassis),
		fWord(0x0B, "Chassis Handle", &b.ChassisHandle),
		fByte(0x0D, "Board Type", &b.BoardType),
	}
}

// ParseBaseboardInfo decodes a type 2 structure.
func ParseBaseboardInfo(s *Structure, v Version) (*BaseboardInfo, error) {
	if err := checkType(s, 2, baseboardMinLength); err != nil {
		return nil, err
	}
	b := &BaseboardInfo{}
	decodeFields(&b.Header, s, v, b.fields())
	if n, ok := s.Byte(0x0E); ok {
		for i := 0; i < int(n); i++ {
			h, ok := s.Word(0x0F + 2*i)
			if !ok {
				break // the count overruns the structure; lint reports it
			}
			b.ContainedObjectHandles = append(b.ContainedObjectHandles, h)
		}
	}
	return b, nil
}

// Structure encodes the baseboard information.
func (b *BaseboardInfo) Structure() (*Structure, error) {
	if len(b.ContainedObjectHandles) > 0xFF {
		return nil, fmt.Errorf("smbios: type 2 handle 0x%04X: %d contained handles, at most 255", b.Handle, len(b.ContainedObjectHandles))
	}
	s, err := encodeFields(&b.Header, 2, b.fields(), baseboardMinLength)
	if err != nil {
		return nil, err
	}
	n := len(b.ContainedObjectHandles)
	changed := b.raw == nil || !handlesEqual(b.raw, b.ContainedObjectHandles)
	if changed && (n > 0 || s.Length() >= 0x0F) {
		// The handle list ends the structure: size it to the list.
		need := 0x0F + 2*n - 4
		if len(s.Formatted) < need {
			s.Formatted = append(s.Formatted, make([]byte, need-len(s.Formatted))...)
		}
		s.Formatted = s.Formatted[:need]
		s.Formatted[0x0E-4] = uint8(n)
		for i, h := range b.ContainedObjectHandles {
			binary.LittleEndian.PutUint16(s.Formatted[0x0F-4+2*i:], h)
		}
	}
	if s.Length() > 0xFF {
		return nil, fmt.Errorf("smbios: type 2 handle 0x%04X: structure of %d bytes exceeds 255", b.Handle, s.Length())
	}
	return s, nil
}

func handlesEqual(raw *Structure, hs []uint16) bool {
	n, _ := raw.Byte(0x0E)
	var got []uint16
	for i := 0; i < int(n); i++ {
		h, ok := raw.Word(0x0F + 2*i)
		if !ok {
			break
		}
		got = append(got, h)
	}
	if len(got) != len(hs) {
		return false
	}
	for i := range got {
		if got[i] != hs[i] {
			return false
		}
	}
	return true
}

var (
	baseboardFeatureNames = []string{
		"Board is a hosting board",
		"Board requires at least one daughter board",
		"Board is removable",
		"Board is replaceable",
		"Board is hot swappable",
	}
	boardTypeNames = []string{
		"Unknown", // 0x01
		"Other",
		"Server Blade",
		"Connectivity Switch",
		"System Management Module",
		"Processor Module",
		"I/O Module",
		"Memory Module",
		"Daughter Board",
		"Motherboard",
		"Processor+Memory Module",
		"Processor+I/O Module",
		"Interconnect Board", // 0x0D
	}
)

// BoardTypeName names the board type ("Motherboard").
func (b *BaseboardInfo) BoardTypeName() string { return boardTypeName(b.BoardType) }

func boardTypeName(code uint8) string { return enumName(int(code), 1, boardTypeNames) }

// FeatureNames lists the feature flags that are set.
func (b *BaseboardInfo) FeatureNames() []string {
	return bitNames(uint64(b.FeatureFlags), 0, 4, baseboardFeatureNames)
}

// Fields renders the structure as dmidecode 3.4 does.
func (b *BaseboardInfo) Fields() []Field {
	if !b.present(baseboardMinLength) {
		return nil
	}
	fs := []Field{
		attr("Manufacturer", b.stringDisplay(0x04, b.Manufacturer)),
		attr("Product Name", b.stringDisplay(0x05, b.Product)),
		attr("Version", b.stringDisplay(0x06, b.Version)),
		attr("Serial Number", b.stringDisplay(0x07, b.SerialNumber)),
	}
	if !b.present(0x09) {
		return fs
	}
	fs = append(fs, attr("Asset Tag", b.stringDisplay(0x08, b.AssetTag)))
	if !b.present(0x0A) {
		return fs
	}
	if b.FeatureFlags&0x1F == 0 {
		fs = append(fs, list("Features", "None", nil))
	} else {
		fs = append(fs, list("Features", "", b.FeatureNames()))
	}
	if !b.present(0x0E) {
		return fs
	}
	fs = append(fs,
		attr("Location In Chassis", b.stringDisplay(0x0A, b.LocationInChassis)),
		attr("Chassis Handle", handleText(b.ChassisHandle)),
		attr("Type", b.BoardTypeName()))
	if !b.present(0x0F) {
		return fs
	}
	n := len(b.ContainedObjectHandles)
	if b.raw != nil {
		c, _ := b.raw.Byte(0x0E)
		if int(b.Length) < 0x0F+2*int(c) {
			return fs // dmidecode skips a count that overruns the structure
		}
	}
	items := make([]string, 0, n)
	for _, h := range b.ContainedObjectHandles {
		items = append(items, handleText(h))
	}
	return append(fs, list("Contained Object Handles", fmt.Sprint(n), items))
}

func (b *BaseboardInfo) String() string {
	return renderText(&b.Header, b.length(), TypeTitle(2), b.Fields())
}

func init() {
	registerType(&typeSpec{typ: 2, title: "Base Board Information", minLength: baseboardMinLength,
		lengths: []versionLength{since(2, 0, 0x0F)},
		parse:   parser(ParseBaseboardInfo)})
}

func (*BaseboardInfo) structureType() uint8 { return 2 }

func (b *BaseboardInfo) buildLength(v Version) int {
	return int(DefaultLength(2, v)) + 2*len(b.ContainedObjectHandles)
}

// setDefaults: board type "Motherboard", feature "hosting board", chassis the first chassis.
func (b *BaseboardInfo) setDefaults(c *buildContext) {
	if b.BoardType == 0 {
		b.BoardType = 0x0A
	}
	if b.FeatureFlags == 0 {
		b.FeatureFlags = 0x01
	}
	if b.ChassisHandle == 0 && len(c.chassis) > 0 {
		b.ChassisHandle = c.chassis[0].Handle
	}
}
