package profile

import (
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Clone returns a deep copy that resolves relative file names as p does, so it can be changed
// (a scenario's SMBIOS edits) without touching p.
func (p *Profile) Clone() (*Profile, error) {
	b, err := yaml.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("profile %s: copy: %w", p.Name, err)
	}
	c := &Profile{}
	if err := yaml.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("profile %s: copy: %w", p.Name, err)
	}
	c.Path, c.doc = p.Path, p.doc
	return c, nil
}

// smbiosFields maps "section.field" to the string it sets, creating the section when needed.
func (s *SMBIOS) field(name string) (*string, error) {
	sec, f, ok := strings.Cut(name, ".")
	if !ok {
		return nil, fmt.Errorf("SMBIOS field %q: want section.field, e.g. system.serial_number", name)
	}
	var m map[string]*string
	switch sec {
	case "bios":
		if s.BIOS == nil {
			s.BIOS = &BIOS{}
		}
		b := s.BIOS
		m = map[string]*string{"vendor": &b.Vendor, "version": &b.Version, "release_date": &b.ReleaseDate}
	case "system":
		if s.System == nil {
			s.System = &System{}
		}
		y := s.System
		m = map[string]*string{"manufacturer": &y.Manufacturer, "product_name": &y.ProductName, "version": &y.Version,
			"serial_number": &y.SerialNumber, "uuid": &y.UUID, "sku_number": &y.SKUNumber, "family": &y.Family}
	case "baseboard":
		if s.Baseboard == nil {
			s.Baseboard = &Baseboard{}
		}
		b := s.Baseboard
		m = map[string]*string{"manufacturer": &b.Manufacturer, "product_name": &b.ProductName, "version": &b.Version,
			"serial_number": &b.SerialNumber, "asset_tag": &b.AssetTag}
	case "chassis":
		if s.Chassis == nil {
			s.Chassis = &Chassis{}
		}
		c := s.Chassis
		m = map[string]*string{"manufacturer": &c.Manufacturer, "version": &c.Version, "serial_number": &c.SerialNumber, "asset_tag": &c.AssetTag}
	default:
		return nil, fmt.Errorf("SMBIOS field %q: no section %q (bios, system, baseboard, chassis)", name, sec)
	}
	if ptr, ok := m[f]; ok {
		return ptr, nil
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, sec+"."+k)
	}
	sort.Strings(names)
	return nil, fmt.Errorf("SMBIOS field %q: not a string field (%s)", name, strings.Join(names, ", "))
}

// SetSMBIOSField sets one SMBIOS string field by name ("system.serial_number") and validates the
// result as Parse would.
func (p *Profile) SetSMBIOSField(name, value string) error {
	ptr, err := p.SMBIOS.field(name)
	if err != nil {
		return err
	}
	*ptr = value
	if p.SMBIOS.Version == "" && p.SMBIOS.File == "" {
		p.SMBIOS.Version = DefaultSMBIOS
	}
	return p.validateSMBIOS()
}
