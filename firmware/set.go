package firmware

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/oemact/oemact/firmware/fileio"
	"github.com/oemact/oemact/firmware/finding"
	"github.com/oemact/oemact/firmware/fwimage"
	"github.com/oemact/oemact/firmware/sniff"
)

// LiveTablesDir is where Linux exposes the firmware's ACPI tables (readable by root only).
const LiveTablesDir = "/sys/firmware/acpi/tables"

// liveTablesDir is LiveTablesDir, a variable so tests can point LoadLive elsewhere.
var liveTablesDir = LiveTablesDir

// SetKind says what a Set was loaded from.
type SetKind uint8

const (
	SetFolder   SetKind = iota // a folder laid out like /sys/firmware/acpi/tables
	SetFiles                   // table files given one by one
	SetAcpidump                // one acpidump text file
	SetLive                    // the running machine's /sys/firmware/acpi/tables
	SetBytes                   // tables handed over as bytes (the guest agent's report)
	SetImage                   // the tables found in one firmware image
)

var setKindNames = [...]string{SetFolder: "folder", SetFiles: "files", SetAcpidump: "acpidump", SetLive: "live", SetBytes: "bytes", SetImage: "image"}

func (k SetKind) String() string {
	if int(k) < len(setKindNames) {
		return setKindNames[k]
	}
	return fmt.Sprintf("setkind(%d)", int(k))
}

// Set is the tables of one machine: cross-table checks (marker IDs against the RSDT, XSDT and
// FADT; duplicate SLICs) apply within a set, never across sets.
type Set struct {
	Name   string // the folder, the acpidump file, or the files' paths joined by ", "
	Kind   SetKind
	Files  []string // every file read into the set, skipped ones included
	Tables []*Table
	// Notes are what loading found: files skipped, acpidump syntax errors, a kernel log that
	// could not be read, what an image walk could not read. Check reports them with the tables'
	// findings.
	Notes finding.List
	// ImageKind is what a SetImage was read as (fwimage.Kind's name: "uefi-volume", "coreboot"...).
	ImageKind string
}

// NewSet returns an empty set, for callers that add tables themselves.
func NewSet(name string, kind SetKind) *Set { return &Set{Name: name, Kind: kind} }

// Lookup returns the set's tables with the signature, in load order.
func (s *Set) Lookup(sig string) []*Table {
	var out []*Table
	for _, t := range s.Tables {
		if t.Signature() == sig {
			out = append(out, t)
		}
	}
	return out
}

// First returns the first table with the signature, or nil.
func (s *Set) First(sig string) *Table {
	for _, t := range s.Tables {
		if t.Signature() == sig {
			return t
		}
	}
	return nil
}

// AddBytes decodes raw table bytes (named as their source names them, e.g. a sysfs file name) and
// adds the table.
func (s *Set) AddBytes(name string, raw []byte) *Table {
	t := NewTable(name, "", FromBytes, raw)
	s.Tables = append(s.Tables, t)
	return t
}

// AddKernelLog adds a header-only table for each logged header whose signature the set lacks (the
// RSDP, RSDT and XSDT, which sysfs does not expose), so the marker checks can use their OEM IDs.
// path names the log in findings. It returns how many tables it added.
func (s *Set) AddKernelLog(hs []LogHeader, path string) int {
	have := map[string]bool{}
	for _, t := range s.Tables {
		have[t.Signature()] = true
	}
	count := map[string]int{}
	for _, h := range hs {
		if !have[h.Signature] {
			count[h.Signature]++
		}
	}
	seen := map[string]int{}
	added := 0
	for _, h := range hs {
		if have[h.Signature] {
			continue
		}
		name := h.Signature
		if count[name] > 1 {
			seen[name]++
			name = fmt.Sprintf("%s%d", name, seen[name])
		}
		s.Tables = append(s.Tables, LogHeaderTable(h, name, path))
		added++
	}
	return added
}

