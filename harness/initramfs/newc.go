// Package initramfs writes the guest's initramfs: a newc ("070701") cpio archive holding the static
// oemact binary as /init and the kernel modules the agent loads, with no root and no cpio tool.
//
// Output is deterministic (fixed inode numbers, owners and mtimes), so an archive can be cached by
// its content hash. It does not compress: the guest kernel unpacks a plain archive fastest.
package initramfs

import (
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// newc format (Linux Documentation/driver-api/early-userspace/buffer-format.rst): a 110-byte ASCII
// header of "070701" and 13 eight-digit hex fields, the NUL-terminated name padded to 4 bytes, then
// the data padded to 4 bytes. The archive ends with an entry named "TRAILER!!!".
const (
	magic      = "070701"
	headerSize = 110
	trailer    = "TRAILER!!!"
	// MaxNameSize bounds a name (with its NUL): Linux's PATH_MAX. The reader rejects longer ones.
	MaxNameSize = 4096
)

// File mode type bits (as in stat(2)), stored in the header's mode field.
const (
	TypeMask    = 0o170000
	TypeDir     = 0o040000
	TypeRegular = 0o100000
	TypeSymlink = 0o120000
	TypeChar    = 0o020000
)

// Header is one archive entry.
type Header struct {
	Name  string // relative path without a leading slash ("init", "lib/modules/virtio.ko")
	Mode  uint32 // type bits | permission bits
	Ino   uint32
	UID   uint32
	GID   uint32
	Nlink uint32
	Mtime uint32
	Size  uint32 // data length
	// RdevMajor and RdevMinor are the device numbers of a device node.
	RdevMajor, RdevMinor uint32
}

// Writer writes a newc archive. Parent directories are added (mode 0755) before the first entry
// that needs them, because the kernel's unpacker does not create them. Entries get inode numbers
// 1, 2, 3... in the order they are written, owner 0:0 and the Writer's Mtime.
type Writer struct {
	w     io.Writer
	n     int64 // bytes written, for padding
	ino   uint32
	seen  map[string]uint32 // name -> mode type
	err   error
	done  bool
	Mtime uint32 // mtime of every entry; 0 unless set before the first entry
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, seen: map[string]uint32{}}
}

// cleanName turns a user path into an archive name: no leading slash, no "." or ".." parts.
func cleanName(name string) (string, error) {
	c := path.Clean("/" + name)
	if c == "/" {
		return "", fmt.Errorf("initramfs: empty entry name %q", name)
	}
	c = strings.TrimPrefix(c, "/")
	if len(c)+1 > MaxNameSize {
		return "", fmt.Errorf("initramfs: entry name of %d bytes is longer than %d", len(c), MaxNameSize-1)
	}
	return c, nil
}

// Dir adds a directory.
func (w *Writer) Dir(name string, perm uint32) error {
	n, err := cleanName(name)
	if err != nil {
		return err
	}
	if t, ok := w.seen[n]; ok {
		if t == TypeDir {
			return nil
		}
		return fmt.Errorf("initramfs: %s already added as a non-directory", n)
	}
	return w.entry(n, TypeDir|perm&0o7777, nil, 0, 0)
}

// File adds a regular file with the given contents.
func (w *Writer) File(name string, perm uint32, data []byte) error {
	n, err := cleanName(name)
	if err != nil {
		return err
	}
	return w.entry(n, TypeRegular|perm&0o7777, data, 0, 0)
}

// Symlink adds a symbolic link to target.
func (w *Writer) Symlink(name, target string) error {
	n, err := cleanName(name)
	if err != nil {
		return err
	}
	return w.entry(n, TypeSymlink|0o777, []byte(target), 0, 0)
}

// CharDev adds a character device node (e.g. dev/console, 5:1).
func (w *Writer) CharDev(name string, perm, major, minor uint32) error {
	n, err := cleanName(name)
	if err != nil {
		return err
	}
	return w.entry(n, TypeChar|perm&0o7777, nil, major, minor)
}

func (w *Writer) entry(name string, mode uint32, data []byte, major, minor uint32) error {
	if w.err != nil {
		return w.err
	}
	if w.done {
		return errors.New("initramfs: write after Close")
	}
	if _, dup := w.seen[name]; dup {
		return fmt.Errorf("initramfs: %s added twice", name)
	}
	if uint64(len(data)) > 0xFFFFFFFF {
		return fmt.Errorf("initramfs: %s is %d bytes; newc holds at most 4 GiB per file", name, len(data))
	}
	if dir := path.Dir(name); dir != "." {
		if t, ok := w.seen[dir]; !ok {
			if err := w.Dir(dir, 0o755); err != nil {
				return err
			}
		} else if t != TypeDir {
			return fmt.Errorf("initramfs: parent %s of %s is not a directory", dir, name)
		}
	}
	w.ino++
	nlink := uint32(1)
	if mode&TypeMask == TypeDir {
		nlink = 2
	}
	h := Header{Name: name, Mode: mode, Ino: w.ino, Nlink: nlink, Mtime: w.Mtime, Size: uint32(len(data)), RdevMajor: major, RdevMinor: minor}
	w.seen[name] = mode & TypeMask
	w.err = w.writeEntry(h, data)
	return w.err
}

