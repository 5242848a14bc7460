package smbios

import (
	"fmt"
	"strings"
)

// ProcessorInfo is SMBIOS type 4, processor information.
type ProcessorInfo struct {
	Header
	SocketDesignation string // 0x04
	ProcessorType     uint8  // 0x05: 3 is a central processor
	Family            uint8  // 0x06; 0xFE means see Family2
	Manufacturer      string // 0x07
	// ID (0x08) is the CPUID signature (EAX) in the low 32 bits and the feature flags (EDX) in
	// the high 32 bits on x86.
	ID              uint64
	Version         string // 0x10
	Voltage         uint8  // 0x11: bit 7 set, bits 6:0 volts*10; else bits 0-2 legacy 5/3.3/2.9 V
	ExternalClock   uint16 // 0x12, MHz
	MaxSpeed        uint16 // 0x14, MHz
	CurrentSpeed    uint16 // 0x16, MHz
	Status          uint8  // 0x18: bit 6 socket populated, bits 2:0 CPU status
	Upgrade         uint8  // 0x19
	L1CacheHandle   uint16 // 0x1A (2.1)
	L2CacheHandle   uint16 // 0x1C
	L3CacheHandle   uint16 // 0x1E
	SerialNumber    string // 0x20 (2.3)
	AssetTag        string // 0x21
	PartNumber      string // 0x22
	CoreCount       uint8  // 0x23 (2.5)
	CoreEnabled     uint8  // 0x24
	ThreadCount     uint8  // 0x25
	Characteristics uint16 // 0x26
	Family2         uint16 // 0x28 (2.6)
	CoreCount2      uint16 // 0x2A (3.0)
	CoreEnabled2    uint16 // 0x2C
	ThreadCount2    uint16 // 0x2E
	ThreadEnabled   uint16 // 0x30 (3.6)
}

const processorMinLength = 0x1A

func (p *ProcessorInfo) fields() []field {
	return []field{
		fString(0x04, "Socket Designation", &p.SocketDesignation),
		fByte(0x05, "Processor Type", &p.ProcessorType),
		fByte(0x06, "Processor Family", &p.Family),
		fString(0x07, "Processor Manufacturer", &p.Manufacturer),
		fQWord(0x08, "Processor ID", &p.ID),
		fString(0x10, "Processor Version", &p.Version),
		fByte(0x11, "Voltage", &p.Voltage),
		fWord(0x12, "External Clock", &p.ExternalClock),
		fWord(0x14, "Max Speed", &p.MaxSpeed),
		fWord(0x16, "Current Speed", &p.CurrentSpeed),
		fByte(0x18, "Status", &p.Status),
		fByte(0x19, "Processor Upgrade", &p.Upgrade),
		fWord(0x1A, "L1 Cache Handle", &p.L1CacheHandle),
		fWord(0x1C, "L2 Cache Handle", &p.L2CacheHandle),
		fWord(0x1E, "L3 Cache Handle", &p.L3CacheHandle),
		fString(0x20, "Serial Number", &p.SerialNumber),
		fString(0x21, "Asset Tag", &p.AssetTag),
		fString(0x22, "Part Number", &p.PartNumber),
		fByte(0x23, "Core Count", &p.CoreCount),
		fByte(0x24, "Core Enabled", &p.CoreEnabled),
		fByte(0x25, "Thread Count", &p.ThreadCount),
		fWord(0x26, "Processor Characteristics", &p.Characteristics),
		fWord(0x28, "Processor Family 2", &p.Family2),
		fWord(0x2A, "Core Count 2", &p.CoreCount2),
		fWord(0x2C, "Core Enabled 2", &p.CoreEnabled2),
		fWord(0x2E, "Thread Count 2", &p.ThreadCount2),
		fWord(0x30, "Thread Enabled", &p.ThreadEnabled),
	}
}