// note records a loader finding.
func (s *Set) note(code string, sev finding.Severity, table, path, format string, args ...any) {
	s.Notes = append(s.Notes, finding.Finding{Code: code, Severity: sev, Table: table, Path: path,
		Offset: finding.NoOffset, Message: fmt.Sprintf(format, args...)})
}

// Load reads table sets from paths, grouped this way:
//   - a folder is one set: every regular file in it (raw tables, named anything; acpidump text
//     too), sub-folders (sysfs's data/ and dynamic/) skipped;
//   - an acpidump text file is a set of its own (it is a whole machine's dump);
//   - a firmware image (sniff.FirmwareImage: not a table, but a UEFI volume or capsule, a flash
//     image, a coreboot ROM or a blob holding tables) is a set of its own: the tables found in it;
//   - every other file given is a raw table, and all of them together form one set;
//   - a text file that is not acpidump output is skipped with an info note.
//
// With no paths it reads the running machine (LoadLive). Errors are for paths that cannot be
// read at all; malformed contents become findings.
func Load(paths ...string) ([]*Set, error) { return load(paths, false) }

// LoadAsTables is Load for paths the user says are ACPI tables: every file given is read as a
// raw table (or acpidump text) whatever sniff would make of it. Folders are read as by Load.
func LoadAsTables(paths ...string) ([]*Set, error) { return load(paths, true) }

func load(paths []string, force bool) ([]*Set, error) {
	if len(paths) == 0 {
		s, err := LoadLive()
		if err != nil {
			return nil, err
		}
		return []*Set{s}, nil
	}
	var sets []*Set
	var loose *Set
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("reading tables: %w", err)
		}
		if st.IsDir() {
			s, err := LoadDir(p)
			if err != nil {
				return nil, err
			}
			sets = append(sets, s)
			continue
		}
		b, err := sniff.ReadFile(p, fwimage.DefaultLimits.File)
		if err != nil {
			return nil, fmt.Errorf("reading tables: %w", err)
		}
		if LooksLikeAcpidump(b) {
			s := NewSet(p, SetAcpidump)
			s.addAcpidump(p, b)
			s.numberDuplicates()
			sets = append(sets, s)
			continue
		}
		var d sniff.Detection
		if !force {
			if d = sniff.Detect(b); d.Kind == sniff.FirmwareImage {
				sets = append(sets, ImageSet(p, b))
				continue
			}
		}
		if loose == nil {
			loose = NewSet("", SetFiles)
			sets = append(sets, loose)
		}
		if force {
			loose.Files = append(loose.Files, p)
			loose.addTable(p, filepath.Base(p), b, false)
		} else {
			loose.addFile(p, filepath.Base(p), b, d, false)
		}
	}
	if loose != nil {
		loose.Name = strings.Join(loose.Files, ", ")
		loose.numberDuplicates()
	}
	return sets, nil
}

// LoadDir reads a folder laid out like /sys/firmware/acpi/tables: one file per table, named by
// its signature (SLIC1, SLIC2 when repeated). Files are read in name order.
func LoadDir(dir string) (*Set, error) {
	s := NewSet(filepath.Clean(dir), SetFolder)
	if err := s.readDir(dir); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Set) readDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("reading tables: %w", err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		b, err := fileio.ReadFile(p, fileio.TableLimit)
		if err != nil {
			if errors.Is(err, fs.ErrPermission) {
				return fmt.Errorf("reading tables: %w (the ACPI tables in sysfs are readable by root only: run as root, or copy them with 'sudo acpidump -b' and pass the folder)", err)
			}
			return fmt.Errorf("reading tables: %w", err)
		}
		if LooksLikeAcpidump(b) {
			s.addAcpidump(p, b)
			continue
		}
		s.addFile(p, e.Name(), b, sniff.Detect(b), true)
	}
	return nil
}

