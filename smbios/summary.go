package smbios

import (
	"fmt"
	"strings"
)

// Summary is the SMBIOS section of oemact inspect: the version, the entry point, and what
// identifies the machine. JSON field names are stable. Strings are the table's text; "" means the
// table does not specify the field.
type Summary struct {
	Version string `json:"version"`
	// EntryPoint is the anchor ("_SM3_", "_SM_", "_DMI_") or "none" for a bare table or RSMB blob.
	EntryPoint    string                `json:"entry_point"`
	BIOS          *BIOSSummary          `json:"bios"`
	System        *SystemSummary        `json:"system"`
	Baseboard     *BaseboardSummary     `json:"baseboard"`
	Chassis       *ChassisSummary       `json:"chassis"`
	Processors    []ProcessorSummary    `json:"processors"`
	MemoryDevices []MemoryDeviceSummary `json:"memory_devices"`
	OEMStrings    []string              `json:"oem_strings"`

	format         Format
	versionGuessed bool
}

// BIOSSummary is type 0.
type BIOSSummary struct {
	Handle           uint16 `json:"handle"`
	Vendor           string `json:"vendor"`
	Version          string `json:"version"`
	ReleaseDate      string `json:"release_date"`
	Revision         string `json:"revision,omitempty"`
	FirmwareRevision string `json:"firmware_revision,omitempty"`
	ROMSizeBytes     uint64 `json:"rom_size_bytes"`
	UEFI             bool   `json:"uefi"`
	VirtualMachine   bool   `json:"virtual_machine"`
}

// SystemSummary is type 1.
type SystemSummary struct {
	Handle       uint16 `json:"handle"`
	Manufacturer string `json:"manufacturer"`
	ProductName  string `json:"product_name"`
	Version      string `json:"version"`
	SerialNumber string `json:"serial_number"`
	// UUID in text form; "" when the structure predates UUIDs. All zero means "not settable",
	// all FF "not present".
	UUID      string `json:"uuid"`
	SKUNumber string `json:"sku_number"`
	Family    string `json:"family"`
}

// BaseboardSummary is the first type 2.
type BaseboardSummary struct {
	Handle       uint16 `json:"handle"`
	Manufacturer string `json:"manufacturer"`
	ProductName  string `json:"product_name"`
	Version      string `json:"version"`
	SerialNumber string `json:"serial_number"`
	AssetTag     string `json:"asset_tag"`
	Type         string `json:"type,omitempty"`
}

// ChassisSummary is the first type 3.
type ChassisSummary struct {
	Handle       uint16 `json:"handle"`
	Manufacturer string `json:"manufacturer"`
	Type         string `json:"type"`
	TypeCode     uint8  `json:"type_code"`
	Portable     bool   `json:"portable"`
	Version      string `json:"version"`
	SerialNumber string `json:"serial_number"`
	AssetTag     string `json:"asset_tag"`
	SKUNumber    string `json:"sku_number"`
}

// ProcessorSummary is one type 4.
type ProcessorSummary struct {
	Handle          uint16 `json:"handle"`
	Socket          string `json:"socket"`
	Manufacturer    string `json:"manufacturer"`
	Family          string `json:"family"`
	Version         string `json:"version"`
	ID              string `json:"id"`
	Signature       string `json:"signature,omitempty"`
	MaxSpeedMHz     int    `json:"max_speed_mhz"`
	CurrentSpeedMHz int    `json:"current_speed_mhz"`
	// Cores, CoresEnabled and Threads are null when the table says 0, which SMBIOS defines as
	// unknown.
	Cores        *int   `json:"cores"`
	CoresEnabled *int   `json:"cores_enabled"`
	Threads      *int   `json:"threads"`
	Populated    bool   `json:"populated"`
	SerialNumber string `json:"serial_number"`
	PartNumber   string `json:"part_number"`
}

// MemoryDeviceSummary is one type 17.
type MemoryDeviceSummary struct {
	Handle             uint16 `json:"handle"`
	Locator            string `json:"locator"`
	BankLocator        string `json:"bank_locator"`
	SizeBytes          uint64 `json:"size_bytes"`
	Size               string `json:"size"`
	FormFactor         string `json:"form_factor"`
	Type               string `json:"type"`
	SpeedMTs           uint32 `json:"speed_mts"`
	ConfiguredSpeedMTs uint32 `json:"configured_speed_mts"`
	Manufacturer       string `json:"manufacturer"`
	SerialNumber       string `json:"serial_number"`
	PartNumber         string `json:"part_number"`
}

