package firmware

import (
	"errors"
	"fmt"
)

// Sentinel errors that a FormatError may wrap, for errors.Is.
var (
	// ErrTruncated: the bytes end before the structure (or the header's Length) does.
	ErrTruncated = errors.New("truncated")
	// ErrLength: a length field holds a value the format does not allow.
	ErrLength = errors.New("bad length field")
	// ErrSignature: the table signature is not the one the decoder reads, or not a signature.
	ErrSignature = errors.New("bad signature")
)

// FormatError reports malformed bytes: which table, the byte offset inside it, what is wrong and,
// when useful, the offending value. It is the only error type the decoders return.
type FormatError struct {
	Table string // signature or name of the table ("SLIC"), or "" when not known yet
	Off   int64  // byte offset inside the table
	Msg   string
	Val   any   // offending value, if any
	Err   error // sentinel it wraps (ErrTruncated, ErrLength, ErrSignature), if any
}

func (e *FormatError) Error() string {
	where := "ACPI table"
	if e.Table != "" {
		where = e.Table
	}
	s := fmt.Sprintf("%s at offset 0x%x: %s", where, e.Off, e.Msg)
	if e.Val != nil {
		s += fmt.Sprintf(" (%v)", e.Val)
	}
	return s
}

func (e *FormatError) Unwrap() error { return e.Err }

func formatErr(table string, off int, sentinel error, format string, args ...any) *FormatError {
	return &FormatError{Table: table, Off: int64(off), Msg: fmt.Sprintf(format, args...), Err: sentinel}
}