// ParseProcessorInfo decodes a type 4 structure.
func ParseProcessorInfo(s *Structure, v Version) (*ProcessorInfo, error) {
	if err := checkType(s, 4, processorMinLength); err != nil {
		return nil, err
	}
	p := &ProcessorInfo{}
	decodeFields(&p.Header, s, v, p.fields())
	return p, nil
}

// Structure encodes the processor information.
func (p *ProcessorInfo) Structure() (*Structure, error) {
	return encodeFields(&p.Header, 4, p.fields(), processorMinLength)
}

// FamilyCode is the processor family, from Family2 when Family says 0xFE.
func (p *ProcessorInfo) FamilyCode() uint16 {
	if p.Family == 0xFE && p.present(0x2A) {
		return p.Family2
	}
	return uint16(p.Family)
}

// Cores returns the core count, from the 16-bit field when the 8-bit one says 0xFF; 0 unknown.
func (p *ProcessorInfo) Cores() int {
	if p.CoreCount == 0xFF && p.present(0x2C) {
		return int(p.CoreCount2)
	}
	return int(p.CoreCount)
}

// EnabledCores returns the enabled core count, like Cores.
func (p *ProcessorInfo) EnabledCores() int {
	if p.CoreEnabled == 0xFF && p.present(0x2E) {
		return int(p.CoreEnabled2)
	}
	return int(p.CoreEnabled)
}

// Threads returns the thread count, like Cores.
func (p *ProcessorInfo) Threads() int {
	if p.ThreadCount == 0xFF && p.present(0x30) {
		return int(p.ThreadCount2)
	}
	return int(p.ThreadCount)
}

// Populated reports whether the socket holds a processor.
func (p *ProcessorInfo) Populated() bool { return p.Status&(1<<6) != 0 }

var processorTypeNames = []string{"Other", "Unknown", "Central Processor", "Math Processor", "DSP Processor", "Video Processor"}

// ProcessorTypeName names the processor type ("Central Processor").
func (p *ProcessorInfo) ProcessorTypeName() string {
	return enumName(int(p.ProcessorType), 1, processorTypeNames)
}

