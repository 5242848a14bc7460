package firmware

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A q35 + SeaBIOS boot of the cloud kernel, as read with syslog(2), with the kernel's other ACPI
// lines that must not be taken for tables.
const syslogBoot = `<6>[    0.000000] ACPI: Early table checksum verification disabled
<6>[    0.000000] ACPI: RSDP 0x00000000000F59E0 000014 (v00 BOCHS )
<6>[    0.000000] ACPI: RSDT 0x000000000FFE2270 000038 (v01 BOCHS  BXPC     00000001 BXPC 00000001)
<6>[    0.000000] ACPI: FACP 0x000000000FFE2068 0000F4 (v03 BOCHS  BXPC     00000001 BXPC 00000001)
<6>[    0.000000] ACPI: FACS 0x000000000FFE0000 000040
<6>[    0.000000] ACPI: SLIC 0x000000000FFE22A8 000176 (v01 DELL   CBX3     01072009 AMI  00010013)
<6>[    0.000000] ACPI: Reserving FACP table memory at [mem 0xffe2068-0xffe215b]
<6>[    0.000000] ACPI: HPET id: 0x8086a201 base: 0xfed00000
[    0.000000] ACPI: XSDT 0x000000007FB7D0E8 00004C (v01 TSTOEM TSTBOARD 00000001      01000013)
random text ACPI: RSDT 0x000000000FFE2270 000038`

// The guest sends only the table lines of its log, without prefixes; parsing them again gives the
// same headers as parsing the whole log.
func TestKernelLogTableLines(t *testing.T) {
	lines := KernelLogTableLines([]byte(syslogBoot))
	require.Len(t, lines, 6)
	assert.Equal(t, "ACPI: RSDP 0x00000000000F59E0 000014 (v00 BOCHS )", lines[0])
	assert.Equal(t, "ACPI: XSDT 0x000000007FB7D0E8 00004C (v01 TSTOEM TSTBOARD 00000001      01000013)", lines[5])

	whole, err := ParseKernelLog(strings.NewReader(syslogBoot))
	require.NoError(t, err)
	again, err := ParseKernelLog(strings.NewReader(strings.Join(lines, "\n")))
	require.NoError(t, err)
	require.Len(t, again, len(whole))
	for i := range whole {
		w, a := whole[i], again[i]
		w.Line, a.Line = 0, 0
		assert.Equal(t, w, a)
	}
	assert.Equal(t, "SLIC", again[4].Signature)
	assert.Equal(t, "DELL  ", again[4].OEMID)
	assert.Equal(t, "CBX3    ", again[4].OEMTableID)
	assert.Empty(t, KernelLogTableLines(nil))
}

// A line longer than a kernel log line can be is a clear error naming the line and the limit.
func TestKernelLogLineTooLong(t *testing.T) {
	log := "ACPI: RSDT 0x000000007FFE1A2B 000034 (v01 BOCHS  BXPC     00000001 BXPC 00000001)\n" +
		strings.Repeat("x", 70000) + "\n"
	_, err := ParseKernelLog(strings.NewReader(log))
	require.Error(t, err)
	assert.EqualError(t, err, "line 2: longer than 64 KiB, more than a kernel log line holds: give dmesg output")
}

// The RSDP from a kernel log line is shown with the RSDP's own fields (8-byte signature, OEM ID,
// revision, length), not the 36-byte header's, and the fields the line lacks say so.
func TestKernelLogRSDPShowsItsOwnFields(t *testing.T) {
	hs, err := ParseKernelLog(strings.NewReader("[    0.000000] ACPI: RSDP 0x00000000000F05B0 000024 (v02 DELL  )\n"))
	require.NoError(t, err)
	require.Len(t, hs, 1)
	tb := LogHeaderTable(hs[0], "RSDP", "dmesg.txt")
	require.NotNil(t, tb.RSDP)
	lines := tb.Dump(false)
	byName := map[string]DumpLine{}
	for _, l := range lines {
		byName[l.Name] = l
	}
	assert.Equal(t, `"RSD PTR "`, byName["Signature"].Value)
	assert.Equal(t, 8, byName["Signature"].Size)
	assert.Equal(t, `"DELL  "`, byName["Oem ID"].Value)
	assert.Equal(t, 9, byName["Oem ID"].Off)
	assert.Equal(t, "02", byName["Revision"].Value)
	assert.Equal(t, "00000024", byName["Length"].Value)
	for _, n := range []string{"Checksum", "RSDT Address", "XSDT Address", "Extended Checksum"} {
		assert.Equal(t, "--", byName[n].Value, n)
		assert.Equal(t, "not in the kernel log line", byName[n].Note, n)
	}
	for _, n := range []string{"Oem Table ID", "Asl Compiler ID", "Table Length"} {
		assert.NotContains(t, byName, n, "a header field the RSDP does not have")
	}
}
