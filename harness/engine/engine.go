// Package engine is the seam between the scenario runner and what runs a test machine. An engine
// boots a machine described in neutral words (Hardware: the firmware tables and the devices),
// runs the guest agent on it, hands the agent's messages to the runner's channel handler, and
// keeps the machine's state (state disk, TPM, disks) across its boots.
//
// What every engine must do, so that a scenario means the same on each:
//   - present the ACPI tables byte for byte under /sys/firmware/acpi/tables, and the RSDT/XSDT
//     and FADT with the OEM IDs the platform would have (with a SLIC, QEMU copies the SLIC
//     header's IDs there);
//   - present the SMBIOS structures byte for byte (with what the platform adds: type 127, QEMU's
//     defaults for types it was not given);
//   - attach the disks with their serials, the NICs with their MACs, the memory and CPUs, a TPM
//     2.0 whose endorsement key stays the same across boots until NewTPM, and a state disk;
//   - run the agent (harness/agent.Session) over a channel to the handler, round after round
//     while a plan says Resume, and stop the machine on Running.Stop;
//   - or, for a machine that boots an OS image (Hardware.Boot disk or cdrom), boot the image
//     through the firmware and its own boot loader without ever writing the image file, and hand
//     the OS's QEMU guest agent to a probe (Machine.Probe), probe after probe while asked to keep
//     it running. An engine that cannot boot images refuses them with an error that says so.
//
// Two engines exist: harness/engine/qemuvm boots QEMU (the real thing), harness/engine/inproc
// runs the agent's code in this process on a folder laid out like the guest's /proc and /sys
// (simulation, fast tests).
package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/harness/channel"
	"github.com/oemact/oemact/harness/qemu"
	"github.com/oemact/oemact/harness/qga"
	"github.com/oemact/oemact/oemact/activation"
	"github.com/oemact/oemact/oemact/profile"
	"github.com/oemact/oemact/smbios"
)

// Defaults for a Hardware field left zero: one list, the QEMU machine's.
const (
	DefaultChipset  = Q35
	DefaultFirmware = SeaBIOS
	DefaultMemoryMB = qemu.DefaultMemoryMB
	DefaultCPUs     = qemu.DefaultCPUs
	// DefaultDiskMB is the size of a disk given only by its serial.
	DefaultDiskMB = 8
)

// What a machine boots (Hardware.Boot): the profile's words.
const (
	BootKernel = profile.BootKernel // the guest kernel with the agent as init ("" too)
	BootDisk   = profile.BootDisk   // the OS image of the disk with an Image, as a disk
	BootCDROM  = profile.BootCDROM  // the OS image as a CD-ROM
)

// Chipsets and firmware.
const (
	Q35     = "q35"
	PC      = "pc" // i440FX
	SeaBIOS = "seabios"
	OVMF    = "ovmf"
)

// Hardware is one machine as the runner describes it.
type Hardware struct {
	// Tables are whole ACPI tables (header included), presented byte for byte: the markers.
	Tables []activation.Table
	// OEMID and OEMTableID go in the RSDT, XSDT and FADT (a SLIC's header wins, as on QEMU).
	OEMID, OEMTableID string
	// SMBIOS holds the structures to present (nil: the platform's defaults only).
	SMBIOS *smbios.Info
	// Chipset is Q35 or PC, Firmware SeaBIOS or OVMF ("" the defaults).
	Chipset, Firmware string
	MemoryMB, CPUs    int
	NICs              []NIC
	Disks             []Disk
	// TPM gives the machine a TPM 2.0.
	TPM bool
	// Boot is what the machine boots: BootKernel ("" too), or BootDisk or BootCDROM, the OS image
	// of the one disk that has an Image.
	Boot string
}

// NIC is a network adapter; only its MAC matters to activation.
type NIC struct{ MAC string }

// Disk is a blank disk with a serial number and a size, or the OS image the machine boots.
type Disk struct {
	Serial string
	SizeMB int
	// Image is an OS image file ("" for a blank disk), never written: a boot runs on a throw-away
	// overlay. Format is how QEMU reads it (raw, qcow2, vmdk, vhdx), Interface its controller
	// ("virtio", the default, or "ide").
	Image, Format, Interface string
}

