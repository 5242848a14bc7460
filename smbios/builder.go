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
	typed, ctx := b.views()
	handles, err := newHandleSet(typed, b.Extra)
	if err != nil {
		return nil, err
	}
	for _, t := range typed {
		if h := t.header(); h.Handle == 0 {
			h.Handle = handles.take()
		}
	}
	extra := make([]*Structure, len(b.Extra))
	for i, s := range b.Extra {
		c := s.Clone()
		c.Offset = -1
		if c.Handle == 0 {
			c.Handle = handles.take()
		}
		extra[i] = c
	}

	// Lengths for the version: every field it defines, more when a list or a field beyond is set.
	for _, t := range typed {
		h := t.header()
		h.SetSMBIOSVersion(v)
		if h.Length != 0 {
			continue
		}
		n := t.buildLength(v)
		if n > 0xFF {
			return nil, fmt.Errorf("smbios: type %d handle 0x%04X would be %d bytes long, more than 255", t.structureType(), h.Handle, n)
		}
		h.Length = uint8(n)
	}
	// Defaults and cross references, for the fields each structure has (see each type's
	// setDefaults).
	for _, t := range typed {
		t.setDefaults(ctx)
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
	structs = append(structs, &Structure{Type: EndOfTable, Handle: handles.take(), Offset: -1})

	in := &Info{Format: FormatBuilt, Version: v, Table: Table{Structures: structs}}
	if err := in.SetEntryPoint(kind); err != nil {
		return nil, err
	}
	return in, nil
}

// views copies the builder's values, so that defaults and handles do not leak into the caller's,
// adds the memory array that devices given without one need, and lists them in table order.
func (b *Builder) views() ([]builtType, *buildContext) {
	bios, sys := *b.BIOS, *b.System
	ctx := &buildContext{chassis: clones(b.Chassis), arrays: clones(b.MemoryArrays)}
	devices := clones(b.MemoryDevices)
	if len(devices) > 0 && len(ctx.arrays) == 0 {
		ctx.arrays = append(ctx.arrays, arrayFor(devices))
	}
	typed := []builtType{&bios, &sys}
	typed = appendViews(typed, clones(b.Baseboards))
	typed = appendViews(typed, ctx.chassis)
	typed = appendViews(typed, clones(b.Processors))
	if len(b.OEMStrings) > 0 {
		typed = append(typed, &OEMStrings{Strings: append([]string(nil), b.OEMStrings...)})
	}
	typed = appendViews(typed, ctx.arrays)
	return appendViews(typed, devices), ctx
}

// arrayFor is the physical memory array the builder adds for devices given without one: on the
// system board, system memory, no ECC, its capacity the sum of the devices.
func arrayFor(devices []*MemoryDevice) *PhysicalMemoryArray {
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
	return a
}

func clones[T any](xs []*T) []*T {
	out := make([]*T, len(xs))
	for i, x := range xs {
		c := *x
		out[i] = &c
	}
	return out
}

func appendViews[T builtType](typed []builtType, xs []T) []builtType {
	for _, x := range xs {
		typed = append(typed, x)
	}
	return typed
}

// handleSet hands out the handles a table does not use yet, from 0 up.
type handleSet struct {
	used map[uint16]bool
	next uint16
}

// newHandleSet records the handles given (non-zero) and refuses one used twice.
func newHandleSet(typed []builtType, extra []*Structure) (*handleSet, error) {
	hs := &handleSet{used: map[uint16]bool{}}
	var given []uint16
	for _, t := range typed {
		given = append(given, t.header().Handle)
	}
	for _, s := range extra {
		given = append(given, s.Handle)
	}
	for _, h := range given {
		if h == 0 {
			continue
		}
		if hs.used[h] {
			return nil, fmt.Errorf("smbios: handle 0x%04X is used twice", h)
		}
		hs.used[h] = true
	}
	return hs, nil
}

func (hs *handleSet) take() uint16 {
	for hs.used[hs.next] {
		hs.next++
	}
	hs.used[hs.next] = true
	return hs.next
}
