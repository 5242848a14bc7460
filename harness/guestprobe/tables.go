// Package guestprobe reads back, through the QEMU guest agent, what an operating system booted
// from its own image saw of its firmware: the ACPI tables SLIC and MSDM and the SMBIOS table
// (Linux: the sysfs files; Windows: GetSystemFirmwareTable), and on Windows its licence state
// (slmgr /dlv). It compares what the OS saw with what the machine was given, decoding both with
// the firmware and smbios packages.
//
// It speaks to the guest through the qga package and boots through the qemu package; what a
// scenario expects of a probe is the runner's business.
package guestprobe

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/harness/qga"
	"github.com/oemact/oemact/smbios"
)

// Signatures are the marker tables a probe reads and compares with what the machine was given.
var Signatures = firmware.MarkerSignatures()

// ContextTables are read besides the markers on Linux, where sysfs has them, for the checks that
// compare a marker's OEM IDs with the platform's (the FADT; Linux does not expose the RSDT or
// XSDT). They are not compared with what the machine was given: the firmware writes them.
var ContextTables = []string{"FACP"}

// Bounds on what a probe reads: far above any real table (a SLIC is 374 bytes, an SMBIOS 2.x
// table at most 64 KiB), low enough that a broken guest cannot flood the host.
const (
	MaxACPITable  = 1 << 20
	MaxSMBIOS     = 4 << 20
	maxEntryPoint = 4 << 10
)

// Linux sysfs paths: the tables as the kernel found them, byte for byte.
const (
	linuxACPIDir  = "sys/firmware/acpi/tables/"
	linuxDMI      = "sys/firmware/dmi/tables/DMI"
	linuxDMIEntry = "sys/firmware/dmi/tables/smbios_entry_point"
	// linuxNoSuch is strerror(ENOENT), which qemu-ga appends to a failed open on Linux.
	linuxNoSuch = "No such file or directory"
)

// Tables are the firmware tables a guest OS saw.
type Tables struct {
	// ACPI holds whole tables by signature; a table the OS does not have is absent.
	ACPI map[string][]byte
	// SMBIOSEntryPoint and SMBIOSTable are Linux's sysfs pair.
	SMBIOSEntryPoint, SMBIOSTable []byte
	// RSMB is Windows' raw SMBIOS blob from GetSystemFirmwareTable('RSMB'): a header and the table.
	RSMB []byte
	// Source says where the tables were read: "linux sysfs" or "windows GetSystemFirmwareTable".
	Source string
}

// SMBIOS decodes the SMBIOS data the OS saw; nil, nil when it had none.
func (t *Tables) SMBIOS() (*smbios.Info, error) {
	switch {
	case t.SMBIOSTable != nil:
		return smbios.DecodeSysfs(t.SMBIOSEntryPoint, t.SMBIOSTable)
	case t.RSMB != nil:
		return smbios.Decode(t.RSMB)
	}
	return nil, nil
}

// ReadLinux reads the tables from a Linux guest's sysfs: /sys/firmware/acpi/tables/{SLIC,MSDM}
// (and the ContextTables) and /sys/firmware/dmi/tables/{smbios_entry_point,DMI}. A table the guest does not have is
// absent from the result; any other failure is an error.
func ReadLinux(ctx context.Context, c *qga.Client) (*Tables, error) { return readLinux(ctx, c, "/") }

// readLinux reads the sysfs files under root ("/" in a guest).
func readLinux(ctx context.Context, c *qga.Client, root string) (*Tables, error) {
	t := &Tables{ACPI: map[string][]byte{}, Source: "linux sysfs"}
	for _, sig := range append(append([]string(nil), Signatures...), ContextTables...) {
		b, err := readIfPresent(ctx, c, root+linuxACPIDir+sig, MaxACPITable)
		if err != nil {
			return nil, err
		}
		if b != nil {
			t.ACPI[sig] = b
		}
	}
	var err error
	if t.SMBIOSTable, err = readIfPresent(ctx, c, root+linuxDMI, MaxSMBIOS); err != nil {
		return nil, err
	}
	if t.SMBIOSEntryPoint, err = readIfPresent(ctx, c, root+linuxDMIEntry, maxEntryPoint); err != nil {
		return nil, err
	}
	if (t.SMBIOSTable == nil) != (t.SMBIOSEntryPoint == nil) {
		return nil, fmt.Errorf("the guest has only one of /%s and /%s", linuxDMI, linuxDMIEntry)
	}
	return t, nil
}

// readIfPresent reads a guest file; nil, nil when it does not exist.
func readIfPresent(ctx context.Context, c *qga.Client, path string, max int) ([]byte, error) {
	b, err := c.ReadFile(ctx, path, max)
	var e *qga.Error
	if errors.As(err, &e) && e.Command == "guest-file-open" && strings.Contains(e.Desc, linuxNoSuch) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}
