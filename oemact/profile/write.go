package profile

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Files are the paths Write produced, as the caller named the folder (relative or absolute).
type Files struct {
	Dir     string
	SLIC    string   // SLIC.bin, or "" without a SLIC
	MSDM    string   // MSDM.bin, or ""
	SMBIOS  []string // one structure per file, for -smbios file=, in table order
	DumpBin string   // smbios.bin: the table in dmidecode --dump-bin form
	Sysfs   string   // sysfs/: smbios_entry_point and DMI, as Linux exposes them
	Libvirt string   // libvirt.xml: <sysinfo> and <os><acpi> fragments
}

// Marker returns the file of a marker table by signature ("" when the profile has none).
func (f *Files) Marker(sig string) string {
	switch sig {
	case "SLIC":
		return f.SLIC
	case "MSDM":
		return f.MSDM
	}
	return ""
}

// Write puts the tables in dir: SLIC.bin, MSDM.bin, smbios/NNN-typeTTT-0xHHHH.bin (one structure
// each), smbios.bin (dump-bin), sysfs/{smbios_entry_point,DMI} and libvirt.xml (the QEMU arguments are the QEMU engine's:
// harness/engine/qemuvm.WriteSynthArgs).
func (t *Tables) Write(dir string) (*Files, error) {
	f := &Files{Dir: dir}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	write := func(name string, b []byte) (string, error) {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return "", fmt.Errorf("synth: %w", err)
		}
		return path, nil
	}
	var err error
	if t.SLIC != nil {
		if f.SLIC, err = write("SLIC.bin", t.SLIC); err != nil {
			return nil, err
		}
	}
	if t.MSDM != nil {
		if f.MSDM, err = write("MSDM.bin", t.MSDM); err != nil {
			return nil, err
		}
	}
	if t.SMBIOS != nil {
		structDir := filepath.Join(dir, "smbios")
		if err := os.RemoveAll(structDir); err != nil {
			return nil, fmt.Errorf("synth: %w", err)
		}
		names, err := t.SMBIOS.WriteQEMUFiles(structDir)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			f.SMBIOS = append(f.SMBIOS, filepath.Join(structDir, n))
		}
		f.DumpBin = filepath.Join(dir, "smbios.bin")
		if err := t.SMBIOS.WriteDumpBin(f.DumpBin); err != nil {
			return nil, err
		}
		f.Sysfs = filepath.Join(dir, "sysfs")
		if err := t.SMBIOS.WriteSysfs(f.Sysfs); err != nil {
			return nil, err
		}
	}
	x, err := t.LibvirtXML(f)
	if err != nil {
		return nil, err
	}
	if f.Libvirt, err = write("libvirt.xml", x); err != nil {
		return nil, err
	}
	return f, nil
}

type entry struct {
	Name  string `xml:"name,attr,omitempty"`
	Value string `xml:",chardata"`
}

type entries struct {
	Entries []entry `xml:"entry"`
}

type sysinfo struct {
	XMLName    xml.Name   `xml:"sysinfo"`
	Type       string     `xml:"type,attr"`
	BIOS       *entries   `xml:"bios"`
	System     *entries   `xml:"system"`
	BaseBoards []*entries `xml:"baseBoard"`
	Chassis    *entries   `xml:"chassis"`
	OEMStrings *entries   `xml:"oemStrings"`
}

type acpiTable struct {
	Type string `xml:"type,attr"`
	Path string `xml:",chardata"`
}

type osElem struct {
	XMLName xml.Name    `xml:"os"`
	SMBIOS  *smbiosMode `xml:"smbios"`
	Tables  []acpiTable `xml:"acpi>table"`
}

type smbiosMode struct {
	Mode string `xml:"mode,attr"`
}

// QEMUNamespace is the namespace of libvirt's <qemu:commandline>.
const QEMUNamespace = "http://libvirt.org/schemas/domain/qemu/1.0"