// Summarize collects the summary from decoded data. Structures the data lacks stay nil (JSON
// null); lists are empty rather than null.
func Summarize(in *Info) *Summary {
	s := &Summary{Version: in.Version.String(), EntryPoint: "none", format: in.Format, versionGuessed: in.VersionGuessed,
		Processors: []ProcessorSummary{}, MemoryDevices: []MemoryDeviceSummary{}, OEMStrings: []string{}}
	if in.EntryPoint != nil {
		s.EntryPoint = in.EntryPoint.Kind.String()
	}
	if b, err := in.BIOS(); err == nil {
		s.BIOS = &BIOSSummary{Handle: b.Handle, Vendor: b.Vendor, Version: b.Version, ReleaseDate: b.ReleaseDate,
			Revision: b.Revision(), FirmwareRevision: b.FirmwareRevision(), ROMSizeBytes: b.ROMSizeBytes(),
			UEFI: b.UEFI(), VirtualMachine: b.VirtualMachine()}
	}
	if y, err := in.System(); err == nil {
		s.System = &SystemSummary{Handle: y.Handle, Manufacturer: y.Manufacturer, ProductName: y.ProductName, Version: y.Version,
			SerialNumber: y.SerialNumber, SKUNumber: y.SKUNumber, Family: y.Family}
		if y.HasUUID() {
			s.System.UUID = y.UUID.String()
		}
	}
	if bs, _ := in.Baseboards(); len(bs) > 0 {
		b := bs[0]
		s.Baseboard = &BaseboardSummary{Handle: b.Handle, Manufacturer: b.Manufacturer, ProductName: b.Product, Version: b.Version,
			SerialNumber: b.SerialNumber, AssetTag: b.AssetTag}
		if b.present(0x0E) {
			s.Baseboard.Type = b.BoardTypeName()
		}
	}
	if cs, _ := in.Chassis(); len(cs) > 0 {
		c := cs[0]
		s.Chassis = &ChassisSummary{Handle: c.Handle, Manufacturer: c.Manufacturer, Type: c.Type().String(), TypeCode: uint8(c.Type()),
			Portable: c.Type().Portable(), Version: c.Version, SerialNumber: c.SerialNumber, AssetTag: c.AssetTag,
			SKUNumber: c.SKUNumber}
	}
	ps, _ := in.Processors()
	for _, p := range ps {
		s.Processors = append(s.Processors, ProcessorSummary{Handle: p.Handle, Socket: p.SocketDesignation, Manufacturer: p.Manufacturer,
			Family: p.FamilyName(), Version: p.Version, ID: fmt.Sprintf("%016X", p.ID), Signature: p.Signature(),
			MaxSpeedMHz: int(p.MaxSpeed), CurrentSpeedMHz: int(p.CurrentSpeed), Cores: known(p.Cores()),
			CoresEnabled: known(p.EnabledCores()), Threads: known(p.Threads()), Populated: p.Populated(),
			SerialNumber: p.SerialNumber, PartNumber: p.PartNumber})
	}
	ms, _ := in.MemoryDevices()
	for _, m := range ms {
		s.MemoryDevices = append(s.MemoryDevices, MemoryDeviceSummary{Handle: m.Handle, Locator: m.DeviceLocator, BankLocator: m.BankLocator,
			SizeBytes: m.SizeBytes(), Size: m.SizeText(), FormFactor: m.FormFactorName(), Type: m.TypeName(),
			SpeedMTs: m.SpeedMTs(), ConfiguredSpeedMTs: m.ConfiguredSpeedMTs(), Manufacturer: m.Manufacturer,
			SerialNumber: m.SerialNumber, PartNumber: m.PartNumber})
	}
	oems, _ := in.OEMStrings()
	for _, o := range oems {
		s.OEMStrings = append(s.OEMStrings, o.Strings...)
	}
	return s
}

// known is n, or nil for 0 (SMBIOS's "unknown" for core and thread counts).
func known(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}

func countText(n *int) string {
	if n == nil {
		return "unknown"
	}
	return fmt.Sprint(*n)
}

