// Package qemu builds QEMU command lines for oemact's test machines and runs them: a timeout that
// kills the whole process group, the serial console in a log file, and a verdict on how the run
// ended (clean power-off, guest hang, QEMU failing to start, QEMU or the guest crashing), always
// with the command line that reproduces it.
//
// It knows QEMU, not what the guest does: the channel, agent and boot packages build on it.
package qemu

import (
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/oemact/oemact/harness/qga"
	"github.com/oemact/oemact/harness/statedisk"
)

// Machine is a QEMU machine type.
type Machine string

const (
	Q35 Machine = "q35"
	PC  Machine = "pc" // i440FX
)

// Firmware is the guest firmware.
type Firmware string

const (
	SeaBIOS Firmware = "seabios"
	OVMF    Firmware = "ovmf"
)

// Boot is what a machine boots.
type Boot string

const (
	// BootKernel boots Config.Kernel directly (-kernel): the harness's own guest.
	BootKernel Boot = ""
	// BootDisk boots Config.Image as a disk through the firmware and the image's own boot loader.
	// QEMU writes to a throw-away overlay (Image.Overlay), never to the image.
	BootDisk Boot = "disk"
	// BootCDROM boots Config.Image as a CD-ROM (read-only media) through the firmware.
	BootCDROM Boot = "cdrom"
)

// Image is the disk or CD-ROM image a machine boots (Boot BootDisk or BootCDROM).
type Image struct {
	Path string
	// Format is how QEMU reads Path: raw (default), qcow2, vmdk or vhdx.
	Format string
	// Interface is the disk's controller: "virtio" (default) or "ide" (AHCI on q35, IDE on pc),
	// for an OS without virtio drivers such as a stock Windows image. A CD-ROM is always on the
	// AHCI/IDE controller.
	Interface string
	// Serial is the disk's serial number, as the OS reads it (up to 20 characters; "" none).
	Serial string
	// Overlay is the qcow2 file, backed by Path, that QEMU opens instead of Path for a disk; Run
	// creates it in the artifacts folder (qemu-img create -f qcow2 -b Path -F Format) and
	// removes it when QEMU has exited. Args refuses a disk boot without one.
	Overlay string
}

// ImageFormats are the formats an Image may have.
var ImageFormats = []string{"raw", "qcow2", "vmdk", "vhdx"}

// Accel is the accelerator.
type Accel string

const (
	AccelAuto Accel = "" // probe KVM once per process, else TCG (see ChooseAccel)
	TCG       Accel = "tcg"
	KVM       Accel = "kvm"
)

// Defaults for a Config field left zero.
const (
	// DefaultMemoryMB: 256 MB, what notes/qemu.md measured the agent with (232 MB RSS per VM).
	DefaultMemoryMB = 256
	DefaultCPUs     = 1
	// DefaultCPUModel is QEMU's default x86 CPU (qemu64, the same under TCG and KVM) with RDRAND,
	// which TCG implements. The guest kernel (CONFIG_RANDOM_TRUST_CPU) then seeds its random
	// number generator at boot: without it, the agent's first getrandom(2) waited 1.2-1.7 s for
	// entropy under TCG (measured with the boot benchmark). The model name the guest reads from
	// /proc/cpuinfo, and so the hardware inventory, stays "QEMU Virtual CPU version 2.5+".
	DefaultCPUModel = "qemu64,+rdrand"
	// StateDiskSerial is the virtio-blk serial of the state disk, by which the agent finds it.
	StateDiskSerial = statedisk.Serial
	// maxSerial: virtio-blk serials hold 20 bytes (VIRTIO_BLK_ID_BYTES).
	maxSerial = 20
)

