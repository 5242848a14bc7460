package smbios

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustUUID(t testing.TB, s string) UUID {
	t.Helper()
	u, err := ParseUUID(s)
	require.NoError(t, err)
	return u
}

// fullBuilder fills every typed structure the builder knows, the way a firmware profile does.
func fullBuilder(t testing.TB, v Version) *Builder {
	t.Helper()
	proc := &ProcessorInfo{
		SocketDesignation: "CPU0", Family: 0xC6, Manufacturer: "Intel(R) Corporation",
		ID: 0xBFEBFBFF000806EA, Version: "TEST Core i7-8650U", Voltage: 0x8B,
		ExternalClock: 100, MaxSpeed: 4200, CurrentSpeed: 1900, Upgrade: 0x01,
		SerialNumber: "CPU-TEST-0001", AssetTag: "CPU-ASSET", PartNumber: "CPU-PART",
		Characteristics: 0x00EC,
	}
	proc.SetCounts(4, 4, 8)
	var procs []*ProcessorInfo
	procs = append(procs, proc)
	big := &ProcessorInfo{SocketDesignation: "CPU1", Family: 0xFE, Family2: 0x101, Manufacturer: "TEST ARM",
		ID: 0x00000000410FD0C1, Version: "TEST Neoverse", Voltage: 0x03, Status: 0x41, Characteristics: 0x0004}
	big.SetCounts(300, 256, 600)
	if v.AtLeast(3, 0) {
		procs = append(procs, big) // 16-bit counts and ARM family 2 need SMBIOS 3.0
	}
	empty := &MemoryDevice{DeviceLocator: "DIMM 1", BankLocator: "BANK 1"}
	dimm := &MemoryDevice{
		DeviceLocator: "DIMM 0", BankLocator: "BANK 0", MemoryType: 0x1A, TypeDetail: 0x4080,
		Speed: 2933, Manufacturer: "TEST Memory", SerialNumber: "MEM-0001", AssetTag: "MEM-ASSET",
		PartNumber: "TEST-16G-2933", Attributes: 2, ConfiguredMemorySpeed: 2933,
		MinimumVoltage: 1200, MaximumVoltage: 1350, ConfiguredVoltage: 1200,
	}
	require.NoError(t, dimm.SetSize(16<<30))
	devices := []*MemoryDevice{dimm, empty}
	if v.AtLeast(3, 3) {
		// Extended size (2.7) and extended speed (3.3).
		huge := &MemoryDevice{DeviceLocator: "DIMM 2", BankLocator: "BANK 2", MemoryType: 0x22, Speed: 0xFFFF, ExtendedSpeed: 70000}
		require.NoError(t, huge.SetSize(64<<30))
		devices = append(devices, huge)
	}
	chassis := &ChassisInfo{Manufacturer: "TSTOEM", Version: "1.0", SerialNumber: "CHS-0001",
		AssetTag: "CHS-ASSET", Height: 2, NumberOfPowerCords: 1, SKUNumber: "CHS-SKU",
		ContainedElementCount: 2, ContainedElementRecordLength: 3, ContainedElements: []byte{0x0A, 1, 1, 0x91, 2, 4}}
	chassis.SetType(ChassisNotebook)
	return &Builder{
		Version: v,
		BIOS: &BIOSInfo{Vendor: "TEST Firmware Inc.", Version: "T1.00", StartingAddressSegment: 0xE800,
			ReleaseDate: "01/15/2024", ROMSize: 0xFF, ExtendedROMSize: 32, Characteristics: 0x0B_CF99_0080,
			CharacteristicsExt1: 0x03, CharacteristicsExt2: 0x0D, BIOSMajorRelease: 1, BIOSMinorRelease: 2},
		System: &SystemInfo{Manufacturer: "TSTOEM", ProductName: "TEST Workstation", Version: "1.0",
			SerialNumber: "TEST-SN-0001", UUID: mustUUID(t, "4c4c4544-0042-3510-8052-b4c04f4e3432"),
			SKUNumber: "TEST-SKU", Family: "TEST Family"},
		Baseboards: []*BaseboardInfo{{Manufacturer: "TSTOEM", Product: "TEST Board", Version: "A01",
			SerialNumber: "BRD-0001", AssetTag: "BRD-ASSET", LocationInChassis: "Slot 0",
			ContainedObjectHandles: []uint16{0x0100, 0x0101}}},
		Chassis:       []*ChassisInfo{chassis},
		Processors:    procs,
		OEMStrings:    []string{"TEST OEM string one", "oemact synthesized table"},
		MemoryDevices: devices,
		Extra: []*Structure{{Type: 32, Formatted: make([]byte, 7)}, // system boot information
			{Type: 0x80, Formatted: []byte{1, 2, 3, 4}, Strings: []string{"vendor"}}},
	}
}

