package smbios

import (
	"math/rand"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// enumTable builds a table whose structures walk every value of the enumerated and bit-field
// fields, so that comparing with dmidecode checks every name table, unit rule and special case,
// not only the values the real dumps happen to use.
func enumTable(t *testing.T, v Version) *Info {
	t.Helper()
	rng := rand.New(rand.NewSource(1))
	var structs []*Structure
	add := func(tv Typed) {
		h := tv.header()
		h.Handle = uint16(len(structs))
		h.SetSMBIOSVersion(v)
		if h.Length == 0 {
			h.Length = DefaultLength(typeCode(tv), v)
		}
		s, err := tv.Structure()
		require.NoError(t, err)
		structs = append(structs, s)
	}
	strs := []string{"", "Intel(R) Corporation", "AMD", "Advanced Micro Devices", "TEST", "intel", "amd x"}
	for i := 0; i < 256; i++ {
		b := &BIOSInfo{Vendor: "TEST", Version: "V", ReleaseDate: "01/01/2020", ROMSize: uint8(i),
			StartingAddressSegment: uint16(rng.Intn(0x10000)), Characteristics: rng.Uint64(),
			CharacteristicsExt1: uint8(rng.Intn(256)), CharacteristicsExt2: uint8(i),
			BIOSMajorRelease: uint8(rng.Intn(3) * 0x7F), BIOSMinorRelease: uint8(rng.Intn(3) * 0x7F),
			ECMajorRelease: uint8(rng.Intn(3) * 0x7F), ECMinorRelease: uint8(rng.Intn(3) * 0x7F),
			ExtendedROMSize: uint16(i%4)<<14 | uint16(rng.Intn(0x4000))}
		if i%5 == 0 {
			b.StartingAddressSegment = 0
		}
		if i%7 == 0 {
			b.Characteristics |= 1 << 3
		}
		add(b)

		u := UUID{}
		switch i % 3 {
		case 1:
			for j := range u {
				u[j] = 0xFF
			}
		case 2:
			rng.Read(u[:])
		}
		add(&SystemInfo{Manufacturer: "M", ProductName: strs[i%len(strs)], SerialNumber: "S", UUID: u, WakeUpType: uint8(i), Family: "F"})

		add(&BaseboardInfo{Manufacturer: "M", Product: "P", BoardType: uint8(i), FeatureFlags: uint8(i),
			ContainedObjectHandles: make([]uint16, i%3)})

		c := &ChassisInfo{Manufacturer: "M", TypeAndLock: uint8(i), BootUpState: uint8(i),
			PowerSupplyState: uint8(rng.Intn(256)), ThermalState: uint8(rng.Intn(8)), SecurityStatus: uint8(i),
			OEMDefined: rng.Uint32(), Height: uint8(rng.Intn(3)), NumberOfPowerCords: uint8(rng.Intn(3)),
			ContainedElementCount: 1, ContainedElementRecordLength: 3,
			ContainedElements: []byte{uint8(i), uint8(rng.Intn(3)), uint8(rng.Intn(3))}, SKUNumber: "SKU"}
		add(c)

		p := &ProcessorInfo{SocketDesignation: "S", ProcessorType: uint8(i), Family: uint8(i),
			Manufacturer: strs[i%len(strs)], ID: rng.Uint64(), Version: "V", Voltage: uint8(i),
			ExternalClock: uint16(rng.Intn(3) * 100), MaxSpeed: uint16(rng.Intn(5000)), CurrentSpeed: uint16(i),
			Status: uint8(i), Upgrade: uint8(i), L1CacheHandle: uint16(rng.Intn(2)) * 0xFFFF,
			CoreCount: uint8(255 - i), CoreEnabled: uint8(i), ThreadCount: uint8(rng.Intn(256)),
			Characteristics: uint16(rng.Intn(0x10000)), Family2: uint16(rng.Intn(0x300)),
			CoreCount2: uint16(rng.Intn(0x10000)), CoreEnabled2: uint16(rng.Intn(0x10000)), ThreadCount2: uint16(rng.Intn(0x10000))}
		if i == 0x06 || i == 0x05 || i == 0xBE || i == 0x30 || i == 0x01 || i == 0x02 {
			// The 80386/80486 signatures, the ambiguous codes and the "Other"/"Unknown" x86
			// heuristics read the ID and the version string; vary them.
			p.ID = uint64(0x0400+i) | uint64(rng.Uint32())<<32
			p.Version = []string{"Pentium III MMX", "Intel(R) Core(TM)2 Duo", "AMD Athlon(TM) 64", "Dual-Core AMD Opteron(tm)", "X"}[i%5]
		}
		add(p)

		a := &PhysicalMemoryArray{Location: uint8(i), Use: uint8(i), ErrorCorrection: uint8(i),
			MaximumCapacity:         []uint32{0x80000000, uint32(rng.Intn(1 << 30)), 0x100000}[i%3],
			ExtendedMaximumCapacity: rng.Uint64() >> uint(rng.Intn(64)), ErrorInformationHandle: []uint16{0xFFFE, 0xFFFF, 7}[i%3],
			NumberOfDevices: uint16(i)}
		add(a)

		sizes := []uint16{0, 0xFFFF, 0x7FFF, 0x8000 | 512, 1024, 16384, uint16(rng.Intn(0x10000))}
		m := &MemoryDevice{ErrorInformationHandle: []uint16{0xFFFE, 0xFFFF, 3}[i%3],
			TotalWidth: []uint16{0, 0xFFFF, 72}[i%3], DataWidth: uint16(rng.Intn(3) * 64), Size: sizes[i%len(sizes)],
			FormFactor: uint8(i), DeviceSet: uint8(i), DeviceLocator: "L", BankLocator: strs[i%len(strs)],
			MemoryType: uint8(i), TypeDetail: uint16(rng.Intn(0x10000)), Speed: []uint16{0, 0xFFFF, 2400}[i%3],
			Manufacturer: "M", SerialNumber: "S", Attributes: uint8(i), ExtendedSize: rng.Uint32() >> uint(rng.Intn(32)),
			ConfiguredMemorySpeed: []uint16{0xFFFF, 0, 3200}[i%3], MinimumVoltage: uint16(rng.Intn(2000)),
			MaximumVoltage: []uint16{0, 1200, 1350, 1234}[i%4], ConfiguredVoltage: uint16(i * 10),
			MemoryTechnology: uint8(i), OperatingModes: uint16(rng.Intn(0x10000)), FirmwareVersion: strs[i%len(strs)],
			ModuleManufacturerID: uint16(rng.Intn(0x10000)) * uint16(i%2), ModuleProductID: uint16(rng.Intn(0x10000)),
			NonVolatileSize: []uint64{0, ^uint64(0), rng.Uint64() >> uint(rng.Intn(64))}[i%3],
			VolatileSize:    uint64(i) << 30, CacheSize: rng.Uint64() >> uint(rng.Intn(64)), LogicalSize: 0,
			ExtendedSpeed: []uint32{0, 70000}[i%2], ExtendedConfiguredSpeed: rng.Uint32() >> 16}
		add(m)
		enumMoreTypes(i, rng, add)
	}
	// Processor family 2 covers the codes above 0xFF.
	for f := 0x100; f < 0x300; f++ {
		add(&ProcessorInfo{SocketDesignation: "S", ProcessorType: 3, Family: 0xFE, Family2: uint16(f),
			Manufacturer: "M", ID: rng.Uint64() >> uint(rng.Intn(2)*40), Characteristics: uint16(rng.Intn(0x400)),
			Status: 0x41, Upgrade: 1})
	}
	// Older layouts: every length a version step gives, so the "stop early" rules are checked.
	for _, old := range []Version{{2, 0, 0}, {2, 1, 0}, {2, 3, 0}, {2, 4, 0}, {2, 5, 0}, {2, 6, 0}, {2, 7, 0}, {2, 8, 0}, {3, 2, 0}} {
		for _, tv := range []Typed{
			&BIOSInfo{Vendor: "V", ROMSize: 0xFF, ExtendedROMSize: 0x4002},
			&SystemInfo{Manufacturer: "M"},
			&ChassisInfo{Manufacturer: "M", TypeAndLock: 0x83},
			&ProcessorInfo{Family: 0xFE, Family2: 0xBE, Manufacturer: "AMD", CoreCount: 0xFF, CoreCount2: 999, L2CacheHandle: 0xFFFF},
			&PhysicalMemoryArray{MaximumCapacity: 0x80000000, ExtendedMaximumCapacity: 1 << 40},
			&MemoryDevice{Size: 0x7FFF, ExtendedSize: 0x12345, Speed: 0xFFFF, ExtendedSpeed: 5},
		} {
			h := tv.header()
			h.Length = DefaultLength(typeCode(tv), old)
			add(tv)
		}
	}
	structs = append(structs, &Structure{Type: EndOfTable, Handle: uint16(len(structs)), Offset: -1})
	in := &Info{Format: FormatBuilt, Version: v, Table: Table{Structures: structs}}
	require.NoError(t, in.SetEntryPoint(EntryPoint64))
	return in
}

func TestDmidecodeAgreesOnEveryEnumeratedValue(t *testing.T) {
	for _, v := range []Version{{3, 0, 0}, {3, 5, 0}} {
		t.Run(v.String(), func(t *testing.T) {
			in := enumTable(t, v)
			p := filepath.Join(t.TempDir(), "enum.bin")
			require.NoError(t, in.WriteDumpBin(p))
			out, _ := runDmidecode(t, p)
			recs := parseDmidecode(t, out)
			require.Len(t, recs, len(in.Structures))
			back, err := Read(p)
			require.NoError(t, err)
			n := compareWithDmidecode(t, back, recs)
			t.Logf("%d structures, %d fields compared", len(recs), n)
		})
	}
	// The UUID byte order changes at 2.6, and processor family 0x30 means Pentium Pro for 2.0.
	for _, v := range []Version{{2, 0, 0}, {2, 5, 0}, {2, 6, 0}} {
		t.Run("32-"+v.String(), func(t *testing.T) {
			b := fullBuilder(t, v)
			b.Processors[0].Family = 0x30
			in, err := b.Build(EntryPoint32)
			require.NoError(t, err)
			p := filepath.Join(t.TempDir(), "old.bin")
			require.NoError(t, in.WriteDumpBin(p))
			out, _ := runDmidecode(t, p)
			back, err := Read(p)
			require.NoError(t, err)
			compareWithDmidecode(t, back, parseDmidecode(t, out))
		})
	}
}

// enumMoreTypes adds structures of types 7, 9, 19, 32, 38 and 41 that walk their enumerations
// and bit fields with i.
func enumMoreTypes(i int, rng *rand.Rand, add func(Typed)) {
	seg := []uint16{0xFFFF, 0, uint16(rng.Intn(0x10000))}[i%3]
	bus := []uint8{0xFF, 0, uint8(rng.Intn(256))}[i%3]
	devfn := []uint8{0xFF, 0, uint8(rng.Intn(256))}[i%3]
	add(&CacheInfo{SocketDesignation: "C", Configuration: uint16(i) | uint16(rng.Intn(4))<<8,
		MaximumSize: uint16(rng.Intn(0x10000)), InstalledSize: uint16(rng.Intn(0x10000)),
		SupportedSRAMType: uint16(i), CurrentSRAMType: uint16(rng.Intn(0x100)), Speed: uint8(i % 3 * 5),
		ErrorCorrection: uint8(i), SystemCacheType: uint8(i), Associativity: uint8(i),
		MaximumSize2: rng.Uint32(), InstalledSize2: rng.Uint32() >> uint(rng.Intn(32))})
	add(&SystemSlot{Designation: "S", SlotType: uint8(i), DataBusWidth: uint8(i), CurrentUsage: uint8(i),
		SlotLength: uint8(i), SlotID: uint16(rng.Intn(0x10000)), Characteristic1: uint8(i),
		Characteristic2: uint8(rng.Intn(256)), SegmentGroup: seg, BusNumber: bus, DeviceFunction: devfn,
		DataBusWidthBase: uint8(i)})
	start := []uint32{0xFFFFFFFF, 0, uint32(rng.Intn(1 << 30))}[i%3]
	add(&MemoryArrayMappedAddress{StartingAddress: start, EndingAddress: start + uint32(rng.Intn(1<<20)) - uint32(i%2),
		MemoryArrayHandle: uint16(i), PartitionWidth: uint8(i), ExtendedStartingAddress: uint64(i) << 30,
		ExtendedEndingAddress: uint64(i)<<30 + uint64(rng.Intn(1<<30))*uint64(i%2)})
	add(&SystemBootInfo{Status: uint8(i)})
	add(&IPMIDevice{InterfaceType: uint8(i % 6), SpecificationRevision: uint8(i), I2CTargetAddress: uint8(i),
		NVStorageAddress: []uint8{0xFF, uint8(i)}[i%2], BaseAddress: rng.Uint64(), BaseAddressModifier: uint8(i),
		InterruptNumber: uint8(i % 3)})
	add(&OnboardDevice{ReferenceDesignation: "D", DeviceType: uint8(i), TypeInstance: uint8(i), SegmentGroup: seg,
		BusNumber: bus, DeviceFunction: devfn})
}
