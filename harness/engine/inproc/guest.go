package inproc

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/harness/engine"
	"github.com/oemact/oemact/harness/statedisk"
	"github.com/oemact/oemact/smbios"
)

// What QEMU 7.2 presents, measured with the QEMU engine (engine equivalence test): the tables
// it builds carry the creator BXPC, revision 1; with a SLIC, QEMU copies the SLIC header's OEM
// IDs into the RSDT and the FADT, else the machine's x-oem-id (default BOCHS/BXPC).
const (
	qemuOEMID      = "BOCHS "
	qemuOEMTableID = "BXPC    "
	// MemTotal is the machine's memory less what the firmware and the kernel keep: 256 MB gave
	// 248180 kB under SeaBIOS and 242488 kB under OVMF.
	seabiosReservedKB = 256*1024 - 248180
	ovmfReservedKB    = 256*1024 - 242488
	cpuModel          = "QEMU Virtual CPU version 2.5+"
)

// platformTable is one of the tables QEMU builds itself, by signature, revision and length.
type platformTable struct {
	sig      string
	rev      uint8
	length   int
	noHeader bool // the FACS: no OEM IDs, no checksum
}

var platformTables = map[string][]platformTable{
	engine.Q35: {{sig: "FACP", rev: 3, length: 244}, {sig: "DSDT", rev: 1, length: 8283}, {sig: "FACS", length: 64, noHeader: true},
		{sig: "APIC", rev: 1, length: 120}, {sig: "HPET", rev: 1, length: 56}, {sig: "MCFG", rev: 1, length: 60}, {sig: "WAET", rev: 1, length: 40}},
	engine.PC: {{sig: "FACP", rev: 1, length: 116}, {sig: "DSDT", rev: 1, length: 6385}, {sig: "FACS", length: 64, noHeader: true},
		{sig: "APIC", rev: 1, length: 120}, {sig: "HPET", rev: 1, length: 56}, {sig: "WAET", rev: 1, length: 40}},
}

// rootIDs are the OEM IDs of the RSDT, XSDT and the tables QEMU builds.
func rootIDs(hw engine.Hardware) (id, tableID string) {
	for _, t := range hw.Tables {
		if h, err := firmware.DecodeHeader(t.Data); err == nil && h.Sig() == "SLIC" {
			return string(h.OEMID[:]), string(h.OEMTableID[:])
		}
	}
	id, tableID = qemuOEMID, qemuOEMTableID
	if hw.OEMID != "" {
		id = padded(hw.OEMID, 6)
	}
	if hw.OEMTableID != "" {
		tableID = padded(hw.OEMTableID, 8)
	}
	return id, tableID
}

// padded is s padded with spaces to n bytes; Hardware.Check has refused a longer one.
func padded(s string, n int) string {
	b, _ := firmware.PadID(s, n)
	return string(b)
}

// acpi writes /sys/firmware/acpi/tables and returns the kernel log's table lines.
func acpi(root string, hw engine.Hardware) ([]string, error) {
	dir := filepath.Join(root, "sys/firmware/acpi/tables")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	id, tableID := rootIDs(hw)
	addr := uint64(0x0FFDFD80)
	var log []firmware.LogHeader
	entries := 0
	for _, pt := range platformTables[hw.Chipset] {
		b := make([]byte, pt.length)
		copy(b, pt.sig)
		binary.LittleEndian.PutUint32(b[4:], uint32(pt.length))
		h := firmware.LogHeader{Signature: pt.sig, Address: addr, Length: uint32(pt.length)}
		if !pt.noHeader {
			b[8] = pt.rev
			copy(b[10:16], id)
			copy(b[16:24], tableID)
			binary.LittleEndian.PutUint32(b[24:], 1)
			copy(b[28:32], "BXPC")
			binary.LittleEndian.PutUint32(b[32:], 1)
			firmware.FixChecksum(b)
			h = logHeader(b, addr)
		}
		if pt.sig != "DSDT" && pt.sig != "FACS" {
			entries++
		}
		log = append(log, h)
		if err := os.WriteFile(filepath.Join(dir, pt.sig), b, 0o444); err != nil {
			return nil, err
		}
		addr += uint64(pt.length)
	}
	for _, t := range hw.Tables {
		if err := os.WriteFile(filepath.Join(dir, t.Name), t.Data, 0o444); err != nil {
			return nil, err
		}
		if len(t.Data) >= firmware.HeaderSize {
			log = append(log, logHeader(t.Data, addr))
		}
		entries++
		addr += uint64(len(t.Data))
	}
	return rootLines(hw.Firmware, id, tableID, entries, log), nil
}

