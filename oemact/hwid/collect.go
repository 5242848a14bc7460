package hwid

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Options tune Collect.
type Options struct {
	// TPMEKDigest is the digest of the TPM endorsement key's public area, read by the caller
	// (Collect does not talk to a TPM). Empty when the machine has none.
	TPMEKDigest string
	// DockableChassis lists the SMBIOS chassis types that make a machine dockable. nil means
	// DefaultDockableChassis.
	DockableChassis []int
	// SkipDiskSerials are disks the caller owns and that are not part of the machine's identity,
	// such as the harness's state disk (virtio-blk serial "oemact-state").
	SkipDiskSerials []string
}

// DefaultDockableChassis are the SMBIOS chassis types (SMBIOS 3.x, type 3 "Type" field) that the
// model counts as dockable: 8 Portable, 9 Laptop, 10 Notebook, 12 Docking Station, 14 Sub Notebook.
// Windows XP's rule only says "dockable"; which chassis types qualify is this model's choice.
var DefaultDockableChassis = []int{8, 9, 10, 12, 14}

// skippedDisks are block devices that are not disks: RAM disks, loop devices, compressed swap.
var skippedDisks = []string{"ram", "loop", "zram"}

// diskIDSources are tried in order for each disk; the first non-empty one identifies it.
// virtio-blk has "serial"; NVMe and MMC have device/serial and (NVMe) wwid; SCSI/SATA disks have
// device/wwid and the unit serial number VPD page 0x80.
var diskIDSources = []string{"serial", "device/serial", "wwid", "device/wwid", "device/vpd_pg80"}

// maxFile bounds what Collect reads from one file: /proc/cpuinfo on a 256-CPU machine is about
// 400 KB; sysfs attributes are at most a page.
const maxFile = 4 << 20

// Collect reads the hardware inventory of the Linux system under root ("/" for this machine, a
// copy of /proc and /sys in tests). Missing files are normal: a component the machine lacks is not
// listed. Files that exist but cannot be read are reported in Inventory.Notes. The error is for a
// root that cannot be read at all.
func Collect(root string, opts Options) (Inventory, error) {
	st, err := os.Stat(root)
	if err != nil {
		return Inventory{}, fmt.Errorf("hwid: %w", err)
	}
	if !st.IsDir() {
		return Inventory{}, fmt.Errorf("hwid: %s is not a folder (want / or a copy of /proc and /sys)", root)
	}
	c := &collector{root: root, opts: opts}
	c.cpu()
	c.memory()
	c.nics()
	c.disks()
	c.pci()
	c.dmi()
	if d := strings.TrimSpace(opts.TPMEKDigest); d != "" {
		c.add(TPM, d, "TPM endorsement key (from the caller)")
	}
	return c.inv, nil
}

type collector struct {
	root string
	opts Options
	inv  Inventory
}

func (c *collector) add(class Class, value, source string) {
	comp := NewComponent(class, value)
	comp.Source = source
	c.inv.Components = append(c.inv.Components, comp)
}

func (c *collector) note(format string, args ...any) {
	c.inv.Notes = append(c.inv.Notes, fmt.Sprintf(format, args...))
}

// read returns a file's content. ok is false when the file is missing (silently) or unreadable
// (with a note). rel is slash-separated and relative to the root.
func (c *collector) read(rel string) (b []byte, ok bool) {
	f, err := os.Open(filepath.Join(c.root, filepath.FromSlash(rel)))
	if err == nil {
		b, err = io.ReadAll(io.LimitReader(f, maxFile))
		f.Close()
	}
	if err != nil {
		c.readErr(rel, err)
		return nil, false
	}
	return b, true
}

// readErr notes why a file could not be read; a missing file is not worth a note.
func (c *collector) readErr(rel string, err error) {
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case errors.Is(err, fs.ErrPermission):
		c.note("/%s: permission denied (some SMBIOS serials are readable only by root)", rel)
	default:
		c.note("/%s: %v", rel, unwrapPath(err))
	}
}

