package profile

import (
	"fmt"
	"strings"

	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/firmware/fileio"
	"github.com/oemact/oemact/firmware/fwimage"
	"github.com/oemact/oemact/firmware/productkey"
	"github.com/oemact/oemact/oemact/cert"
	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/tpm"
	"github.com/oemact/oemact/smbios"
)

// Tables are the firmware tables a profile describes, ready to hand to QEMU.
type Tables struct {
	Profile *Profile
	SLIC    []byte // nil when the profile has no SLIC
	MSDM    []byte // nil when the profile has no MSDM
	// MSDMKey is the TEST key in a synthesized MSDM (zero for a captured table).
	MSDMKey productkey.Key
	// SMBIOS is nil when the profile gives no SMBIOS: QEMU then writes its default structures.
	SMBIOS *smbios.Info
}

// Markers returns the marker tables in the order firmware.MarkerSignatures gives, named by
// signature: what a machine carrying the profile presents byte for byte.
func (t *Tables) Markers() []tpm.Table {
	var out []tpm.Table
	for _, sig := range firmware.MarkerSignatures() {
		if b := t.Marker(sig); b != nil {
			out = append(out, tpm.Table{Name: sig, Data: b})
		}
	}
	return out
}

// Marker returns the synthesized table of a marker signature (nil when the profile has none).
func (t *Tables) Marker(sig string) []byte {
	switch sig {
	case "SLIC":
		return t.SLIC
	case "MSDM":
		return t.MSDM
	}
	return nil
}

// Synthesize builds the profile's tables: a SLIC signed with the profile's TEST OEM key (or the
// captured SLIC, byte for byte), the MSDM, and the SMBIOS table.
func (p *Profile) Synthesize() (*Tables, error) {
	t := &Tables{Profile: p}
	var err error
	if s := p.Markers.SLIC; s != nil {
		if t.SLIC, err = p.slic(s); err != nil {
			return nil, err
		}
	}
	if m := p.Markers.MSDM; m != nil {
		if t.MSDM, t.MSDMKey, err = p.msdm(m); err != nil {
			return nil, err
		}
	}
	if t.SMBIOS, err = p.smbios(); err != nil {
		return nil, err
	}
	return t, nil
}

// readTable reads a captured ACPI table and checks that it is the table it claims to be; its
// bytes are used as they are (real tables are never altered).
func (p *Profile) readTable(field, name, sig string) ([]byte, error) {
	b, err := fileio.ReadFile(p.Resolve(name), fileio.TableLimit)
	if err != nil {
		return nil, p.errAt(field, "%v", err)
	}
	h, err := firmware.DecodeHeader(b)
	if err != nil {
		return nil, p.errAt(field, "%s: %v", name, err)
	}
	if h.Sig() != sig {
		if !fwimage.ValidSignature(h.Signature[:]) {
			// Not a table at all: say so without quoting the file's first bytes.
			return nil, p.errAt(field, "%s is not an ACPI table (no table signature at its start), not %s", name, sig)
		}
		return nil, p.errAt(field, "%s holds a %q table, not %s", name, h.Sig(), sig)
	}
	if int(h.Length) != len(b) {
		return nil, p.errAt(field, "%s: the header says %d bytes but the file has %d; QEMU's -acpitable needs the exact table", name, h.Length, len(b))
	}
	return b, nil
}

func (p *Profile) slic(s *SLIC) ([]byte, error) {
	if s.File != "" {
		return p.readTable("markers.slic.file", s.File, "SLIC")
	}
	pemBytes, err := fileio.ReadFile(p.Resolve(s.Key), fileio.YAMLLimit)
	if err != nil {
		return nil, p.errAt("markers.slic.key", "%v", err)
	}
	if !cert.IsTestLabelled(pemBytes) {
		return nil, p.errAt("markers.slic.key", "%s is not labelled as an oemact TEST key; markers are signed only with TEST keys made by 'oemact keygen'", s.Key)
	}
	priv, err := cert.ParsePrivateKeyPEM(pemBytes, p.Resolve(s.Key))
	if err != nil {
		return nil, p.errAt("markers.slic.key", "%v", err)
	}
	version, err := p.slicVersion(s)
	if err != nil {
		return nil, err
	}
	t, err := firmware.NewSLIC(firmware.SLICParams{
		OEMID: p.ACPI.OEMID, OEMTableID: p.ACPI.OEMTableID, OEMRevision: p.ACPI.OEMRevision,
		MarkerOEMID: s.MarkerOEMID, MarkerOEMTableID: s.MarkerOEMTableID,
	})
	if err != nil {
		return nil, p.errAt("markers.slic", "%v", err)
	}
	// NewSLIC reads a zero version as "default"; set the field itself so 0 stays 0.
	t.Marker.SLICVersion = version
	if err := t.SignMarker(priv); err != nil {
		return nil, p.errAt("markers.slic.key", "%v", err)
	}
	switch s.Tamper {
	case "signature":
		t.Marker.Signature[len(t.Marker.Signature)-1] ^= 0x01
	case "marker":
		t.Marker.Reserved[0] ^= 0x01
	}
	return t.Encode(), nil
}

