package smbios

import "fmt"

// OEMStrings is SMBIOS type 11: free-form strings the OEM defines (part numbers, build IDs,
// "[MS_VM_CERT/...]" on Hyper-V).
type OEMStrings struct {
	Header
	// Strings are the Count strings in order, as a reader finds them ("" for a bad number).
	Strings []string
}

const oemStringsMinLength = 0x05

// ParseOEMStrings decodes a type 11 structure.
func ParseOEMStrings(s *Structure, v Version) (*OEMStrings, error) {
	if err := checkType(s, 11, oemStringsMinLength); err != nil {
		return nil, err
	}
	o := &OEMStrings{}
	decodeFields(&o.Header, s, v, nil)
	n, _ := s.Byte(0x04)
	for i := 1; i <= int(n); i++ {
		str, _ := s.String(uint8(i))
		o.Strings = append(o.Strings, str)
	}
	return o, nil
}

func (o *OEMStrings) unchanged() bool {
	if o.raw == nil {
		return false
	}
	n, _ := o.raw.Byte(0x04)
	if int(n) != len(o.Strings) {
		return false
	}
	for i, s := range o.Strings {
		if got, _ := o.raw.String(uint8(i + 1)); got != s {
			return false
		}
	}
	return true
}

// Structure encodes the OEM strings. Unchanged strings keep their bytes; otherwise the string
// set is exactly Strings.
func (o *OEMStrings) Structure() (*Structure, error) {
	if o.unchanged() {
		return o.raw.Clone(), nil
	}
	if len(o.Strings) > 0xFF {
		return nil, fmt.Errorf("smbios: type 11 handle 0x%04X: %d OEM strings, at most 255", o.Handle, len(o.Strings))
	}
	length := max(int(o.Length), oemStringsMinLength)
	s := &Structure{Type: 11, Handle: o.Handle, Formatted: make([]byte, length-4), Offset: -1}
	if o.raw != nil {
		copy(s.Formatted, o.raw.Formatted)
	}
	s.Formatted[0] = uint8(len(o.Strings))
	for i, str := range o.Strings {
		if str == "" {
			return nil, fmt.Errorf("smbios: type 11 handle 0x%04X: OEM string %d is empty; SMBIOS strings cannot be empty", o.Handle, i+1)
		}
		for j := 0; j < len(str); j++ {
			if str[j] == 0 {
				return nil, fmt.Errorf("smbios: type 11 handle 0x%04X: OEM string %d contains a NUL byte", o.Handle, i+1)
			}
		}
	}
	s.Strings = append([]string(nil), o.Strings...)
	return s, nil
}

// Fields renders the structure as dmidecode 3.4 does.
func (o *OEMStrings) Fields() []Field {
	if !o.present(oemStringsMinLength) {
		return nil
	}
	var fs []Field
	for i, s := range o.Strings {
		v := asciiFilter(s)
		if s == "" {
			v = "<BAD INDEX>"
		}
		fs = append(fs, attr(fmt.Sprintf("String %d", i+1), v))
	}
	return fs
}

func (o *OEMStrings) String() string {
	return renderText(&o.Header, o.length(), TypeTitle(11), o.Fields())
}

func init() {
	registerType(&typeSpec{typ: 11, title: "OEM Strings", minLength: oemStringsMinLength,
		lengths: []versionLength{since(2, 0, 0x05)},
		parse:   parser(ParseOEMStrings)})
}

func (*OEMStrings) structureType() uint8 { return 11 }

func (o *OEMStrings) buildLength(v Version) int { return int(DefaultLength(11, v)) }

func (o *OEMStrings) setDefaults(*buildContext) {}
