package activation

import (
	"errors"
	"fmt"

	"github.com/oemact/oemact/oemact/licence"
	"github.com/oemact/oemact/oemact/service/phone"
)

// activate asks the activation service, online or by telephone, and gives the machine the answer.
func (b *boot) activate(a Action) error {
	entry, inv, ev := b.entry, b.in.Inventory, b.ev
	req := ActivateRequest{Method: "online"}
	if a == ActivateTelephone {
		iid, err := phone.NewInstallationID(entry.Key, inv)
		if err != nil {
			return fmt.Errorf("installation ID: %w", err)
		}
		req.Method, req.InstallationID = "telephone", iid
	} else {
		red := inv.Redacted()
		req.Key, req.Edition, req.Hardware = entry.Key.Reveal(), b.ed.ID, &red
	}
	ans, err := b.host.Activate(req)
	if err != nil {
		return fmt.Errorf("activation (%s): %w", req.Method, err)
	}
	if req.Method == "telephone" && ans.Result.Outcome == licence.Succeeded {
		// The user types the confirmation ID in: it must belong to this installation ID.
		if err := phone.VerifyConfirmation(req.InstallationID, ans.ConfirmationID); err != nil {
			ans.Result = licence.ActivationResult{Outcome: licence.Failed, Code: "confirmation-id-invalid", Message: err.Error(), Method: "telephone"}
		}
	}
	ans.Result.Method = req.Method
	ev.Activations = append(ev.Activations, ans)
	return b.apply(b.m.Activate(ans.Result))
}

// askKMS asks the KMS host and gives the machine the answer.
func (b *boot) askKMS() error {
	ans, err := b.host.KMS(KMSRequest{CMID: b.st.CMID, Edition: b.ed.ID, MarkerPresent: b.fw.WindowsMarker})
	if err != nil {
		return fmt.Errorf("KMS: %w", err)
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
