package firmware

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/oemact/oemact/firmware/sniff"
)

// DumpBlock is one table in acpidump's text output:
//
//	SLIC @ 0x0000000000000000
//	    0000: 53 4C 49 43 76 01 00 00 01 C6 44 45 4C 4C 20 20  SLICv.....DELL
//
// This is the format `acpidump` prints (also with -f FILE) and `acpixtract` reads. The lines of
// `iasl -d`'s "Raw Table Data" section (ASCII after "//") parse too.
type DumpBlock struct {
	Name    string // the four characters before " @ "
	Address uint64
	Data    []byte
	Line    int // 1-based line of the "NAME @ 0x..." line
}

// TextError is a syntax error in text input, with the 1-based line it is on.
type TextError struct {
	Line int
	Msg  string
}

func (e *TextError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// maxLine bounds one line of text input; acpidump lines are about 75 bytes, kernel log lines at
// most 1 KiB.
const maxLine = 64 << 10

// scanMessage says what stopped a line scanner: a line over maxLine is named as such (what: the
// kind of line expected, and the advice).
func scanMessage(err error, what, advice string) string {
	if errors.Is(err, bufio.ErrTooLong) {
		return fmt.Sprintf("longer than %d KiB, more than %s holds: %s", maxLine>>10, what, advice)
	}
	return err.Error()
}

// ParseAcpidump reads acpidump text. Each "NAME @ 0xADDR" line starts a block; the hex lines
// after it must run on without a gap (each line's offset is the count of bytes so far). Blank
// lines are ignored. On a syntax error it returns the blocks read so far with a *TextError.
func ParseAcpidump(r io.Reader) ([]DumpBlock, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	var blocks []DumpBlock
	var cur *DumpBlock
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		trimmed := bytes.TrimSpace(line)
		if len(trimmed) == 0 {
			continue
		}
		if name, addr, ok := parseDumpHeader(trimmed); ok {
			blocks = append(blocks, DumpBlock{Name: name, Address: addr, Line: n})
			cur = &blocks[len(blocks)-1]
			continue
		}
		off, data, ok := parseDumpLine(trimmed)
		if !ok {
			return blocks, &TextError{Line: n, Msg: fmt.Sprintf("not an acpidump line: %.40q", trimmed)}
		}
		if cur == nil {
			return blocks, &TextError{Line: n, Msg: "hex data before any \"NAME @ 0x...\" line"}
		}
		if uint64(off) != uint64(len(cur.Data)) {
			return blocks, &TextError{Line: n, Msg: fmt.Sprintf("%s: offset %04X where %04X was expected (a line is missing or repeated)", cur.Name, off, len(cur.Data))}
		}
		cur.Data = append(cur.Data, data...)
	}
	if err := sc.Err(); err != nil {
		return blocks, &TextError{Line: n + 1, Msg: scanMessage(err, "an acpidump line", "give acpidump output")}
	}
	return blocks, nil
}

// parseDumpHeader reads "SLIC @ 0x0000000000000000".
func parseDumpHeader(l []byte) (string, uint64, bool) { return sniff.AcpidumpHeader(l) }

// parseDumpLine reads "0000: 53 4C 49 43 ...  SLIC..." (up to 16 bytes; the ASCII column, after
// two spaces or "//", is ignored).
func parseDumpLine(l []byte) (uint32, []byte, bool) {
	colon := bytes.IndexByte(l, ':')
	if colon < 1 || colon > 8 {
		return 0, nil, false
	}
	off, err := strconv.ParseUint(string(l[:colon]), 16, 32)
	if err != nil {
		return 0, nil, false
	}
	var data []byte
	i := colon + 1
	for len(data) < 16 && i+2 < len(l) && l[i] == ' ' && isHex(l[i+1]) && isHex(l[i+2]) &&
		(i+3 == len(l) || l[i+3] == ' ') {
		data = append(data, hexVal(l[i+1])<<4|hexVal(l[i+2]))
		i += 3
	}
	if len(data) == 0 {
		return 0, nil, false
	}
	return uint32(off), data, true
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// LooksLikeAcpidump reports whether b is text whose first non-blank line is an acpidump block
// header ("NAME @ 0x...").
func LooksLikeAcpidump(b []byte) bool { return sniff.IsAcpidump(b) }

// FormatAcpidump writes tables in acpidump's text format, so that acpixtract and ParseAcpidump
// read them back.
func FormatAcpidump(w io.Writer, blocks []DumpBlock) error {
	var sb bytes.Buffer
	for _, b := range blocks {
		fmt.Fprintf(&sb, "%-4.4s @ 0x%016X\n", b.Name, b.Address)
		for off := 0; off < len(b.Data); off += 16 {
			end := min(off+16, len(b.Data))
			fmt.Fprintf(&sb, "    %04X:", off)
			for _, c := range b.Data[off:end] {
				fmt.Fprintf(&sb, " %02X", c)
			}
			sb.WriteString(string(bytes.Repeat([]byte("   "), 16-(end-off))))
			sb.WriteString("  ")
			for _, c := range b.Data[off:end] {
				if c < 0x20 || c > 0x7e {
					c = '.'
				}
				sb.WriteByte(c)
			}
			sb.WriteByte('\n')
		}
		sb.WriteByte('\n')
	}
	_, err := w.Write(sb.Bytes())
	return err
}