// Config describes one machine. Paths may be relative to the working directory of the caller;
// Run makes them absolute (or relative to the artifacts folder QEMU runs in).
type Config struct {
	Machine  Machine  // default Q35
	Firmware Firmware // default SeaBIOS
	// OVMF is the UEFI firmware image for Firmware OVMF; default FindOVMF().
	OVMF string

	// Boot is what the machine boots; default BootKernel.
	Boot Boot
	// Image is the disk or CD-ROM image for BootDisk and BootCDROM.
	Image *Image

	Kernel string // bzImage/vmlinuz (required for BootKernel, refused otherwise)
	Initrd string
	Append string // kernel command line

	MemoryMB int // default DefaultMemoryMB
	CPUs     int // default DefaultCPUs
	// CPUModel is QEMU's -cpu value; default DefaultCPUModel.
	CPUModel string
	// Sockets spreads the CPUs over this many sockets (cores = CPUs / Sockets); 0 leaves QEMU's
	// default. QEMU refuses to start when the -smbios files hold a number of type 4 (processor)
	// structures other than the socket count, so a profile's processors set it.
	Sockets int

	NICs  []NIC
	Disks []Disk
	// StateDisk is a raw image attached as a virtio disk with serial StateDiskSerial.
	StateDisk string

	// ACPITables are files QEMU adds as they are (-acpitable file=): whole tables with their header,
	// such as a SLIC or MSDM.
	ACPITables []string
	// SMBIOSFiles hold one raw SMBIOS structure each (-smbios file=): formatted area, strings,
	// double NUL, no entry point. QEMU silently drops the end of a file that holds two.
	SMBIOSFiles []string
	// SMBIOSEntryPoint is "32" (_SM_) or "64" (_SM3_); "" leaves QEMU's default.
	SMBIOSEntryPoint string

	// OEMID (up to 6 characters) and OEMTableID (up to 8) go in the RSDT, XSDT and FADT. When a
	// SLIC is given, QEMU copies the SLIC header's IDs instead (notes/qemu.md).
	OEMID, OEMTableID string

	Channel *Channel
	// GuestAgent is a unix socket QEMU connects to (as a client) for the QEMU guest agent's
	// virtio-serial port, org.qemu.guest_agent.0 (see the qga package).
	GuestAgent string
	TPM        *TPM

	Accel Accel
	// SerialLog receives the guest console (ttyS0). "" sends it to QEMU's stdout.
	SerialLog string
	// QMPSocket, when set, is a unix socket QEMU connects to (as a client) with a QMP monitor.
	QMPSocket string
	// Extra arguments, appended last.
	Extra []string
}

// NIC is a virtio network card with no backend: the guest sees the MAC, nothing is routed.
type NIC struct {
	MAC string // 52:54:00:xx:xx:xx; unicast
}

// Disk is a virtio disk.
type Disk struct {
	Path   string
	Serial string // up to 20 characters
	Format string // default "raw"
}

// Channel is the host-guest channel: a virtio-serial port backed by a unix socket that QEMU
// connects to.
type Channel struct {
	Socket string
	Name   string // port name the guest looks for
}

// TPM is a TPM 2.0 backed by swtpm's control socket.
type TPM struct {
	Socket string
	Model  string // "tpm-tis" (default) or "tpm-crb"
}

// ConfigError says which field of a Config is wrong.
type ConfigError struct {
	Field string
	Msg   string
}

func (e *ConfigError) Error() string { return "qemu config: " + e.Field + ": " + e.Msg }

// FindOVMF returns the first UEFI firmware image found: $OEMACT_OVMF, then the combined images
// Debian's ovmf package installs.
func FindOVMF() (string, error) {
	cands := []string{"/usr/share/qemu/OVMF.fd", "/usr/share/ovmf/OVMF.fd", "/usr/share/OVMF/OVMF.fd"}
	if p := os.Getenv("OEMACT_OVMF"); p != "" {
		cands = []string{p}
	}
	for _, p := range cands {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", errors.New("no UEFI firmware (OVMF.fd) found in " + strings.Join(cands, ", ") +
		": install the ovmf package (apt-get install ovmf) or set OEMACT_OVMF")
}

// optValue escapes a value for a QEMU -opt key=value list, where a comma is written twice.
func optValue(s string) string { return strings.ReplaceAll(s, ",", ",,") }

