package smbios

import "fmt"

// Builder assembles a structure table from typed values: the platform identity a firmware
// profile describes. Fields left zero get the defaults documented on Build; handles and the
// handles that refer to other structures are assigned when zero.
//
//	b := smbios.Builder{Version: smbios.Version{Major: 3, Minor: 2}}
//	b.BIOS = &smbios.BIOSInfo{Vendor: "TEST", Version: "1.0", ReleaseDate: "01/15/2024"}
//	b.System = &smbios.SystemInfo{Manufacturer: "TSTOEM", ProductName: "Test PC", SerialNumber: "TEST-0001", UUID: u}
//	info, err := b.Build(smbios.EntryPoint64)
//	err = info.WriteDumpBin("smbios.bin")
type Builder struct {
	// Version is the SMBIOS version of the table; zero means Latest. It sets each structure's
	// length (the fields that version defines) and the UUID byte order.
	Version       Version
	BIOS          *BIOSInfo
	System        *SystemInfo
	Baseboards    []*BaseboardInfo
	Chassis       []*ChassisInfo
	Processors    []*ProcessorInfo
	OEMStrings    []string // one type 11 structure holding them all, when not empty
	MemoryArrays  []*PhysicalMemoryArray
	MemoryDevices []*MemoryDevice
	// Extra structures of other types, added as given (their handles are kept when not zero).
	Extra []*Structure
}

// DefaultLength is the length a structure of type typ has in SMBIOS version v: its header and
// every field that version defines. For type 3 it excludes contained elements; for type 2 it
// includes the handle count but no handles. 0 means the builder does not know the type.
func DefaultLength(typ uint8, v Version) uint8 {
	v = v.Effective()
	at := v.AtLeast
	switch typ {
	case 0:
		switch {
		case at(3, 1):
			return 0x1A
		case at(2, 4):
			return 0x18
		case at(2, 3):
			return 0x14
		case at(2, 1):
			return 0x13
		}
		return 0x12
	case 1:
		switch {
		case at(2, 4):
			return 0x1B
		case at(2, 1):
			return 0x19
		}
		return 0x08
	case 2:
		return 0x0F
	case 3:
		switch {
		case at(2, 7):
			return 0x16
		case at(2, 3):
			return 0x15
		case at(2, 1):
			return 0x0D
		}
		return 0x09
	case 4:
		switch {
		case at(3, 6):
			return 0x32
		case at(3, 0):
			return 0x30
		case at(2, 6):
			return 0x2A
		case at(2, 5):
			return 0x28
		case at(2, 3):
			return 0x23
		case at(2, 1):
			return 0x20
		}
		return 0x1A
	case 11:
		return 0x05
	case 16:
		if at(2, 7) {
			return 0x17
		}
		return 0x0F
	case 17:
		switch {
		case at(3, 7):
			return 0x64
		case at(3, 3):
			return 0x5C
		case at(3, 2):
			return 0x54
		case at(2, 8):
			return 0x28
		case at(2, 7):
			return 0x22
		case at(2, 6):
			return 0x1C
		case at(2, 3):
			return 0x1B
		}
		return 0x15
	case EndOfTable:
		return 4
	}
	return 0
}

// SetSize sets the module size in bytes, choosing the encoding the specification asks for: KiB
// below 1 MiB, MiB up to 32 GiB - 1 MiB, the extended size beyond (SMBIOS 2.7). 0 means no
// module installed.
func (m *MemoryDevice) SetSize(bytes uint64) error {
	switch {
	case bytes == 0:
		m.Size, m.ExtendedSize = 0, 0
	case bytes < 1<<20:
		if bytes%1024 != 0 {
			return fmt.Errorf("smbios: memory size %d is not a whole number of KiB", bytes)
		}
		m.Size, m.ExtendedSize = uint16(bytes>>10)|0x8000, 0
	case bytes%(1<<20) != 0:
		return fmt.Errorf("smbios: memory size %d bytes is not a whole number of MiB", bytes)
	case bytes>>20 < 0x7FFF:
		m.Size, m.ExtendedSize = uint16(bytes>>20), 0
	case bytes>>20 <= 0x7FFFFFFF:
		m.Size, m.ExtendedSize = 0x7FFF, uint32(bytes>>20)
	default:
		return fmt.Errorf("smbios: memory size %d bytes exceeds what SMBIOS can describe", bytes)
	}
	return nil
}

