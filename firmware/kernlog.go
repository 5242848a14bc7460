package firmware

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// LogHeader is a table header as the Linux kernel prints it at boot (ACPICA's
// acpi_tb_print_table_header), e.g.
//
//	ACPI: RSDT 0x000000007FFE1A2B 000034 (v01 BOCHS  BXPC     00000001 BXPC 00000001)
//	ACPI: RSDP 0x00000000000F5A10 000014 (v00 BOCHS )
//	ACPI: FACS 0x000000007FFE0000 000040
//
// Linux exposes no RSDP, RSDT or XSDT in sysfs, so these lines are how a guest learns the root
// tables' OEM IDs. The IDs are in the printed form: cut at the first NUL, non-printable bytes
// replaced by '?', padded with spaces (see KernelLogID).
type LogHeader struct {
	Line            int // 1-based line in the log
	Signature       string
	Address         uint64
	Length          uint32
	Revision        uint8
	OEMID           string // 6 bytes, printed form ("" for the FACS)
	OEMTableID      string // 8 bytes, printed form ("" for the RSDP and the FACS)
	OEMRevision     uint32
	CreatorID       string
	CreatorRevision uint32
	// Full: the line carried the whole common header (not an RSDP or FACS line).
	Full bool
}

// ParseKernelLog reads kernel log text (dmesg output, syslog(2) buffer, journal lines) and returns
// the table header lines in it. Other lines are skipped, whatever prefix (timestamp, facility)
// they carry. The only error is a read error.
func ParseKernelLog(r io.Reader) ([]LogHeader, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	var out []LogHeader
	n := 0
	for sc.Scan() {
		n++
		if h, ok := ParseKernelLogLine(sc.Bytes()); ok {
			h.Line = n
			out = append(out, h)
		}
	}
	if err := sc.Err(); err != nil {
		return out, &TextError{Line: n + 1, Msg: scanMessage(err, "a kernel log line", "give dmesg output")}
	}
	return out, nil
}

// KernelLogTableLines returns the lines of kernel log text that ParseKernelLogLine reads as table
// headers, each from its "ACPI: " on (the priority and time stamp cut off): what a guest needs to
// send of its log for the root tables' IDs to be checked on the host.
func KernelLogTableLines(log []byte) []string {
	var out []string
	for len(log) > 0 {
		line := log
		if i := bytes.IndexByte(log, '\n'); i >= 0 {
			line, log = log[:i], log[i+1:]
		} else {
			log = nil
		}
		if _, ok := ParseKernelLogLine(line); ok {
			i := bytes.Index(line, []byte("ACPI: "))
			out = append(out, string(bytes.TrimRight(line[i:], " \t\r")))
		}
	}
	return out
}

// ParseKernelLogLine parses one "ACPI: SIG 0xADDR LEN (...)" line; ok is false for any other line.
func ParseKernelLogLine(line []byte) (h LogHeader, ok bool) {
	i := bytes.Index(line, []byte("ACPI: "))
	if i < 0 {
		return h, false
	}
	p := &lineParser{b: line[i+len("ACPI: "):]}
	h.Signature = p.fixed(4)
	if !p.lit(" 0x") {
		return h, false
	}
	addr, ok1 := p.hex(16)
	if !ok1 || !p.lit(" ") {
		return h, false
	}
	length, ok2 := p.hex(8)
	if !ok2 {
		return h, false
	}
	h.Address, h.Length = addr, uint32(length)
	if p.end() {
		return h, h.Signature == "FACS"
	}
	if !p.lit(" (v") {
		return h, false
	}
	rev, ok3 := p.dec(3)
	if !ok3 || rev > 255 || !p.lit(" ") {
		return h, false
	}
	h.Revision = uint8(rev)
	h.OEMID = p.fixed(6)
	if p.lit(")") && p.end() {
		return h, h.Signature == "RSDP"
	}
	if !p.lit(" ") {
		return h, false
	}
	h.OEMTableID = p.fixed(8)
	var oemRev, creatorRev uint64
	ok = p.lit(" ")
	oemRev, ok4 := p.hex(8)
	ok = ok && ok4 && p.lit(" ")
	h.CreatorID = p.fixed(4)
	ok = ok && p.lit(" ")
	creatorRev, ok5 := p.hex(8)
	ok = ok && ok5 && p.lit(")") && p.end()
	if !ok || len(h.OEMID) != 6 || len(h.OEMTableID) != 8 || len(h.CreatorID) != 4 || len(h.Signature) != 4 {
		return LogHeader{}, false
	}
	h.OEMRevision, h.CreatorRevision, h.Full = uint32(oemRev), uint32(creatorRev), true
	return h, true
}