// attr reads a one-line sysfs attribute, trimmed.
func (c *collector) attr(rel string) (string, bool) {
	b, ok := c.read(rel)
	if !ok {
		return "", false
	}
	return strings.TrimSpace(string(b)), true
}

// list returns the names in a folder, sorted; a missing folder gives none.
func (c *collector) list(rel string) []string {
	entries, err := os.ReadDir(filepath.Join(c.root, filepath.FromSlash(rel)))
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.note("/%s: %v", rel, unwrapPath(err))
		}
		return nil
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names // ReadDir sorts by name
}

func (c *collector) exists(rel string) bool {
	_, err := os.Stat(filepath.Join(c.root, filepath.FromSlash(rel)))
	return err == nil
}

// unwrapPath drops the host path from an *fs.PathError, whose message would otherwise name the
// test root instead of the /sys path that the note already gives.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// cpu: the first processor's model and the number of logical processors, e.g. "AMD EPYC x2".
func (c *collector) cpu() {
	b, ok := c.read("proc/cpuinfo")
	if !ok {
		return
	}
	var model string
	count := 0
	fallbacks := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		k, v, found := strings.Cut(sc.Text(), ":")
		if !found {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "processor":
			if _, err := strconv.Atoi(v); err == nil {
				count++
			}
		case "model name":
			if model == "" {
				model = v
			}
		case "vendor_id", "CPU implementer", "CPU part", "cpu model", "cpu":
			if _, seen := fallbacks[k]; !seen {
				fallbacks[k] = v
			}
		}
	}
	if model == "" {
		// Arm and other architectures have no "model name".
		var parts []string
		for _, k := range []string{"vendor_id", "cpu model", "cpu", "CPU implementer", "CPU part"} {
			if v := fallbacks[k]; v != "" {
				parts = append(parts, k+" "+v)
			}
		}
		model = strings.Join(parts, ", ")
	}
	if model == "" && count == 0 {
		c.note("/proc/cpuinfo: no processor found")
		return
	}
	if count == 0 {
		count = 1
	}
	c.add(CPU, fmt.Sprintf("%s x%d", model, count), "/proc/cpuinfo")
}

// memory: MemTotal as a power-of-two range (MemoryRange).
func (c *collector) memory() {
	b, ok := c.read("proc/meminfo")
	if !ok {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		rest, found := strings.CutPrefix(line, "MemTotal:")
		if !found {
			continue
		}
		f := strings.Fields(rest)
		var kib uint64
		err := errors.New("want 2 fields")
		if len(f) == 2 && f[1] == "kB" {
			kib, err = strconv.ParseUint(f[0], 10, 64)
		}
		if err != nil {
			c.note("/proc/meminfo: MemTotal line %q is not \"N kB\"", strings.TrimSpace(line))
			return
		}
		c.add(Memory, MemoryRange(kib), "/proc/meminfo MemTotal")
		return
	}
	c.note("/proc/meminfo: no MemTotal line")
}

// nics: the MAC of each network interface backed by a device. lo, interfaces with an all-zero MAC
// and virtual interfaces (bridges, veth, tun, ifb: no "device" link) are skipped; virtio-net has a
// device link to its virtio device.
func (c *collector) nics() {
	for _, name := range c.list("sys/class/net") {
		dir := path.Join("sys/class/net", name)
		if name == "lo" || !c.exists(path.Join(dir, "device")) {
			continue
		}
		mac, ok := c.attr(path.Join(dir, "address"))
		if !ok {
			continue
		}
		mac = strings.ToLower(mac)
		if strings.Trim(mac, "0:") == "" {
			continue
		}
		c.add(NIC, mac, "/"+dir+"/address")
	}
}

