package licence

import (
	"fmt"
	"time"

	"github.com/oemact/oemact/firmware/productkey"
	"github.com/oemact/oemact/oemact/catalog"
	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/hwid"
)

// Product is what the installed key licenses. It never holds the key: only its last five
// characters, which Windows shows as the partial product key. A Product with no Channel is an
// installation without a product key (see Machine.Setup): the edition chosen at setup.
type Product struct {
	Channel    edition.Channel `json:"channel,omitempty"`
	Edition    string          `json:"edition"`
	PartialKey string          `json:"partial_key,omitempty"`
	// OEMID is, for OEM:SLP keys, the OEM whose marker the key needs.
	OEMID string `json:"oem_id,omitempty"`
}

// ProductOf returns what a catalog entry licenses.
func ProductOf(e *catalog.Entry) Product {
	return Product{Channel: e.Channel, Edition: e.Edition.ID, PartialKey: e.Key.LastFive(), OEMID: e.OEMID}
}

// EditionInfo looks up the product's edition.
func (p Product) EditionInfo() (edition.Edition, error) { return edition.Lookup(p.Edition) }

// Keyless reports whether the installation has no product key.
func (p Product) Keyless() bool { return p.Channel == "" }

// Validate checks that the edition exists and is sold through the channel.
func (p Product) Validate() error {
	ed, err := p.EditionInfo()
	if err != nil {
		return err
	}
	if p.Keyless() {
		if p.PartialKey != "" || p.OEMID != "" {
			return fmt.Errorf("an installation without a product key has no partial key and no OEM ID")
		}
		return nil
	}
	if _, err := edition.ParseChannel(string(p.Channel)); err != nil {
		return err
	}
	if !ed.Allows(p.Channel) {
		return fmt.Errorf("%s is not sold through channel %s", ed.Name, p.Channel)
	}
	return nil
}

func (p Product) describe() string {
	name := p.Edition
	if ed, err := p.EditionInfo(); err == nil {
		name = ed.Name
	}
	if p.Keyless() {
		return name + ", no product key"
	}
	s := fmt.Sprintf("%s, channel %s", name, p.Channel)
	if p.PartialKey != "" {
		s += ", key " + productkey.Mask("XXXXX-XXXXX-XXXXX-XXXXX-"+p.PartialKey)
	}
	return s
}

// Firmware is what the machine's firmware said at boot, as the OEM Activation evaluation found it.
type Firmware struct {
	// WindowsMarker: a SLIC carrying a "WINDOWS " marker is present (whatever its validity).
	WindowsMarker bool `json:"windows_marker"`
	// Marker identifies the marker (for example "TSTOEM/TSTBOARD/2.1/<key digest>"); an OEM:SLP
	// licence is bound to the marker it was activated with. Empty when there is none.
	Marker string `json:"marker,omitempty"`
	// OAValid is the OEM Activation 2.1 verdict for the installed key and edition.
	OAValid bool `json:"oa_valid"`
	// Reasons say why the verdict failed, in the evaluation's words.
	Reasons []string `json:"reasons,omitempty"`
}

// Boot is what the machine reports when it starts: its hardware inventory and firmware verdict.
// Either may be nil when unknown.
type Boot struct {
	Inventory *hwid.Inventory `json:"inventory,omitempty"`
	Firmware  *Firmware       `json:"firmware,omitempty"`
}

// Outcome is the activation service's answer.
type Outcome string

const (
	Succeeded Outcome = "success"
	Failed    Outcome = "failure"
	Blocked   Outcome = "blocked" // the key is blocked: the client enters non-genuine grace
)

// ActivationResult is the service's answer to an online or telephone activation.
type ActivationResult struct {
	Outcome Outcome `json:"outcome"`
	Code    string  `json:"code,omitempty"`
	Message string  `json:"message,omitempty"`
	// Refused says the service answered and refused the key (in use on other hardware, outside
	// its markets, a pool used up...), as opposed to an activation that did not reach it or a
	// confirmation ID typed wrong. A refusal brings the notification surfaces (see
	// Config.RefusedActivation); Blocked is always a refusal.
	Refused bool `json:"refused,omitempty"`
	// Method is "online" or "telephone"; it is only reported.
	Method string `json:"method,omitempty"`
}

// KMSAnswer is what a KMS client heard from its host on one attempt.
type KMSAnswer struct {
	// Reached is false when no host answered.
	Reached bool `json:"reached"`
	// Count is the host's count of distinct machines.
	Count int `json:"count"`
	// Activated says whether the host activated the client.
	Activated bool   `json:"activated"`
	Code      string `json:"code,omitempty"`
	Message   string `json:"message,omitempty"`
	// Validity, Renewal and Retry are the host's numbers; zero means the config's.
	Validity time.Duration `json:"validity,omitempty"`
	Renewal  time.Duration `json:"renewal,omitempty"`
	Retry    time.Duration `json:"retry,omitempty"`
}

// Codes the machine itself gives a failed KMS attempt.
const (
	CodeKMSCountLow     = "kms-count-too-low"
	CodeKMSUnreachable  = "kms-unreachable"
	CodeNoWindowsMarker = "no-windows-marker"
)
