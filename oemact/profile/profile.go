// Package profile reads firmware profiles: one platform identity in YAML (ACPI OEM IDs, the SLIC
// and MSDM markers, SMBIOS fields, and the VM hardware the harness boots it on).
//
// It parses and validates; building the tables from a profile is in synth.go.
package profile

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/oemact/oemact/firmware/fileio"
	"github.com/oemact/oemact/oemact/catalog"
	"github.com/oemact/oemact/oemact/yamldoc"
	"github.com/oemact/oemact/smbios"
)

// Profile is one platform identity. Relative file names inside it are relative to the folder of
// the profile file.
type Profile struct {
	Name        string  `yaml:"name,omitempty"`
	Description string  `yaml:"description,omitempty"`
	ACPI        ACPI    `yaml:"acpi,omitempty"`
	Markers     Markers `yaml:"markers,omitempty"`
	SMBIOS      SMBIOS  `yaml:"smbios,omitempty"`
	VM          VM      `yaml:"vm,omitempty"`

	// Path is the file the profile was read from ("" when parsed from bytes without a name).
	Path string `yaml:"-"`
	doc  *yamldoc.Doc
}

// ACPI holds the platform's OEM IDs: QEMU writes them into the RSDT, XSDT and FADT
// (-machine x-oem-id/x-oem-table-id), and they head the synthesized SLIC and MSDM.
type ACPI struct {
	OEMID      string `yaml:"oem_id,omitempty"`       // up to 6 ASCII characters
	OEMTableID string `yaml:"oem_table_id,omitempty"` // up to 8 ASCII characters
	// OEMRevision goes in the SLIC and MSDM headers (default 1).
	OEMRevision uint32 `yaml:"oem_revision,omitempty"`
}

// Markers are the OEM activation tables.
type Markers struct {
	SLIC *SLIC `yaml:"slic,omitempty"`
	MSDM *MSDM `yaml:"msdm,omitempty"`
}

// SLIC describes an OEM Activation 2.x marker: either a table file used byte for byte (a captured
// real table), or a marker synthesized and signed with a TEST OEM key.
type SLIC struct {
	File string `yaml:"file,omitempty"`
	// Key is a PEM file with the TEST OEM private key (RSA-1024) that signs the marker.
	Key string `yaml:"key,omitempty"`
	// Version is the marker's SLICVersion: "2.0", "2.1" (Windows 7 / 2008 R2), "2.2", "2.3" or a
	// number such as 0x00020001. Default: the release's requirement.
	Version string `yaml:"version,omitempty"`
	// Release chooses the default version ("win7" gives 2.1). Default win7.
	Release string `yaml:"release,omitempty"`
	// MarkerOEMID and MarkerOEMTableID are the IDs inside the marker. Default: the ACPI IDs. A
	// different value makes a marker that disagrees with its header (the Insyde placeholder
	// pattern).
	MarkerOEMID      string `yaml:"marker_oem_id,omitempty"`
	MarkerOEMTableID string `yaml:"marker_oem_table_id,omitempty"`
	// Tamper damages the table after signing, for negative tests: "signature" flips a bit of
	// the marker signature, "marker" changes a byte of the signed marker data.
	Tamper string `yaml:"tamper,omitempty"`
}

// MSDM describes an OEM Activation 3.0 table: a table file used byte for byte, or a table
// carrying the TEST product key derived from KeyLabel (see productkey.Derive and the catalog).
type MSDM struct {
	File     string `yaml:"file,omitempty"`
	KeyLabel string `yaml:"key_label,omitempty"`
}

// SMBIOS is the system identity. With File, a captured table is the base and the fields given
// here replace its values; without it the table is built from these fields alone.
type SMBIOS struct {
	File string `yaml:"file,omitempty"`
	// Version is the SMBIOS version written in the entry point ("2.8", "3.0"). Default 2.8.
	Version string `yaml:"version,omitempty"`
	// EntryPoint is "32" (_SM_) or "64" (_SM3_). Default 32 for versions below 3.0.
	EntryPoint    string         `yaml:"entry_point,omitempty"`
	BIOS          *BIOS          `yaml:"bios,omitempty"`
	System        *System        `yaml:"system,omitempty"`
	Baseboard     *Baseboard     `yaml:"baseboard,omitempty"`
	Chassis       *Chassis       `yaml:"chassis,omitempty"`
	Processors    []Processor    `yaml:"processors,omitempty"`
	OEMStrings    []string       `yaml:"oem_strings,omitempty"`
	MemoryDevices []MemoryDevice `yaml:"memory_devices,omitempty"`
}