// processorFamilies is dmidecode 3.4's table of processor families (SMBIOS 7.5.2).
var processorFamilies = map[uint16]string{
	0x01: "Other", 0x02: "Unknown", 0x03: "8086", 0x04: "80286", 0x05: "80386", 0x06: "80486",
	0x07: "8087", 0x08: "80287", 0x09: "80387", 0x0A: "80487", 0x0B: "Pentium", 0x0C: "Pentium Pro",
	0x0D: "Pentium II", 0x0E: "Pentium MMX", 0x0F: "Celeron", 0x10: "Pentium II Xeon",
	0x11: "Pentium III", 0x12: "M1", 0x13: "M2", 0x14: "Celeron M", 0x15: "Pentium 4 HT",

	0x18: "Duron", 0x19: "K5", 0x1A: "K6", 0x1B: "K6-2", 0x1C: "K6-3", 0x1D: "Athlon",
	0x1E: "AMD29000", 0x1F: "K6-2+", 0x20: "Power PC", 0x21: "Power PC 601", 0x22: "Power PC 603",
	0x23: "Power PC 603+", 0x24: "Power PC 604", 0x25: "Power PC 620", 0x26: "Power PC x704",
	0x27: "Power PC 750", 0x28: "Core Duo", 0x29: "Core Duo Mobile", 0x2A: "Core Solo Mobile",
	0x2B: "Atom", 0x2C: "Core M", 0x2D: "Core m3", 0x2E: "Core m5", 0x2F: "Core m7",
	0x30: "Alpha", 0x31: "Alpha 21064", 0x32: "Alpha 21066", 0x33: "Alpha 21164",
	0x34: "Alpha 21164PC", 0x35: "Alpha 21164a", 0x36: "Alpha 21264", 0x37: "Alpha 21364",
	0x38: "Turion II Ultra Dual-Core Mobile M", 0x39: "Turion II Dual-Core Mobile M",
	0x3A: "Athlon II Dual-Core M", 0x3B: "Opteron 6100", 0x3C: "Opteron 4100", 0x3D: "Opteron 6200",
	0x3E: "Opteron 4200", 0x3F: "FX", 0x40: "MIPS", 0x41: "MIPS R4000", 0x42: "MIPS R4200",
	0x43: "MIPS R4400", 0x44: "MIPS R4600", 0x45: "MIPS R10000", 0x46: "C-Series", 0x47: "E-Series",
	0x48: "A-Series", 0x49: "G-Series", 0x4A: "Z-Series", 0x4B: "R-Series", 0x4C: "Opteron 4300",
	0x4D: "Opteron 6300", 0x4E: "Opteron 3300", 0x4F: "FirePro", 0x50: "SPARC", 0x51: "SuperSPARC",
	0x52: "MicroSPARC II", 0x53: "MicroSPARC IIep", 0x54: "UltraSPARC", 0x55: "UltraSPARC II",
	0x56: "UltraSPARC IIi", 0x57: "UltraSPARC III", 0x58: "UltraSPARC IIIi",

	0x60: "68040", 0x61: "68xxx", 0x62: "68000", 0x63: "68010", 0x64: "68020", 0x65: "68030",
	0x66: "Athlon X4", 0x67: "Opteron X1000", 0x68: "Opteron X2000", 0x69: "Opteron A-Series",
	0x6A: "Opteron X3000", 0x6B: "Zen",

	0x70: "Hobbit",

	0x78: "Crusoe TM5000", 0x79: "Crusoe TM3000", 0x7A: "Efficeon TM8000",

	0x80: "Weitek",

	0x82: "Itanium", 0x83: "Athlon 64", 0x84: "Opteron", 0x85: "Sempron", 0x86: "Turion 64",
	0x87: "Dual-Core Opteron", 0x88: "Athlon 64 X2", 0x89: "Turion 64 X2", 0x8A: "Quad-Core Opteron",
	0x8B: "Third-Generation Opteron", 0x8C: "Phenom FX", 0x8D: "Phenom X4", 0x8E: "Phenom X2",
	0x8F: "Athlon X2", 0x90: "PA-RISC", 0x91: "PA-RISC 8500", 0x92: "PA-RISC 8000",
	0x93: "PA-RISC 7300LC", 0x94: "PA-RISC 7200", 0x95: "PA-RISC 7100LC", 0x96: "PA-RISC 7100",

	0xA0: "V30", 0xA1: "Quad-Core Xeon 3200", 0xA2: "Dual-Core Xeon 3000", 0xA3: "Quad-Core Xeon 5300",
	0xA4: "Dual-Core Xeon 5100", 0xA5: "Dual-Core Xeon 5000", 0xA6: "Dual-Core Xeon LV",
	0xA7: "Dual-Core Xeon ULV", 0xA8: "Dual-Core Xeon 7100", 0xA9: "Quad-Core Xeon 5400",
	0xAA: "Quad-Core Xeon", 0xAB: "Dual-Core Xeon 5200", 0xAC: "Dual-Core Xeon 7200",
	0xAD: "Quad-Core Xeon 7300", 0xAE: "Quad-Core Xeon 7400", 0xAF: "Multi-Core Xeon 7400",
	0xB0: "Pentium III Xeon", 0xB1: "Pentium III Speedstep", 0xB2: "Pentium 4", 0xB3: "Xeon",
	0xB4: "AS400", 0xB5: "Xeon MP", 0xB6: "Athlon XP", 0xB7: "Athlon MP", 0xB8: "Itanium 2",
	0xB9: "Pentium M", 0xBA: "Celeron D", 0xBB: "Pentium D", 0xBC: "Pentium EE", 0xBD: "Core Solo",
	// 0xBE is ambiguous (Core 2 or K7); see familyName.
	0xBF: "Core 2 Duo", 0xC0: "Core 2 Solo", 0xC1: "Core 2 Extreme", 0xC2: "Core 2 Quad",
	0xC3: "Core 2 Extreme Mobile", 0xC4: "Core 2 Duo Mobile", 0xC5: "Core 2 Solo Mobile",
	0xC6: "Core i7", 0xC7: "Dual-Core Celeron", 0xC8: "IBM390", 0xC9: "G4", 0xCA: "G5",
	0xCB: "ESA/390 G6", 0xCC: "z/Architecture", 0xCD: "Core i5", 0xCE: "Core i3", 0xCF: "Core i9",

	0xD2: "C7-M", 0xD3: "C7-D", 0xD4: "C7", 0xD5: "Eden", 0xD6: "Multi-Core Xeon",
	0xD7: "Dual-Core Xeon 3xxx", 0xD8: "Quad-Core Xeon 3xxx", 0xD9: "Nano",
	0xDA: "Dual-Core Xeon 5xxx", 0xDB: "Quad-Core Xeon 5xxx",

	0xDD: "Dual-Core Xeon 7xxx", 0xDE: "Quad-Core Xeon 7xxx", 0xDF: "Multi-Core Xeon 7xxx",
	0xE0: "Multi-Core Xeon 3400",

	0xE4: "Opteron 3000", 0xE5: "Sempron II", 0xE6: "Embedded Opteron Quad-Core",
	0xE7: "Phenom Triple-Core", 0xE8: "Turion Ultra Dual-Core Mobile", 0xE9: "Turion Dual-Core Mobile",
	0xEA: "Athlon Dual-Core", 0xEB: "Sempron SI", 0xEC: "Phenom II", 0xED: "Athlon II",
	0xEE: "Six-Core Opteron", 0xEF: "Sempron M",

	0xFA: "i860", 0xFB: "i960",

	0x100: "ARMv7", 0x101: "ARMv8", 0x104: "SH-3", 0x105: "SH-4", 0x118: "ARM", 0x119: "StrongARM",
	0x12C: "6x86", 0x12D: "MediaGX", 0x12E: "MII", 0x140: "WinChip", 0x15E: "DSP",
	0x1F4: "Video Processor",

	0x200: "RV32", 0x201: "RV64", 0x202: "RV128",
}

