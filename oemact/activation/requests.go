package activation

import (
	"errors"
	"fmt"

	"github.com/oemact/oemact/oemact/licence"
	"github.com/oemact/oemact/oemact/service/phone"
)

// Codes the client itself gives a failed activation.
const (
	// CodeNoNetwork: the machine has no network, so an online or proxy activation never left it.
	CodeNoNetwork = "no-network"
	// CodeConfirmationInvalid: the confirmation ID the service gave does not belong to the
	// installation ID (what the user types in is checked by the machine).
	CodeConfirmationInvalid = "confirmation-id-invalid"
)

// methods are the request methods of the activation actions.
var methods = map[Action]string{ActivateOnline: "online", ActivateTelephone: "telephone", ActivateProxy: "proxy"}

// activate asks the activation service, online, by telephone or through a MAK proxy, and gives
// the machine the answer.
func (b *boot) activate(a Action) error {
	entry, inv, ev := b.entry, b.in.Inventory, b.ev
	req := ActivateRequest{Method: methods[a], IP: b.in.IP}
	var ans Activation
	switch {
	case b.in.Offline && a != ActivateTelephone:
		// Nothing leaves the machine; a telephone needs no network.
		ans.Result = licence.ActivationResult{Outcome: licence.Failed, Code: CodeNoNetwork,
			Message: "this machine has no network connection, so the activation service cannot be reached; activate by telephone"}
		ev.Activations = append(ev.Activations, withMethod(ans, req.Method))
		return b.apply(b.m.Activate(ans.Result))
	case a == ActivateOnline:
		red := inv.Redacted()
		req.Key, req.Edition, req.Hardware = entry.Key.Reveal(), b.ed.ID, &red
		req.SoftwareVersion, req.Language = b.ed.ReleaseInfo().Version, Language
	default:
		iid, err := phone.NewInstallationID(entry.Key, inv)
		if err != nil {
			return fmt.Errorf("installation ID: %w", err)
		}
		req.InstallationID = iid
	}
	ans, err := b.host.Activate(req)
	if err != nil {
		return fmt.Errorf("activation (%s): %w", req.Method, err)
	}
	if req.InstallationID != "" && ans.Result.Outcome == licence.Succeeded {
		// The user (or the proxy) types the confirmation ID in: it must belong to this
		// installation ID.
		if err := phone.VerifyConfirmation(req.InstallationID, ans.ConfirmationID); err != nil {
			ans.Result = licence.ActivationResult{Outcome: licence.Failed, Code: CodeConfirmationInvalid, Message: err.Error()}
		}
	}
	ans = withMethod(ans, req.Method)
	ev.Activations = append(ev.Activations, ans)
	return b.apply(b.m.Activate(ans.Result))
}

func withMethod(a Activation, method string) Activation {
	a.Result.Method = method
	return a
}

// askKMS asks the KMS host and gives the machine the answer. A machine with no network reaches
// no host.
func (b *boot) askKMS() error {
	var ans licence.KMSAnswer
	if b.in.Offline {
		ans.Message = "this machine has no network connection"
	} else {
		var err error
		if ans, err = b.host.KMS(KMSRequest{CMID: b.st.CMID, Edition: b.ed.ID, MarkerPresent: b.fw.WindowsMarker}); err != nil {
			return fmt.Errorf("KMS: %w", err)
		}
	}
	b.ev.KMS = append(b.ev.KMS, ans)
	return b.apply(b.m.KMSResponse(ans))
}

// apply keeps a refusal by the licence machine as a note; any other error stops the boot.
func (b *boot) apply(err error) error {
	var r *licence.RefusedError
	if err != nil && !errors.As(err, &r) {
		return err
	} else if err != nil {
		b.ev.Refused = append(b.ev.Refused, err.Error())
	}
	return nil
}