var dmidecodeProblem = regexp.MustCompile(`(?i)invalid|wrong|truncated|checksum|bad index|out of spec|unexpected|not fully supported`)

// checkDmidecodeReads writes the table as a dump-bin file, has dmidecode read it, and checks it
// says nothing wrong and prints every structure with the fields the typed decode renders.
// baseline, when not empty, is dmidecode's output for the table the one checked was derived
// from: problem lines it already had are allowed, as often as they appeared there.
func checkDmidecodeReads(t *testing.T, in *Info, baseline string) []dmiRecord {
	t.Helper()
	p := filepath.Join(t.TempDir(), "dump.bin")
	require.NoError(t, in.WriteDumpBin(p))
	out, stderr := runDmidecode(t, p)
	assert.Empty(t, stderr, "dmidecode wrote to stderr")
	allowed := map[string]int{}
	for _, line := range strings.Split(baseline, "\n") {
		if dmidecodeProblem.MatchString(line) {
			allowed[line]++
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if m := dmidecodeProblem.FindString(line); m != "" {
			if allowed[line] > 0 {
				allowed[line]--
				continue
			}
			t.Errorf("dmidecode output line %q says %q", line, m)
		}
	}
	recs := parseDmidecode(t, out)
	assert.Len(t, recs, len(in.Structures), "dmidecode printed every structure")
	back, err := Read(p)
	require.NoError(t, err)
	compareWithDmidecode(t, back, recs)
	return recs
}

func TestBuilderDmidecodeReadsSynthesizedTables(t *testing.T) {
	cases := []struct {
		v    Version
		kind EntryPointKind
	}{
		{Version{2, 3, 0}, EntryPoint32},
		{Version{2, 7, 0}, EntryPoint32},
		{Version{2, 8, 0}, EntryPoint32},
		{Version{3, 0, 0}, EntryPoint64},
		{Version{3, 2, 0}, EntryPoint32},
		{Version{3, 2, 0}, EntryPoint64},
		{Version{3, 3, 0}, EntryPoint64},
		{Latest, EntryPoint32},
		{Latest, EntryPoint64},
	}
	for _, c := range cases {
		t.Run(c.v.String()+c.kind.String(), func(t *testing.T) {
			in, err := fullBuilder(t, c.v).Build(c.kind)
			require.NoError(t, err)
			assert.Equal(t, c.kind, in.EntryPoint.Kind)
			recs := checkDmidecodeReads(t, in, "")
			types := map[int]bool{}
			for _, r := range recs {
				types[r.Type] = true
			}
			for _, typ := range []int{0, 1, 2, 3, 4, 11, 16, 17, 32, 0x80, 127} {
				assert.True(t, types[typ], "type %d in the table", typ)
			}
			// The identity reads back.
			back, err := Decode(must(in.DumpBin()))
			require.NoError(t, err)
			id := back.Identity()
			assert.Equal(t, "TEST-SN-0001", id.SystemSerial)
			assert.Equal(t, "4c4c4544-0042-3510-8052-b4c04f4e3432", id.SystemUUID)
			assert.Equal(t, "BRD-0001", id.BoardSerial)
			assert.Equal(t, ChassisNotebook, id.ChassisType)
			assert.True(t, id.Portable())
		})
	}
}

func TestBuilderLegacyEntryPoint(t *testing.T) {
	b := fullBuilder(t, Version{2, 0, 0})
	in, err := b.Build(EntryPointLegacy)
	require.NoError(t, err)
	checkDmidecodeReads(t, in, "")
}

func TestBuilderRejects(t *testing.T) {
	_, err := (&Builder{Version: Version{2, 8, 0}, BIOS: &BIOSInfo{}, System: &SystemInfo{}}).Build(EntryPoint64)
	assert.ErrorContains(t, err, "needs SMBIOS 3.0")
	_, err = (&Builder{System: &SystemInfo{}}).Build(EntryPoint32)
	assert.ErrorContains(t, err, "needs BIOS")
	_, err = (&Builder{BIOS: &BIOSInfo{Header: Header{Handle: 5}}, System: &SystemInfo{Header: Header{Handle: 5}}}).Build(EntryPoint32)
	assert.ErrorContains(t, err, "used twice")
	_, err = (&Builder{BIOS: &BIOSInfo{}, System: &SystemInfo{}, OEMStrings: []string{"a", ""}}).Build(EntryPoint32)
	assert.ErrorContains(t, err, "OEM string 2 is empty")
	_, err = (&Builder{BIOS: &BIOSInfo{Vendor: "a\x00b"}, System: &SystemInfo{}}).Build(EntryPoint32)
	assert.ErrorContains(t, err, "NUL")
	m := &MemoryDevice{}
	assert.Error(t, m.SetSize(1500))
	assert.Error(t, m.SetSize(3<<20+5))
}

func TestBuilderKeepsCallerValues(t *testing.T) {
	b := fullBuilder(t, Latest)
	_, err := b.Build(EntryPoint64)
	require.NoError(t, err)
	assert.Zero(t, b.System.Handle, "Build works on copies")
	assert.Zero(t, b.System.WakeUpType)
}

func TestEditCapturedTable(t *testing.T) {
	in, err := Read(fixturePath(t, "uroot_GigaByte-X399.bin"))
	require.NoError(t, err)
	sys, err := in.System()
	require.NoError(t, err)
	before := sys.Raw()
	sys.SerialNumber = "TEST-SERIAL-42"
	require.NoError(t, in.Update(sys))
	require.NoError(t, in.Fixup())

	after, err := in.System()
	require.NoError(t, err)
	assert.Equal(t, "TEST-SERIAL-42", after.SerialNumber)
	// The serial shared its string with other fields ("Default string"), so it got a new one;
	// every other field reads as before.
	assert.Equal(t, "Default string", after.Version)
	assert.Equal(t, "Default string", after.SKUNumber)
	assert.Equal(t, "Default string", after.Family)
	assert.Equal(t, before.Formatted[4:], after.Raw().Formatted[4:], "only the serial number's string index may change")

	baseline, _ := runDmidecode(t, fixturePath(t, "uroot_GigaByte-X399.bin"))
	checkDmidecodeReads(t, in, baseline)

	// An unchanged table written after Update of an unchanged view is byte-identical.
	in2, _ := Read(fixturePath(t, "uroot_GigaByte-X399.bin"))
	bios, _ := in2.BIOS()
	require.NoError(t, in2.Update(bios))
	got, _ := in2.DumpBin()
	assert.Equal(t, readFixture(t, "uroot_GigaByte-X399.bin"), got)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestWriteQEMUFiles(t *testing.T) {
	in, err := fullBuilder(t, Version{3, 2, 0}).Build(EntryPoint64)
	require.NoError(t, err)
	dir := t.TempDir()
	names, err := in.WriteQEMUFiles(dir)
	require.NoError(t, err)
	require.Len(t, names, len(in.Structures)-1, "all but the end-of-table marker")
	assert.IsIncreasing(t, names, "names sort in table order")
	for i, name := range names {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		// Exactly one structure, ending in its double NUL, nothing after.
		s, next, err := DecodeStructure(b, 0, 0)
		require.NoError(t, err, name)
		assert.Equal(t, int64(len(b)), next, "%s holds one structure and nothing else", name)
		assert.Equal(t, in.Structures[i].Type, s.Type)
		assert.Equal(t, in.Structures[i].Handle, s.Handle)
		assert.NotEqual(t, uint8(EndOfTable), s.Type)
		assert.Equal(t, []byte{0, 0}, b[len(b)-2:])
	}
}
