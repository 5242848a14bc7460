// Package qemuvm is the QEMU engine: it boots a test machine in QEMU with the guest kernel and the
// static oemact as /init (harness/boot), the tables written where QEMU reads them (-acpitable,
// -smbios file=), a swtpm TPM per boot on the machine's TPM folder, and sparse disk images that
// keep their serials across boots.
//
// A machine that boots an OS image (engine.Hardware.Boot disk or cdrom) boots it through
// harness/guestprobe: the firmware and the image's own boot loader, a throw-away overlay over the
// image, and the OS's QEMU guest agent for the probe (image.go).
//
// It is the only code that turns a machine description into QEMU arguments.
package qemuvm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/harness/boot"
	"github.com/oemact/oemact/harness/channel"
	"github.com/oemact/oemact/harness/engine"
	"github.com/oemact/oemact/harness/kernel"
	"github.com/oemact/oemact/harness/qemu"
	"github.com/oemact/oemact/harness/swtpm"
	"github.com/oemact/oemact/oemact/profile"
	"github.com/oemact/oemact/smbios"
)

// Engine boots machines in QEMU.
type Engine struct {
	Kernel *kernel.Kernel
	// Agent is the static oemact binary booted as /init (default this executable).
	Agent string
	// InitramfsDir caches the guest initramfs by content (default each machine's folder).
	InitramfsDir string
	// Accel is the accelerator (TCG or KVM; resolve AccelAuto with qemu.ChooseAccel first).
	Accel qemu.Accel
}

// Name implements engine.Engine.
func (e *Engine) Name() string { return "qemu" }

// Machine implements engine.Engine.
func (e *Engine) Machine(name, dir string, o engine.MachineOptions) (engine.Machine, error) {
	if e.Kernel == nil {
		return nil, fmt.Errorf("qemu engine: no kernel (oemact kernel fetch)")
	}
	agentTimeout, probeTimeout := o.AgentTimeout, o.Timeout
	if agentTimeout <= 0 {
		agentTimeout = DefaultAgentTimeout
	}
	if probeTimeout <= 0 {
		probeTimeout = DefaultProbeTimeout
	}
	return &machine{e: e, dir: dir, disks: map[string]string{}, agentTimeout: agentTimeout, probeTimeout: probeTimeout,
		boot: &boot.Machine{Name: name, Kernel: e.Kernel, Agent: e.Agent, Dir: dir, InitramfsDir: e.InitramfsDir,
			Timeout: o.Timeout, NoStateDisk: o.NoStateDisk}}, nil
}

type machine struct {
	e     *Engine
	dir   string
	boot  *boot.Machine
	disks map[string]string // serial -> image
	// agentTimeout and probeTimeout bound an OS image's boot to its guest agent, and each probe.
	agentTimeout, probeTimeout time.Duration
}

func (m *machine) Boots() int { return m.boot.Boots }

// tpmDir is where the machine's swtpm keeps its state across boots.
func (m *machine) tpmDir() string { return filepath.Join(m.dir, "tpm") }

// NewTPM forgets the machine's TPM state: the next swtpm manufactures a new TPM.
func (m *machine) NewTPM() error { return swtpm.Wipe(m.tpmDir()) }

// Boot implements engine.Machine.
func (m *machine) Boot(ctx context.Context, hw engine.Hardware, h channel.Handler, resume bool) (*engine.Result, error) {
	hw = hw.WithDefaults()
	if err := hw.Check(); err != nil {
		return nil, err
	}
	if hw.BootsImage() {
		return nil, fmt.Errorf("qemu engine: %s boots an OS image (%s), which runs no oemact agent: probe it (Probe)", m.boot.Name, hw.Boot)
	}
	bootDir := m.boot.BootDir(m.boot.Boots + 1)
	cfg, err := m.config(hw, filepath.Join(bootDir, "tables"))
	if err != nil {
		return nil, err
	}
	var tp *swtpm.Process
	if hw.TPM {
		// A swtpm per boot on the machine's state folder: QEMU ends it when it exits.
		if tp, err = swtpm.Start(m.tpmDir(), swtpm.Options{SocketDir: bootDir}); err != nil {
			return nil, err
		}
		cfg.TPM = tp.QEMU("")
	}
	m.boot.Config = cfg
	res, err := m.boot.Start(ctx, h, resume)
	out := result(res, tp)
	if out == nil || out.Running == nil {
		stopTPM(tp, &err)
	}
	return out, err
}

// config is the QEMU configuration of hw, with its tables written into dir.
func (m *machine) config(hw engine.Hardware, dir string) (qemu.Config, error) {
	c := qemu.Config{Machine: qemu.Machine(hw.Chipset), Firmware: qemu.Firmware(hw.Firmware), MemoryMB: hw.MemoryMB,
		CPUs: hw.CPUs, Sockets: hw.ProcessorSockets(), OEMID: hw.OEMID, OEMTableID: hw.OEMTableID, Accel: m.e.Accel}
	tf, err := writeTables(hw, dir)
	if err != nil {
		return c, err
	}
	c.ACPITables, c.SMBIOSFiles, c.SMBIOSEntryPoint = tf.ACPI, tf.SMBIOS, tf.EntryPoint
	for _, n := range hw.NICs {
		c.NICs = append(c.NICs, qemu.NIC{MAC: n.MAC})
	}
	for _, d := range hw.Disks {
		if d.Image != "" {
			im := &qemu.Image{Path: d.Image, Format: d.Format, Interface: d.Interface, Serial: d.Serial}
			c.Boot, c.Image = qemu.Boot(hw.Boot), im
			continue
		}
		p, err := m.disk(d)
		if err != nil {
			return c, err
		}
		c.Disks = append(c.Disks, qemu.Disk{Path: p, Serial: d.Serial})
	}
	return c, nil
}