func manufacturerIs(m, vendor string) bool {
	return strings.Contains(m, vendor) || strings.EqualFold(m[:min(len(m), len(vendor))], vendor)
}

// FamilyName names the processor family as dmidecode does, including its special cases for
// the ambiguous codes 0x30 (SMBIOS 2.0) and 0xBE.
func (p *ProcessorInfo) FamilyName() string {
	manufacturer := p.stringDisplay(0x07, p.Manufacturer)
	if p.ver.Effective().word() == 0x0200 && p.Family == 0x30 {
		if manufacturerIs(manufacturer, "Intel") {
			return "Pentium Pro"
		}
	}
	code := p.FamilyCode()
	if code == 0xBE {
		if manufacturerIs(manufacturer, "Intel") {
			return "Core 2"
		}
		if manufacturerIs(manufacturer, "AMD") {
			return "K7"
		}
		return "Core 2 or K7"
	}
	if n, ok := processorFamilies[code]; ok {
		return n
	}
	return outOfSpec
}

type cpuidKind int

const (
	cpuidNone cpuidKind = iota
	cpuid80386
	cpuid80486
	cpuidIntel
	cpuidAMD
	cpuidARM
	cpuidARMSoC
)

// cpuidKind says how to read the ID field, following dmidecode 3.4's family ranges.
func (p *ProcessorInfo) cpuidKind() cpuidKind {
	t := p.FamilyCode()
	switch {
	case t == 0x05:
		return cpuid80386
	case t == 0x06:
		dx := uint16(p.ID)
		if dx&0x0F00 == 0x0400 && (dx&0x00F0 == 0x0040 || dx&0x00F0 >= 0x0070) && dx&0x000F >= 0x0003 {
			return cpuidIntel
		}
		return cpuid80486
	case t >= 0x100 && t <= 0x101, t >= 0x118 && t <= 0x119:
		if p.present(0x28) && p.Characteristics&(1<<9) != 0 {
			return cpuidARMSoC
		}
		return cpuidARM
	case t >= 0x0B && t <= 0x15, t >= 0x28 && t <= 0x2F, t >= 0xA1 && t <= 0xB3, t == 0xB5,
		t >= 0xB9 && t <= 0xC7, t >= 0xCD && t <= 0xCF, t >= 0xD2 && t <= 0xDB, t >= 0xDD && t <= 0xE0:
		return cpuidIntel
	case t >= 0x18 && t <= 0x1D, t == 0x1F, t >= 0x38 && t <= 0x3F, t >= 0x46 && t <= 0x4F,
		t >= 0x66 && t <= 0x6B, t >= 0x83 && t <= 0x8F, t >= 0xB6 && t <= 0xB7, t >= 0xE4 && t <= 0xEF:
		return cpuidAMD
	case t == 0x01 || t == 0x02:
		// Some x86 processors say "Other" or "Unknown"; dmidecode recognises a few by version.
		v := p.stringDisplay(0x10, p.Version)
		switch {
		case strings.HasPrefix(v, "Pentium III MMX"), strings.HasPrefix(v, "Intel(R) Core(TM)2"),
			strings.HasPrefix(v, "Intel(R) Pentium(R)"), v == "Genuine Intel(R) CPU U1400":
			return cpuidIntel
		case strings.HasPrefix(v, "AMD Athlon(TM)"), strings.HasPrefix(v, "AMD Opteron(tm)"),
			strings.HasPrefix(v, "Dual-Core AMD Opteron(tm)"):
			return cpuidAMD
		}
	}
	return cpuidNone
}

