package klog

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A q35 + SeaBIOS boot of the cloud kernel, as read with syslog(2), with the kernel's other ACPI
// lines that must not be taken for tables.
const bootLog = `<6>[    0.000000] ACPI: Early table checksum verification disabled
<6>[    0.000000] ACPI: RSDP 0x00000000000F59E0 000014 (v00 BOCHS )
<6>[    0.000000] ACPI: RSDT 0x000000000FFE2270 000038 (v01 BOCHS  BXPC     00000001 BXPC 00000001)
<6>[    0.000000] ACPI: FACP 0x000000000FFE2068 0000F4 (v03 BOCHS  BXPC     00000001 BXPC 00000001)
<6>[    0.000000] ACPI: FACS 0x000000000FFE0000 000040
<6>[    0.000000] ACPI: SLIC 0x000000000FFE22A8 000176 (v01 DELL   CBX3     01072009 AMI  00010013)
<6>[    0.000000] ACPI: Reserving FACP table memory at [mem 0xffe2068-0xffe215b]
<6>[    0.000000] ACPI: HPET id: 0x8086a201 base: 0xfed00000
[    0.000000] ACPI: XSDT 0x000000007FB7D0E8 00004C (v01 TSTOEM TSTBOARD 00000001      01000013)
`

func TestTableLines(t *testing.T) {
	lines := TableLines(bootLog)
	require.Len(t, lines, 6)
	assert.Equal(t, "ACPI: RSDP 0x00000000000F59E0 000014 (v00 BOCHS )", lines[0])

	tables := Tables(lines)
	rsdp := tables[0]
	assert.Equal(t, TableLine{Signature: "RSDP", Address: 0xF59E0, Length: 20, HasHeader: true, Revision: 0, OEMID: "BOCHS ", Line: lines[0]}, rsdp)
	rsdt := tables[1]
	assert.Equal(t, "RSDT", rsdt.Signature)
	assert.Equal(t, uint64(0xFFE2270), rsdt.Address)
	assert.Equal(t, uint32(0x38), rsdt.Length)
	assert.Equal(t, 1, rsdt.Revision)
	assert.Equal(t, "BOCHS ", rsdt.OEMID)
	assert.Equal(t, "BXPC    ", rsdt.OEMTableID)
	assert.Equal(t, uint32(1), rsdt.OEMRevision)
	assert.Equal(t, "BXPC", rsdt.CreatorID)
	facs := tables[3]
	assert.Equal(t, "FACS", facs.Signature)
	assert.False(t, facs.HasHeader)
	slic := tables[4]
	assert.Equal(t, "DELL  ", slic.OEMID)
	assert.Equal(t, "CBX3    ", slic.OEMTableID)
	assert.Equal(t, uint32(0x01072009), slic.OEMRevision)
	assert.Equal(t, uint32(374), slic.Length)
	xsdt := tables[5]
	assert.Equal(t, "TSTOEM", xsdt.OEMID)
	assert.Equal(t, "TSTBOARD", xsdt.OEMTableID)
	assert.Equal(t, "    ", xsdt.CreatorID, "blank creator IDs stay as printed")
}

func TestParseTableLineRejects(t *testing.T) {
	for _, l := range []string{
		"", "ACPI:", "ACPI: HPET id: 0x8086a201 base: 0xfed00000",
		"ACPI: RSDT 0x0FFE2270 000038 (v01 BOCHS  BXPC     00000001 BXPC 00000001)",     // short address
		"ACPI: RSDT 0x000000000FFE2270 000038 (v01 BOCHS  BXPC 00000001 BXPC 00000001)", // table ID not 8 wide
		"random text ACPI: RSDT 0x000000000FFE2270 000038",
	} {
		_, ok := ParseTableLine(l)
		assert.False(t, ok, "%q", l)
	}
}

func FuzzParseTableLine(f *testing.F) {
	for _, l := range TableLines(bootLog) {
		f.Add(l)
	}
	f.Add("<6>[ 1.0] ACPI: ????")
	f.Fuzz(func(t *testing.T, line string) {
		tl, ok := ParseTableLine(line)
		if ok && len(tl.Signature) != 4 {
			t.Fatalf("signature %q", tl.Signature)
		}
	})
}
