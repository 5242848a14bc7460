package smbios

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Fixup makes the entry point agree with the table: table length, structure count and largest
// structure. Call it after adding or removing structures; the writers set the table length
// themselves but keep the count and largest size as they are (a real entry point may disagree
// with its table, and a round trip must reproduce it).
func (in *Info) Fixup() error {
	if in.EntryPoint == nil {
		return errors.New("smbios: no entry point to fix up (use SetEntryPoint first)")
	}
	n, largest := 0, 0
	for _, s := range in.Structures {
		n++
		largest = max(largest, s.Size())
	}
	if n > 0xFFFF {
		return fmt.Errorf("smbios: %d structures do not fit the entry point's 16-bit count", n)
	}
	b, err := in.Table.Bytes()
	if err != nil {
		return err
	}
	ep := in.EntryPoint
	ep.TableLength = uint32(len(b))
	if ep.Kind != EntryPoint64 {
		ep.NumStructures = uint16(n)
	}
	if ep.Kind == EntryPoint32 {
		ep.MaxStructureSize = uint16(min(largest, 0xFFFF))
	}
	in.DeclaredTableLength = int64(len(b))
	return nil
}

// SetEntryPoint gives the table a fresh entry point of the given kind for in.Version (for a bare
// table or an RSMB blob, or to change kind), then fixes it up.
func (in *Info) SetEntryPoint(kind EntryPointKind) error {
	v := in.Version
	if v.IsZero() {
		v = Latest
	}
	ep, err := NewEntryPoint(kind, v)
	if err != nil {
		return err
	}
	in.EntryPoint = ep
	return in.Fixup()
}

// entryPointFor returns the entry point bytes for a table of tableLen bytes at addr.
func (in *Info) entryPointFor(tableLen int, addr uint64) ([]byte, error) {
	if in.EntryPoint == nil {
		return nil, fmt.Errorf("smbios: this %s has no entry point; give it one with SetEntryPoint(EntryPoint32 or EntryPoint64)", in.Format)
	}
	ep := *in.EntryPoint
	ep.TableLength = uint32(tableLen)
	ep.TableAddress = addr
	return ep.Bytes()
}

// EncodeDumpBin lays out a dmidecode --dump-bin file: the entry point at 0 (its table address
// set to 0x20 and its table length to len(table)), zero padding, the table at 0x20.
func EncodeDumpBin(ep *EntryPoint, table []byte) ([]byte, error) {
	e := *ep
	e.TableLength = uint32(len(table))
	e.TableAddress = DumpBinTableOffset
	b, err := e.Bytes()
	if err != nil {
		return nil, err
	}
	out := make([]byte, DumpBinTableOffset, DumpBinTableOffset+len(table))
	copy(out, b)
	return append(out, table...), nil
}

// DumpBin encodes the data as a dmidecode --dump-bin file. dmidecode --from-dump reads it.
func (in *Info) DumpBin() ([]byte, error) {
	t, err := in.Table.Bytes()
	if err != nil {
		return nil, err
	}
	if in.EntryPoint == nil {
		return nil, fmt.Errorf("smbios: this %s has no entry point; give it one with SetEntryPoint(EntryPoint32 or EntryPoint64)", in.Format)
	}
	return EncodeDumpBin(in.EntryPoint, t)
}

// SysfsFiles encodes the kernel's pair: the smbios_entry_point bytes and the DMI bytes. The
// entry point keeps its table address.
func (in *Info) SysfsFiles() (entryPoint, table []byte, err error) {
	if table, err = in.Table.Bytes(); err != nil {
		return nil, nil, err
	}
	var addr uint64
	if in.EntryPoint != nil {
		addr = in.EntryPoint.TableAddress
	}
	if entryPoint, err = in.entryPointFor(len(table), addr); err != nil {
		return nil, nil, err
	}
	return entryPoint, table, nil
}

// RSMBBlob encodes the data as Windows' GetSystemFirmwareTable('RSMB') returns it.
func (in *Info) RSMBBlob() ([]byte, error) {
	t, err := in.Table.Bytes()
	if err != nil {
		return nil, err
	}
	v := in.Version.Effective()
	h := RSMBHeader{MajorVersion: v.Major, MinorVersion: v.Minor, DMIRevision: v.Docrev}
	if in.RSMB != nil {
		h = *in.RSMB
	}
	b := make([]byte, rsmbHeaderLen, rsmbHeaderLen+len(t))
	b[0], b[1], b[2], b[3] = h.Used20CallingMethod, h.MajorVersion, h.MinorVersion, h.DMIRevision
	binary.LittleEndian.PutUint32(b[4:], uint32(len(t)))
	return append(b, t...), nil
}

// WriteDumpBin writes a dmidecode --dump-bin file.
func (in *Info) WriteDumpBin(path string) error {
	b, err := in.DumpBin()
	if err != nil {
		return err
	}
	return writeFile(path, b)
}

// WriteSysfs writes smbios_entry_point and DMI into dir (created if needed), the layout of
// /sys/firmware/dmi/tables. Read(dir) reads it back.
func (in *Info) WriteSysfs(dir string) error {
	ep, t, err := in.SysfsFiles()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("smbios: %w", err)
	}
	if err := writeFile(filepath.Join(dir, SysfsEntryPointFile), ep); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, SysfsTableFile), t)
}

// QEMUFileName is the name WriteQEMUFiles gives the i-th structure file: its position (so that
// a sorted listing keeps table order), type and handle, e.g. "003-type004-0x0004.bin".
func QEMUFileName(i int, s *Structure) string {
	return fmt.Sprintf("%03d-type%03d-0x%04X.bin", i, s.Type, s.Handle)
}

// QEMUStructures returns the structures QEMU's -smbios file= should receive: all but the
// end-of-table marker, which QEMU writes itself.
func (in *Info) QEMUStructures() []*Structure {
	var out []*Structure
	for _, s := range in.Structures {
		if s.Type != EndOfTable {
			out = append(out, s)
		}
	}
	return out
}

// WriteQEMUFiles writes one file per structure into dir, in the form QEMU's -smbios file= takes:
// formatted area, strings, double NUL, no entry point, and exactly one structure per file (QEMU
// reads only the first structure of a file, and a second one silently loses the end marker).
// The type 127 marker is left out: QEMU adds its own. It returns the file names in table order
// (which is also their sorted order).
//
// Measured with QEMU 7.2: the files are accepted on q35 and pc, but QEMU refuses to start unless
// the number of type 4 structures equals the number of CPU sockets (-smp ...,sockets=N), and a
// type given by file cannot also be given by -smbios type=N fields.
func (in *Info) WriteQEMUFiles(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("smbios: %w", err)
	}
	var names []string
	for i, s := range in.QEMUStructures() {
		b, err := s.MarshalBinary()
		if err != nil {
			return names, err
		}
		name := QEMUFileName(i, s)
		if err := writeFile(filepath.Join(dir, name), b); err != nil {
			return names, err
		}
		names = append(names, name)
	}
	return names, nil
}

func writeFile(path string, b []byte) error {
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("smbios: %w", err)
	}
	return nil
}