// Signature decodes the CPUID signature as dmidecode prints it, or "" when it prints none.
func (p *ProcessorInfo) Signature() string {
	eax := uint32(p.ID)
	switch p.cpuidKind() {
	case cpuid80386:
		dx := uint16(p.ID)
		return fmt.Sprintf("Type %d, Family %d, Major Stepping %d, Minor Stepping %d", dx>>12, (dx>>8)&0xF, (dx>>4)&0xF, dx&0xF)
	case cpuid80486:
		dx := uint16(p.ID)
		return fmt.Sprintf("Type %d, Family %d, Model %d, Stepping %d", (dx>>12)&0x3, (dx>>8)&0xF, (dx>>4)&0xF, dx&0xF)
	case cpuidARM:
		if eax == 0 {
			return "" // the format was undefined for ARM before SMBIOS 3.1.0
		}
		return fmt.Sprintf("Implementor 0x%02x, Variant 0x%x, Architecture %d, Part 0x%03x, Revision %d",
			eax>>24, (eax>>20)&0xF, (eax>>16)&0xF, (eax>>4)&0xFFF, eax&0xF)
	case cpuidARMSoC:
		return fmt.Sprintf("JEP-106 Bank 0x%02x Manufacturer 0x%02x, SoC ID 0x%04x, SoC Revision 0x%08x",
			(eax>>24)&0x7F, (eax>>16)&0x7F, eax&0xFFFF, uint32(p.ID>>32))
	case cpuidIntel:
		return fmt.Sprintf("Type %d, Family %d, Model %d, Stepping %d",
			(eax>>12)&0x3, ((eax>>20)&0xFF)+((eax>>8)&0x0F), ((eax>>12)&0xF0)+((eax>>4)&0x0F), eax&0xF)
	case cpuidAMD:
		fam, model := (eax>>8)&0xF, (eax>>4)&0xF
		if fam == 0xF {
			fam += (eax >> 20) & 0xFF
			model |= (eax >> 12) & 0xF0
		}
		return fmt.Sprintf("Family %d, Model %d, Stepping %d", fam, model, eax&0xF)
	}
	return ""
}