func (p *Profile) slicVersion(s *SLIC) (uint32, error) {
	if s.Version != "" {
		return ParseSLICVersion(s.Version) // validated by Parse
	}
	r, err := edition.LookupRelease(s.Release)
	if err != nil {
		return 0, p.errAt("markers.slic.release", "%v", err)
	}
	if r.SLICVersion == 0 {
		return 0, p.errAt("markers.slic.release", "%s does not use SLIC markers (it uses the MSDM of OEM Activation 3.0); give markers.slic.version", r.Name)
	}
	return r.SLICVersion, nil
}

func (p *Profile) msdm(m *MSDM) ([]byte, productkey.Key, error) {
	if m.File != "" {
		b, err := p.readTable("markers.msdm.file", m.File, "MSDM")
		return b, productkey.Key{}, err
	}
	key := productkey.Derive(m.KeyLabel)
	t, err := firmware.NewMSDM(firmware.MSDMParams{
		OEMID: p.ACPI.OEMID, OEMTableID: p.ACPI.OEMTableID, OEMRevision: p.ACPI.OEMRevision,
		Key: key.Reveal(),
	})
	if err != nil {
		return nil, productkey.Key{}, p.errAt("markers.msdm", "%v", err)
	}
	return t.Encode(), key, nil
}

func (p *Profile) smbios() (*smbios.Info, error) {
	s := &p.SMBIOS
	if s.Empty() {
		return nil, nil
	}
	if s.File != "" {
		in, err := smbios.Read(p.Resolve(s.File))
		if err != nil {
			return nil, p.errAt("smbios.file", "%v", err)
		}
		if err := p.overrideSMBIOS(in); err != nil {
			return nil, err
		}
		if s.EntryPoint != "" {
			kind, err := entryPointKind(s.EntryPoint)
			if err != nil {
				return nil, p.errAt("smbios.entry_point", "%v", err)
			}
			if err := in.SetEntryPoint(kind); err != nil {
				return nil, p.errAt("smbios.entry_point", "%v", err)
			}
		}
		return in, nil
	}
	v, err := smbios.ParseVersion(s.Version)
	if err != nil {
		return nil, p.errAt("smbios.version", "%v", err)
	}
	b := smbios.Builder{Version: v, BIOS: &smbios.BIOSInfo{}, System: &smbios.SystemInfo{}}
	if s.Baseboard != nil {
		b.Baseboards = []*smbios.BaseboardInfo{{}}
	}
	if s.Chassis != nil {
		b.Chassis = []*smbios.ChassisInfo{{}}
	}
	if err := p.applyIdentities(b.BIOS, b.System, first(b.Baseboards), first(b.Chassis)); err != nil {
		return nil, err
	}
	for i := range s.Processors {
		b.Processors = append(b.Processors, p.processorInfo(i, &smbios.ProcessorInfo{}))
	}
	b.OEMStrings = s.OEMStrings
	for i := range s.MemoryDevices {
		d, err := p.memoryDevice(i, &smbios.MemoryDevice{})
		if err != nil {
			return nil, err
		}
		b.MemoryDevices = append(b.MemoryDevices, d)
	}
	kind := smbios.EntryPoint32
	if s.EntryPoint == "64" || (s.EntryPoint == "" && v.AtLeast(3, 0)) {
		kind = smbios.EntryPoint64
	}
	in, err := b.Build(kind)
	if err != nil {
		return nil, p.errAt("smbios", "%v", err)
	}
	return in, nil
}

func entryPointKind(s string) (smbios.EntryPointKind, error) {
	if s == "64" {
		return smbios.EntryPoint64, nil
	}
	return smbios.EntryPoint32, nil
}

