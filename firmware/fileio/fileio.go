// Package fileio reads the files oemact is handed, bounded: a regular file, opened once, read to
// at most a limit that depends on what the file should hold. It refuses named pipes, devices
// (/dev/zero), sockets and folders where a file is expected, before reading a byte.
//
// It is not a general file API: it knows nothing of formats. firmware, smbios and every package
// above them may import it.
package fileio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// Limits for what the project reads. Firmware images bring their own, larger bound.
const (
	// TableLimit bounds an ACPI table, an SMBIOS dump, an acpidump text file, a kernel log and
	// other single-machine data: real ones are kilobytes; the largest acpidump text seen is
	// about 2 MiB.
	TableLimit = 16 << 20
	// YAMLLimit bounds a YAML document (profile, scenario, catalog), a PEM key or certificate,
	// an inventory or another small text file.
	YAMLLimit = 1 << 20
)

// ErrNotRegular is wrapped by errors for paths that are not regular files.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is wrapped by errors for files over their limit.
var ErrTooLarge = errors.New("file too large")

// Error says which file could not be read and why.
type Error struct {
	Path  string
	Limit int64       // set for ErrTooLarge
	Mode  fs.FileMode // set for ErrNotRegular
	Err   error
}

func (e *Error) Error() string {
	switch {
	case errors.Is(e.Err, ErrNotRegular):
		return fmt.Sprintf("%s is %s, not a regular file: give a file (copy it first if it is a pipe or a device)", e.Path, describe(e.Mode))
	case errors.Is(e.Err, ErrTooLarge):
		return fmt.Sprintf("%s is larger than %s, the most read from such a file: it is not what was expected", e.Path, size(e.Limit))
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

func describe(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m.IsDir():
		return "a folder"
	}
	return "not a regular file (" + m.Type().String() + ")"
}

func size(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	if n >= 1<<10 && n%(1<<10) == 0 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// CheckRegular returns an *Error when st (of path) is not a regular file.
func CheckRegular(path string, st fs.FileInfo) error {
	if st.Mode().IsRegular() {
		return nil
	}
	return &Error{Path: path, Mode: st.Mode(), Err: ErrNotRegular}
}

// Open opens path for reading if it is a regular file. It opens without blocking (a FIFO with no
// writer would hang an ordinary open), then checks what it opened, so a file swapped for a pipe
// between a check and the open is refused too.
func Open(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if err := CheckRegular(path, st); err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

// ReadFile reads a regular file of at most limit bytes. A file over the limit is refused without
// reading it whole (its size is checked first, and the read stops one byte past the limit for
// files whose size is not known in advance, such as those under /proc and /sys).
func ReadFile(path string, limit int64) ([]byte, error) {
	f, st, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st.Size() > limit {
		return nil, &Error{Path: path, Limit: limit, Err: ErrTooLarge}
	}
	return readAll(f, path, st.Size(), limit)
}

func readAll(r io.Reader, path string, hint, limit int64) ([]byte, error) {
	buf := make([]byte, 0, min(max(hint, 512), limit)+1)
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, &Error{Path: path, Limit: limit, Err: ErrTooLarge}
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}

// Head reads at most n bytes from the start of a regular file: enough to tell its format.
func Head(path string, n int) ([]byte, error) {
	f, _, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, n)
	k, err := io.ReadFull(f, b)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return b[:k], nil
}