// cpuFlagNames are the CPUID EDX feature flags (Intel AP-485, table 2-4).
var cpuFlagNames = []string{
	"FPU (Floating-point unit on-chip)",
	"VME (Virtual mode extension)",
	"DE (Debugging extension)",
	"PSE (Page size extension)",
	"TSC (Time stamp counter)",
	"MSR (Model specific registers)",
	"PAE (Physical address extension)",
	"MCE (Machine check exception)",
	"CX8 (CMPXCHG8 instruction supported)",
	"APIC (On-chip APIC hardware supported)",
	"", // 10
	"SEP (Fast system call)",
	"MTRR (Memory type range registers)",
	"PGE (Page global enable)",
	"MCA (Machine check architecture)",
	"CMOV (Conditional move instruction supported)",
	"PAT (Page attribute table)",
	"PSE-36 (36-bit page size extension)",
	"PSN (Processor serial number present and enabled)",
	"CLFSH (CLFLUSH instruction supported)",
	"", // 20
	"DS (Debug store)",
	"ACPI (ACPI supported)",
	"MMX (MMX technology supported)",
	"FXSR (FXSAVE and FXSTOR instructions supported)",
	"SSE (Streaming SIMD extensions)",
	"SSE2 (Streaming SIMD extensions 2)",
	"SS (Self-snoop)",
	"HTT (Multi-threading)",
	"TM (Thermal monitor supported)",
	"", // 30
	"PBE (Pending break enabled)",
}

// FlagNames lists the x86 CPUID feature flags (EDX) the ID field carries, or nil for non-x86
// processors.
func (p *ProcessorInfo) FlagNames() []string {
	if k := p.cpuidKind(); k != cpuidIntel && k != cpuidAMD {
		return nil
	}
	return bitNames(p.ID>>32, 0, 31, cpuFlagNames)
}

// VoltageText renders the voltage as dmidecode does ("1.0 V", "3.3 V 2.9 V", "Unknown"), or "" when
// it prints nothing.
func (p *ProcessorInfo) VoltageText() string { return voltageText(p.Voltage) }

func voltageText(code uint8) string {
	if code&0x80 != 0 {
		return fmt.Sprintf("%.1f V", float32(code&0x7F)/10)
	}
	if code&0x07 == 0 {
		return "Unknown"
	}
	return strings.Join(bitNames(uint64(code), 0, 2, []string{"5.0 V", "3.3 V", "2.9 V"}), " ")
}

func mhzText(v uint16) string {
	if v == 0 {
		return "Unknown"
	}
	return fmt.Sprintf("%d MHz", v)
}

var processorStatusNames = []string{"Unknown", "Enabled", "Disabled By User", "Disabled By BIOS", "Idle", outOfSpec, outOfSpec, "Other"}

// StatusText renders the socket and CPU status ("Populated, Enabled").
func (p *ProcessorInfo) StatusText() string {
	if !p.Populated() {
		return "Unpopulated"
	}
	return "Populated, " + processorStatusNames[p.Status&0x07]
}

var processorUpgradeNames = []string{
	"Other", // 0x01
	"Unknown", "Daughter Board", "ZIF Socket", "Replaceable Piggy Back", "None", "LIF Socket",
	"Slot 1", "Slot 2", "370-pin Socket", "Slot A", "Slot M", "Socket 423", "Socket A (Socket 462)",
	"Socket 478", "Socket 754", "Socket 940", "Socket 939", "Socket mPGA604", "Socket LGA771",
	"Socket LGA775", "Socket S1", "Socket AM2", "Socket F (1207)", "Socket LGA1366", "Socket G34",
	"Socket AM3", "Socket C32", "Socket LGA1156", "Socket LGA1567", "Socket PGA988A",
	"Socket BGA1288", "Socket rPGA988B", "Socket BGA1023", "Socket BGA1224", "Socket BGA1155",
	"Socket LGA1356", "Socket LGA2011", "Socket FS1", "Socket FS2", "Socket FM1", "Socket FM2",
	"Socket LGA2011-3", "Socket LGA1356-3", "Socket LGA1150", "Socket BGA1168", "Socket BGA1234",
	"Socket BGA1364", "Socket AM4", "Socket LGA1151", "Socket BGA1356", "Socket BGA1440",
	"Socket BGA1515", "Socket LGA3647-1", "Socket SP3", "Socket SP3r2", "Socket LGA2066",
	"Socket BGA1392", "Socket BGA1510", "Socket BGA1528", "Socket LGA4189", "Socket LGA1200",
	"Socket LGA4677", // 0x3F
}

