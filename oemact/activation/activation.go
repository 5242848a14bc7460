// Package activation is the licensing client of the model: at one boot of a machine it reads the
// firmware tables as Windows' licensing service would, decides which key and which OEM
// certificate apply, evaluates OEM Activation 2.1 or 3.0, and feeds the licence state machine the
// boot, the logon and the user's actions, asking the host (the activation service, a KMS host)
// what it must. The guest agent, the in-process engine and `oemact verify` all call it.
//
// It knows no VM, channel or file system: its input is what a machine exposes (tables, SMBIOS,
// kernel log lines, a hardware inventory, the saved state), its output an Evaluation and the
// state to save.
package activation

import (
	"time"

	"github.com/oemact/oemact/firmware/finding"
	"github.com/oemact/oemact/oemact/catalog"
	"github.com/oemact/oemact/oemact/hwid"
	"github.com/oemact/oemact/oemact/licence"
	"github.com/oemact/oemact/oemact/oa"
	"github.com/oemact/oemact/oemact/tpm"
)

// Host is what the client asks of the world outside the machine: Microsoft's side (the
// activation service, relayed by the harness) and the organisation's KMS host.
type Host interface {
	Activate(req ActivateRequest) (Activation, error)
	KMS(req KMSRequest) (licence.KMSAnswer, error)
}

// Action is something the user does after logging on.
type Action string

// The user's actions.
const (
	ActivateOnline    Action = "activate-online"
	ActivateTelephone Action = "activate-telephone"
	// ActivateProxy is MAK proxy activation (VAMT's role): the machine's installation ID goes to
	// the service in a batch that a proxy sends, and the confirmation ID comes back.
	ActivateProxy Action = "activate-proxy"
	Rearm         Action = "rearm"
)

// Language is the installation's language, which online requests carry (DESIGN.md's list): the
// model installs every machine in it.
const Language = "en-US"

// Table is one ACPI table as the firmware exposes it: its sysfs name and its bytes.
type Table = tpm.Table

// Firmware is what a machine's firmware exposes through the kernel.
type Firmware struct {
	// Tables are the files of /sys/firmware/acpi/tables.
	Tables []Table
	// SMBIOSEntryPoint and SMBIOSTable are /sys/firmware/dmi/tables/smbios_entry_point and DMI.
	SMBIOSEntryPoint, SMBIOSTable []byte
	// KernelLog holds the kernel log lines that print ACPI table headers (the RSDP, RSDT and XSDT
	// appear only there).
	KernelLog []string
}

// Input is one boot of a machine.
type Input struct {
	Now     time.Time
	Edition string
	// Key is the installed product key (a TEST key, whole); InstallKey installs it at this boot
	// (the first boot, or a key change). Empty: no key was given, and the edition's default
	// applies (see DefaultKey).
	Key        string
	InstallKey bool
	// Logon: a user logs on at this boot (reminders are shown at logon).
	Logon bool
	// StaysOn: the machine stays on after this boot, its user logged on, until its next one or
	// PowerOffAt; by default it powers off, and the reminders that fall due until its next boot
	// are shown to nobody. The reminders shown while it stays on are reported by its next boot.
	StaysOn    bool
	PowerOffAt time.Time
	Actions    []Action
	// IP is the address the machine's activation requests come from ("" the host's own): the
	// service judges market-restricted editions by it.
	IP string
	// Offline: the machine has no network, so online and proxy activation and KMS fail without
	// asking; telephone activation still works.
	Offline bool
	// Certificate is the OEM certificate (.xrm-ms) the OEM's image installs with Windows;
	// Authority the PEM public key it chains to. Empty: see CertificateFor.
	Certificate, Authority []byte
	// Catalog is the key catalog (nil: the built-in TEST catalog).
	Catalog *catalog.Catalog
	// Licence overrides the licence model's configuration of a new installation (nil: defaults).
	Licence *licence.Config
	// TPM binds the licence state to the firmware identity with the TPM at TPMPath (default
	// tpm.DefaultPath: a device, or a swtpm socket).
	TPM     bool
	TPMPath string
	// Stateless: nothing boots this machine again, so no state is returned.
	Stateless bool

	Firmware  Firmware
	Inventory hwid.Inventory
	// State is what the previous boot returned (nil: a fresh installation).
	State []byte
}

// ActivateRequest is an activation the client asks the activation service for. An online one
// carries what DESIGN.md lists: software version, language, product key, IP and hardware.
type ActivateRequest struct {
	// Method is "online", "telephone" or "proxy" (the installation ID goes in a MAK proxy batch).
	Method  string `json:"method"`
	Key     string `json:"key,omitempty"`     // online: the product key
	Edition string `json:"edition,omitempty"` // online: the installed edition
	// SoftwareVersion and Language (online) are the Windows version and the installation's
	// language.
	SoftwareVersion string `json:"software_version,omitempty"`
	Language        string `json:"language,omitempty"`
	// Hardware is the redacted inventory (digests only), for online activation.
	Hardware *hwid.Inventory `json:"hardware,omitempty"`
	// InstallationID is what a user reads out on the telephone, or a proxy gathers.
	InstallationID string `json:"installation_id,omitempty"`
	// IP is the address the request comes from, when the machine has one of its own (Input.IP).
	IP string `json:"ip,omitempty"`
}

// Activation is the service's answer, as the licence model takes it.
type Activation struct {
	Result         licence.ActivationResult `json:"result"`
	ConfirmationID string                   `json:"confirmation_id,omitempty"`
	// Service is the service's own result word (activated, reactivated, moved, blocked) or error
	// code, for reports.
	Service string `json:"service,omitempty"`
}

// KMSRequest is a KMS client request.
type KMSRequest struct {
	CMID          string `json:"cmid"`
	Edition       string `json:"edition"`
	MarkerPresent bool   `json:"marker_present"`
}

// Evaluation is what the client concluded at one boot.
type Evaluation struct {
	// Findings of the firmware and SMBIOS checks (and of the OEM Activation evaluation).
	Findings finding.List `json:"findings"`
	// OA is the OEM Activation verdict for the installed key's channel (OEM:SLP: OA 2.1,
	// OEM:DM: OA 3.0), nil for other channels.
	OA *oa.Verdict `json:"oa,omitempty"`
	// WindowsMarker: a SLIC with a Windows marker is present.
	WindowsMarker bool `json:"windows_marker"`
	// Identity is the SMBIOS identity read (smbios.IdentityKeys: "system.serial_number", ...).
	Identity map[string]string `json:"identity,omitempty"`
	// Inventory is the hardware inventory (with raw values: this is a test machine).
	Inventory hwid.Inventory `json:"inventory"`
	// Snapshot is the licence state after the boot's actions.
	Snapshot licence.Snapshot `json:"snapshot"`
	// Events are the licence events since the previous boot.
	Events []licence.Event `json:"events"`
	// Activations are the answers the service gave this boot.
	Activations []Activation `json:"activations,omitempty"`
	// KMS are the KMS host's answers this boot.
	KMS []licence.KMSAnswer `json:"kms,omitempty"`
	// Refused lists inputs the licence model refused (a fourth rearm...).
	Refused []string `json:"refused,omitempty"`
	// CMID is the KMS client machine ID of this installation.
	CMID string `json:"cmid,omitempty"`
	// TPM is the TPM binding's status, when asked for.
	TPM *tpm.Status `json:"tpm,omitempty"`
	// Digests are SHA-256 digests of the marker tables and the SMBIOS table seen (name -> hex), so
	// the host can check they are the ones it synthesized.
	Digests map[string]string `json:"digests,omitempty"`
}
