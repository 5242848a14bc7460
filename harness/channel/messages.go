package channel

import (
	"encoding/json"
	"fmt"

	"github.com/oemact/oemact/oemact/tpm"
)

// Type names a message kind.
type Type string

// The message kinds. Adding one means a constant, an entry in types and a payload struct.
const (
	// TypeReport (guest to host, request): what the guest read (Report). The host answers with
	// TypeReply.
	TypeReport Type = "report"
	// TypeReply (host to guest, response): the host's answer to a report (Reply).
	TypeReply Type = "reply"
	// TypeError as a request (guest to host) says the agent failed and is powering off; the host
	// answers TypeAck. As a response (either way) it refuses a request. Payload: Error.
	TypeError Type = "error"
	// TypeAck (host to guest, response): received, nothing to add. No payload.
	TypeAck Type = "ack"
	// TypeHello (guest to host, request): the agent is up (Hello), or, after a report whose plan
	// said Resume, ready for the machine's next step. The host answers TypePlan (Plan.PowerOff
	// when it has no next step).
	TypeHello Type = "hello"
	// TypePlan (host to guest, response): what this boot is about (Plan).
	TypePlan Type = "plan"
	// TypeActivate (guest to host, request): an online or telephone activation to relay to the
	// activation service (ActivateRequest). The host answers TypeActivation.
	TypeActivate Type = "activate"
	// TypeActivation (host to guest, response): the service's answer (Activation).
	TypeActivation Type = "activation"
	// TypeKMS (guest to host, request): a KMS client request to relay to the KMS host
	// (KMSRequest). The host answers TypeKMSAnswer.
	TypeKMS Type = "kms"
	// TypeKMSAnswer (host to guest, response): the KMS host's answer (licence.KMSAnswer).
	TypeKMSAnswer Type = "kms-answer"
)

type sides uint8

func sideBit(s Side) sides { return 1 << sides(s) }

// typeInfo says who may send a kind as a request (re absent) and as a response (re set).
type typeInfo struct {
	request, response sides
}

var types = map[Type]typeInfo{
	TypeReport: {request: sideBit(Guest)},
	TypeReply:  {response: sideBit(Host)},
	TypeAck:    {response: sideBit(Host)},
	TypeError:  {request: sideBit(Guest), response: sideBit(Guest) | sideBit(Host)},

	TypeHello:      {request: sideBit(Guest)},
	TypePlan:       {response: sideBit(Host)},
	TypeActivate:   {request: sideBit(Guest)},
	TypeActivation: {response: sideBit(Host)},
	TypeKMS:        {request: sideBit(Guest)},
	TypeKMSAnswer:  {response: sideBit(Host)},
}

// check says why side may not send a message of this kind with this re, or "" when it may.
func (info typeInfo) check(t Type, from Side, re uint64) string {
	b := sideBit(from)
	switch {
	case (info.request|info.response)&b == 0:
		return fmt.Sprintf("the %s may not send %q messages", from, t)
	case re == 0 && info.request&b == 0:
		return fmt.Sprintf("%q from the %s is a response but answers no request (re missing)", t, from)
	case re != 0 && info.response&b == 0:
		return fmt.Sprintf("%q from the %s is a request but has re=%d", t, from, re)
	}
	return ""
}

// Blob is a named byte string, such as one ACPI table file.
type Blob struct {
	Name string `json:"name"`
	Data []byte `json:"data"` // base64 in JSON
}

// Report is what the guest agent read, in raw form: the host runs the decoders and checks on it,
// the same ones that run on real machines.
type Report struct {
	Agent Agent `json:"agent"`
	// ACPITables are the files of /sys/firmware/acpi/tables (sysfs numbers duplicates: SSDT1,
	// SSDT2...), plus dynamic/ ones with that prefix, sorted by name.
	ACPITables []Blob `json:"acpi_tables"`
	// SMBIOSEntryPoint and SMBIOSTable are /sys/firmware/dmi/tables/smbios_entry_point and DMI.
	SMBIOSEntryPoint []byte `json:"smbios_entry_point"`
	SMBIOSTable      []byte `json:"smbios_table"`
	// KernelLog holds the kernel log lines that describe ACPI tables ("ACPI: RSDT 0x... (v01
	// BOCHS  BXPC ...)"): Linux shows RSDP, RSDT and XSDT only there.
	KernelLog []string `json:"kernel_log"`
	// State is the licence state read from the state disk (nil when blank or absent).
	State json.RawMessage `json:"state,omitempty"`
	// StateStatus is "ok", "blank", "absent" (no state disk) or "damaged" (see StateError).
	StateStatus string  `json:"state_status"`
	StateError  string  `json:"state_error,omitempty"`
	Devices     Devices `json:"devices"`
	// Notes are problems that did not stop the agent (a module that did not load, a table that
	// could not be read).
	Notes   []string `json:"notes,omitempty"`
	Timings []Timing `json:"timings,omitempty"`
	// Evaluation is what the agent's activation model concluded, when the plan asked for it.
	Evaluation *Evaluation `json:"evaluation,omitempty"`
}

// Agent identifies the agent and the kernel it runs on.
type Agent struct {
	Version       string `json:"version"`        // oemact build (module version or "devel")
	KernelRelease string `json:"kernel_release"` // uname -r
	Cmdline       string `json:"cmdline"`        // /proc/cmdline
}

// Devices are the raw device facts the guest sees, as sysfs and procfs give them. They show the
// QEMU command line took effect; the activation model's inventory is derived from the machine
// itself (oemact/hwid).
type Devices struct {
	NICs       []NIC  `json:"nics,omitempty"`
	Disks      []Disk `json:"disks,omitempty"`
	MemTotalKB uint64 `json:"mem_total_kb"`
	CPUs       int    `json:"cpus"`
}

// NIC is a network interface (not lo).
type NIC struct {
	Name string `json:"name"`
	MAC  string `json:"mac"`
}

// Disk is a block device.
type Disk struct {
	Name      string `json:"name"`
	Serial    string `json:"serial,omitempty"`
	SizeBytes uint64 `json:"size_bytes"`
}

// Timing is how long one agent step took.
type Timing struct {
	Step string  `json:"step"`
	Ms   float64 `json:"ms"`
}

// Reply answers a Report.
type Reply struct {
	// State, when set, is written to the state disk before the guest powers off.
	State json.RawMessage `json:"state,omitempty"`
}

// Error is a failure: the agent's (as a request, with the step that failed) or a refusal of a
// request (as a response).
type Error struct {
	Stage   string `json:"stage,omitempty"`
	Message string `json:"message"`
}

// TPMTables converts a report's tables to the TPM binding's input.
func TPMTables(bs []Blob) []tpm.Table {
	out := make([]tpm.Table, len(bs))
	for i, b := range bs {
		out[i] = tpm.Table{Name: b.Name, Data: b.Data}
	}
	return out
}