// UpgradeName names the socket type ("Socket AM4").
func (p *ProcessorInfo) UpgradeName() string {
	return enumName(int(p.Upgrade), 1, processorUpgradeNames)
}

var processorCharacteristicNames = []string{
	"64-bit capable", // bit 2
	"Multi-Core",
	"Hardware Thread",
	"Execute Protection",
	"Enhanced Virtualization",
	"Power/Performance Control",
	"128-bit Capable",
	"Arm64 SoC ID", // bit 9
}

// CharacteristicNames lists the processor characteristics that are set.
func (p *ProcessorInfo) CharacteristicNames() []string {
	return bitNames(uint64(p.Characteristics), 2, 9, processorCharacteristicNames)
}

func (p *ProcessorInfo) cacheText(h uint16, level string) string {
	if h == 0xFFFF {
		if p.ver.Effective().AtLeast(2, 3) {
			return "Not Provided"
		}
		return "No " + level + " Cache"
	}
	return handleText(h)
}

// Fields renders the structure as dmidecode 3.4 does.
func (p *ProcessorInfo) Fields() []Field {
	if !p.present(processorMinLength) {
		return nil
	}
	b := make([]byte, 8)
	for i := range b {
		b[i] = byte(p.ID >> (8 * i))
	}
	fs := []Field{
		attr("Socket Designation", p.stringDisplay(0x04, p.SocketDesignation)),
		attr("Type", p.ProcessorTypeName()),
		attr("Family", p.FamilyName()),
		attr("Manufacturer", p.stringDisplay(0x07, p.Manufacturer)),
		attrf("ID", "%02X %02X %02X %02X %02X %02X %02X %02X", b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]),
	}
	if sig := p.Signature(); sig != "" {
		fs = append(fs, attr("Signature", sig))
	}
	if k := p.cpuidKind(); k == cpuidIntel || k == cpuidAMD {
		if uint32(p.ID>>32)&0xBFEFFBFF == 0 {
			fs = append(fs, list("Flags", "None", nil))
		} else {
			fs = append(fs, list("Flags", "", p.FlagNames()))
		}
	}
	fs = append(fs, attr("Version", p.stringDisplay(0x10, p.Version)))
	if v := p.VoltageText(); v != "" {
		fs = append(fs, attr("Voltage", v))
	}
	fs = append(fs,
		attr("External Clock", mhzText(p.ExternalClock)),
		attr("Max Speed", mhzText(p.MaxSpeed)),
		attr("Current Speed", mhzText(p.CurrentSpeed)),
		attr("Status", p.StatusText()),
		attr("Upgrade", p.UpgradeName()))
	if !p.present(0x20) {
		return fs
	}
	fs = append(fs,
		attr("L1 Cache Handle", p.cacheText(p.L1CacheHandle, "L1")),
		attr("L2 Cache Handle", p.cacheText(p.L2CacheHandle, "L2")),
		attr("L3 Cache Handle", p.cacheText(p.L3CacheHandle, "L3")))
	if !p.present(0x23) {
		return fs
	}
	fs = append(fs,
		attr("Serial Number", p.stringDisplay(0x20, p.SerialNumber)),
		attr("Asset Tag", p.stringDisplay(0x21, p.AssetTag)),
		attr("Part Number", p.stringDisplay(0x22, p.PartNumber)))
	if !p.present(0x28) {
		return fs
	}
	if p.CoreCount != 0 {
		fs = append(fs, attrf("Core Count", "%d", p.Cores()))
	}
	if p.CoreEnabled != 0 {
		fs = append(fs, attrf("Core Enabled", "%d", p.EnabledCores()))
	}
	if p.ThreadCount != 0 {
		fs = append(fs, attrf("Thread Count", "%d", p.Threads()))
	}
	if p.Characteristics&0x00FC == 0 {
		fs = append(fs, attr("Characteristics", "None"))
	} else {
		fs = append(fs, list("Characteristics", "", p.CharacteristicNames()))
	}
	return fs
}

