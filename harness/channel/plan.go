package channel

import (
	"encoding/json"
	"time"

	"github.com/oemact/oemact/firmware/finding"
	"github.com/oemact/oemact/oemact/hwid"
	"github.com/oemact/oemact/oemact/licence"
	"github.com/oemact/oemact/oemact/oa"
)

// Hello is the agent's first message.
type Hello struct {
	Agent Agent `json:"agent"`
}

// Plan tells the agent what this boot is: the simulated time, the installed edition and key, and
// what the user does. A zero Plan (Evaluate false) asks only for the raw report.
type Plan struct {
	// Evaluate turns on the activation model in the guest: decoding and checks, OEM Activation,
	// hardware inventory, the licence state machine.
	Evaluate bool      `json:"evaluate"`
	Now      time.Time `json:"now"`
	Machine  string    `json:"machine"`
	Edition  string    `json:"edition"`
	// Key is the installed product key (a TEST key); InstallKey installs it at this boot (the
	// first boot, or a key change), replacing the licence's product.
	Key        string `json:"key,omitempty"`
	InstallKey bool   `json:"install_key,omitempty"`
	// Stateless says nothing boots this machine again: it has no state disk and the agent keeps
	// no state. The licence's new state is still in the evaluation (its snapshot and events).
	Stateless bool `json:"stateless,omitempty"`
	// Resume says the host keeps the machine running after this boot's report: its next step
	// changes only the clock, so the agent asks for another plan instead of powering off, and
	// starts that round from the licence state this one left (a machine without a state disk
	// keeps it in memory).
	Resume bool `json:"resume,omitempty"`
	// PowerOff, in answer to the hello of a resumed machine, says the host has no more steps for
	// it: the agent powers off.
	PowerOff bool `json:"power_off,omitempty"`
	// Actions the user takes after logging on, in order: "activate-online",
	// "activate-telephone", "rearm".
	Actions []string `json:"actions,omitempty"`
	// Logon: the user logs on at boot (reminders at logon).
	Logon bool `json:"logon"`
	// Certificate is the OEM certificate (.xrm-ms) installed with Windows; Authority the PEM public
	// key it must chain to; Catalog the key catalog in its wire form (productkey.Catalog.Wire).
	// Empty: the built-in TEST ones.
	Certificate []byte `json:"certificate,omitempty"`
	Authority   []byte `json:"authority,omitempty"`
	Catalog     []byte `json:"catalog,omitempty"`
	// Licence overrides the model's configuration (nil: defaults).
	Licence *licence.Config `json:"licence,omitempty"`
	// TPM: measure the firmware identity and seal the licence state (issue: TPM binding).
	TPM bool `json:"tpm,omitempty"`
}

// Plan actions.
const (
	ActionActivateOnline    = "activate-online"
	ActionActivateTelephone = "activate-telephone"
	ActionRearm             = "rearm"
)

// ActivateRequest is an activation the guest asks the host to relay to the service.
type ActivateRequest struct {
	// Method is "online" or "telephone".
	Method  string `json:"method"`
	Key     string `json:"key,omitempty"`     // online: the product key
	Edition string `json:"edition,omitempty"` // online: the installed edition
	// Hardware is the redacted inventory (digests only), for online activation.
	Hardware *hwid.Inventory `json:"hardware,omitempty"`
	// InstallationID is what a user reads out on the telephone.
	InstallationID string `json:"installation_id,omitempty"`
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

// Evaluation is what the guest's activation model concluded at this boot.
type Evaluation struct {
	// Findings of the firmware and SMBIOS checks (and of the OEM Activation evaluation).
	Findings finding.List `json:"findings"`
	// OA is the OEM Activation verdict for the installed key's channel (OEM:SLP: OA 2.1,
	// OEM:DM: OA 3.0), nil for other channels.
	OA *oa.Verdict `json:"oa,omitempty"`
	// WindowsMarker: a SLIC with a Windows marker is present.
	WindowsMarker bool `json:"windows_marker"`
	// Identity is the SMBIOS identity the guest read.
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
	// TPM is the TPM binding's status, when the plan asked for it.
	TPM json.RawMessage `json:"tpm,omitempty"`
	// Digests are SHA-256 digests of the tables the guest saw (name -> hex), so the host can
	// check they are the ones it synthesized.
	Digests map[string]string `json:"digests,omitempty"`
}