// rootLines puts the RSDP and the RSDT (SeaBIOS) or XSDT (OVMF) lines before the tables', as
// the kernel prints them.
func rootLines(fw, id, tableID string, entries int, tables []firmware.LogHeader) []string {
	rsdp := firmware.LogHeader{Signature: "RSDP", Address: 0xF5B50, Length: 20, OEMID: id}
	root := firmware.LogHeader{Signature: "RSDT", Address: 0x0FFE2199, Length: uint32(firmware.HeaderSize + 4*entries),
		Revision: 1, OEMID: id, OEMTableID: tableID, OEMRevision: 1, CreatorID: "BXPC", CreatorRevision: 1, Full: true}
	if fw == engine.OVMF {
		rsdp.Address, rsdp.Length, rsdp.Revision = 0x0F77E014, 36, 2
		root.Signature, root.Address, root.Length = "XSDT", 0x0F77D0E8, uint32(firmware.HeaderSize+8*entries)
		root.CreatorID, root.CreatorRevision = "    ", 0x01000013
	}
	lines := []string{rsdp.String(), root.String()}
	for _, h := range tables {
		lines = append(lines, h.String())
	}
	return lines
}

func logHeader(b []byte, addr uint64) firmware.LogHeader {
	h, _ := firmware.DecodeHeader(b)
	return firmware.LogHeader{Signature: h.Sig(), Address: addr, Length: h.Length, Revision: h.Revision,
		OEMID: firmware.KernelLogID(h.OEMID[:]), OEMTableID: firmware.KernelLogID(h.OEMTableID[:]),
		OEMRevision: h.OEMRevision, CreatorID: firmware.KernelLogID(h.CreatorID[:]), CreatorRevision: h.CreatorRevision, Full: true}
}

// guestSMBIOS is the table QEMU presents: the given structures, then QEMU's memory array mapped
// address (type 19) and system boot (type 32) structures and its end of table.
func guestSMBIOS(hw engine.Hardware) (*smbios.Info, error) {
	in := &smbios.Info{}
	if hw.SMBIOS != nil {
		in.Version = hw.SMBIOS.Version
		in.Structures = append(in.Structures, hw.SMBIOS.QEMUStructures()...)
	} else {
		in.Version = smbios.Version{Major: 2, Minor: 8}
		in.Structures = append(in.Structures, qemuDefaults(hw)...)
	}
	t19 := make([]byte, 27)
	binary.LittleEndian.PutUint32(t19[4:], uint32(hw.MemoryMB)*1024-1)
	binary.LittleEndian.PutUint16(t19[8:], 0x1000)
	t19[10] = 1
	in.Structures = append(in.Structures,
		&smbios.Structure{Type: 19, Handle: 0x1300, Formatted: t19, Offset: -1},
		&smbios.Structure{Type: 32, Handle: 0x2000, Formatted: make([]byte, 7), Offset: -1},
		&smbios.Structure{Type: 127, Handle: 0x7F00, Formatted: []byte{}, Offset: -1})
	kind := smbios.EntryPoint32
	if hw.SMBIOS != nil && hw.SMBIOS.EntryPoint != nil {
		kind = hw.SMBIOS.EntryPoint.Kind
	}
	if err := in.SetEntryPoint(kind); err != nil {
		return nil, err
	}
	// Where the firmware put the table (measured with 256 MB: 0x0FFFFD80 under SeaBIOS, 0x0F517000
	// under OVMF); nothing reads it but the lint rule that an address of 0 is a broken table.
	in.EntryPoint.TableAddress = uint64(hw.MemoryMB)<<20 - 0x280
	if hw.Firmware == engine.OVMF {
		in.EntryPoint.TableAddress = uint64(hw.MemoryMB)<<20 - 0xAE9000
	}
	return in, nil
}

// qemuDefaults are the structures QEMU writes when a machine is given none: its system
// (type 1) identity.
func qemuDefaults(hw engine.Hardware) []*smbios.Structure {
	product := "Standard PC (Q35 + ICH9, 2009)"
	if hw.Chipset == engine.PC {
		product = "Standard PC (i440FX + PIIX, 1996)"
	}
	t1 := make([]byte, 23)
	t1[0], t1[1] = 1, 2 // manufacturer, product name
	t1[20] = 6          // wake-up type: power switch
	return []*smbios.Structure{{Type: 1, Handle: 0x0100, Formatted: t1, Strings: []string{"QEMU", product}, Offset: -1}}
}