// WithDefaults returns a copy with the zero fields set to the defaults.
func (h Hardware) WithDefaults() Hardware {
	if h.Chipset == "" {
		h.Chipset = DefaultChipset
	}
	if h.Firmware == "" {
		h.Firmware = DefaultFirmware
	}
	if h.MemoryMB == 0 {
		h.MemoryMB = DefaultMemoryMB
	}
	if h.CPUs == 0 {
		h.CPUs = DefaultCPUs
	}
	h.Disks = append([]Disk(nil), h.Disks...)
	for i := range h.Disks {
		if h.Disks[i].SizeMB == 0 && h.Disks[i].Image == "" {
			h.Disks[i].SizeMB = DefaultDiskMB
		}
	}
	return h
}

// Check says what an engine cannot build: a chipset or firmware it does not know, CPUs that do
// not spread over the processor sockets the SMBIOS describes.
func (h Hardware) Check() error {
	switch h.Chipset {
	case Q35, PC:
	default:
		return fmt.Errorf("chipset %q: want q35 or pc", h.Chipset)
	}
	switch h.Firmware {
	case SeaBIOS, OVMF:
	default:
		return fmt.Errorf("firmware %q is not supported by the harness; use seabios or ovmf", h.Firmware)
	}
	if _, err := firmware.PadID(h.OEMID, 6); err != nil {
		return fmt.Errorf("OEM ID: %w", err)
	}
	if _, err := firmware.PadID(h.OEMTableID, 8); err != nil {
		return fmt.Errorf("OEM table ID: %w", err)
	}
	if n := h.ProcessorSockets(); n > 0 && h.CPUs%n != 0 {
		return fmt.Errorf("%d CPUs cannot be spread over the %d processor sockets the SMBIOS describes", h.CPUs, n)
	}
	images := 0
	for _, d := range h.Disks {
		if d.Image != "" {
			images++
		}
	}
	switch {
	case h.Boot != "" && h.Boot != BootKernel && h.Boot != BootDisk && h.Boot != BootCDROM:
		return fmt.Errorf("boot %q: want kernel, disk or cdrom", h.Boot)
	case h.BootsImage() && images != 1:
		return fmt.Errorf("a %s boot needs one disk with an image, not %d", h.Boot, images)
	case !h.BootsImage() && images > 0:
		return errors.New("a disk has an OS image, but the machine boots the guest kernel: boot it with disk or cdrom")
	}
	return nil
}

// BootsImage reports whether the machine boots an OS image (Boot disk or cdrom) instead of the
// guest kernel and the agent.
func (h Hardware) BootsImage() bool { return h.Boot == BootDisk || h.Boot == BootCDROM }

// BootImage is the disk whose image the machine boots, if it boots one.
func (h Hardware) BootImage() (Disk, bool) {
	if !h.BootsImage() {
		return Disk{}, false
	}
	for _, d := range h.Disks {
		if d.Image != "" {
			return d, true
		}
	}
	return Disk{}, false
}

// ProcessorSockets is the number of processor structures (type 4) in the SMBIOS, over which the
// CPUs are spread: QEMU refuses to start unless the two agree. 0 leaves QEMU's default.
func (h Hardware) ProcessorSockets() int {
	if h.SMBIOS == nil {
		return 0
	}
	n := 0
	for _, s := range h.SMBIOS.QEMUStructures() {
		if s.Type == 4 {
			n++
		}
	}
	return n
}

// Engine makes machines.
type Engine interface {
	// Name is how reports call the engine ("qemu", "in-process").
	Name() string
	// Machine returns a machine whose state lives in dir and persists across its boots.
	Machine(name, dir string, o MachineOptions) (Machine, error)
}

// ImageBootError is an engine that cannot boot an OS image (Hardware.Boot disk or cdrom).
type ImageBootError struct {
	Engine string
	Boot   string
}

func (e *ImageBootError) Error() string {
	return fmt.Sprintf("the %s engine cannot boot an OS image (vm.boot: %s): it runs no firmware and no OS; run it with the QEMU engine (oemact run)", e.Engine, e.Boot)
}

