// Package agent is the guest side of the harness: what oemact does when it runs as PID 1 in a test
// machine. It mounts the kernel's file systems, loads the virtio modules, reads the firmware
// tables, the kernel's ACPI log lines, the devices and the licence state, sends them to the host
// over the channel, saves the state the host sends back and powers off. On any error it tells the
// host and powers off: it never leaves the machine hanging.
//
// Collecting reads files under a root folder so it can be tested on the host; the PID 1 parts are
// in agent_linux.go. Decoding and judging the tables is the host's job for now; the same pure-Go
// decoders can run here later.
package agent

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/oemact/oemact/harness/channel"
	"github.com/oemact/oemact/harness/statedisk"
)

// Options come from the kernel command line (oemact.NAME=VALUE words).
type Options struct {
	// Port is the virtio-serial port name of the channel (oemact.port=).
	Port string
	// StateDisk says a state disk is attached (oemact.state=1), so the agent waits for it to
	// appear; its serial is statedisk.Serial.
	StateDisk bool
	// Timeout is the watchdog (oemact.timeout=SECONDS): after it the agent powers off whatever it
	// is doing. Default DefaultTimeout.
	Timeout time.Duration
}

// DefaultTimeout is the agent's watchdog when the command line sets none: 45 s, under the host's
// default 60 s boot timeout (qemu.DefaultTimeout) so that a stuck agent ends itself first.
const DefaultTimeout = 45 * time.Second

// ParseCmdline reads the agent's options from a kernel command line.
func ParseCmdline(cmdline string) (Options, error) {
	o := Options{Port: channel.DefaultPortName, Timeout: DefaultTimeout}
	for _, w := range strings.Fields(cmdline) {
		k, v, _ := strings.Cut(w, "=")
		switch k {
		case "oemact.port":
			if v == "" {
				return o, errors.New("oemact.port= is empty")
			}
			o.Port = v
		case "oemact.state":
			o.StateDisk = v == "1"
		case "oemact.timeout":
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return o, fmt.Errorf("oemact.timeout=%s: want a positive number of seconds", v)
			}
			o.Timeout = time.Duration(n) * time.Second
		}
	}
	return o, nil
}

// Cmdline is the kernel command line words that give a guest these options.
func (o Options) Cmdline() string {
	var w []string
	if o.Port != "" {
		w = append(w, "oemact.port="+o.Port)
	}
	if o.StateDisk {
		w = append(w, "oemact.state=1")
	}
	if o.Timeout > 0 {
		w = append(w, "oemact.timeout="+strconv.Itoa(int(o.Timeout/time.Second)))
	}
	return strings.Join(w, " ")
}

// Version is the oemact build, from the binary's module information.
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "devel"
}

