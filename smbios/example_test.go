package smbios_test

import (
	"fmt"
	"log"

	"github.com/oemact/oemact/smbios"
)

// A firmware profile fills the builder with its identity and writes the table.
func ExampleBuilder() {
	u, err := smbios.ParseUUID("4c4c4544-0042-3510-8052-b4c04f4e3432")
	if err != nil {
		log.Fatal(err)
	}
	chassis := &smbios.ChassisInfo{Manufacturer: "TSTOEM", SerialNumber: "TEST-CHS-1"}
	chassis.SetType(smbios.ChassisNotebook)
	dimm := &smbios.MemoryDevice{DeviceLocator: "DIMM 0", MemoryType: 0x1A}
	if err := dimm.SetSize(8 << 30); err != nil {
		log.Fatal(err)
	}
	b := smbios.Builder{
		Version:       smbios.Version{Major: 3, Minor: 2},
		BIOS:          &smbios.BIOSInfo{Vendor: "TEST Firmware", Version: "T1.00", ReleaseDate: "01/15/2024"},
		System:        &smbios.SystemInfo{Manufacturer: "TSTOEM", ProductName: "TEST Notebook", SerialNumber: "TEST-0001", UUID: u},
		Baseboards:    []*smbios.BaseboardInfo{{Manufacturer: "TSTOEM", Product: "TEST Board", SerialNumber: "TEST-BRD-1"}},
		Chassis:       []*smbios.ChassisInfo{chassis},
		OEMStrings:    []string{"TEST ONLY"},
		MemoryDevices: []*smbios.MemoryDevice{dimm},
	}
	info, err := b.Build(smbios.EntryPoint64)
	if err != nil {
		log.Fatal(err)
	}
	id := info.Identity()
	fmt.Println(info.Version, info.EntryPoint.Kind, len(info.Structures), "structures")
	fmt.Println(id.SystemSerial, id.SystemUUID, id.ChassisType, id.Portable())
	// info.WriteDumpBin("smbios.bin"), info.WriteSysfs(dir) or info.WriteQEMUFiles(dir) write it.

	// Output:
	// 3.2 _SM3_ 8 structures
	// TEST-0001 4c4c4544-0042-3510-8052-b4c04f4e3432 Notebook true
}

// A profile can start from a captured table and change one field.
func ExampleInfo_Update() {
	info, err := smbios.Read("../fixtures/smbios/uroot_Lenovo-ThinkPad-T480.bin")
	if err != nil {
		log.Fatal(err)
	}
	sys, err := info.System()
	if err != nil {
		log.Fatal(err)
	}
	sys.SerialNumber = "TEST-0002"
	if err := info.Update(sys); err != nil {
		log.Fatal(err)
	}
	if err := info.Fixup(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Format, info.Identity().SystemSerial, info.Identity().SystemManufacturer)
	// Output: dump-bin TEST-0002 LENOVO
}