// Args returns QEMU's arguments (without the program name) for c, or a *ConfigError. Accel must be
// TCG or KVM here: Run resolves AccelAuto first.
func Args(c Config) ([]string, error) {
	if c.Machine == "" {
		c.Machine = Q35
	}
	if c.Firmware == "" {
		c.Firmware = SeaBIOS
	}
	if c.MemoryMB == 0 {
		c.MemoryMB = DefaultMemoryMB
	}
	if c.CPUs == 0 {
		c.CPUs = DefaultCPUs
	}
	if c.CPUModel == "" {
		c.CPUModel = DefaultCPUModel
	}
	if err := validate(c); err != nil {
		return nil, err
	}

	// -nodefaults: no default NIC, VGA, serial or monitor, so the guest sees only what the profile
	// describes.
	a := []string{"-nodefaults", "-no-user-config", "-display", "none"}
	m := machineOpt(c)
	smp := strconv.Itoa(c.CPUs)
	if c.Sockets > 0 {
		smp = fmt.Sprintf("cpus=%d,sockets=%d,cores=%d,threads=1", c.CPUs, c.Sockets, c.CPUs/c.Sockets)
	}
	a = append(a, "-machine", m, "-accel", string(c.Accel), "-m", strconv.Itoa(c.MemoryMB), "-smp", smp, "-cpu", c.CPUModel)
	if c.Firmware == OVMF {
		fw := c.OVMF
		if fw == "" {
			var err error
			if fw, err = FindOVMF(); err != nil {
				return nil, &ConfigError{Field: "OVMF", Msg: err.Error()}
			}
		}
		a = append(a, "-bios", fw)
	}
	a = append(a, bootArgs(c)...)
	// With -no-reboot a guest reset (init dying with panic=-1, a reboot) ends QEMU instead of
	// booting again.
	a = append(a, "-no-reboot")
	if c.SerialLog != "" {
		a = append(a, "-serial", "file:"+c.SerialLog)
	} else {
		a = append(a, "-serial", "stdio")
	}
	a = append(a, tableArgs(c)...)
	for _, n := range c.NICs {
		a = append(a, "-device", "virtio-net-pci,mac="+strings.ToLower(n.MAC))
	}
	for i, d := range c.Disks {
		f := d.Format
		if f == "" {
			f = "raw"
		}
		id := fmt.Sprintf("disk%d", i)
		a = append(a, "-drive", "file="+optValue(d.Path)+",format="+f+",if=none,id="+id)
		dev := "virtio-blk-pci,drive=" + id
		if d.Serial != "" {
			dev += ",serial=" + d.Serial
		}
		a = append(a, "-device", dev)
	}
	if c.StateDisk != "" {
		a = append(a, "-drive", "file="+optValue(c.StateDisk)+",format=raw,if=none,id=state",
			"-device", "virtio-blk-pci,drive=state,serial="+StateDiskSerial)
	}
	if c.Channel != nil {
		// reconnect=1: QEMU connects to the host's listener at start; if nobody listens (someone
		// rerunning the printed command by hand) it starts anyway and retries every second.
		a = append(a, "-chardev", "socket,id=channel,reconnect=1,path="+optValue(c.Channel.Socket),
			"-device", "virtio-serial-pci,id=vser0",
			"-device", "virtserialport,bus=vser0.0,chardev=channel,name="+c.Channel.Name)
	}
	if c.GuestAgent != "" {
		a = append(a, "-chardev", "socket,id=qga,reconnect=1,path="+optValue(c.GuestAgent))
		if c.Channel == nil {
			a = append(a, "-device", "virtio-serial-pci,id=vser0")
		}
		a = append(a, "-device", "virtserialport,bus=vser0.0,chardev=qga,name="+GuestAgentPort)
	}
	if c.QMPSocket != "" {
		a = append(a, "-chardev", "socket,id=qmp,reconnect=1,path="+optValue(c.QMPSocket),
			"-mon", "chardev=qmp,mode=control")
	}
	if c.TPM != nil {
		model := c.TPM.Model
		if model == "" {
			model = "tpm-tis"
		}
		a = append(a, "-chardev", "socket,id=tpmchr,path="+optValue(c.TPM.Socket),
			"-tpmdev", "emulator,id=tpm0,chardev=tpmchr", "-device", model+",tpmdev=tpm0")
	}
	return append(a, c.Extra...), nil
}

