package profile

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/oemact/oemact/smbios"
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
	// What Parse worked out of the disks' files is not in the YAML.
	c.VM.Disks = append([]Disk(nil), p.VM.Disks...)
	return c, nil
}

// identityValue finds the profile field that holds the SMBIOS identity field key: the section
// and field of the same YAML names ("system.serial_number" is SMBIOS.System.SerialNumber). The
// value is a string or an int field; create makes a missing section, else a missing section
// gives an invalid Value.
func (s *SMBIOS) identityValue(key string, create bool) (reflect.Value, error) {
	f, err := smbios.LookupIdentityField(key)
	if err != nil {
		return reflect.Value{}, err
	}
	sec, ok := yamlField(reflect.ValueOf(s).Elem(), f.Section())
	if !ok || sec.Kind() != reflect.Pointer || sec.Type().Elem().Kind() != reflect.Struct {
		return reflect.Value{}, fmt.Errorf("SMBIOS field %q: profiles have no %s section", key, f.Section())
	}
	if sec.IsNil() {
		if !create {
			return reflect.Value{}, nil
		}
		sec.Set(reflect.New(sec.Type().Elem()))
	}
	v, ok := yamlField(sec.Elem(), f.Field())
	if !ok || (v.Kind() != reflect.String && v.Kind() != reflect.Int) {
		return reflect.Value{}, fmt.Errorf("SMBIOS field %q: profiles have no such %s field", key, f.Section())
	}
	return v, nil
}

// yamlField returns the field of struct v whose YAML name is name.
func yamlField(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// identityText is the profile's value of an identity field as text, "" when the profile does not
// set it (an empty string, a zero number or a missing section).
func (s *SMBIOS) identityText(key string) (string, error) {
	v, err := s.identityValue(key, false)
	if err != nil || !v.IsValid() {
		return "", err
	}
	if v.Kind() == reflect.Int {
		if v.Int() == 0 {
			return "", nil
		}
		return strconv.FormatInt(v.Int(), 10), nil
	}
	return v.String(), nil
}

// SetSMBIOSField sets one SMBIOS identity field by its key (smbios.IdentityFields:
// "system.serial_number", "chassis.type"...) and validates the result as Parse would. A chassis
// type is a number or a dmidecode name. On an error the profile is left as it was.
func (p *Profile) SetSMBIOSField(name, value string) error {
	saved, err := p.Clone()
	if err != nil {
		return err
	}
	if err := p.setSMBIOSField(name, value); err != nil {
		p.SMBIOS = saved.SMBIOS
		return err
	}
	return nil
}

func (p *Profile) setSMBIOSField(name, value string) error {
	v, err := p.SMBIOS.identityValue(name, true)
	if err != nil {
		return err
	}
	if v.Kind() == reflect.Int {
		n, err := strconv.Atoi(value)
		if err != nil {
			ct, cerr := smbios.ParseChassisType(value)
			if cerr != nil {
				return fmt.Errorf("SMBIOS field %q: %w", name, cerr)
			}
			n = int(ct)
		}
		v.SetInt(int64(n))
	} else {
		v.SetString(value)
	}
	if p.SMBIOS.Version == "" && p.SMBIOS.File == "" {
		p.SMBIOS.Version = DefaultSMBIOS
	}
	return p.validateSMBIOS()
}
