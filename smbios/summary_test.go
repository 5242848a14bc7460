package smbios

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func keys(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &m))
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestSummaryJSONShape(t *testing.T) {
	in, err := Read(fixturePath(t, "uroot_GigaByte-X399.bin"))
	require.NoError(t, err)
	b, err := json.Marshal(Summarize(in))
	require.NoError(t, err)
	// The keys oemact inspect's "smbios" section promises.
	assert.Equal(t, []string{"baseboard", "bios", "chassis", "entry_point", "memory_devices", "oem_strings", "processors", "system", "version"}, keys(t, b))
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &m))
	assert.Equal(t, []string{"family", "handle", "manufacturer", "product_name", "serial_number", "sku_number", "uuid", "version"}, keys(t, m["system"]))

	var s Summary
	require.NoError(t, json.Unmarshal(b, &s))
	assert.Equal(t, "3.1.1", s.Version)
	assert.Equal(t, "_SM3_", s.EntryPoint)
	assert.Equal(t, "American Megatrends Inc.", s.BIOS.Vendor)
	assert.Equal(t, uint64(16<<20), s.BIOS.ROMSizeBytes)
	assert.True(t, s.BIOS.UEFI)
	assert.Equal(t, "X399 AORUS XTREME", s.System.ProductName)
	assert.Equal(t, "032e02b4-0499-0533-a106-940700080009", s.System.UUID)
	assert.Equal(t, "X399 AORUS XTREME-CF", s.Baseboard.ProductName)
	assert.Equal(t, "Motherboard", s.Baseboard.Type)
	assert.Equal(t, "Desktop", s.Chassis.Type)
	require.Len(t, s.Processors, 1)
	require.NotNil(t, s.Processors[0].Cores)
	require.NotNil(t, s.Processors[0].Threads)
	assert.Equal(t, 32, *s.Processors[0].Cores)
	assert.Equal(t, 64, *s.Processors[0].Threads)
	assert.Equal(t, "Zen", s.Processors[0].Family)
	require.NotEmpty(t, s.MemoryDevices)
	assert.Equal(t, uint64(16<<30), s.MemoryDevices[0].SizeBytes)
	assert.Equal(t, "DDR4", s.MemoryDevices[0].Type)
	assert.Equal(t, uint32(2933), s.MemoryDevices[0].SpeedMTs)

	text := Summarize(in).Text()
	for _, want := range []string{"SMBIOS 3.1.1, _SM3_ entry point, dump-bin", "American Megatrends Inc. F4 (10/04/2018), revision 5.14, UEFI",
		"UUID 032e02b4-0499-0533-a106-940700080009", "Desktop", "SP3r2: AMD Ryzen Threadripper 2990WX 32-Core Processor (Zen), 32 cores, 64 threads",
		"DIMM 0: 16 GB DDR4 DIMM, Kingston KHX2933C17D4/16G, serial 501C661C"} {
		assert.Contains(t, text, want)
	}
}

func TestSummaryBareAndEmpty(t *testing.T) {
	in, _ := Read(fixturePath(t, "sidero_HyperV.bin"))
	require.NotNil(t, in)
	s := Summarize(in)
	assert.Equal(t, "none", s.EntryPoint)
	assert.Equal(t, "2.3", s.Version)
	assert.Equal(t, "Virtual Machine", s.System.ProductName)
	assert.Equal(t, []string{"[MS_VM_CERT/SHA1/9b80ca0d5dd061ec9da4e494f4c3fd1196270c22]", "00000000000000000000000000000000", "To be filed by MSFT"}, s.OEMStrings)
	assert.Contains(t, s.Text(), "SMBIOS 2.3 (guessed), no entry point, bare table")
	assert.Equal(t, ChassisDesktop, ChassisType(s.Chassis.TypeCode))

	// No structures at all: nulls and empty lists, never a panic.
	b, err := json.Marshal(Summarize(&Info{}))
	require.NoError(t, err)
	assert.JSONEq(t, `{"version":"0.0","entry_point":"none","bios":null,"system":null,"baseboard":null,"chassis":null,"processors":[],"memory_devices":[],"oem_strings":[]}`, string(b))
}

func TestIdentity(t *testing.T) {
	in, err := Read(fixturePath(t, "uroot_Lenovo-ThinkPad-T480.bin"))
	require.NoError(t, err)
	id := in.Identity()
	assert.Equal(t, "LENOVO", id.SystemManufacturer)
	assert.NotEmpty(t, id.SystemSerial)
	assert.NotEmpty(t, id.SystemUUID)
	assert.Equal(t, "LENOVO", id.BoardManufacturer)
	assert.Equal(t, "LENOVO", id.BIOSVendor)
	assert.True(t, id.Portable(), "a ThinkPad is a notebook")

	// The Hyper-V table predates SMBIOS 2.6: its UUID is read in network order, as dmidecode
	// printed it (ef4968b2-b04f-034e-...).
	in, _ = Read(fixturePath(t, "sidero_HyperV.bin"))
	assert.Equal(t, "ef4968b2-b04f-034e-a9d1-1a165a40c8d7", in.Identity().SystemUUID)
	assert.False(t, in.Identity().Portable())
}

// A thread or core count of 0 is SMBIOS's "unknown": null in JSON, "unknown" in text; repeated
// and unpopulated structures fold into one line that says how many.
func TestSummaryUnknownCountsAndFolding(t *testing.T) {
	in, err := Read(fixturePath(t, "uroot_VMWare.bin"))
	require.NoError(t, err)
	s := Summarize(in)
	require.Len(t, s.Processors, 128)
	assert.Nil(t, s.Processors[0].Threads)
	b, err := json.Marshal(s.Processors[0])
	require.NoError(t, err)
	assert.Contains(t, string(b), `"threads":null`)
	text := s.Text()
	assert.Contains(t, text, "Processor:   128 x Intel(R) Core(TM) i7-5500U CPU @ 2.40GHz (Unknown), 1 cores, unknown threads, max 30000 MHz (CPU #000 ... CPU #127)")
	assert.Contains(t, text, "Memory:      RAM slot #0: 1 GB DRAM DIMM, - -, serial - (handle 0x01A3)")
	assert.Contains(t, text, "Memory:      127 x No Module Installed (RAM slot #1 ... NVD #63)")
	assert.NotContains(t, text, "0 threads")
	assert.Equal(t, 12, strings.Count(text, "\n"), "one line per item, folded:\n%s", text)
}