func (w *Writer) writeEntry(h Header, data []byte) error {
	hdr := fmt.Sprintf("%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		magic, h.Ino, h.Mode, h.UID, h.GID, h.Nlink, h.Mtime, h.Size, 0, 0, h.RdevMajor, h.RdevMinor, len(h.Name)+1, 0)
	if err := w.write([]byte(hdr + h.Name + "\x00")); err != nil {
		return err
	}
	if err := w.pad(); err != nil {
		return err
	}
	if err := w.write(data); err != nil {
		return err
	}
	return w.pad()
}

func (w *Writer) write(b []byte) error {
	n, err := w.w.Write(b)
	w.n += int64(n)
	return err
}

func (w *Writer) pad() error {
	if r := w.n % 4; r != 0 {
		return w.write(make([]byte, 4-r))
	}
	return nil
}

// Close writes the trailer and pads the archive to a multiple of 512 bytes, like cpio(1). It does
// not close the underlying writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if w.done {
		return nil
	}
	w.done = true
	if err := w.writeEntry(Header{Name: trailer, Nlink: 1}, nil); err != nil {
		return err
	}
	if r := w.n % 512; r != 0 {
		return w.write(make([]byte, 512-r))
	}
	return nil
}

// FormatError says where an archive is malformed.
type FormatError struct {
	Off int64  // byte offset of the problem
	Msg string // what is wrong
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("initramfs: malformed newc archive at offset %#x: %s", e.Off, e.Msg)
}

// Reader reads a newc archive written by Writer or cpio -H newc. It never trusts a size field
// beyond what the input holds.
type Reader struct {
	r      io.Reader
	off    int64
	remain int64 // unread data of the current entry
	pad    int64 // padding after the current entry's data
	done   bool
}

// NewReader returns a Reader on r.
func NewReader(r io.Reader) *Reader { return &Reader{r: r} }

// Next advances to the next entry. It returns io.EOF after the trailer.
func (r *Reader) Next() (*Header, error) {
	if r.done {
		return nil, io.EOF
	}
	if err := r.skip(r.remain + r.pad); err != nil {
		return nil, err
	}
	r.remain, r.pad = 0, 0
	start := r.off
	var raw [headerSize]byte
	if err := r.full(raw[:]); err != nil {
		return nil, err
	}
	if string(raw[:6]) != magic {
		return nil, &FormatError{Off: start, Msg: fmt.Sprintf("magic %q, want %q (newc)", raw[:6], magic)}
	}
	var f [13]uint32
	for i := range f {
		v, ok := parseHex(raw[6+8*i : 14+8*i])
		if !ok {
			return nil, &FormatError{Off: start + 6 + 8*int64(i), Msg: fmt.Sprintf("field %d is not 8 hex digits: %q", i, raw[6+8*i:14+8*i])}
		}
		f[i] = v
	}
	nameSize := f[11]
	if nameSize == 0 || nameSize > MaxNameSize {
		return nil, &FormatError{Off: start + 94, Msg: fmt.Sprintf("name size %d outside 1..%d", nameSize, MaxNameSize)}
	}
	name := make([]byte, nameSize)
	if err := r.full(name); err != nil {
		return nil, err
	}
	if name[nameSize-1] != 0 {
		return nil, &FormatError{Off: start + headerSize, Msg: "name is not NUL-terminated"}
	}
	if err := r.skip(pad4(headerSize + int64(nameSize))); err != nil {
		return nil, err
	}
	h := &Header{Name: string(name[:nameSize-1]), Ino: f[0], Mode: f[1], UID: f[2], GID: f[3], Nlink: f[4],
		Mtime: f[5], Size: f[6], RdevMajor: f[9], RdevMinor: f[10]}
	if h.Name == trailer {
		r.done = true
		return nil, io.EOF
	}
	r.remain = int64(h.Size)
	r.pad = pad4(int64(h.Size))
	return h, nil
}

// Read reads the current entry's data.
func (r *Reader) Read(p []byte) (int, error) {
	if r.remain == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.remain {
		p = p[:r.remain]
	}
	n, err := r.r.Read(p)
	r.off += int64(n)
	r.remain -= int64(n)
	if err == io.EOF {
		if r.remain > 0 {
			return n, &FormatError{Off: r.off, Msg: fmt.Sprintf("archive ends with %d bytes of the entry's data missing", r.remain)}
		}
		err = nil
	}
	return n, err
}

func (r *Reader) full(b []byte) error {
	n, err := io.ReadFull(r.r, b)
	r.off += int64(n)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return &FormatError{Off: r.off, Msg: fmt.Sprintf("archive ends %d bytes early (no trailer?)", len(b)-n)}
	}
	return err
}

func (r *Reader) skip(n int64) error {
	if n == 0 {
		return nil
	}
	m, err := io.CopyN(io.Discard, r.r, n)
	r.off += m
	if err == io.EOF {
		return &FormatError{Off: r.off, Msg: fmt.Sprintf("archive ends %d bytes early", n-m)}
	}
	return err
}

func pad4(n int64) int64 { return (4 - n%4) % 4 }

func parseHex(b []byte) (uint32, bool) {
	var v uint32
	for _, c := range b {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		v = v<<4 | uint32(d)
	}
	return v, true
}