// GuestAgentPort is the virtio-serial port name the QEMU guest agent opens in the guest.
const GuestAgentPort = qga.PortName

// bootArgs are the arguments that say what the machine boots.
func bootArgs(c Config) []string {
	switch c.Boot {
	case BootDisk:
		im := c.Image
		a := []string{"-drive", "file=" + optValue(im.Overlay) + ",format=qcow2,if=none,id=boot"}
		if im.Interface == "ide" {
			return append(a, "-device", "ide-hd,drive=boot,bootindex=0"+serialOpt(im))
		}
		return append(a, "-device", "virtio-blk-pci,drive=boot,bootindex=0"+serialOpt(im))
	case BootCDROM:
		return []string{"-drive", "file=" + optValue(c.Image.Path) + ",format=" + imageFormat(c.Image) + ",media=cdrom,readonly=on,if=none,id=boot",
			"-device", "ide-cd,drive=boot,bootindex=0" + serialOpt(c.Image)}
	}
	a := []string{"-kernel", c.Kernel}
	if c.Initrd != "" {
		a = append(a, "-initrd", c.Initrd)
	}
	if c.Append != "" {
		a = append(a, "-append", c.Append)
	}
	return a
}

// machineOpt is the -machine value: the type, the RSDT/XSDT/FADT OEM IDs and the SMBIOS entry
// point.
func machineOpt(c Config) string {
	m := string(c.Machine)
	if c.OEMID != "" {
		m += ",x-oem-id=" + c.OEMID // QEMU 7.2 names them x-oem-id / x-oem-table-id
	}
	if c.OEMTableID != "" {
		m += ",x-oem-table-id=" + c.OEMTableID
	}
	if c.SMBIOSEntryPoint != "" {
		m += ",smbios-entry-point-type=" + c.SMBIOSEntryPoint
	}
	return m
}

// tableArgs adds the ACPI tables and the SMBIOS structures.
func tableArgs(c Config) []string {
	var a []string
	for _, t := range c.ACPITables {
		a = append(a, "-acpitable", "file="+optValue(t))
	}
	for _, f := range c.SMBIOSFiles {
		a = append(a, "-smbios", "file="+optValue(f))
	}
	return a
}

func serialOpt(im *Image) string {
	if im.Serial == "" {
		return ""
	}
	return ",serial=" + im.Serial
}

func imageFormat(im *Image) string {
	if im.Format == "" {
		return "raw"
	}
	return im.Format
}

func validateBoot(c Config) error {
	switch c.Boot {
	case BootKernel:
		if c.Kernel == "" {
			return &ConfigError{"Kernel", "required"}
		}
		if c.Image != nil {
			return &ConfigError{"Image", "set for a kernel boot: set Boot to disk or cdrom to boot it"}
		}
		return nil
	case BootDisk, BootCDROM:
	default:
		return &ConfigError{"Boot", fmt.Sprintf("%q: want disk, cdrom or empty (the kernel)", c.Boot)}
	}
	for _, f := range []struct{ field, v string }{{"Kernel", c.Kernel}, {"Initrd", c.Initrd}, {"Append", c.Append}} {
		if f.v != "" {
			return &ConfigError{f.field, fmt.Sprintf("set for a %s boot, which runs the image's own boot loader", c.Boot)}
		}
	}
	im := c.Image
	if im == nil || im.Path == "" {
		return &ConfigError{"Image.Path", "required for a " + string(c.Boot) + " boot"}
	}
	if !slices.Contains(ImageFormats, imageFormat(im)) {
		return &ConfigError{"Image.Format", fmt.Sprintf("%q: want %s", im.Format, strings.Join(ImageFormats, ", "))}
	}
	switch im.Interface {
	case "", "virtio", "ide":
	default:
		return &ConfigError{"Image.Interface", fmt.Sprintf("%q: want virtio or ide", im.Interface)}
	}
	if err := plainField("Image.Serial", im.Serial, maxSerial); err != nil {
		return err
	}
	if im.Serial == StateDiskSerial {
		return &ConfigError{"Image.Serial", StateDiskSerial + " is reserved for the state disk"}
	}
	if c.Boot == BootCDROM {
		if im.Interface == "virtio" {
			return &ConfigError{"Image.Interface", "a CD-ROM is on the AHCI/IDE controller, not virtio"}
		}
		if im.Overlay != "" {
			return &ConfigError{"Image.Overlay", "a CD-ROM is read-only media and needs no overlay"}
		}
		return nil
	}
	if im.Overlay == "" {
		return &ConfigError{"Image.Overlay", "required: a disk image is booted through a throw-away qcow2 overlay so that it is never written (Run makes one)"}
	}
	return nil
}

