package fwimage

import (
	"errors"
	"fmt"

	"github.com/oemact/oemact/firmware/finding"
)

// Sentinel errors a FormatError wraps, for errors.Is.
var (
	// ErrTruncated: a structure's header does not fit in the bytes that are left.
	ErrTruncated = errors.New("truncated")
	// ErrOutside: a length or offset field points past the structure that holds it.
	ErrOutside = errors.New("points outside its container")
	// ErrMalformed: a field holds a value the format does not allow.
	ErrMalformed = errors.New("malformed")
	// ErrLimit: decompressing, nesting or counting went past a bound of Limits.
	ErrLimit = errors.New("limit exceeded")
	// ErrUnsupported: the data is compressed or encoded in a way this package cannot undo.
	ErrUnsupported = errors.New("unsupported encoding")
	// ErrChecksum: a header checksum does not match.
	ErrChecksum = errors.New("bad checksum")
)

// Finding codes of image walks. They are stable: tools match on them.
const (
	CodeMalformed   = "image-malformed"
	CodeOutside     = "image-out-of-bounds"
	CodeLimit       = "image-limit"
	CodeUnsupported = "image-compression-unsupported"
	CodeChecksum    = "image-checksum"
	CodeNoTables    = "image-no-tables"
)

// FormatError says what is wrong in an image and where: the structure's path and location, what
// is wrong, and the sentinel it wraps.
type FormatError struct {
	Loc Location
	Msg string
	Err error // ErrTruncated, ErrOutside, ErrMalformed, ErrLimit or ErrUnsupported
	// Warning marks problems that do not make the image wrong (a checksum, an encoding this
	// package cannot undo): the walk reports them as warnings, not errors.
	Warning bool

	node *Node // resolved into Loc.Path when the walk ends
}

func (e *FormatError) Error() string {
	where := e.Loc.Path
	if where == "" {
		where = "image"
	}
	s := fmt.Sprintf("%s: %s at file offset 0x%x", e.Loc.Image, where, e.Loc.Offset)
	if e.Loc.Decompressed {
		s = fmt.Sprintf("%s: %s at offset 0x%x of the data decompressed from file offset 0x%x",
			e.Loc.Image, where, e.Loc.DataOffset, e.Loc.Offset)
	}
	return s + ": " + e.Msg
}

func (e *FormatError) Unwrap() error { return e.Err }

// Finding returns the error as a finding about the image file.
func (e *FormatError) Finding() finding.Finding {
	code, sev := CodeMalformed, finding.Error
	switch {
	case errors.Is(e.Err, ErrOutside):
		code = CodeOutside
	case errors.Is(e.Err, ErrLimit):
		code = CodeLimit
	case errors.Is(e.Err, ErrUnsupported):
		code = CodeUnsupported
	case errors.Is(e.Err, ErrChecksum):
		code = CodeChecksum
	}
	if e.Warning {
		sev = finding.Warning
	}
	table := e.Loc.Path
	if table == "" {
		table = "image"
	}
	msg := e.Msg
	if e.Loc.Decompressed {
		msg += fmt.Sprintf(" (at offset 0x%x of the data decompressed from the section at file offset 0x%x)", e.Loc.DataOffset, e.Loc.Offset)
	}
	return finding.Finding{Code: code, Severity: sev, Table: table, Path: e.Loc.Image, Offset: e.Loc.Offset, Message: msg}
}
