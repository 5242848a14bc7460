// Package klog reads the lines a Linux kernel log holds about ACPI tables. Linux exposes the RSDP,
// RSDT and XSDT nowhere in sysfs, but prints each table's header at boot:
//
//	ACPI: RSDT 0x000000000FFE2270 000038 (v01 BOCHS  BXPC     00000001 BXPC 00000001)
//
// It parses those lines (ACPICA's acpi_tb_print_table_header format); checking them is the
// firmware package's business.
package klog

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// TableLine is one table header as the kernel printed it. The kernel replaces unprintable
// characters in the IDs with '?', so IDs are as printed, padding included.
type TableLine struct {
	Signature string `json:"signature"`
	Address   uint64 `json:"address"`
	Length    uint32 `json:"length"`
	// HasHeader is false for the FACS, printed with no revision or IDs.
	HasHeader bool   `json:"has_header"`
	Revision  int    `json:"revision"`
	OEMID     string `json:"oem_id"`
	// The rest is absent for the RSDP, whose line stops after the OEM ID.
	OEMTableID      string `json:"oem_table_id,omitempty"`
	OEMRevision     uint32 `json:"oem_revision,omitempty"`
	CreatorID       string `json:"creator_id,omitempty"`
	CreatorRevision uint32 `json:"creator_revision,omitempty"`
	Line            string `json:"line"` // the message, without the log prefix
}

// prefix is the "<6>" priority (syslog(2) output) and "[    0.000000] " time stamp (dmesg,
// console) before a message.
var prefix = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(?:<\d+>)?(?:\[[^\]]*\]\s?)?`) })

// The widths are fixed by the kernel's format: %-4.4s 0x%8.8X%8.8X %06X (v%.2d %-6.6s %-8.8s %08X
// %-4.4s %08X); the length grows past 6 digits for large tables.
var table = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^ACPI: ([ -~]{4}) 0x([0-9A-Fa-f]{16}) ([0-9A-Fa-f]{6,8})` +
		`(?: \(v(\d{2}) ([ -~]{6})(?: ([ -~]{8}) ([0-9A-Fa-f]{8}) ([ -~]{4}) ([0-9A-Fa-f]{8}))?\))?\s*$`)
})

// Message strips the priority and time stamp from a kernel log line.
func Message(line string) string {
	return prefix().ReplaceAllString(strings.TrimRight(line, "\r\n"), "")
}

// ParseTableLine parses one log line (with or without its prefix).
func ParseTableLine(line string) (TableLine, bool) {
	if !strings.Contains(line, "ACPI: ") {
		return TableLine{}, false // most of a log: skip the regular expressions
	}
	msg := Message(line)
	m := table().FindStringSubmatch(msg)
	if m == nil {
		return TableLine{}, false
	}
	t := TableLine{Signature: m[1], Line: msg}
	t.Address, _ = strconv.ParseUint(m[2], 16, 64)
	l, _ := strconv.ParseUint(m[3], 16, 32)
	t.Length = uint32(l)
	if m[4] != "" {
		t.HasHeader = true
		t.Revision, _ = strconv.Atoi(m[4])
		t.OEMID = m[5]
	}
	if m[6] != "" {
		t.OEMTableID = m[6]
		v, _ := strconv.ParseUint(m[7], 16, 32)
		t.OEMRevision = uint32(v)
		t.CreatorID = m[8]
		v, _ = strconv.ParseUint(m[9], 16, 32)
		t.CreatorRevision = uint32(v)
	}
	return t, true
}

// TableLines returns the messages of a log that describe ACPI tables, in order.
func TableLines(log string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if t, ok := ParseTableLine(l); ok {
			out = append(out, t.Line)
		}
	}
	return out
}

// Tables parses the table lines of a log.
func Tables(lines []string) []TableLine {
	var out []TableLine
	for _, l := range lines {
		if t, ok := ParseTableLine(l); ok {
			out = append(out, t)
		}
	}
	return out
}