// dmi writes the DMI tables and the kernel's identity attributes (/sys/class/dmi/id).
func dmi(root string, hw engine.Hardware) error {
	in, err := guestSMBIOS(hw)
	if err != nil {
		return err
	}
	ep, table, err := in.SysfsFiles()
	if err != nil {
		return err
	}
	files := map[string][]byte{"sys/firmware/dmi/tables/smbios_entry_point": ep, "sys/firmware/dmi/tables/DMI": table}
	id := in.Identity()
	attrs := map[string]string{"product_uuid": id.SystemUUID, "product_serial": id.SystemSerial,
		"board_vendor": id.BoardManufacturer, "board_name": id.BoardProduct, "board_serial": id.BoardSerial,
		"bios_vendor": id.BIOSVendor, "bios_version": id.BIOSVersion, "sys_vendor": id.SystemManufacturer,
		"product_name": id.SystemProduct}
	if cs, err := in.Chassis(); err == nil && len(cs) > 0 {
		attrs["chassis_type"] = strconv.Itoa(int(cs[0].Type()))
	}
	for k, v := range attrs {
		if v != "" {
			files["sys/class/dmi/id/"+k] = []byte(v + "\n")
		}
	}
	return writeFiles(root, files)
}

// devices writes what the kernel shows of the CPUs, memory, NICs, disks and PCI storage
// controllers, as on QEMU: virtio devices in the order of the command line (NICs, disks, the
// state disk), the chipset's own disk controller (ICH9 AHCI on q35, PIIX3 IDE on pc).
func devices(root string, hw engine.Hardware, stateDisk bool) error {
	reserved := seabiosReservedKB
	if hw.Firmware == engine.OVMF {
		reserved = ovmfReservedKB
	}
	var cpu strings.Builder
	for i := 0; i < hw.CPUs; i++ {
		fmt.Fprintf(&cpu, "processor\t: %d\nvendor_id\t: AuthenticAMD\nmodel name\t: %s\n\n", i, cpuModel)
	}
	files := map[string][]byte{
		"proc/cpuinfo":              []byte(cpu.String()),
		"proc/meminfo":              []byte(fmt.Sprintf("MemTotal:       %d kB\n", hw.MemoryMB*1024-reserved)),
		"proc/sys/kernel/osrelease": []byte("in-process\n"),
		"proc/cmdline":              []byte("oemact.engine=in-process\n"),
	}
	slot := 2
	pci := func(vendor, device, class string) {
		dir := fmt.Sprintf("sys/bus/pci/devices/0000:00:%02x.0/", slot)
		files[dir+"vendor"], files[dir+"device"], files[dir+"class"] = []byte(vendor+"\n"), []byte(device+"\n"), []byte(class+"\n")
		slot++
	}
	for i, n := range hw.NICs {
		dir := fmt.Sprintf("sys/class/net/eth%d/", i)
		files[dir+"address"], files[dir+"device/vendor"] = []byte(strings.ToLower(n.MAC)+"\n"), []byte("0x1af4\n")
		pci("0x1af4", "0x1000", "0x020000")
	}
	disks := append([]engine.Disk(nil), hw.Disks...)
	if stateDisk {
		disks = append(disks, engine.Disk{Serial: statedisk.Serial, SizeMB: statedisk.DefaultSize >> 20})
	}
	for i, d := range disks {
		dir := fmt.Sprintf("sys/block/vd%c/", 'a'+i)
		files[dir+"serial"], files[dir+"removable"] = []byte(d.Serial), []byte("0\n")
		files[dir+"size"], files[dir+"device/vendor"] = []byte(strconv.Itoa(d.SizeMB*2048)+"\n"), []byte("0x1af4\n")
		pci("0x1af4", "0x1001", "0x010000")
	}
	if hw.Chipset == engine.PC {
		files["sys/bus/pci/devices/0000:00:01.1/vendor"] = []byte("0x8086\n")
		files["sys/bus/pci/devices/0000:00:01.1/device"] = []byte("0x7010\n")
		files["sys/bus/pci/devices/0000:00:01.1/class"] = []byte("0x010180\n")
	} else {
		files["sys/bus/pci/devices/0000:00:1f.2/vendor"] = []byte("0x8086\n")
		files["sys/bus/pci/devices/0000:00:1f.2/device"] = []byte("0x2922\n")
		files["sys/bus/pci/devices/0000:00:1f.2/class"] = []byte("0x010601\n")
	}
	return writeFiles(root, files)
}

func writeFiles(root string, files map[string][]byte) error {
	for rel, b := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o444); err != nil {
			return err
		}
	}
	return nil
}