// Empty reports whether the profile says nothing about SMBIOS; QEMU then supplies its own
// default structures.
func (s *SMBIOS) Empty() bool {
	return s.File == "" && s.Version == "" && s.EntryPoint == "" && s.BIOS == nil && s.System == nil &&
		s.Baseboard == nil && s.Chassis == nil && len(s.Processors) == 0 && len(s.OEMStrings) == 0 &&
		len(s.MemoryDevices) == 0
}

// BIOS is SMBIOS type 0.
type BIOS struct {
	Vendor      string `yaml:"vendor,omitempty"`
	Version     string `yaml:"version,omitempty"`
	ReleaseDate string `yaml:"release_date,omitempty"` // MM/DD/YYYY, as SMBIOS stores it
}

// System is SMBIOS type 1.
type System struct {
	Manufacturer string `yaml:"manufacturer,omitempty"`
	ProductName  string `yaml:"product_name,omitempty"`
	Version      string `yaml:"version,omitempty"`
	SerialNumber string `yaml:"serial_number,omitempty"`
	UUID         string `yaml:"uuid,omitempty"`
	SKUNumber    string `yaml:"sku_number,omitempty"`
	Family       string `yaml:"family,omitempty"`
}

// Baseboard is SMBIOS type 2.
type Baseboard struct {
	Manufacturer string `yaml:"manufacturer,omitempty"`
	ProductName  string `yaml:"product_name,omitempty"`
	Version      string `yaml:"version,omitempty"`
	SerialNumber string `yaml:"serial_number,omitempty"`
	AssetTag     string `yaml:"asset_tag,omitempty"`
}

// Chassis is SMBIOS type 3.
type Chassis struct {
	Manufacturer string `yaml:"manufacturer,omitempty"`
	// Type is the SMBIOS chassis type: a number (3 desktop, 9 laptop, 10 notebook, 17 main server
	// chassis, ...) or its name in the SMBIOS specification's table (7.4.1) as dmidecode prints it,
	// in any case, with spaces, '-' or '_' between words ("notebook", "rack-mount-chassis").
	Type         ChassisType `yaml:"type,omitempty"`
	Version      string      `yaml:"version,omitempty"`
	SerialNumber string      `yaml:"serial_number,omitempty"`
	AssetTag     string      `yaml:"asset_tag,omitempty"`
}

// ChassisType is a chassis type number that a profile may also give by name.
type ChassisType int

// UnmarshalYAML reads a number or a name from the SMBIOS specification's chassis type table.
func (c *ChassisType) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want a chassis type: a name such as notebook or desktop, or a number 1 to 127")
	}
	name := strings.NewReplacer("-", " ", "_", " ").Replace(strings.TrimSpace(n.Value))
	t, err := smbios.ParseChassisType(name)
	if err != nil {
		return fmt.Errorf("%s is not a chassis type: want a name from the SMBIOS table (notebook, laptop, desktop, tower, rack mount chassis, ...) or a number 1 to 127", yamldoc.Shown(n.Value))
	}
	*c = ChassisType(t)
	return nil
}

// MarshalYAML writes the number.
func (c ChassisType) MarshalYAML() (any, error) { return int(c), nil }

// Processor is SMBIOS type 4.
type Processor struct {
	Socket       string `yaml:"socket,omitempty"`
	Manufacturer string `yaml:"manufacturer,omitempty"`
	Version      string `yaml:"version,omitempty"`
	MaxSpeedMHz  int    `yaml:"max_speed_mhz,omitempty"`
	CoreCount    int    `yaml:"core_count,omitempty"`
	ThreadCount  int    `yaml:"thread_count,omitempty"`
}

// MemoryDevice is SMBIOS type 17.
type MemoryDevice struct {
	Locator      string `yaml:"locator,omitempty"`
	BankLocator  string `yaml:"bank_locator,omitempty"`
	SizeMB       int    `yaml:"size_mb,omitempty"`
	Type         string `yaml:"type,omitempty"` // DDR3, DDR4, RAM ...
	SpeedMTs     int    `yaml:"speed_mts,omitempty"`
	Manufacturer string `yaml:"manufacturer,omitempty"`
	SerialNumber string `yaml:"serial_number,omitempty"`
	PartNumber   string `yaml:"part_number,omitempty"`
}

