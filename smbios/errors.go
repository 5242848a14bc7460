package smbios

import (
	"errors"
	"fmt"
	"strings"
)

// Categories of format errors, for errors.Is. Every *FormatError wraps one of them.
var (
	// ErrUnrecognized: the data is none of the containers this package reads.
	ErrUnrecognized = errors.New("not SMBIOS data")
	// ErrChecksum: an entry point checksum does not add up to zero.
	ErrChecksum = errors.New("bad checksum")
	// ErrTruncated: the data ends before a length field says it does.
	ErrTruncated = errors.New("truncated")
	// ErrBadLength: a length field holds an impossible value.
	ErrBadLength = errors.New("bad length")
	// ErrBadValue: a field holds a value the format does not allow (an anchor, a count).
	ErrBadValue = errors.New("bad value")
)

// Part names the piece of SMBIOS data an offset is relative to.
type Part string

const (
	PartFile       Part = "file"        // the whole input: a dump-bin file, an RSMB blob
	PartEntryPoint Part = "entry point" // the entry point structure
	PartTable      Part = "table"       // the structure table
	PartStructure  Part = "structure"   // one structure, offset from its first byte
)

// FormatError says what is wrong with SMBIOS data and where: the part (entry point or table),
// the byte offset inside it, and, for the table, which structure (position, type, handle).
type FormatError struct {
	Code   string // stable finding code, "smbios-..."
	Err    error  // category: ErrChecksum, ErrTruncated, ErrBadLength, ErrBadValue, ErrUnrecognized
	Path   string // the file the data came from, when known
	Part   Part
	Off    int64 // byte offset inside Part
	Index  int   // position of the structure in the table (0-based), or -1
	Type   int   // structure type, or -1
	Handle int   // structure handle, or -1
	Msg    string
	// Lenient: the reader worked around the problem (it read a table somewhere other than where
	// the entry point says); Lint reports it as a warning and Decode does not return it.
	Lenient bool
}

func (e *FormatError) Error() string {
	var b strings.Builder
	b.WriteString("smbios: ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "%s offset 0x%x", e.Part, e.Off)
	if e.Index >= 0 || e.Type >= 0 {
		var who []string
		if e.Index >= 0 {
			who = append(who, fmt.Sprintf("structure #%d", e.Index))
		}
		if e.Type >= 0 {
			who = append(who, fmt.Sprintf("type %d", e.Type))
		}
		if e.Handle >= 0 {
			who = append(who, fmt.Sprintf("handle 0x%04X", e.Handle))
		}
		b.WriteString(" (" + strings.Join(who, ", ") + ")")
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

func (e *FormatError) Unwrap() error { return e.Err }

func epError(code string, cat error, off int64, format string, args ...any) *FormatError {
	return &FormatError{Code: code, Err: cat, Part: PartEntryPoint, Off: off, Index: -1, Type: -1, Handle: -1,
		Msg: fmt.Sprintf(format, args...)}
}

func fileError(code string, cat error, off int64, format string, args ...any) *FormatError {
	return &FormatError{Code: code, Err: cat, Part: PartFile, Off: off, Index: -1, Type: -1, Handle: -1,
		Msg: fmt.Sprintf(format, args...)}
}

func tableError(code string, cat error, off int64, index, typ, handle int, format string, args ...any) *FormatError {
	return &FormatError{Code: code, Err: cat, Part: PartTable, Off: off, Index: index, Type: typ, Handle: handle,
		Msg: fmt.Sprintf(format, args...)}
}
