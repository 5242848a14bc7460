// Package statedisk reads and writes the guest's licence state on a small raw disk: a fixed header,
// the length and CRC-32 of a JSON payload, then the payload. The guest agent and the host (to seed
// or inspect a machine between boots) use the same code.
//
// It stores bytes; what the JSON means belongs to the licence model.
package statedisk

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// Layout at offset 0 of the disk (little-endian):
//
//	0  Magic    [8]byte "OEMACTST"
//	8  Format   u32     1
//	12 Length   u32     payload bytes
//	16 CRC32    u32     IEEE CRC-32 of the payload
//	20 Reserved u32     0
//	24 Payload  [Length]byte, JSON
const (
	Magic      = "OEMACTST"
	Format     = 1
	HeaderSize = 24
	// DefaultSize is the disk size the harness creates: 1 MiB, as measured in notes/qemu.md (a raw
	// virtio disk of 1 MB keeps state across boots). The payload must fit in it minus the header.
	DefaultSize = 1 << 20
	// Serial is the disk serial (virtio-blk serial=) by which the guest agent finds its state disk.
	Serial = "oemact-state"
)

// ErrEmpty means the disk has never been written: its header is all zeros. A fresh machine
// starts that way; it is not corruption.
var ErrEmpty = errors.New("statedisk: no state written yet (blank disk)")

// FormatError says why the disk does not hold readable state, and where.
type FormatError struct {
	Off int64
	Msg string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("statedisk: offset %d: %s", e.Off, e.Msg)
}

// Encode returns the header and payload for a JSON payload.
func Encode(payload []byte) ([]byte, error) {
	if !json.Valid(payload) {
		return nil, errors.New("statedisk: payload is not valid JSON")
	}
	if uint64(len(payload)) > 0xFFFFFFFF {
		return nil, fmt.Errorf("statedisk: payload of %d bytes is too large", len(payload))
	}
	b := make([]byte, HeaderSize+len(payload))
	copy(b, Magic)
	binary.LittleEndian.PutUint32(b[8:], Format)
	binary.LittleEndian.PutUint32(b[12:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(b[16:], crc32.ChecksumIEEE(payload))
	copy(b[HeaderSize:], payload)
	return b, nil
}

// Decode reads the payload from the start of a disk image b (the whole disk, or at least the header
// and payload); the length field is checked against len(b). It returns ErrEmpty for a blank disk.
func Decode(b []byte) ([]byte, error) {
	if len(b) < HeaderSize {
		return nil, &FormatError{Off: 0, Msg: fmt.Sprintf("disk of %d bytes is smaller than the %d-byte header", len(b), HeaderSize)}
	}
	if bytes.Equal(b[:HeaderSize], make([]byte, HeaderSize)) {
		return nil, ErrEmpty
	}
	if string(b[:8]) != Magic {
		return nil, &FormatError{Off: 0, Msg: fmt.Sprintf("magic %q, want %q: the disk holds something else; give the machine a blank state disk", b[:8], Magic)}
	}
	if f := binary.LittleEndian.Uint32(b[8:]); f != Format {
		return nil, &FormatError{Off: 8, Msg: fmt.Sprintf("format %d, this oemact reads format %d", f, Format)}
	}
	n := binary.LittleEndian.Uint32(b[12:])
	if uint64(n) > uint64(len(b)-HeaderSize) {
		return nil, &FormatError{Off: 12, Msg: fmt.Sprintf("payload length %d runs past the end of the %d-byte disk", n, len(b))}
	}
	payload := b[HeaderSize : HeaderSize+int(n)]
	if want, got := binary.LittleEndian.Uint32(b[16:]), crc32.ChecksumIEEE(payload); want != got {
		return nil, &FormatError{Off: 16, Msg: fmt.Sprintf("payload CRC-32 is %08x, header says %08x: the state was damaged or half written", got, want)}
	}
	if !json.Valid(payload) {
		return nil, &FormatError{Off: HeaderSize, Msg: "payload is not valid JSON"}
	}
	return append([]byte(nil), payload...), nil
}

// Read reads the state from a disk (a device node in the guest, an image file on the host).
func Read(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("statedisk: %s: %w", path, err)
	}
	if size > DefaultSize*64 {
		size = DefaultSize * 64 // a state larger than 64 MiB is not ours to read whole
	}
	b := make([]byte, size)
	if _, err := f.ReadAt(b, 0); err != nil && err != io.EOF {
		return nil, fmt.Errorf("statedisk: reading %s: %w", path, err)
	}
	p, err := Decode(b)
	if err != nil && !errors.Is(err, ErrEmpty) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, err
}

// Write stores a payload on a disk and flushes it (fsync) so it survives the power-off that
// follows. The disk must already exist and be large enough; Write never grows it, because in the
// guest it is a block device.
func Write(path string, payload []byte) error {
	b, err := Encode(payload)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err == nil && int64(len(b)) > size {
		err = fmt.Errorf("statedisk: %s holds %d bytes; the state needs %d: give the machine a larger state disk", path, size, len(b))
	}
	if err == nil {
		_, err = f.WriteAt(b, 0)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("statedisk: writing %s: %w", path, err)
	}
	return nil
}

// Create makes a blank disk image of size bytes (sparse), for the host to attach to a machine.
// An existing file is left alone, so a machine keeps its state across boots.
func Create(path string, size int64) error {
	if size < HeaderSize {
		return fmt.Errorf("statedisk: a disk of %d bytes cannot hold the %d-byte header", size, HeaderSize)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("statedisk: %w", err)
	}
	err = f.Truncate(size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