// folded is one line of the text summary standing for one or more structures that read the
// same but for their designation (socket, locator): 64 unpopulated memory slots are one line.
type folded struct {
	body   string
	names  []string
	handle uint16
}

// fold adds a structure to the lines: to the line with the same body, or as a new one.
func fold(fs []folded, name string, handle uint16, body string) []folded {
	for i := range fs {
		if fs[i].body == body {
			fs[i].names = append(fs[i].names, name)
			return fs
		}
	}
	return append(fs, folded{body: body, names: []string{name}, handle: handle})
}

func (f folded) String() string {
	switch n := len(f.names); {
	case n == 1:
		return fmt.Sprintf("%s: %s (handle 0x%04X)", f.names[0], f.body, f.handle)
	case n <= 3:
		return fmt.Sprintf("%d x %s (%s)", n, f.body, strings.Join(f.names, ", "))
	default:
		return fmt.Sprintf("%d x %s (%s ... %s)", n, f.body, f.names[0], f.names[n-1])
	}
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return asciiFilter(s)
}

// Text renders the summary for people, one labelled line per item.
func (s *Summary) Text() string {
	var b strings.Builder
	ep := s.EntryPoint
	if ep == "none" {
		ep = "no entry point"
	} else {
		ep += " entry point"
	}
	guessed := ""
	if s.versionGuessed {
		guessed = " (guessed)"
	}
	fmt.Fprintf(&b, "SMBIOS %s%s, %s", s.Version, guessed, ep)
	if s.format != 0 {
		fmt.Fprintf(&b, ", %s", s.format)
	}
	b.WriteString("\n")
	line := func(label, format string, args ...any) {
		if label != "" {
			label += ":"
		}
		fmt.Fprintf(&b, "  %-12s %s\n", label, fmt.Sprintf(format, args...))
	}
	if x := s.BIOS; x != nil {
		extra := ""
		if x.Revision != "" {
			extra += ", revision " + x.Revision
		}
		if x.UEFI {
			extra += ", UEFI"
		}
		if x.VirtualMachine {
			extra += ", virtual machine"
		}
		line("BIOS", "%s %s (%s)%s (handle 0x%04X)", orDash(x.Vendor), orDash(x.Version), orDash(x.ReleaseDate), extra, x.Handle)
	}
	if x := s.System; x != nil {
		line("System", "%s %s, version %s (handle 0x%04X)", orDash(x.Manufacturer), orDash(x.ProductName), orDash(x.Version), x.Handle)
		line("", "serial %s, UUID %s", orDash(x.SerialNumber), orDash(x.UUID))
		line("", "SKU %s, family %s", orDash(x.SKUNumber), orDash(x.Family))
	}
	if x := s.Baseboard; x != nil {
		line("Baseboard", "%s %s, version %s, serial %s (handle 0x%04X)", orDash(x.Manufacturer), orDash(x.ProductName), orDash(x.Version), orDash(x.SerialNumber), x.Handle)
	}
	if x := s.Chassis; x != nil {
		line("Chassis", "%s, %s, serial %s, asset tag %s (handle 0x%04X)", x.Type, orDash(x.Manufacturer), orDash(x.SerialNumber), orDash(x.AssetTag), x.Handle)
	}
	var procs []folded
	for _, p := range s.Processors {
		body := fmt.Sprintf("%s (%s), %s cores, %s threads, max %d MHz", orDash(p.Version), p.Family, countText(p.Cores), countText(p.Threads), p.MaxSpeedMHz)
		if !p.Populated {
			body = "empty socket"
		}
		procs = fold(procs, orDash(p.Socket), p.Handle, body)
	}
	for _, f := range procs {
		line("Processor", "%s", f)
	}
	var mems []folded
	for _, m := range s.MemoryDevices {
		body := m.Size
		if m.SizeBytes != 0 {
			body = fmt.Sprintf("%s %s %s, %s %s, serial %s", m.Size, m.Type, m.FormFactor,
				orDash(m.Manufacturer), strings.TrimSpace(orDash(m.PartNumber)), orDash(m.SerialNumber))
		}
		mems = fold(mems, orDash(m.Locator), m.Handle, body)
	}
	for _, f := range mems {
		line("Memory", "%s", f)
	}
	for _, o := range s.OEMStrings {
		line("OEM string", "%s", orDash(o))
	}
	return b.String()
}