// VM is the virtual hardware the harness boots the profile on.
type VM struct {
	Machine  string `yaml:"machine,omitempty"`  // q35 (default) or pc
	Firmware string `yaml:"firmware,omitempty"` // seabios (default) or ovmf
	MemoryMB int    `yaml:"memory_mb,omitempty"`
	CPUs     int    `yaml:"cpus,omitempty"`
	NICs     []NIC  `yaml:"nics,omitempty"`
	Disks    []Disk `yaml:"disks,omitempty"`
	TPM      bool   `yaml:"tpm,omitempty"`
	// Boot is what the machine boots: kernel (the default: the harness's own kernel with oemact
	// as init), or disk or cdrom: the OS image a disk's file names, through the firmware and the
	// image's own boot loader.
	Boot string `yaml:"boot,omitempty"`
}

// NIC is a virtio network adapter; only its MAC matters to activation.
type NIC struct {
	MAC string `yaml:"mac,omitempty"`
}

// Disk is a blank virtio disk with a serial number, or the OS image the machine boots.
type Disk struct {
	Serial string `yaml:"serial,omitempty"`
	SizeMB int    `yaml:"size_mb,omitempty"`
	// File is an OS image to boot (vm.boot disk or cdrom): raw, qcow2, vmdk or vhdx, or an ISO 9660
	// or UDF image for a CD-ROM, relative to the profile. It is never written: each boot runs on
	// a throw-away overlay.
	File string `yaml:"file,omitempty"`
	// Interface is the image disk's controller: virtio (default) or ide (AHCI on q35).
	Interface string `yaml:"interface,omitempty"`
	// Path is File resolved against the profile's folder, and Format what File's content shows
	// (DetectImageFormat); Parse sets both.
	Path   string `yaml:"-"`
	Format string `yaml:"-"`
}

// Limits, and the defaults Parse applies where the profile says nothing. The VM's machine type,
// firmware, memory, CPUs and disk sizes have none here: zero means the engine's default
// (harness/engine: q35, SeaBIOS, 256 MB, one CPU, 8 MB disks).
const (
	// MaxNICs and MaxDisks bound a machine's devices: each is a PCI device of the guest, and
	// activation's hardware identity counts a few of each.
	MaxNICs       = 8
	MaxDisks      = 8
	DefaultSMBIOS = "2.8"
)

// Error is a profile error with the file, line and field it is about.
type Error = yamldoc.Error

// Load reads and validates a profile file.
func Load(path string) (*Profile, error) {
	b, err := fileio.ReadFile(path, fileio.YAMLLimit)
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	return Parse(b, path)
}

// Parse reads and validates a profile; name is the file name used in errors and to resolve
// relative paths.
func Parse(b []byte, name string) (*Profile, error) {
	p := &Profile{}
	doc, err := yamldoc.Decode(b, name, p)
	if err != nil {
		return nil, err
	}
	p.Path = name
	p.doc = doc
	p.applyDefaults()
	if err := p.validate(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Profile) applyDefaults() {
	if p.ACPI.OEMRevision == 0 {
		p.ACPI.OEMRevision = 1
	}
	if s := p.Markers.SLIC; s != nil && s.File == "" {
		if s.Release == "" {
			s.Release = "win7"
		}
		if s.MarkerOEMID == "" {
			s.MarkerOEMID = p.ACPI.OEMID
		}
		if s.MarkerOEMTableID == "" {
			s.MarkerOEMTableID = p.ACPI.OEMTableID
		}
	}
	if p.SMBIOS.Version == "" && p.SMBIOS.File == "" && !p.SMBIOS.Empty() {
		p.SMBIOS.Version = DefaultSMBIOS
	}
}

// errAt makes an Error for the field at the dotted path ("markers.slic.version", "vm.nics.1.mac"),
// at the line of that field in the file, or of its closest parent that is present.
func (p *Profile) errAt(path, format string, args ...any) error {
	if p.doc == nil {
		return &Error{File: p.Path, Field: path, Msg: fmt.Sprintf(format, args...)}
	}
	return p.doc.Errorf(path, format, args...)
}

// File is a file a profile names: the field that names it, the name as written, and the path
// it resolves to.
type File struct{ Field, Name, Path string }

// Files lists the files the profile names (keys, captured tables, SMBIOS data, OS images).
func (p *Profile) Files() []File {
	var out []File
	add := func(field, name string) {
		if name != "" {
			out = append(out, File{field, name, p.Resolve(name)})
		}
	}
	if s := p.Markers.SLIC; s != nil {
		add("markers.slic.key", s.Key)
		add("markers.slic.file", s.File)
	}
	if m := p.Markers.MSDM; m != nil {
		add("markers.msdm.file", m.File)
	}
	add("smbios.file", p.SMBIOS.File)
	for i, d := range p.VM.Disks {
		add(fmt.Sprintf("vm.disks.%d.file", i), d.File)
	}
	return out
}

// Resolve returns a file name from the profile relative to the profile's folder.
func (p *Profile) Resolve(name string) string {
	if name == "" || filepath.IsAbs(name) || p.Path == "" {
		return name
	}
	return filepath.Join(filepath.Dir(p.Path), name)
}

var (
	versionRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(\d+)\.(\d+)$`) })
	uuidRe    = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	})
	serialRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9._-]{1,20}$`) })
)

