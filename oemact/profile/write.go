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
	Args    string   // qemu.args: the QEMU arguments, one per line
	Libvirt string   // libvirt.xml: <sysinfo> and <os><acpi> fragments
}

// Write puts the tables in dir: SLIC.bin, MSDM.bin, smbios/NNN-typeTTT-0xHHHH.bin (one structure
// each), smbios.bin (dump-bin), sysfs/{smbios_entry_point,DMI}, qemu.args and libvirt.xml.
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
	args := t.QEMUArgs(f)
	var b strings.Builder
	b.WriteString("# QEMU arguments that carry this profile's firmware identity, one per line.\n")
	b.WriteString("# Use: qemu-system-x86_64 $(grep -v '^#' qemu.args) ...\n")
	for _, a := range args {
		b.WriteString(a)
		b.WriteByte('\n')
	}
	if f.Args, err = write("qemu.args", []byte(b.String())); err != nil {
		return nil, err
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
	XMLName    xml.Name `xml:"sysinfo"`
	Type       string   `xml:"type,attr"`
	BIOS       *entries `xml:"bios"`
	System     *entries `xml:"system"`
	BaseBoard  *entries `xml:"baseBoard"`
	Chassis    *entries `xml:"chassis"`
	OEMStrings *entries `xml:"oemStrings"`
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
// the identity libvirt can express, and <os> with <smbios mode='sysinfo'/> and the ACPI tables.
// libvirt's sysinfo cannot express everything a structure file can (memory devices, processor
// strings); qemu.args carries the exact structures.
func (t *Tables) LibvirtXML(f *Files) ([]byte, error) {
	si := sysinfo{Type: "smbios"}
	if in := t.SMBIOS; in != nil {
		if b, err := in.BIOS(); err == nil {
			add(&si.BIOS, "vendor", b.Vendor)
			add(&si.BIOS, "version", b.Version)
			add(&si.BIOS, "date", b.ReleaseDate)
		}
		if s, err := in.System(); err == nil {
			add(&si.System, "manufacturer", s.Manufacturer)
			add(&si.System, "product", s.ProductName)
			add(&si.System, "version", s.Version)
			add(&si.System, "serial", s.SerialNumber)
			if !s.UUID.IsNotSettable() {
				add(&si.System, "uuid", s.UUID.String())
			}
			add(&si.System, "sku", s.SKUNumber)
			add(&si.System, "family", s.Family)
		}
		if bs, err := in.Baseboards(); err == nil && len(bs) > 0 {
			add(&si.BaseBoard, "manufacturer", bs[0].Manufacturer)
			add(&si.BaseBoard, "product", bs[0].Product)
			add(&si.BaseBoard, "version", bs[0].Version)
			add(&si.BaseBoard, "serial", bs[0].SerialNumber)
			add(&si.BaseBoard, "asset", bs[0].AssetTag)
		}
		if cs, err := in.Chassis(); err == nil && len(cs) > 0 {
			add(&si.Chassis, "manufacturer", cs[0].Manufacturer)
			add(&si.Chassis, "version", cs[0].Version)
			add(&si.Chassis, "serial", cs[0].SerialNumber)
			add(&si.Chassis, "asset", cs[0].AssetTag)
			add(&si.Chassis, "sku", cs[0].SKUNumber)
		}
		if os, err := in.OEMStrings(); err == nil {
			for _, o := range os {
				for _, s := range o.Strings {
					add(&si.OEMStrings, "", s)
				}
			}
		}
	}
	o := osElem{SMBIOS: &smbiosMode{Mode: "sysinfo"}}
	abs := func(p string) string {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	if f.SLIC != "" {
		o.Tables = append(o.Tables, acpiTable{Type: "slic", Path: abs(f.SLIC)})
	}
	if f.MSDM != "" {
		o.Tables = append(o.Tables, acpiTable{Type: "msdm", Path: abs(f.MSDM)})
	}
	var b strings.Builder
	b.WriteString("<!-- libvirt domain fragments for profile " + xmlComment(t.Profile.Name) + ".\n")
	b.WriteString("     Put <sysinfo> under <domain> and merge <os> into the domain's <os>. libvirt requires\n")
	b.WriteString("     the sysinfo system uuid to equal the domain <uuid>. <table type='msdm'> needs a libvirt\n")
	b.WriteString("     that knows MSDM tables; with an older one pass MSDM.bin through <qemu:commandline>\n")
	b.WriteString("     as -acpitable file=... (see qemu.args). -->\n")
	for _, v := range []any{si, o} {
		x, err := xml.MarshalIndent(v, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("synth: libvirt XML: %w", err)
		}
		b.Write(x)
		b.WriteByte('\n')
	}
	return []byte(b.String()), nil
}

func xmlComment(s string) string { return strings.ReplaceAll(s, "--", "- -") }
