package smbios

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/oemact/oemact/firmware/fileio"
)

// Format is the container SMBIOS data came in.
type Format uint8

const (
	// FormatDumpBin is dmidecode --dump-bin: the entry point at offset 0, the table at the
	// address the entry point gives (0x20).
	FormatDumpBin Format = iota + 1
	// FormatSysfs is the kernel's pair of files, /sys/firmware/dmi/tables/smbios_entry_point and
	// DMI, or a folder holding a copy of them.
	FormatSysfs
	// FormatBare is a structure table with no entry point (a copy of the DMI file alone).
	FormatBare
	// FormatRSMB is what Windows' GetSystemFirmwareTable('RSMB') returns: an 8-byte header
	// (Used20CallingMethod, SMBIOS major, minor, DMI revision, table length) and the table.
	FormatRSMB
	// FormatBuilt is a table the Builder made.
	FormatBuilt
)

var formatNames = [...]string{FormatDumpBin: "dump-bin", FormatSysfs: "sysfs", FormatBare: "bare table", FormatRSMB: "RSMB", FormatBuilt: "built"}

func (f Format) String() string {
	if int(f) < len(formatNames) && formatNames[f] != "" {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// MarshalText writes the name.
func (f Format) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// RSMBHeader is the header of a Windows RSMB blob.
type RSMBHeader struct {
	Used20CallingMethod uint8
	MajorVersion        uint8
	MinorVersion        uint8
	DMIRevision         uint8
	Length              uint32
}

const rsmbHeaderLen = 8

// MaxInputSize bounds what Read accepts: SMBIOS 3 tables may in principle reach 4 GiB, real ones
// are a few KiB to a few hundred KiB. It is the bound of every single-machine input
// (fileio.TableLimit, 16 MiB), which leaves room and keeps a mistaken path (a disk image) from
// being read whole.
const MaxInputSize = fileio.TableLimit

// Info is decoded SMBIOS data: where it came from, its entry point (nil for bare tables and RSMB
// blobs), its version, and its structures.
type Info struct {
	Format Format
	// Path is the file or folder read, when there was one.
	Path       string
	EntryPoint *EntryPoint
	RSMB       *RSMBHeader
	// Version is the SMBIOS version from the entry point or RSMB header; for a bare table it is
	// guessed from the structure lengths (VersionGuessed).
	Version        Version
	VersionGuessed bool
	Table
	// TableOffset is where the table starts in the input (0x20 in a dump-bin file, 8 in an RSMB
	// blob, 0 otherwise).
	TableOffset int64
	// DeclaredTableLength is the table length the entry point or RSMB header announces (for
	// _SM3_ the maximum size), or the input length for a bare table.
	DeclaredTableLength int64
	// Problems lists what was wrong in the data, in the order found. Decode returns the first one
	// as its error; Lint reports them all.
	Problems []*FormatError
}

func (in *Info) problem(e *FormatError) {
	if in.Path != "" && e.Path == "" {
		e.Path = in.Path
	}
	in.Problems = append(in.Problems, e)
}

// firstProblem is the first problem the reader did not work around (see FormatError.Lenient).
func (in *Info) firstProblem() error {
	for _, p := range in.Problems {
		if !p.Lenient {
			return p
		}
	}
	return nil
}

// Decode detects the container in b (dump-bin, bare table or RSMB blob) and decodes it.
//
// When the container is recognised, Decode returns an Info holding everything that could be
// decoded, even if the data is damaged; the error is then the first of Info.Problems (a
// *FormatError). When it is not, the Info is nil.
func Decode(b []byte) (*Info, error) { return decode(b, "") }

func decode(b []byte, path string) (*Info, error) {
	in := &Info{Path: path}
	switch Container(b) {
	case FormatDumpBin:
		return in.decodeDumpBin(b)
	case FormatRSMB:
		return in.decodeRSMB(b)
	case FormatBare:
		in.Format = FormatBare
		in.DeclaredTableLength = int64(len(b))
		in.decodeTable(b)
		in.Version, in.VersionGuessed = GuessVersion(in.Structures), true
		return in, in.firstProblem()
	}
	e := fileError(CodeUnrecognized, ErrUnrecognized, 0,
		"not SMBIOS data: no _SM_, _SM3_ or _DMI_ anchor, not an RSMB blob, and no structures that follow one another from the start (%d bytes)", len(b))
	e.Path = path
	return nil, e
}

func (in *Info) decodeRSMB(b []byte) (*Info, error) {
	in.Format = FormatRSMB
	h := &RSMBHeader{
		Used20CallingMethod: b[0], MajorVersion: b[1], MinorVersion: b[2], DMIRevision: b[3],
		Length: binary.LittleEndian.Uint32(b[4:]),
	}
	in.RSMB = h
	in.Version = Version{Major: h.MajorVersion, Minor: h.MinorVersion}
	in.TableOffset = rsmbHeaderLen
	in.DeclaredTableLength = int64(h.Length)
	data := b[rsmbHeaderLen:]
	if int64(len(data)) < int64(h.Length) {
		in.problem(fileError(CodeTableTruncated, ErrTruncated, int64(len(b)),
			"the RSMB header announces a %d-byte table but only %d bytes follow it", h.Length, len(data)))
	} else {
		data = data[:h.Length]
	}
	in.decodeTable(data)
	return in, in.firstProblem()
}

func (in *Info) decodeDumpBin(b []byte) (*Info, error) {
	in.Format = FormatDumpBin
	ep, err := DecodeEntryPoint(b)
	if ep == nil {
		// The entry point is damaged beyond use (cut off, impossible length, no _DMI_ part): a
		// finding, and the table behind it is still read when one is there.
		return in.decodeWithoutEntryPoint(b, err)
	}
	in.EntryPoint = ep
	in.Version = ep.Version()
	var fe *FormatError
	if errors.As(err, &fe) {
		in.problem(fe)
	}
	if len(b) <= ep.Size() {
		return nil, &FormatError{Code: CodeTableTruncated, Err: ErrTruncated, Path: in.Path, Part: PartFile,
			Off: int64(len(b)), Index: -1, Type: -1, Handle: -1,
			Msg: "only an entry point, no table: read the folder that holds smbios_entry_point and DMI, or a dmidecode --dump-bin file"}
	}
	off := ep.TableAddress
	if off < uint64(ep.Size()) || off >= uint64(len(b)) {
		at, ok := tableBehind(b, ep.Size())
		if !ok {
			return nil, &FormatError{Code: CodeTableAddress, Err: ErrBadValue, Path: in.Path, Part: PartEntryPoint,
				Off: tableAddressOffset(ep.Kind), Index: -1, Type: -1, Handle: -1,
				Msg: fmt.Sprintf("table address 0x%x is not inside the %d-byte file, and no table follows the entry point; a dmidecode --dump-bin file has its table at 0x20 (is this an entry point copied alone?)", off, len(b))}
		}
		in.problem(&FormatError{Code: CodeTableAddress, Err: ErrBadValue, Part: PartEntryPoint, Lenient: true,
			Off: tableAddressOffset(ep.Kind), Index: -1, Type: -1, Handle: -1,
			Msg: fmt.Sprintf("table address 0x%x is not inside the %d-byte file (a memory image keeps the physical address); read the table that follows the entry point, at file offset 0x%x", off, len(b), at)})
		off = uint64(at)
	}
	in.TableOffset = int64(off)
	in.decodeWithEntryPoint(b[off:], int64(len(b)))
	return in, in.firstProblem()
}

// tableBehind finds a structure table right behind an entry point of size epSize: at the first
// byte after the entry point, or at 0x20, where dmidecode --dump-bin puts it. The first byte
// after the entry point comes first: in a dump-bin layout it is padding, which never chains,
// while 0x20 in a tight layout can land inside a structure that happens to chain.
func tableBehind(b []byte, epSize int) (int, bool) {
	for _, at := range []int{epSize, DumpBinTableOffset} {
		if at > 0 && at < len(b) && TableChains(b[at:]) {
			return at, true
		}
	}
	return 0, false
}

// decodeWithoutEntryPoint reads the table behind an entry point that could not be decoded: the
// entry point's error is the first problem, the version is guessed from the structures. With no
// table there, the entry point's error is all there is.
func (in *Info) decodeWithoutEntryPoint(b []byte, epErr error) (*Info, error) {
	var fe *FormatError
	if !errors.As(epErr, &fe) {
		return nil, epErr
	}
	if in.Path != "" {
		fe.Path = in.Path
	}
	at, ok := tableBehind(b, nominalEntryPointSize(b))
	if !ok {
		return nil, fe
	}
	in.problem(fe)
	in.TableOffset = int64(at)
	in.DeclaredTableLength = int64(len(b) - at)
	in.decodeTable(b[at:])
	in.Version, in.VersionGuessed = GuessVersion(in.Structures), true
	return in, in.firstProblem()
}

// nominalEntryPointSize is the specified size of the entry point whose anchor starts b.
func nominalEntryPointSize(b []byte) int {
	switch {
	case bytes.HasPrefix(b, []byte("_SM3_")):
		return len64
	case bytes.HasPrefix(b, []byte("_SM_")):
		return len32
	}
	return lenLegacy
}

func tableAddressOffset(k EntryPointKind) int64 {
	switch k {
	case EntryPoint64:
		return 0x10
	case EntryPointLegacy:
		return 0x08
	}
	return 0x18
}

// decodeWithEntryPoint decodes the table bytes data against the entry point's announced length.
func (in *Info) decodeWithEntryPoint(data []byte, fileLen int64) {
	n := int64(in.EntryPoint.TableLength)
	in.DeclaredTableLength = n
	if int64(len(data)) < n {
		in.problem(fileError(CodeTableTruncated, ErrTruncated, fileLen,
			"the entry point announces a %d-byte table but only %d bytes are there", n, len(data)))
	} else {
		data = data[:n]
	}
	in.decodeTable(data)
}

func (in *Info) decodeTable(data []byte) {
	t, err := DecodeTable(data)
	in.Table = *t
	var fe *FormatError
	if errors.As(err, &fe) {
		in.problem(fe)
	}
}

// DecodeSysfs decodes the kernel's pair: the smbios_entry_point file's bytes and the DMI file's.
func DecodeSysfs(entryPoint, table []byte) (*Info, error) { return decodeSysfs(entryPoint, table, "") }

func decodeSysfs(entryPoint, table []byte, path string) (*Info, error) {
	in := &Info{Path: path, Format: FormatSysfs}
	ep, err := DecodeEntryPoint(entryPoint)
	var fe *FormatError
	if errors.As(err, &fe) {
		fe.Path = path
	}
	if ep == nil {
		// An entry point damaged beyond use: a finding; the DMI file is read as a bare table.
		if fe == nil || !TableChains(table) {
			return nil, err
		}
		in.problem(fe)
		in.DeclaredTableLength = int64(len(table))
		in.decodeTable(table)
		in.Version, in.VersionGuessed = GuessVersion(in.Structures), true
		return in, in.firstProblem()
	}
	if fe != nil {
		in.problem(fe)
	}
	in.EntryPoint, in.Version = ep, ep.Version()
	in.decodeWithEntryPoint(table, int64(len(table)))
	return in, in.firstProblem()
}

// Sysfs file names.
const (
	SysfsDir            = "/sys/firmware/dmi/tables"
	SysfsEntryPointFile = "smbios_entry_point"
	SysfsTableFile      = "DMI"
)

// Read reads SMBIOS data from a path and says which container it found (Info.Format):
//   - a folder holding smbios_entry_point and DMI (the kernel's /sys/firmware/dmi/tables, or a
//     copy);
//   - smbios_entry_point or DMI with its partner next to it (read as the pair);
//   - a dmidecode --dump-bin file, a bare table, or a Windows RSMB blob.
//
// Errors and Info follow Decode's rules.
func Read(path string) (*Info, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("smbios: %w", err)
	}
	if st.IsDir() {
		return readPair(filepath.Join(path, SysfsEntryPointFile), filepath.Join(path, SysfsTableFile), path)
	}
	dir, base := filepath.Split(path)
	switch base {
	case SysfsEntryPointFile:
		if other := filepath.Join(dir, SysfsTableFile); exists(other) {
			return readPair(path, other, path)
		}
	case SysfsTableFile:
		if other := filepath.Join(dir, SysfsEntryPointFile); exists(other) {
			return readPair(other, path, path)
		}
	}
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return decode(b, path)
}

// ReadLive reads this machine's tables from sysfs (root is needed for the DMI file).
func ReadLive() (*Info, error) { return Read(SysfsDir) }

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func readPair(epPath, tablePath, shown string) (*Info, error) {
	ep, err := readFile(epPath)
	if err != nil {
		return nil, err
	}
	t, err := readFile(tablePath)
	if err != nil {
		return nil, err
	}
	return decodeSysfs(ep, t, shown)
}

func readFile(path string) ([]byte, error) {
	b, err := fileio.ReadFile(path, MaxInputSize)
	switch {
	case errors.Is(err, os.ErrPermission) && strings.HasPrefix(path, SysfsDir+"/"):
		return nil, fmt.Errorf("smbios: %w: the kernel's SMBIOS files are readable by root only; run as root or copy them with sudo first", err)
	case errors.Is(err, fileio.ErrTooLarge):
		return nil, fmt.Errorf("smbios: %s is larger than %d MiB, too large to be SMBIOS data", path, MaxInputSize>>20)
	case err != nil:
		return nil, fmt.Errorf("smbios: %w", err)
	}
	return b, nil
}