func (p *Profile) validate() error {
	if p.Name == "" {
		return p.errAt("name", "a profile needs a name")
	}
	if err := asciiID(p.ACPI.OEMID, 6); err != nil {
		return p.errAt("acpi.oem_id", "%v", err)
	}
	if err := asciiID(p.ACPI.OEMTableID, 8); err != nil {
		return p.errAt("acpi.oem_table_id", "%v", err)
	}
	if s := p.Markers.SLIC; s != nil {
		if err := p.validateSLIC(s); err != nil {
			return err
		}
	}
	if m := p.Markers.MSDM; m != nil {
		switch {
		case m.File != "" && m.KeyLabel != "":
			return p.errAt("markers.msdm", "give either file or key_label, not both")
		case m.File == "" && m.KeyLabel == "":
			return p.errAt("markers.msdm", "give file (a captured MSDM) or key_label (a TEST key from the catalog)")
		case m.File != "":
			if err := p.checkFile(m.File); err != nil {
				return p.errAt("markers.msdm.file", "%v", err)
			}
		default:
			// The label grammar (oem-dm/EDITION, with a tag a catalog lists) says which labels
			// name a key; any other text would still derive one, silently.
			if _, err := catalog.ParseLabel(m.KeyLabel); err != nil {
				return p.errAt("markers.msdm.key_label", "%v", err)
			}
		}
	}
	if err := p.validateSMBIOS(); err != nil {
		return err
	}
	return p.validateVM()
}

func (p *Profile) validateSLIC(s *SLIC) error {
	if s.File != "" {
		if s.Key != "" || s.Version != "" || s.Tamper != "" || s.MarkerOEMID != "" || s.MarkerOEMTableID != "" {
			return p.errAt("markers.slic", "file is a table used as it is: key, version, marker IDs and tamper do not apply to it")
		}
		if err := p.checkFile(s.File); err != nil {
			return p.errAt("markers.slic.file", "%v", err)
		}
		return nil
	}
	if s.Key == "" {
		return p.errAt("markers.slic", "give key (a TEST OEM key in PEM, see 'oemact keygen') or file (a captured SLIC)")
	}
	if err := p.checkFile(s.Key); err != nil {
		return p.errAt("markers.slic.key", "%v", err)
	}
	if p.ACPI.OEMID == "" || p.ACPI.OEMTableID == "" {
		return p.errAt("acpi", "a synthesized SLIC needs acpi.oem_id and acpi.oem_table_id for its header")
	}
	if s.Version != "" {
		if _, err := ParseSLICVersion(s.Version); err != nil {
			return p.errAt("markers.slic.version", "%v", err)
		}
	}
	if err := asciiID(s.MarkerOEMID, 6); err != nil {
		return p.errAt("markers.slic.marker_oem_id", "%v", err)
	}
	if err := asciiID(s.MarkerOEMTableID, 8); err != nil {
		return p.errAt("markers.slic.marker_oem_table_id", "%v", err)
	}
	switch s.Tamper {
	case "", "signature", "marker":
	default:
		return p.errAt("markers.slic.tamper", "%q: want signature or marker", s.Tamper)
	}
	return nil
}