// LoadLive reads the running machine's tables from LiveTablesDir and, when the kernel log can be
// read, the RSDP/RSDT/XSDT headers from it (sysfs does not expose those).
func LoadLive() (*Set, error) {
	if _, err := os.Stat(liveTablesDir); err != nil {
		return nil, fmt.Errorf("reading the live ACPI tables: %w (not Linux, or no ACPI: pass a folder or files instead)", err)
	}
	s := NewSet(liveTablesDir, SetLive)
	if err := s.readDir(liveTablesDir); err != nil {
		return nil, err
	}
	log, err := ReadKernelLog()
	if err != nil {
		s.note("acpi-kernel-log-unreadable", finding.Info, "kernel log", s.Name,
			"could not read the kernel log (%v): the RSDT/XSDT OEM IDs are not checked; save 'dmesg' output and pass it with the tables", err)
		return s, nil
	}
	hs, _ := ParseKernelLog(bytes.NewReader(log))
	if s.AddKernelLog(hs, "") == 0 && s.First("RSDT") == nil && s.First("XSDT") == nil {
		s.note("acpi-kernel-log-no-root", finding.Info, "kernel log", s.Name,
			"the kernel log holds no RSDT/XSDT header lines (the boot messages have rotated out): the RSDT/XSDT OEM IDs are not checked")
	}
	return s, nil
}

// addFile adds one file as a raw table, unless sniff said it is something else (d is
// sniff.Detect's verdict on b): SMBIOS data, a firmware image or other text are skipped with an
// info note, a file nothing recognizes with an error that says what was looked for.
func (s *Set) addFile(path, name string, b []byte, d sniff.Detection, inFolder bool) {
	s.Files = append(s.Files, path)
	switch d.Kind {
	case sniff.Text:
		s.note(CodeSkippedFile, finding.Info, name, path,
			"skipped: a text file that is neither an ACPI table nor acpidump output")
		return
	case sniff.SMBIOS, sniff.FirmwareImage:
		s.note(CodeSkippedFile, finding.Info, name, path,
			"skipped: %s, not an ACPI table; 'oemact inspect' reads it as such", d.Evidence)
		return
	case sniff.Unknown:
		s.note(sniff.CodeUnrecognized, finding.Error, name, path, "%s", sniff.UnrecognizedMessage(len(b)))
		return
	}
	s.addTable(path, name, b, inFolder)
}

// addTable adds one file as a raw table, whatever it holds (a reading the user asked for).
func (s *Set) addTable(path, name string, b []byte, inFolder bool) {
	tname := name
	if !inFolder {
		tname = "" // named by signature in numberDuplicates
	}
	t := NewTable(tname, path, FromFile, b)
	if t.Name == "" {
		t.Name = t.Signature()
		if t.Err != nil && !fwimage.ValidSignature(t.Header.Signature[:]) {
			t.Name = name
		}
	}
	s.Tables = append(s.Tables, t)
}

func (s *Set) addAcpidump(path string, b []byte) {
	s.Files = append(s.Files, path)
	blocks, err := ParseAcpidump(bytes.NewReader(b))
	for _, blk := range blocks {
		t := NewTable("", path, FromAcpidump, blk.Data)
		t.Address = blk.Address
		t.Name = blk.Name
		s.Tables = append(s.Tables, t)
	}
	if err != nil {
		s.note("acpidump-syntax", finding.Error, filepath.Base(path), path,
			"acpidump text: %v; the tables before this line were read", err)
	}
}

// numberDuplicates renames tables named by signature that occur more than once, as sysfs does:
// SSDT1, SSDT2, ...
func (s *Set) numberDuplicates() {
	count := map[string]int{}
	for _, t := range s.Tables {
		count[t.Name]++
	}
	seen := map[string]int{}
	for _, t := range s.Tables {
		if n := count[t.Name]; n > 1 {
			base := t.Name
			seen[base]++
			t.Name = fmt.Sprintf("%s%d", base, seen[base])
		}
	}
}