// SetSpeed sets the module's maximum speed in MT/s, in the extended field (SMBIOS 3.3) when it
// does not fit 16 bits. SetConfiguredSpeed does the same for the configured speed.
func (m *MemoryDevice) SetSpeed(mts uint32) {
	if mts >= 0xFFFF {
		m.Speed, m.ExtendedSpeed = 0xFFFF, mts
	} else {
		m.Speed, m.ExtendedSpeed = uint16(mts), 0
	}
}

// SetConfiguredSpeed sets the configured speed in MT/s, like SetSpeed.
func (m *MemoryDevice) SetConfiguredSpeed(mts uint32) {
	if mts >= 0xFFFF {
		m.ConfiguredMemorySpeed, m.ExtendedConfiguredSpeed = 0xFFFF, mts
	} else {
		m.ConfiguredMemorySpeed, m.ExtendedConfiguredSpeed = uint16(mts), 0
	}
}

// SetVoltage sets the processor voltage in volts (one decimal, SMBIOS's current-voltage form,
// bit 7 set). Volts above 12.7 do not fit and are clamped.
func (p *ProcessorInfo) SetVoltage(volts float64) {
	d := int(volts*10 + 0.5)
	p.Voltage = 0x80 | uint8(min(max(d, 0), 0x7F))
}

// SetCounts sets core, enabled core and thread counts. Counts above 255 go in the 16-bit fields
// (SMBIOS 3.0, which they extend the structure to); the builder mirrors smaller ones there when
// the version has those fields.
func (p *ProcessorInfo) SetCounts(cores, enabled, threads int) {
	set := func(n int, small *uint8, big *uint16) {
		if n > 0xFF {
			*small, *big = 0xFF, uint16(min(n, 0xFFFE))
		} else {
			*small, *big = uint8(max(n, 0)), 0
		}
	}
	set(cores, &p.CoreCount, &p.CoreCount2)
	set(enabled, &p.CoreEnabled, &p.CoreEnabled2)
	set(threads, &p.ThreadCount, &p.ThreadCount2)
}