func (p *Profile) validateSMBIOS() error {
	s := &p.SMBIOS
	if s.File != "" {
		if err := p.checkFile(s.File); err != nil {
			return p.errAt("smbios.file", "%v", err)
		}
	}
	if s.Version != "" && !versionRe().MatchString(s.Version) {
		return p.errAt("smbios.version", "%q: want MAJOR.MINOR, e.g. 2.8", s.Version)
	}
	switch s.EntryPoint {
	case "", "32", "64":
	default:
		return p.errAt("smbios.entry_point", "%q: want 32 (_SM_) or 64 (_SM3_)", s.EntryPoint)
	}
	if s.System != nil && s.System.UUID != "" && !uuidRe().MatchString(s.System.UUID) {
		return p.errAt("smbios.system.uuid", "%q is not a UUID (8-4-4-4-12 hex digits)", s.System.UUID)
	}
	if s.Chassis != nil && (s.Chassis.Type < 0 || s.Chassis.Type > 0x7f) {
		return p.errAt("smbios.chassis.type", "%d: chassis types are 1 to 127", int(s.Chassis.Type))
	}
	for i, m := range s.MemoryDevices {
		if m.SizeMB < 0 {
			return p.errAt(fmt.Sprintf("smbios.memory_devices.%d.size_mb", i), "negative size")
		}
	}
	return nil
}

func (p *Profile) validateVM() error {
	v := &p.VM
	switch v.Machine {
	case "", "q35", "pc":
	default:
		return p.errAt("vm.machine", "%q: want q35 or pc (microvm drops ACPI tables and has no SMBIOS)", v.Machine)
	}
	switch v.Firmware {
	case "", "seabios", "ovmf":
	default:
		return p.errAt("vm.firmware", "%q: want seabios or ovmf", v.Firmware)
	}
	if v.MemoryMB != 0 && (v.MemoryMB < 64 || v.MemoryMB > 65536) {
		return p.errAt("vm.memory_mb", "%d: want 64 to 65536", v.MemoryMB)
	}
	if v.CPUs != 0 && (v.CPUs < 1 || v.CPUs > 64) {
		return p.errAt("vm.cpus", "%d: want 1 to 64", v.CPUs)
	}
	if len(v.NICs) > MaxNICs {
		return p.errAt("vm.nics", "%d NICs; a machine takes at most %d", len(v.NICs), MaxNICs)
	}
	if len(v.Disks) > MaxDisks {
		return p.errAt("vm.disks", "%d disks; a machine takes at most %d", len(v.Disks), MaxDisks)
	}
	seen := map[string]int{}
	for i, n := range v.NICs {
		hw, err := net.ParseMAC(n.MAC)
		field := fmt.Sprintf("vm.nics.%d.mac", i)
		if err != nil || len(hw) != 6 {
			return p.errAt(field, "%q is not a MAC address (aa:bb:cc:dd:ee:ff)", n.MAC)
		}
		if hw[0]&1 == 1 {
			return p.errAt(field, "%s is a multicast address; a NIC needs a unicast MAC", n.MAC)
		}
		if j, dup := seen[hw.String()]; dup {
			return p.errAt(field, "%s is also NIC %d's MAC", n.MAC, j)
		}
		seen[hw.String()] = i
	}
	return p.validateDisks()
}

func (p *Profile) checkFile(name string) error {
	// A folder is accepted too: captured SMBIOS may be a sysfs-style pair.
	if _, err := os.Stat(p.Resolve(name)); err != nil {
		return fmt.Errorf("%s: %w", name, errors.Unwrap(err))
	}
	return nil
}

// asciiID checks an ACPI OEM field: printable ASCII, at most n bytes (padded with spaces when
// written). Empty is allowed here; callers require it where needed.
func asciiID(s string, n int) error {
	if len(s) > n {
		return fmt.Errorf("%q is %d bytes, at most %d", s, len(s), n)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return fmt.Errorf("%q: byte %d is not printable ASCII", s, i)
		}
	}
	return nil
}

// ParseSLICVersion reads "2.1" or a number ("0x00020001", "131073").
func ParseSLICVersion(s string) (uint32, error) {
	if m := versionRe().FindStringSubmatch(s); m != nil {
		maj, err1 := strconv.ParseUint(m[1], 10, 16)
		min, err2 := strconv.ParseUint(m[2], 10, 16)
		if err1 != nil || err2 != nil {
			return 0, fmt.Errorf("%q: version parts must fit 16 bits", s)
		}
		return uint32(maj)<<16 | uint32(min), nil
	}
	v, err := strconv.ParseUint(s, 0, 32)
	if err != nil {
		return 0, fmt.Errorf("%q is not a SLIC version (2.0, 2.1, 2.2, 2.3 or a number like 0x00020001)", s)
	}
	return uint32(v), nil
}