// Collect reads what a report carries from the system under root ("/" in the guest): the ACPI
// tables, SMBIOS, the devices, the kernel release and command line. Missing or unreadable parts
// become notes: the host decides what a missing table means. Kernel log lines and state are added
// by the caller.
func Collect(root string) *channel.Report {
	r := &channel.Report{Agent: channel.Agent{Version: Version()}}
	note := func(format string, args ...any) { r.Notes = append(r.Notes, fmt.Sprintf(format, args...)) }

	if b, err := os.ReadFile(filepath.Join(root, "proc/sys/kernel/osrelease")); err == nil {
		r.Agent.KernelRelease = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile(filepath.Join(root, "proc/cmdline")); err == nil {
		r.Agent.Cmdline = strings.TrimSpace(string(b))
	}

	tables, errs := ReadACPITables(filepath.Join(root, "sys/firmware/acpi/tables"))
	r.ACPITables = tables
	for _, e := range errs {
		note("%v", e)
	}

	dmi := filepath.Join(root, "sys/firmware/dmi/tables")
	var err error
	if r.SMBIOSEntryPoint, err = os.ReadFile(filepath.Join(dmi, "smbios_entry_point")); err != nil {
		note("SMBIOS entry point: %v", err)
	}
	if r.SMBIOSTable, err = os.ReadFile(filepath.Join(dmi, "DMI")); err != nil {
		note("SMBIOS table: %v", err)
	}
	r.Devices = ReadDevices(root)
	return r
}

// ReadACPITables reads every table file of a /sys/firmware/acpi/tables folder, numbered
// duplicates (SSDT1, SSDT2) included, and the dynamic/ ones as "dynamic/NAME"; data/ holds no
// tables and is skipped. Sorted by name.
func ReadACPITables(dir string) ([]channel.Blob, []error) {
	var out []channel.Blob
	var errs []error
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, []error{fmt.Errorf("ACPI tables: %w", err)}
	}
	for _, e := range entries {
		switch {
		case e.Name() == "dynamic" && e.IsDir():
			sub, err := os.ReadDir(filepath.Join(dir, "dynamic"))
			if err != nil {
				errs = append(errs, fmt.Errorf("ACPI tables: %w", err))
				continue
			}
			for _, s := range sub {
				if s.Type().IsRegular() {
					out, errs = readBlob(out, errs, filepath.Join(dir, "dynamic", s.Name()), "dynamic/"+s.Name())
				}
			}
		case e.Type().IsRegular():
			out, errs = readBlob(out, errs, filepath.Join(dir, e.Name()), e.Name())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, errs
}

func readBlob(out []channel.Blob, errs []error, path, name string) ([]channel.Blob, []error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return out, append(errs, fmt.Errorf("ACPI table %s: %w", name, err))
	}
	return append(out, channel.Blob{Name: name, Data: b}), errs
}

// ReadDevices reads the NICs (not lo), block devices (not loop, ram, zram), memory and CPU count.
func ReadDevices(root string) channel.Devices {
	var d channel.Devices
	if entries, err := os.ReadDir(filepath.Join(root, "sys/class/net")); err == nil {
		for _, e := range entries {
			if e.Name() == "lo" {
				continue
			}
			mac, _ := os.ReadFile(filepath.Join(root, "sys/class/net", e.Name(), "address"))
			d.NICs = append(d.NICs, channel.NIC{Name: e.Name(), MAC: strings.TrimSpace(string(mac))})
		}
	}
	if entries, err := os.ReadDir(filepath.Join(root, "sys/block")); err == nil {
		for _, e := range entries {
			n := e.Name()
			if strings.HasPrefix(n, "loop") || strings.HasPrefix(n, "ram") || strings.HasPrefix(n, "zram") {
				continue
			}
			disk := channel.Disk{Name: n, Serial: blockSerial(root, n)}
			if b, err := os.ReadFile(filepath.Join(root, "sys/block", n, "size")); err == nil {
				sectors, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
				disk.SizeBytes = sectors * 512 // sysfs size is in 512-byte sectors whatever the device's
			}
			d.Disks = append(d.Disks, disk)
		}
	}
	if b, err := os.ReadFile(filepath.Join(root, "proc/meminfo")); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "MemTotal:" {
				d.MemTotalKB, _ = strconv.ParseUint(f[1], 10, 64)
			}
		}
	}
	if b, err := os.ReadFile(filepath.Join(root, "proc/cpuinfo")); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if k, _, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "processor" {
				d.CPUs++
			}
		}
	}
	return d
}

// blockSerial is a disk's serial: virtio-blk has sys/block/NAME/serial, SCSI and ATA disks
// device/serial.
func blockSerial(root, name string) string {
	for _, p := range []string{"serial", "device/serial"} {
		if b, err := os.ReadFile(filepath.Join(root, "sys/block", name, p)); err == nil {
			return strings.TrimSpace(string(b))
		}
	}
	return ""
}

// FindStateDisk returns the device node of the disk whose serial is statedisk.Serial.
func FindStateDisk(root string) (string, bool) {
	entries, _ := os.ReadDir(filepath.Join(root, "sys/block"))
	for _, e := range entries {
		if blockSerial(root, e.Name()) == statedisk.Serial {
			return filepath.Join(root, "dev", e.Name()), true
		}
	}
	return "", false
}

// LoadState reads the state disk into the report: State and StateStatus (ok, blank, absent,
// damaged with StateError). dev "" means no state disk.
func LoadState(r *channel.Report, dev string) {
	if dev == "" {
		r.StateStatus = "absent"
		return
	}
	p, err := statedisk.Read(dev)
	switch {
	case errors.Is(err, statedisk.ErrEmpty):
		r.StateStatus = "blank"
	case err != nil:
		r.StateStatus = "damaged"
		r.StateError = err.Error()
	default:
		r.StateStatus = "ok"
		r.State = p
	}
}