// IdentityArgs returns the arguments that carry a machine's firmware identity (its -machine with
// the OEM IDs and the SMBIOS entry point, its ACPI tables and SMBIOS structures), for someone who
// adds them to a QEMU command of their own (oemact synth's qemu.args). The machine type defaults
// to q35.
func IdentityArgs(c Config) ([]string, error) {
	if c.Machine == "" {
		c.Machine = Q35
	}
	for _, v := range []struct {
		field, value string
		max          int
	}{{"OEMID", c.OEMID, 6}, {"OEMTableID", c.OEMTableID, 8}} {
		if err := idField(v.field, v.value, v.max); err != nil {
			return nil, err
		}
	}
	return append([]string{"-machine", machineOpt(c)}, tableArgs(c)...), nil
}

func validate(c Config) error {
	switch c.Machine {
	case Q35, PC:
	default:
		return &ConfigError{"Machine", fmt.Sprintf("%q: want q35 or pc (microvm drops -acpitable and has no SMBIOS)", c.Machine)}
	}
	switch c.Firmware {
	case SeaBIOS, OVMF:
	default:
		return &ConfigError{"Firmware", fmt.Sprintf("%q: want seabios or ovmf", c.Firmware)}
	}
	switch c.Accel {
	case TCG, KVM:
	case AccelAuto:
		return &ConfigError{"Accel", "not chosen: Run probes KVM when Accel is empty; Args needs tcg or kvm"}
	default:
		return &ConfigError{"Accel", fmt.Sprintf("%q: want tcg or kvm", c.Accel)}
	}
	if err := validateBoot(c); err != nil {
		return err
	}
	if c.MemoryMB < 64 || c.MemoryMB > 1<<20 {
		return &ConfigError{"MemoryMB", fmt.Sprintf("%d: want 64 or more", c.MemoryMB)}
	}
	if c.CPUs < 1 || c.CPUs > 255 {
		return &ConfigError{"CPUs", fmt.Sprintf("%d: want 1 to 255", c.CPUs)}
	}
	if c.Sockets < 0 || (c.Sockets > 0 && c.CPUs%c.Sockets != 0) {
		return &ConfigError{"Sockets", fmt.Sprintf("%d: the %d CPUs must divide evenly over the sockets (the SMBIOS processor structures)", c.Sockets, c.CPUs)}
	}
	if strings.ContainsAny(c.CPUModel, " \n") || strings.HasPrefix(c.CPUModel, "-") {
		return &ConfigError{"CPUModel", fmt.Sprintf("%q is not a QEMU CPU model such as qemu64,+rdrand", c.CPUModel)}
	}
	if err := idField("OEMID", c.OEMID, 6); err != nil {
		return err
	}
	if err := idField("OEMTableID", c.OEMTableID, 8); err != nil {
		return err
	}
	switch c.SMBIOSEntryPoint {
	case "", "32", "64":
	default:
		return &ConfigError{"SMBIOSEntryPoint", fmt.Sprintf("%q: want 32 or 64", c.SMBIOSEntryPoint)}
	}
	if strings.ContainsAny(c.SerialLog, "\n") || strings.HasPrefix(c.SerialLog, "-") {
		return &ConfigError{"SerialLog", fmt.Sprintf("%q is not a usable file name", c.SerialLog)}
	}
	seenMAC := map[string]bool{}
	for i, n := range c.NICs {
		hw, err := net.ParseMAC(n.MAC)
		field := fmt.Sprintf("NICs[%d].MAC", i)
		if err != nil || len(hw) != 6 {
			return &ConfigError{field, fmt.Sprintf("%q is not a MAC address like 52:54:00:12:34:56", n.MAC)}
		}
		if hw[0]&1 != 0 {
			return &ConfigError{field, fmt.Sprintf("%s is a multicast address; a NIC needs a unicast one (even first octet)", n.MAC)}
		}
		if seenMAC[hw.String()] {
			return &ConfigError{field, fmt.Sprintf("%s is used twice", n.MAC)}
		}
		seenMAC[hw.String()] = true
	}
	for i, d := range c.Disks {
		if d.Path == "" {
			return &ConfigError{fmt.Sprintf("Disks[%d].Path", i), "required"}
		}
		if err := plainField(fmt.Sprintf("Disks[%d].Serial", i), d.Serial, maxSerial); err != nil {
			return err
		}
		if d.Serial == StateDiskSerial {
			return &ConfigError{fmt.Sprintf("Disks[%d].Serial", i), StateDiskSerial + " is reserved for the state disk"}
		}
		switch d.Format {
		case "", "raw", "qcow2":
		default:
			return &ConfigError{fmt.Sprintf("Disks[%d].Format", i), fmt.Sprintf("%q: want raw or qcow2", d.Format)}
		}
	}
	if c.Channel != nil {
		if c.Channel.Socket == "" {
			return &ConfigError{"Channel.Socket", "required"}
		}
		if err := plainField("Channel.Name", c.Channel.Name, 64); err != nil || c.Channel.Name == "" {
			if err == nil {
				err = &ConfigError{"Channel.Name", "required"}
			}
			return err
		}
	}
	if c.GuestAgent != "" && c.Channel != nil && c.Channel.Name == GuestAgentPort {
		return &ConfigError{"Channel.Name", GuestAgentPort + " is the guest agent's port (GuestAgent)"}
	}
	if c.TPM != nil {
		if c.TPM.Socket == "" {
			return &ConfigError{"TPM.Socket", "required"}
		}
		switch c.TPM.Model {
		case "", "tpm-tis", "tpm-crb":
		default:
			return &ConfigError{"TPM.Model", fmt.Sprintf("%q: want tpm-tis or tpm-crb", c.TPM.Model)}
		}
	}
	return nil
}