// Build encodes the table and gives it an entry point of the given kind. Zero fields get these
// defaults: BIOS and embedded-controller release 0xFF ("not provided") when both halves are
// zero; wake-up type "Power Switch"; baseboard type "Motherboard", feature "hosting board",
// chassis handle the first chassis; chassis type "Unknown", states "Safe", security "None";
// processor type "Central Processor", family "Unknown", status "populated, enabled", upgrade
// "Unknown", cache handles "not provided", family 2 and the 16-bit counts mirroring the 8-bit
// ones; one physical memory array (system board, system memory, no ECC, capacity the sum of
// the devices) when devices are given without one; memory devices in that array, widths 64
// bits when installed, form factor DIMM, type "Unknown", error handles "not provided".
func (b *Builder) Build(kind EntryPointKind) (*Info, error) {
	v := b.Version
	if v.IsZero() {
		v = Latest
	}
	if v.Major < 2 || v.Major > 3 {
		return nil, fmt.Errorf("smbios: cannot build SMBIOS %v: the major version must be 2 or 3", v)
	}
	if kind == EntryPoint64 && !v.AtLeast(3, 0) {
		return nil, fmt.Errorf("smbios: a _SM3_ entry point needs SMBIOS 3.0 or later, not %v: use _SM_ or a newer version", v)
	}
	if b.BIOS == nil || b.System == nil {
		return nil, fmt.Errorf("smbios: a table needs BIOS (type 0) and system (type 1) information")
	}

	// Copies, so that defaults and handles do not leak into the caller's values.
	bios, sys := *b.BIOS, *b.System
	var typed []Typed
	typed = append(typed, &bios, &sys)
	boards := make([]*BaseboardInfo, len(b.Baseboards))
	for i, x := range b.Baseboards {
		c := *x
		boards[i] = &c
	}
	chassis := make([]*ChassisInfo, len(b.Chassis))
	for i, x := range b.Chassis {
		c := *x
		chassis[i] = &c
	}
	procs := make([]*ProcessorInfo, len(b.Processors))
	for i, x := range b.Processors {
		c := *x
		procs[i] = &c
	}
	arrays := make([]*PhysicalMemoryArray, len(b.MemoryArrays))
	for i, x := range b.MemoryArrays {
		c := *x
		arrays[i] = &c
	}
	devices := make([]*MemoryDevice, len(b.MemoryDevices))
	for i, x := range b.MemoryDevices {
		c := *x
		devices[i] = &c
	}
	if len(devices) > 0 && len(arrays) == 0 {
		var total uint64
		for _, d := range devices {
			total += d.SizeBytes()
		}
		a := &PhysicalMemoryArray{Location: 0x03, Use: 0x03, ErrorCorrection: 0x03, NumberOfDevices: uint16(len(devices))}
		if kib := total >> 10; kib < 0x80000000 {
			a.MaximumCapacity = uint32(kib)
		} else {
			a.MaximumCapacity, a.ExtendedMaximumCapacity = 0x80000000, total
		}
		arrays = append(arrays, a)
	}
	for _, x := range boards {
		typed = append(typed, x)
	}
	for _, x := range chassis {
		typed = append(typed, x)
	}
	for _, x := range procs {
		typed = append(typed, x)
	}
	var oem *OEMStrings
	if len(b.OEMStrings) > 0 {
		oem = &OEMStrings{Strings: append([]string(nil), b.OEMStrings...)}
		typed = append(typed, oem)
	}
	for _, x := range arrays {
		typed = append(typed, x)
	}
	for _, x := range devices {
		typed = append(typed, x)
	}

	// Handles: keep the non-zero ones, number the rest in order from 0.
	used := map[uint16]bool{}
	for _, t := range typed {
		if h := t.header().Handle; h != 0 {
			if used[h] {
				return nil, fmt.Errorf("smbios: handle 0x%04X is used twice", h)
			}
			used[h] = true
		}
	}
	for _, s := range b.Extra {
		if s.Handle != 0 {
			if used[s.Handle] {
				return nil, fmt.Errorf("smbios: handle 0x%04X is used twice", s.Handle)
			}
			used[s.Handle] = true
		}
	}
	next := uint16(0)
	take := func() uint16 {
		for used[next] {
			next++
		}
		used[next] = true
		return next
	}
	for _, t := range typed {
		h := t.header()
		if h.Handle == 0 {
			h.Handle = take()
		}
	}
	extra := make([]*Structure, len(b.Extra))
	for i, s := range b.Extra {
		c := s.Clone()
		c.Offset = -1
		if c.Handle == 0 {
			c.Handle = take()
		}
		extra[i] = c
	}

	// Lengths for the version: every field it defines, more when a field beyond is set.
	for _, t := range typed {
		h := t.header()
		h.SetSMBIOSVersion(v)
		if h.Length != 0 {
			continue
		}
		n := int(DefaultLength(typeCode(t), v))
		switch x := t.(type) {
		case *BaseboardInfo:
			n += 2 * len(x.ContainedObjectHandles)
		case *ChassisInfo:
			n += len(x.ContainedElements)
		case *ProcessorInfo:
			n = grownLength(h, x.fields(), n)
		case *MemoryDevice:
			n = grownLength(h, x.fields(), n)
		}
		if n > 0xFF {
			return nil, fmt.Errorf("smbios: type %d handle 0x%04X would be %d bytes long, more than 255", typeCode(t), h.Handle, n)
		}
		h.Length = uint8(n)
	}

	// Defaults and cross references, for the fields each structure has.
	if bios.BIOSMajorRelease == 0 && bios.BIOSMinorRelease == 0 && bios.present(0x18) {
		bios.BIOSMajorRelease, bios.BIOSMinorRelease = 0xFF, 0xFF
	}
	if bios.ECMajorRelease == 0 && bios.ECMinorRelease == 0 && bios.present(0x18) {
		bios.ECMajorRelease, bios.ECMinorRelease = 0xFF, 0xFF
	}
	if sys.WakeUpType == 0 && sys.present(0x19) {
		sys.WakeUpType = 0x06
	}
	for _, x := range boards {
		if x.BoardType == 0 {
			x.BoardType = 0x0A
		}
		if x.FeatureFlags == 0 {
			x.FeatureFlags = 0x01
		}
		if x.ChassisHandle == 0 && len(chassis) > 0 {
			x.ChassisHandle = chassis[0].Handle
		}
	}
	for _, x := range chassis {
		if x.Type() == 0 {
			x.SetType(ChassisUnknown)
		}
		for _, st := range []*uint8{&x.BootUpState, &x.PowerSupplyState, &x.ThermalState, &x.SecurityStatus} {
			if *st == 0 {
				*st = 0x03
			}
		}
	}
	for _, x := range procs {
		if x.ProcessorType == 0 {
			x.ProcessorType = 0x03
		}
		if x.Family == 0 {
			x.Family = 0x02
		}
		if x.Family2 == 0 && x.Family != 0xFE && x.present(0x2A) {
			x.Family2 = uint16(x.Family)
		}
		if x.Status == 0 {
			x.Status = 0x41
		}
		if x.Upgrade == 0 {
			x.Upgrade = 0x02
		}
		if x.present(0x20) {
			for _, h := range []*uint16{&x.L1CacheHandle, &x.L2CacheHandle, &x.L3CacheHandle} {
				if *h == 0 {
					*h = 0xFFFF
				}
			}
		}
		if x.present(0x30) {
			// SMBIOS 3.0: the 16-bit counts repeat the 8-bit ones below 256.
			if x.CoreCount2 == 0 && x.CoreCount != 0xFF {
				x.CoreCount2 = uint16(x.CoreCount)
			}
			if x.CoreEnabled2 == 0 && x.CoreEnabled != 0xFF {
				x.CoreEnabled2 = uint16(x.CoreEnabled)
			}
			if x.ThreadCount2 == 0 && x.ThreadCount != 0xFF {
				x.ThreadCount2 = uint16(x.ThreadCount)
			}
		}
	}
	for _, a := range arrays {
		if a.ErrorInformationHandle == 0 {
			a.ErrorInformationHandle = 0xFFFE
		}
	}
	for _, d := range devices {
		if d.PhysicalMemoryArrayHandle == 0 && len(arrays) > 0 {
			d.PhysicalMemoryArrayHandle = arrays[0].Handle
		}
		if d.ErrorInformationHandle == 0 {
			d.ErrorInformationHandle = 0xFFFE
		}
		if d.Installed() {
			if d.TotalWidth == 0 {
				d.TotalWidth = 64
			}
			if d.DataWidth == 0 {
				d.DataWidth = 64
			}
		}
		if d.FormFactor == 0 {
			d.FormFactor = 0x09
		}
		if d.MemoryType == 0 {
			d.MemoryType = 0x02
		}
		if d.MemoryTechnology == 0 && d.present(0x29) {
			d.MemoryTechnology = 0x03 // DRAM
		}
	}

	// Encode in order of creation.
	var structs []*Structure
	for _, t := range typed {
		s, err := t.Structure()
		if err != nil {
			return nil, err
		}
		structs = append(structs, s)
	}
	structs = append(structs, extra...)
	structs = append(structs, &Structure{Type: EndOfTable, Handle: take(), Offset: -1})

	in := &Info{Format: FormatBuilt, Version: v, Table: Table{Structures: structs}}
	if err := in.SetEntryPoint(kind); err != nil {
		return nil, err
	}
	return in, nil
}

func typeCode(t Typed) uint8 {
	switch t.(type) {
	case *BIOSInfo:
		return 0
	case *SystemInfo:
		return 1
	case *BaseboardInfo:
		return 2
	case *ChassisInfo:
		return 3
	case *ProcessorInfo:
		return 4
	case *OEMStrings:
		return 11
	case *PhysicalMemoryArray:
		return 16
	case *MemoryDevice:
		return 17
	case *EndOfTableInfo:
		return EndOfTable
	}
	return 0
}
