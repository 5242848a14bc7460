package smbios

import "fmt"

// ByType returns the structures of type t in table order.
func (t *Table) ByType(typ uint8) []*Structure {
	var out []*Structure
	for _, s := range t.Structures {
		if s.Type == typ {
			out = append(out, s)
		}
	}
	return out
}

// ByHandle returns the structure with handle h, or nil.
func (t *Table) ByHandle(h uint16) *Structure {
	for _, s := range t.Structures {
		if s.Handle == h {
			return s
		}
	}
	return nil
}

// Replace puts s in place of the structure with the same handle (and type), keeping its position.
func (t *Table) Replace(s *Structure) error {
	for i, old := range t.Structures {
		if old.Handle == s.Handle {
			if old.Type != s.Type {
				return fmt.Errorf("smbios: handle 0x%04X is a type %d structure, not type %d", s.Handle, old.Type, s.Type)
			}
			s.Offset = old.Offset
			t.Structures[i] = s
			return nil
		}
	}
	return fmt.Errorf("smbios: no structure with handle 0x%04X", s.Handle)
}

// Update encodes a typed view and puts it in place of the structure it was decoded from (same
// handle). This is how a profile changes one field of a captured table:
//
//	sys, _ := info.System()
//	sys.SerialNumber = "TEST-0001"
//	err := info.Update(sys)
func (in *Info) Update(v Typed) error {
	s, err := v.Structure()
	if err != nil {
		return err
	}
	return in.Replace(s)
}

func firstOf[T any](in *Info, typ uint8, parse func(*Structure, Version) (T, error)) (T, error) {
	var zero T
	for _, s := range in.Structures {
		if s.Type == typ {
			return parse(s, in.Version)
		}
	}
	return zero, fmt.Errorf("smbios: no type %d structure in the table", typ)
}

func allOf[T any](in *Info, typ uint8, parse func(*Structure, Version) (T, error)) ([]T, error) {
	var out []T
	for _, s := range in.Structures {
		if s.Type == typ {
			v, err := parse(s, in.Version)
			if err != nil {
				return out, err
			}
			out = append(out, v)
		}
	}
	return out, nil
}

// BIOS returns the first type 0 structure.
func (in *Info) BIOS() (*BIOSInfo, error) { return firstOf(in, 0, ParseBIOSInfo) }

// System returns the first type 1 structure.
func (in *Info) System() (*SystemInfo, error) { return firstOf(in, 1, ParseSystemInfo) }

// Baseboards returns every type 2 structure.
func (in *Info) Baseboards() ([]*BaseboardInfo, error) { return allOf(in, 2, ParseBaseboardInfo) }

// Chassis returns every type 3 structure.
func (in *Info) Chassis() ([]*ChassisInfo, error) { return allOf(in, 3, ParseChassisInfo) }

// Processors returns every type 4 structure.
func (in *Info) Processors() ([]*ProcessorInfo, error) { return allOf(in, 4, ParseProcessorInfo) }

// OEMStrings returns every type 11 structure.
func (in *Info) OEMStrings() ([]*OEMStrings, error) { return allOf(in, 11, ParseOEMStrings) }

// MemoryArrays returns every type 16 structure.
func (in *Info) MemoryArrays() ([]*PhysicalMemoryArray, error) {
	return allOf(in, 16, ParsePhysicalMemoryArray)
}

// MemoryDevices returns every type 17 structure.
func (in *Info) MemoryDevices() ([]*MemoryDevice, error) { return allOf(in, 17, ParseMemoryDevice) }