type lineParser struct{ b []byte }

func (p *lineParser) fixed(n int) string {
	if len(p.b) < n {
		s := string(p.b)
		p.b = nil
		return s
	}
	s := string(p.b[:n])
	p.b = p.b[n:]
	return s
}

func (p *lineParser) lit(s string) bool {
	if !bytes.HasPrefix(p.b, []byte(s)) {
		return false
	}
	p.b = p.b[len(s):]
	return true
}

func (p *lineParser) end() bool { return len(bytes.TrimRight(p.b, " \t\r")) == 0 }

func (p *lineParser) digits(max int, ok func(byte) bool) []byte {
	n := 0
	for n < len(p.b) && n < max && ok(p.b[n]) {
		n++
	}
	d := p.b[:n]
	p.b = p.b[n:]
	return d
}

func (p *lineParser) hex(max int) (uint64, bool) {
	d := p.digits(max, isHex)
	if len(d) == 0 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(d), 16, 64)
	return v, err == nil
}

func (p *lineParser) dec(max int) (uint64, bool) {
	d := p.digits(max, func(c byte) bool { return c >= '0' && c <= '9' })
	if len(d) == 0 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(d), 10, 64)
	return v, err == nil
}

// KernelLogID returns an ID as the kernel prints it in a table header line: cut at the first NUL,
// each byte the kernel's isprint rejects (below 0x20, 0x7F-0x9F) replaced by '?', then padded with
// spaces to the field width. Comparing a raw ID with a printed one goes through this.
func KernelLogID(id []byte) string {
	b := make([]byte, len(id))
	n := 0
	for ; n < len(id) && id[n] != 0; n++ {
		c := id[n]
		if c < 0x20 || c >= 0x7f && c < 0xa0 {
			c = '?'
		}
		b[n] = c
	}
	for ; n < len(b); n++ {
		b[n] = ' '
	}
	return string(b)
}

// SameID reports whether the raw ID a equals the ID b of table t, comparing in the kernel's printed
// form when t holds only a kernel log header.
func SameID(a []byte, t *Table, b []byte) bool {
	if t.HeaderOnly {
		return KernelLogID(a) == string(b)
	}
	return bytes.Equal(a, b)
}

// LogHeaderTable turns a kernel log header into a header-only Table.
func LogHeaderTable(h LogHeader, name, path string) *Table {
	t := &Table{Name: name, Path: path, Source: FromKernelLog, Address: h.Address, HeaderOnly: true}
	hd := &t.Header
	copy(hd.Signature[:], h.Signature)
	hd.Length, hd.Revision = h.Length, h.Revision
	copy(hd.OEMID[:], h.OEMID)
	copy(hd.OEMTableID[:], h.OEMTableID)
	hd.OEMRevision = h.OEMRevision
	copy(hd.CreatorID[:], h.CreatorID)
	hd.CreatorRevision = h.CreatorRevision
	if h.Signature == "RSDP" {
		// The RSDP has no common header: keep what the line gives in the RSDP's own fields.
		r := &RSDP{Signature: RSDPSignature, Revision: h.Revision, Length: h.Length, Extended: h.Revision >= 2}
		copy(r.OEMID[:], h.OEMID)
		t.RSDP = r
	}
	return t
}

// String prints the header the way the kernel does. The ID fields are written byte for byte
// (padded or cut to their width), so a parsed line prints back unchanged.
func (h LogHeader) String() string {
	sig := fixedWidth(h.Signature, 4)
	switch {
	case h.Full:
		return fmt.Sprintf("ACPI: %s 0x%016X %06X (v%02d %s %s %08X %s %08X)",
			sig, h.Address, h.Length, h.Revision, fixedWidth(h.OEMID, 6), fixedWidth(h.OEMTableID, 8),
			h.OEMRevision, fixedWidth(h.CreatorID, 4), h.CreatorRevision)
	case h.Signature == "RSDP":
		return fmt.Sprintf("ACPI: RSDP 0x%016X %06X (v%02d %s)", h.Address, h.Length, h.Revision, fixedWidth(h.OEMID, 6))
	}
	return fmt.Sprintf("ACPI: %s 0x%016X %06X", sig, h.Address, h.Length)
}

// fixedWidth pads s with spaces or cuts it to n bytes (not runes: IDs are bytes).
func fixedWidth(s string, n int) string {
	if len(s) >= n {
		return s[:n]
	}
	return s + strings.Repeat(" ", n-len(s))
}