// ProbeFunc reads what a booted OS saw, through the OS's QEMU guest agent.
type ProbeFunc func(ctx context.Context, agent *qga.Client) error

// MachineOptions tune a machine.
type MachineOptions struct {
	// Timeout bounds each boot (each round of a machine kept running).
	Timeout time.Duration
	// NoStateDisk leaves the state disk out: for a machine that boots only once.
	NoStateDisk bool
	// AgentTimeout bounds, for an OS image, QEMU's start to the OS's guest agent's first answer
	// (0: the engine's default, minutes: an OS boots far slower than the guest kernel).
	AgentTimeout time.Duration
}

// Machine is one test machine across its boots.
type Machine interface {
	// Boot boots the machine with hw; h answers the agent (its hello with the plan, its requests,
	// its report). With resume the machine keeps running after the report (Result.Running takes
	// its next step). The error is an infrastructure failure (the machine did not boot, the agent
	// failed or hung): not a test verdict.
	Boot(ctx context.Context, hw Hardware, h channel.Handler, resume bool) (*Result, error)
	// Probe boots hw's OS image (hw.Boot disk or cdrom), waits for the OS's guest agent and calls
	// probe with a client to it. With keep the machine keeps running after the probe
	// (Result.RunningOS takes the next one); else the guest is powered off and the machine's
	// files of the boot (the image's overlay, sockets) are gone. The error is an infrastructure
	// failure (QEMU failed, the agent never answered within MachineOptions.AgentTimeout) or the
	// probe's own error.
	Probe(ctx context.Context, hw Hardware, probe ProbeFunc, keep bool) (*Result, error)
	// NewTPM replaces the machine's TPM: a board swap or a TPM swap brings a new endorsement key.
	NewTPM() error
	// Boots counts the boots so far.
	Boots() int
}

// Running is a machine kept running after a round: its agent waits for its next step's plan.
type Running interface {
	// Next runs the next step without a reboot, as Machine.Boot runs a boot.
	Next(ctx context.Context, h channel.Handler, resume bool) (*Result, error)
	// Stop powers the machine off.
	Stop() error
}

// RunningOS is an OS image kept running after a probe: its guest agent takes the next probe.
type RunningOS interface {
	// Probe runs the next probe without a reboot, as Machine.Probe does after its boot.
	Probe(ctx context.Context, probe ProbeFunc, keep bool) (*Result, error)
	// Stop powers the machine off.
	Stop() error
}

// Result is what one boot (or one round of a machine kept running) did.
type Result struct {
	Wall time.Duration
	// Accel says how the machine ran ("tcg", "kvm", "in-process").
	Accel string
	// Command reproduces the boot ("" when there is nothing to rerun by hand).
	Command string
	// Log is the machine's console log.
	Log string
	// Outcome is how the machine ended ("power-off", "running", ...).
	Outcome string
	// Running is the machine, still running after the round.
	Running Running
	// RunningOS is an OS image's machine, still running after the probe.
	RunningOS RunningOS
	// BootToAgent is, for an OS image's boot, QEMU's start to the guest agent's first answer (0
	// for a probe in a machine kept running).
	BootToAgent time.Duration
}

// FromProfile describes a machine carrying a profile's synthesized tables on the profile's VM
// hardware (vm: the profile's, or as a scenario changed it).
func FromProfile(t *profile.Tables, vm profile.VM, tpm bool) Hardware {
	p := t.Profile
	hw := Hardware{Tables: t.Markers(), OEMID: p.ACPI.OEMID, OEMTableID: p.ACPI.OEMTableID, SMBIOS: t.SMBIOS,
		Chipset: vm.Machine, Firmware: vm.Firmware, MemoryMB: vm.MemoryMB, CPUs: vm.CPUs, TPM: tpm}
	for _, n := range vm.NICs {
		hw.NICs = append(hw.NICs, NIC{MAC: n.MAC})
	}
	if vm.BootsImage() {
		hw.Boot = vm.Boot
	}
	for _, d := range vm.Disks {
		hw.Disks = append(hw.Disks, Disk{Serial: d.Serial, SizeMB: d.SizeMB, Image: d.Path, Format: d.Format, Interface: d.Interface})
	}
	return hw
}