// disks: one identifier per block device, from the first of diskIDSources present. Skipped: RAM,
// loop and zram devices and any other virtual device (device-mapper, md: no "device" link),
// removable-media devices (card readers, optical drives, USB sticks: the medium comes and goes)
// and the caller's own disks.
func (c *collector) disks() {
	for _, name := range c.list("sys/block") {
		if slices.ContainsFunc(skippedDisks, func(p string) bool { return strings.HasPrefix(name, p) }) {
			continue
		}
		dir := path.Join("sys/block", name)
		if !c.exists(path.Join(dir, "device")) {
			continue
		}
		if r, _ := c.attr(path.Join(dir, "removable")); r == "1" {
			continue
		}
		id, source := "", ""
		for _, s := range diskIDSources {
			rel := path.Join(dir, s)
			var ok bool
			if s == "device/vpd_pg80" {
				var b []byte
				if b, ok = c.read(rel); ok {
					id = vpdSerial(b)
				}
			} else {
				id, ok = c.attr(rel)
			}
			if ok && id != "" {
				source = "/" + rel
				break
			}
		}
		if id == "" {
			c.note("/%s: no serial, wwid or VPD page 0x80: disk not counted", dir)
			continue
		}
		if slices.Contains(c.opts.SkipDiskSerials, id) {
			continue
		}
		c.add(Disk, id, source)
	}
}

// vpdSerial reads the unit serial number from a SCSI VPD page 0x80: byte 1 is the page code,
// bytes 2-3 the page length (big-endian), the serial follows (SPC-4 7.8.16). A short or wrong page
// gives "".
func vpdSerial(b []byte) string {
	if len(b) < 4 || b[1] != 0x80 {
		return ""
	}
	n := int(b[2])<<8 | int(b[3])
	if n > len(b)-4 {
		n = len(b) - 4
	}
	return strings.TrimSpace(strings.TrimRight(string(b[4:4+n]), "\x00"))
}

// pci: display (class 0x03) and storage (class 0x01) controllers, as "vendor:device".
func (c *collector) pci() {
	for _, addr := range c.list("sys/bus/pci/devices") {
		dir := path.Join("sys/bus/pci/devices", addr)
		class, ok := c.attr(path.Join(dir, "class"))
		if !ok {
			continue
		}
		v, err := strconv.ParseUint(strings.TrimPrefix(class, "0x"), 16, 32)
		if err != nil {
			c.note("/%s/class: %q is not a hex class code", dir, class)
			continue
		}
		var cl Class
		switch v >> 16 {
		case 0x03:
			cl = Display
		case 0x01:
			cl = StorageController
		default:
			continue
		}
		vendor, ok1 := c.attr(path.Join(dir, "vendor"))
		device, ok2 := c.attr(path.Join(dir, "device"))
		if !ok1 || !ok2 {
			c.note("/%s: class %s without vendor or device id", dir, class)
			continue
		}
		c.add(cl, strings.TrimPrefix(vendor, "0x")+":"+strings.TrimPrefix(device, "0x"), "/"+dir)
	}
}

// dmi: SMBIOS identity as the kernel exports it. Each component joins the fields present, so a
// machine that lacks one (or a user who may not read the serials) still gets a component.
func (c *collector) dmi() {
	const dir = "sys/class/dmi/id"
	field := func(name string) string {
		v, _ := c.attr(path.Join(dir, name))
		return v
	}
	join := func(class Class, keys ...string) {
		var parts, files []string
		for _, k := range keys {
			if v := field(k); v != "" {
				parts = append(parts, k+"="+v)
				files = append(files, k)
			}
		}
		if len(parts) > 0 {
			c.add(class, strings.Join(parts, " "), "/"+dir+"/{"+strings.Join(files, ",")+"}")
		}
	}
	join(System, "product_uuid", "product_serial")
	join(Board, "board_vendor", "board_name", "board_serial")
	join(BIOS, "bios_vendor", "bios_version")

	ct := field("chassis_type")
	if ct == "" {
		return
	}
	n, err := strconv.Atoi(ct)
	if err != nil {
		c.note("/%s/chassis_type: %q is not a number", dir, ct)
		return
	}
	dockable := c.opts.DockableChassis
	if dockable == nil {
		dockable = DefaultDockableChassis
	}
	c.inv.Dockable = slices.Contains(dockable, n)
}