func (p *ProcessorInfo) String() string {
	return renderText(&p.Header, p.length(), TypeTitle(4), p.Fields())
}

func init() {
	registerType(&typeSpec{typ: 4, title: "Processor Information", minLength: processorMinLength,
		lengths: []versionLength{since(2, 0, 0x1A), since(2, 1, 0x20), since(2, 3, 0x23), since(2, 5, 0x28),
			since(2, 6, 0x2A), since(3, 0, 0x30), since(3, 6, 0x32)},
		parse: parser(ParseProcessorInfo)})
}

func (*ProcessorInfo) structureType() uint8 { return 4 }

func (p *ProcessorInfo) buildLength(v Version) int {
	return grownLength(&p.Header, p.fields(), int(DefaultLength(4, v)))
}

// SetVoltage sets the processor voltage in volts (one decimal, SMBIOS's current-voltage form,
// bit 7 set). Volts above 12.7 do not fit and are clamped.
func (p *ProcessorInfo) SetVoltage(volts float64) {
	d := int(volts*10 + 0.5)
	p.Voltage = 0x80 | uint8(min(max(d, 0), 0x7F))
}

// SetCounts sets core, enabled core and thread counts. Counts above 255 go in the 16-bit fields
// (SMBIOS 3.0, which they extend the structure to); the builder mirrors smaller ones there when
// the version has those fields.
func (p *ProcessorInfo) SetCounts(cores, enabled, threads int) {
	set := func(n int, small *uint8, big *uint16) {
		if n > 0xFF {
			*small, *big = 0xFF, uint16(min(n, 0xFFFE))
		} else {
			*small, *big = uint8(max(n, 0)), 0
		}
	}
	set(cores, &p.CoreCount, &p.CoreCount2)
	set(enabled, &p.CoreEnabled, &p.CoreEnabled2)
	set(threads, &p.ThreadCount, &p.ThreadCount2)
}

// setDefaults: type "Central Processor", family "Unknown", status "populated, enabled", upgrade
// "Unknown", cache handles "not provided", family 2 and the 16-bit counts mirroring the 8-bit
// ones.
func (p *ProcessorInfo) setDefaults(*buildContext) {
	if p.ProcessorType == 0 {
		p.ProcessorType = 0x03
	}
	if p.Family == 0 {
		p.Family = 0x02
	}
	if p.Family2 == 0 && p.Family != 0xFE && p.present(0x2A) {
		p.Family2 = uint16(p.Family)
	}
	if p.Status == 0 {
		p.Status = 0x41
	}
	if p.Upgrade == 0 {
		p.Upgrade = 0x02
	}
	if p.present(0x20) {
		for _, h := range []*uint16{&p.L1CacheHandle, &p.L2CacheHandle, &p.L3CacheHandle} {
			if *h == 0 {
				*h = 0xFFFF
			}
		}
	}
	if p.present(0x30) {
		// SMBIOS 3.0: the 16-bit counts repeat the 8-bit ones below 256.
		if p.CoreCount2 == 0 && p.CoreCount != 0xFF {
			p.CoreCount2 = uint16(p.CoreCount)
		}
		if p.CoreEnabled2 == 0 && p.CoreEnabled != 0xFF {
			p.CoreEnabled2 = uint16(p.CoreEnabled)
		}
		if p.ThreadCount2 == 0 && p.ThreadCount != 0xFF {
			p.ThreadCount2 = uint16(p.ThreadCount)
		}
	}
}