// set copies a profile string over a table string when the profile gives one.
func set(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

// first is xs[0], or nil.
func first[T any](xs []*T) *T {
	if len(xs) == 0 {
		return nil
	}
	return xs[0]
}

// applyIdentities writes the profile's identity fields into the views of types 0 to 3; a nil
// view is left out.
func (p *Profile) applyIdentities(bios *smbios.BIOSInfo, sys *smbios.SystemInfo, board *smbios.BaseboardInfo, chassis *smbios.ChassisInfo) error {
	views := []struct {
		typ uint8
		v   smbios.Typed
		ok  bool
	}{{0, bios, bios != nil}, {1, sys, sys != nil}, {2, board, board != nil}, {3, chassis, chassis != nil}}
	for _, x := range views {
		if !x.ok {
			continue
		}
		if err := p.applyIdentity(x.typ, x.v); err != nil {
			return err
		}
	}
	return nil
}

// applyIdentity writes the profile's identity fields of the view's structure type into it (the
// fields smbios.IdentityFields lists, by their keys), leaving those the profile does not set.
func (p *Profile) applyIdentity(typ uint8, v smbios.Typed) error {
	for _, f := range smbios.IdentityFields() {
		if f.Type != typ {
			continue
		}
		val, err := p.SMBIOS.identityText(f.Key)
		if err != nil {
			return p.errAt("smbios."+f.Key, "%v", err)
		}
		if val == "" {
			continue
		}
		if err := f.Set(v, val); err != nil {
			return p.errAt("smbios."+f.Key, "%v", err)
		}
	}
	return nil
}

func (p *Profile) processorInfo(i int, c *smbios.ProcessorInfo) *smbios.ProcessorInfo {
	x := p.SMBIOS.Processors[i]
	set(&c.SocketDesignation, x.Socket)
	set(&c.Manufacturer, x.Manufacturer)
	set(&c.Version, x.Version)
	if x.MaxSpeedMHz != 0 {
		c.MaxSpeed, c.CurrentSpeed = uint16(x.MaxSpeedMHz), uint16(x.MaxSpeedMHz)
	}
	if x.CoreCount != 0 || x.ThreadCount != 0 {
		c.SetCounts(x.CoreCount, x.CoreCount, x.ThreadCount)
	}
	return c
}

func (p *Profile) memoryDevice(i int, d *smbios.MemoryDevice) (*smbios.MemoryDevice, error) {
	x := p.SMBIOS.MemoryDevices[i]
	field := fmt.Sprintf("smbios.memory_devices.%d", i)
	set(&d.DeviceLocator, x.Locator)
	set(&d.BankLocator, x.BankLocator)
	set(&d.Manufacturer, x.Manufacturer)
	set(&d.SerialNumber, x.SerialNumber)
	set(&d.PartNumber, x.PartNumber)
	if x.SizeMB != 0 {
		if err := d.SetSize(uint64(x.SizeMB) << 20); err != nil {
			return nil, p.errAt(field+".size_mb", "%v", err)
		}
	}
	if x.SpeedMTs != 0 {
		d.Speed, d.ConfiguredMemorySpeed = uint16(x.SpeedMTs), uint16(x.SpeedMTs)
	}
	if x.Type != "" {
		code, ok := memoryTypeCode(x.Type)
		if !ok {
			return nil, p.errAt(field+".type", "%q is not an SMBIOS memory type name (DDR3, DDR4, DRAM, ...)", x.Type)
		}
		d.MemoryType = code
	}
	return d, nil
}

// memoryTypeCode finds the SMBIOS memory type whose dmidecode name is name.
func memoryTypeCode(name string) (uint8, bool) {
	for c := 1; c < 0x100; c++ {
		if strings.EqualFold((&smbios.MemoryDevice{MemoryType: uint8(c)}).TypeName(), name) {
			return uint8(c), true
		}
	}
	return 0, false
}

// overrideSMBIOS writes the profile's SMBIOS fields into a captured table, structure by structure.
func (p *Profile) overrideSMBIOS(in *smbios.Info) error {
	s := &p.SMBIOS
	for _, sec := range []struct {
		name string
		typ  uint8
		set  bool
	}{{"bios", 0, s.BIOS != nil}, {"system", 1, s.System != nil}, {"baseboard", 2, s.Baseboard != nil}, {"chassis", 3, s.Chassis != nil}} {
		if !sec.set {
			continue
		}
		field := "smbios." + sec.name
		structs := in.ByType(sec.typ)
		if len(structs) == 0 {
			return p.errAt(field, "the captured table has no %s structure (type %d) to change", sec.name, sec.typ)
		}
		v, err := smbios.ParseTyped(structs[0], in.Version)
		if err != nil {
			return p.errAt(field, "%v", err)
		}
		if err := p.applyIdentity(sec.typ, v); err != nil {
			return err
		}
		if err := in.Update(v); err != nil {
			return p.errAt(field, "%v", err)
		}
	}
	if len(s.Processors) > 0 || len(s.MemoryDevices) > 0 || len(s.OEMStrings) > 0 {
		return p.errAt("smbios", "processors, memory_devices and oem_strings cannot be changed in a captured table (smbios.file); remove them or build the table from fields")
	}
	return nil
}

// qemuOptValue escapes a value for QEMU's comma-separated option syntax (a comma is doubled).
func qemuOptValue(s string) string { return strings.ReplaceAll(s, ",", ",,") }
