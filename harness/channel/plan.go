package channel

import (
	"time"

	"github.com/oemact/oemact/oemact/activation"
	"github.com/oemact/oemact/oemact/licence"
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
	// "activate-telephone", "activate-proxy", "rearm".
	Actions []string `json:"actions,omitempty"`
	// Logon: the user logs on at boot (reminders at logon).
	Logon bool `json:"logon"`
	// StaysOn says the machine stays on, its user logged on, after this step: until PowerOffAt
	// when set (a scenario's shutdown or hardware change), else until its next step. The licence
	// model sees that, whether or not the engine keeps the VM running (see Resume). Without it
	// the machine powers off after this step, and the reminders due until its next boot are shown
	// to nobody.
	StaysOn    bool      `json:"stays_on,omitempty"`
	PowerOffAt time.Time `json:"power_off_at,omitzero"`
	// IP is the address the machine's activation requests come from ("" the host's).
	IP string `json:"ip,omitempty"`
	// Offline: the machine has no network (online and proxy activation and KMS fail).
	Offline bool `json:"offline,omitempty"`
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

// Plan actions: activation.Action's values.
const (
	ActionActivateOnline    = string(activation.ActivateOnline)
	ActionActivateTelephone = string(activation.ActivateTelephone)
	ActionActivateProxy     = string(activation.ActivateProxy)
	ActionRearm             = string(activation.Rearm)
)

// The requests the guest relays to the host and the evaluation it reports are the activation
// model's own types.
type (
	ActivateRequest = activation.ActivateRequest
	Activation      = activation.Activation
	KMSRequest      = activation.KMSRequest
	Evaluation      = activation.Evaluation
)
