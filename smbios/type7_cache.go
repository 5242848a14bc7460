package smbios

import (
	"fmt"
	"strings"
)

// CacheInfo is SMBIOS type 7, cache information: one processor cache.
type CacheInfo struct {
	Header
	SocketDesignation string // 0x04
	// Configuration (0x05): bits 2:0 level - 1, bit 3 socketed, bits 6:5 location, bit 7
	// enabled, bits 9:8 operational mode.
	Configuration     uint16
	MaximumSize       uint16 // 0x07: bit 15 granularity (0 1 KiB, 1 64 KiB), bits 14:0 size
	InstalledSize     uint16 // 0x09, as MaximumSize
	SupportedSRAMType uint16 // 0x0B
	CurrentSRAMType   uint16 // 0x0D
	Speed             uint8  // 0x0F (2.1), ns; 0 unknown
	ErrorCorrection   uint8  // 0x10
	SystemCacheType   uint8  // 0x11
	Associativity     uint8  // 0x12
	MaximumSize2      uint32 // 0x13 (3.1): bit 31 granularity, bits 30:0 size
	InstalledSize2    uint32 // 0x17 (3.1)
}

const cacheMinLength = 0x0F

func init() {
	registerType(&typeSpec{typ: 7, title: "Cache Information", minLength: cacheMinLength,
		lengths: []versionLength{since(2, 0, 0x0F), since(2, 1, 0x13), since(3, 1, 0x1B)},
		parse:   parser(ParseCacheInfo)})
}

func (c *CacheInfo) fields() []field {
	return []field{
		fString(0x04, "Socket Designation", &c.SocketDesignation),
		fWord(0x05, "Cache Configuration", &c.Configuration),
		fWord(0x07, "Maximum Cache Size", &c.MaximumSize),
		fWord(0x09, "Installed Size", &c.InstalledSize),
		fWord(0x0B, "Supported SRAM Type", &c.SupportedSRAMType),
		fWord(0x0D, "Current SRAM Type", &c.CurrentSRAMType),
		fByte(0x0F, "Cache Speed", &c.Speed),
		fByte(0x10, "Error Correction Type", &c.ErrorCorrection),
		fByte(0x11, "System Cache Type", &c.SystemCacheType),
		fByte(0x12, "Associativity", &c.Associativity),
		fDWord(0x13, "Maximum Cache Size 2", &c.MaximumSize2),
		fDWord(0x17, "Installed Cache Size 2", &c.InstalledSize2),
	}
}

// ParseCacheInfo decodes a type 7 structure.
func ParseCacheInfo(s *Structure, v Version) (*CacheInfo, error) {
	if err := checkType(s, 7, cacheMinLength); err != nil {
		return nil, err
	}
	c := &CacheInfo{}
	decodeFields(&c.Header, s, v, c.fields())
	return c, nil
}

// Structure encodes the cache information.
func (c *CacheInfo) Structure() (*Structure, error) {
	return encodeFields(&c.Header, 7, c.fields(), cacheMinLength)
}

// Level is the cache level, 1 to 8.
func (c *CacheInfo) Level() int { return int(c.Configuration&0x07) + 1 }

// cacheSizeKiB is a size field in KiB: bit 31 (of the 32-bit form) says 64 KiB units.
func cacheSizeKiB(code uint32) uint64 {
	if code&0x80000000 != 0 {
		return uint64(code&0x7FFFFFFF) << 6
	}
	return uint64(code)
}

func cacheSize16(code uint16) uint32 { return uint32(code&0x8000)<<16 | uint32(code&0x7FFF) }

// InstalledKiB is the installed size in KiB, from the 32-bit field when the structure has it.
func (c *CacheInfo) InstalledKiB() uint64 {
	if c.present(0x1B) {
		return cacheSizeKiB(c.InstalledSize2)
	}
	return cacheSizeKiB(cacheSize16(c.InstalledSize))
}

// MaximumKiB is the maximum size in KiB, from the 32-bit field when the structure has it.
func (c *CacheInfo) MaximumKiB() uint64 {
	if c.present(0x17) {
		return cacheSizeKiB(c.MaximumSize2)
	}
	return cacheSizeKiB(cacheSize16(c.MaximumSize))
}

var (
	cacheModeNames     = []string{"Write Through", "Write Back", "Varies With Memory Address", "Unknown"}
	cacheLocationNames = []string{"Internal", "External", outOfSpec, "Unknown"}
	cacheSRAMNames     = []string{"Other", "Unknown", "Non-burst", "Burst", "Pipeline Burst", "Synchronous", "Asynchronous"}
	cacheECNames       = []string{"Other", "Unknown", "None", "Parity", "Single-bit ECC", "Multi-bit ECC"}
	cacheTypeNames     = []string{"Other", "Unknown", "Instruction", "Data", "Unified"}
	cacheAssocNames    = []string{"Other", "Unknown", "Direct Mapped", "2-way Set-associative", "4-way Set-associative",
		"Fully Associative", "8-way Set-associative", "16-way Set-associative", "12-way Set-associative",
		"24-way Set-associative", "32-way Set-associative", "48-way Set-associative", "64-way Set-associative",
		"20-way Set-associative"}
)

func sramTypes(code uint16) []string { return bitNames(uint64(code), 0, 6, cacheSRAMNames) }

// Fields renders the structure as dmidecode 3.4 does.
func (c *CacheInfo) Fields() []Field {
	if !c.present(cacheMinLength) {
		return nil
	}
	cfg := c.Configuration
	onOff := map[bool]string{true: "Enabled", false: "Disabled"}[cfg&0x80 != 0]
	socketed := map[bool]string{true: "Socketed", false: "Not Socketed"}[cfg&0x08 != 0]
	fs := []Field{
		attr("Socket Designation", c.stringDisplay(0x04, c.SocketDesignation)),
		attrf("Configuration", "%s, %s, Level %d", onOff, socketed, c.Level()),
		attr("Operational Mode", cacheModeNames[(cfg>>8)&3]),
		attr("Location", cacheLocationNames[(cfg>>5)&3]),
		attr("Installed Size", memorySizeText(c.InstalledKiB(), 1)),
		attr("Maximum Size", memorySizeText(c.MaximumKiB(), 1)),
	}
	if c.SupportedSRAMType&0x7F == 0 {
		fs = append(fs, attr("Supported SRAM Types", "None"))
	} else {
		fs = append(fs, list("Supported SRAM Types", "", sramTypes(c.SupportedSRAMType)))
	}
	installed := "None"
	if c.CurrentSRAMType&0x7F != 0 {
		installed = strings.Join(sramTypes(c.CurrentSRAMType), " ")
	}
	fs = append(fs, attr("Installed SRAM Type", installed))
	if !c.present(0x13) {
		return fs
	}
	speed := "Unknown"
	if c.Speed != 0 {
		speed = fmt.Sprintf("%d ns", c.Speed)
	}
	return append(fs, attr("Speed", speed),
		attr("Error Correction Type", enumName(int(c.ErrorCorrection), 1, cacheECNames)),
		attr("System Type", enumName(int(c.SystemCacheType), 1, cacheTypeNames)),
		attr("Associativity", enumName(int(c.Associativity), 1, cacheAssocNames)))
}

func (c *CacheInfo) String() string {
	return renderText(&c.Header, c.length(), TypeTitle(7), c.Fields())
}

func (*CacheInfo) structureType() uint8 { return 7 }

func (c *CacheInfo) buildLength(v Version) int { return int(DefaultLength(7, v)) }

func (c *CacheInfo) setDefaults(*buildContext) {}