// idField checks an ACPI OEM ID: printable ASCII, at most max characters, no comma (QEMU's
// option syntax).
func idField(field, v string, max int) error {
	if len(v) > max {
		return &ConfigError{field, fmt.Sprintf("%q is %d characters; ACPI holds %d", v, len(v), max)}
	}
	for _, r := range v {
		if r < 0x20 || r > 0x7E || r == ',' {
			return &ConfigError{field, fmt.Sprintf("%q: only printable ASCII without commas", v)}
		}
	}
	return nil
}

func plainField(field, v string, max int) error {
	if len(v) > max {
		return &ConfigError{field, fmt.Sprintf("%q is %d characters; at most %d", v, len(v), max)}
	}
	for _, r := range v {
		if r <= 0x20 || r > 0x7E || r == ',' || r == '=' {
			return &ConfigError{field, fmt.Sprintf("%q: only printable ASCII without spaces, commas or '='", v)}
		}
	}
	return nil
}

// Quote quotes a word for a POSIX shell.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_@%+=:,./-", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// CommandLine returns the shell command that runs QEMU with args in dir.
func CommandLine(dir, qemu string, args []string) string {
	var b strings.Builder
	if dir != "" {
		b.WriteString("cd " + Quote(dir) + " && ")
	}
	b.WriteString(Quote(qemu))
	for _, a := range args {
		b.WriteString(" " + Quote(a))
	}
	return b.String()
}