// files are the tables as QEMU reads them.
type files struct {
	ACPI   []string // one whole table per file, for -acpitable file=
	SMBIOS []string // one structure per file, for -smbios file=
	// EntryPoint is "64" for an _SM3_ entry point, else "".
	EntryPoint string
}

// writeTables writes hw's ACPI tables (NAME.bin) and SMBIOS structures (smbios/NNN-...bin) into
// dir.
func writeTables(hw engine.Hardware, dir string) (*files, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f := &files{EntryPoint: entryPointArg(hw.SMBIOS)}
	for _, t := range hw.Tables {
		p := filepath.Join(dir, t.Name+".bin")
		if err := os.WriteFile(p, t.Data, 0o644); err != nil {
			return nil, err
		}
		f.ACPI = append(f.ACPI, p)
	}
	if hw.SMBIOS == nil {
		return f, nil
	}
	sdir := filepath.Join(dir, "smbios")
	if err := os.RemoveAll(sdir); err != nil {
		return nil, err
	}
	names, err := hw.SMBIOS.WriteQEMUFiles(sdir)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		f.SMBIOS = append(f.SMBIOS, filepath.Join(sdir, n))
	}
	return f, nil
}

// entryPointArg is QEMU's smbios-entry-point-type for info: "64" for an _SM3_ entry point, else
// "" (QEMU's default).
func entryPointArg(info *smbios.Info) string {
	if info != nil && info.EntryPoint != nil && info.EntryPoint.Kind == smbios.EntryPoint64 {
		return "64"
	}
	return ""
}

// identityArgs returns the QEMU arguments that carry hw's firmware identity, given its table
// files: what `oemact synth` writes to qemu.args.
func identityArgs(hw engine.Hardware, f *files) ([]string, error) {
	hw = hw.WithDefaults()
	return qemu.IdentityArgs(qemu.Config{Machine: qemu.Machine(hw.Chipset), OEMID: hw.OEMID, OEMTableID: hw.OEMTableID,
		ACPITables: f.ACPI, SMBIOSFiles: f.SMBIOS, SMBIOSEntryPoint: f.EntryPoint})
}

// disk returns the machine's image for a disk serial, creating a sparse raw image the first time.
func (m *machine) disk(d engine.Disk) (string, error) {
	if p, ok := m.disks[d.Serial]; ok {
		return p, nil
	}
	p := filepath.Join(m.dir, "disk-"+d.Serial+".img")
	if err := os.MkdirAll(m.dir, 0o755); err != nil {
		return "", err
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if err := f.Truncate(int64(d.SizeMB) << 20); err != nil {
		return "", err
	}
	m.disks[d.Serial] = p
	return p, nil
}

// result converts a boot result; tp, the boot's swtpm, is stopped when the machine stops.
func result(res *boot.Result, tp *swtpm.Process) *engine.Result {
	if res == nil {
		return nil
	}
	out := &engine.Result{Wall: res.Timings.Total}
	if q := res.QEMU; q != nil {
		out.Accel, out.Command, out.Log, out.Outcome = string(q.Accel), q.Command, q.Serial, q.Outcome.String()
	}
	if res.Running != nil {
		out.Outcome = "running"
		out.Running = &running{r: res.Running, tp: tp}
	}
	return out
}

// running is a QEMU machine kept running.
type running struct {
	r  *boot.Running
	tp *swtpm.Process
}

func (r *running) Next(ctx context.Context, h channel.Handler, resume bool) (*engine.Result, error) {
	res, err := r.r.Next(ctx, h, resume)
	out := result(res, r.tp)
	if out == nil || out.Running == nil {
		r.stopTPM(&err)
	}
	return out, err
}

func (r *running) Stop() error {
	err := r.r.Stop()
	r.stopTPM(&err)
	return err
}

func (r *running) stopTPM(err *error) {
	stopTPM(r.tp, err)
	r.tp = nil
}

var _ engine.Engine = (*Engine)(nil)

// WriteSynthArgs writes qemu.args into dir: the arguments that carry a synthesized profile's
// firmware identity, one per line, with absolute names of the table files written (as
// profile.Write wrote them), for someone who adds them to a QEMU command of their own. It returns
// the file and the arguments.
func WriteSynthArgs(dir string, t *profile.Tables, written *profile.Files) (string, []string, error) {
	f := &files{EntryPoint: entryPointArg(t.SMBIOS)}
	for _, sig := range firmware.MarkerSignatures() {
		if p := written.Marker(sig); p != "" {
			abs, err := filepath.Abs(p)
			if err != nil {
				return "", nil, err
			}
			f.ACPI = append(f.ACPI, abs)
		}
	}
	for _, p := range written.SMBIOS {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", nil, err
		}
		f.SMBIOS = append(f.SMBIOS, abs)
	}
	args, err := identityArgs(engine.FromProfile(t, t.Profile.VM, false), f)
	if err != nil {
		return "", nil, err
	}
	var b strings.Builder
	b.WriteString("# QEMU arguments that carry this profile's firmware identity, one per line. File names are\n")
	b.WriteString("# absolute: use them from any folder (synthesize again after moving this one).\n")
	b.WriteString("# Use: qemu-system-x86_64 $(grep -v '^#' qemu.args) ...\n")
	b.WriteString("# or, with spaces in the folder's path: mapfile -t a < <(grep -v '^#' qemu.args); qemu-system-x86_64 \"${a[@]}\" ...\n")
	for _, a := range args {
		b.WriteString(a + "\n")
	}
	path := filepath.Join(dir, "qemu.args")
	return path, args, os.WriteFile(path, []byte(b.String()), 0o644)
}