type qemuCommandline struct {
	XMLName xml.Name  `xml:"qemu:commandline"`
	NS      string    `xml:"xmlns:qemu,attr"`
	Args    []qemuArg `xml:"qemu:arg"`
}

type qemuArg struct {
	Value string `xml:"value,attr"`
}

func add(e **entries, name, value string) {
	if value == "" {
		return
	}
	if *e == nil {
		*e = &entries{}
	}
	(*e).Entries = append((*e).Entries, entry{Name: name, Value: value})
}

// LibvirtXML returns the libvirt domain fragments for the profile: <sysinfo type='smbios'> with
// every identity field libvirt's schema accepts, <os> with <smbios mode='sysinfo'/> and the SLIC
// as <acpi><table type='slic'>, and, for an MSDM, a <qemu:commandline> passing it to QEMU as
// -acpitable: libvirt 9.0's schema (Debian 12) knows only SLIC tables. A comment lists what the
// profile's tables hold that libvirt cannot carry; qemu.args carries every structure exactly.
// File paths are absolute.
func (t *Tables) LibvirtXML(f *Files) ([]byte, error) {
	si, lost := t.libvirtSysinfo()
	o := osElem{SMBIOS: &smbiosMode{Mode: "sysinfo"}}
	var cmd *qemuCommandline
	if f.SLIC != "" {
		o.Tables = append(o.Tables, acpiTable{Type: "slic", Path: absPath(f.SLIC)})
	}
	if f.MSDM != "" {
		cmd = &qemuCommandline{NS: QEMUNamespace, Args: []qemuArg{{"-acpitable"}, {"file=" + qemuOptValue(absPath(f.MSDM))}}}
	}
	if p := t.Profile; f.SLIC == "" && (p.ACPI.OEMID != "" || p.ACPI.OEMTableID != "") {
		// QEMU copies a SLIC's header IDs into the RSDT and FADT; without one libvirt has no way to
		// set them.
		lost = append(lost, fmt.Sprintf("the RSDT/XSDT/FADT OEM IDs %s/%s (QEMU's -machine x-oem-id, x-oem-table-id; a SLIC would bring them)",
			xmlComment(p.ACPI.OEMID), xmlComment(p.ACPI.OEMTableID)))
	}
	var b strings.Builder
	b.WriteString("<!-- libvirt domain fragments for profile " + xmlComment(t.Profile.Name) + ".\n")
	b.WriteString("     Put <sysinfo> and <qemu:commandline> under <domain xmlns:qemu='" + QEMUNamespace + "'>\n")
	b.WriteString("     and merge <os> into the domain's <os>. libvirt requires the sysinfo system uuid to equal the\n")
	b.WriteString("     domain <uuid>. Paths are absolute: synthesize again after moving this folder.\n")
	if cmd != nil {
		b.WriteString("     The MSDM goes through <qemu:commandline> as -acpitable: libvirt 9.0's schema (Debian 12)\n")
		b.WriteString("     has no <table type='msdm'>.\n")
	}
	if len(lost) > 0 {
		b.WriteString("     libvirt cannot carry (qemu.args does, structure for structure):\n")
		for _, l := range lost {
			b.WriteString("       - " + l + "\n")
		}
	}
	b.WriteString("-->\n")
	for _, v := range []any{si, o, cmd} {
		if v == (*qemuCommandline)(nil) {
			continue
		}
		x, err := xml.MarshalIndent(v, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("synth: libvirt XML: %w", err)
		}
		b.Write(x)
		b.WriteByte('\n')
	}
	return []byte(b.String()), nil
}

// libvirtSysinfo is the <sysinfo> libvirt 9.0's schema accepts for the tables' identity, and
// what of the tables it leaves out.
func (t *Tables) libvirtSysinfo() (sysinfo, []string) {
	si := sysinfo{Type: "smbios"}
	in := t.SMBIOS
	if in == nil {
		return si, nil
	}
	var lost []string
	if b, err := in.BIOS(); err == nil {
		add(&si.BIOS, "vendor", b.Vendor)
		add(&si.BIOS, "version", b.Version)
		if libvirtDate(b.ReleaseDate) {
			add(&si.BIOS, "date", b.ReleaseDate)
		} else if b.ReleaseDate != "" {
			lost = append(lost, fmt.Sprintf("the BIOS release date %q: libvirt takes mm/dd/yy or mm/dd/yyyy only", xmlComment(b.ReleaseDate)))
		}
		add(&si.BIOS, "release", b.Revision())
		lost = append(lost, "BIOS characteristics, ROM size and embedded controller release (type 0)")
	}
	if s, err := in.System(); err == nil {
		add(&si.System, "manufacturer", s.Manufacturer)
		add(&si.System, "product", s.ProductName)
		add(&si.System, "version", s.Version)
		add(&si.System, "serial", s.SerialNumber)
		if !s.UUID.IsNotSettable() && !s.UUID.IsNotPresent() {
			add(&si.System, "uuid", s.UUID.String())
		}
		add(&si.System, "sku", s.SKUNumber)
		add(&si.System, "family", s.Family)
		lost = append(lost, "the system wake-up type (type 1)")
	}
	if bs, err := in.Baseboards(); err == nil {
		for _, bb := range bs {
			var e *entries
			add(&e, "manufacturer", bb.Manufacturer)
			add(&e, "product", bb.Product)
			add(&e, "version", bb.Version)
			add(&e, "serial", bb.SerialNumber)
			add(&e, "asset", bb.AssetTag)
			add(&e, "location", bb.LocationInChassis)
			if e != nil {
				si.BaseBoards = append(si.BaseBoards, e)
			}
		}
		if len(bs) > 0 {
			lost = append(lost, "the baseboard's type and feature flags (type 2)")
		}
	}
	if cs, err := in.Chassis(); err == nil && len(cs) > 0 {
		add(&si.Chassis, "manufacturer", cs[0].Manufacturer)
		add(&si.Chassis, "version", cs[0].Version)
		add(&si.Chassis, "serial", cs[0].SerialNumber)
		add(&si.Chassis, "asset", cs[0].AssetTag)
		add(&si.Chassis, "sku", cs[0].SKUNumber)
		lost = append(lost, fmt.Sprintf("the chassis type (%d, %s), lock and states (type 3)", uint8(cs[0].Type()), cs[0].Type()))
		if len(cs) > 1 {
			lost = append(lost, plural(len(cs)-1, "more chassis structure")+" (libvirt has one <chassis>)")
		}
	}
	if os, err := in.OEMStrings(); err == nil {
		for _, o := range os {
			for _, s := range o.Strings {
				add(&si.OEMStrings, "", s)
			}
		}
	}
	if ps, err := in.Processors(); err == nil && len(ps) > 0 {
		lost = append(lost, plural(len(ps), "processor structure")+" (type 4): QEMU writes its own")
	}
	if ms, err := in.MemoryDevices(); err == nil && len(ms) > 0 {
		lost = append(lost, plural(len(ms), "memory device structure")+" (type 17): QEMU writes its own")
	}
	if ep := in.EntryPoint; ep != nil {
		lost = append(lost, fmt.Sprintf("the SMBIOS version %s and its %s entry point: QEMU chooses them", in.Version, ep.Kind))
	}
	return si, lost
}

// libvirtDate reports whether libvirt accepts a BIOS date: mm/dd/yy or mm/dd/yyyy, digits.
func libvirtDate(d string) bool {
	if len(d) != 8 && len(d) != 10 {
		return false
	}
	for i := 0; i < len(d); i++ {
		if (i == 2 || i == 5) != (d[i] == '/') || d[i] != '/' && (d[i] < '0' || d[i] > '9') {
			return false
		}
	}
	return true
}

// absPath makes a written file's path absolute, so that the arguments and the XML work from any
// folder. Write created the file, so the working folder resolves it.
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func xmlComment(s string) string { return strings.ReplaceAll(s, "--", "- -") }
