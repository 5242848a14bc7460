package activation

import (
	"strings"

	"github.com/oemact/oemact/firmware/finding"
	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/licence"
	"github.com/oemact/oemact/oemact/tpm"
)

// binding is one boot's TPM binding.
type binding struct {
	t      *tpm.TPM
	m      *tpm.Measurement
	ek     string
	status *tpm.Status
}

// bindTPM opens the TPM, reads its EK, measures the firmware identity and unseals the previous
// boot's blob. A changed identity takes an OEM:SLP licence's firmware verdict away (an OEM licence
// is bound to the firmware); other channels follow their hardware policy. Failures are recorded
// in the status and as findings, not returned: a broken TPM is something to report, not a reason
// to stop the boot.
func (b *boot) bindTPM() {
	b.bind = newBinding(b.in, b.st.Sealed, b.ev)
	b.ev.TPM = b.bind.status
	if b.bind.status.Unseal != tpm.Changed {
		return
	}
	why := "the firmware identity sealed in the TPM changed: " + strings.Join(b.bind.status.Changed, ", ")
	b.ev.Findings = append(b.ev.Findings, finding.Finding{Code: "tpm-identity-changed", Severity: finding.Warning,
		Table: "TPM", Offset: finding.NoOffset, Message: why})
	if b.entry != nil && b.entry.Channel == edition.OEMSLP {
		b.fw.OAValid, b.fw.Reasons = false, append(b.fw.Reasons, why)
	}
}

func newBinding(in Input, sealed []byte, ev *Evaluation) *binding {
	b := &binding{status: &tpm.Status{PCR: tpm.DefaultPCR}}
	fail := func(err error) *binding {
		b.status.Unseal, b.status.Detail = tpm.Failed, err.Error()
		ev.Findings = append(ev.Findings, finding.Finding{Code: "tpm-error", Severity: finding.Error,
			Table: "TPM", Offset: finding.NoOffset, Message: err.Error()})
		b.close()
		b.t = nil
		return b
	}
	path := in.TPMPath
	if path == "" {
		path = tpm.DefaultPath
	}
	var err error
	if b.t, err = tpm.Open(path); err != nil {
		return fail(err)
	}
	if b.ek, err = b.t.EKDigest(); err != nil {
		return fail(err)
	}
	events, err := tpm.FirmwareEvents(in.Firmware.Tables, in.Firmware.SMBIOSEntryPoint, in.Firmware.SMBIOSTable)
	if err != nil {
		return fail(err)
	}
	if b.m, err = b.t.Measure(tpm.DefaultPCR, events); err != nil {
		return fail(err)
	}
	b.status = tpm.NewStatus(b.ek, b.m)
	_, err = b.t.Unseal(sealed)
	b.status.SetUnseal(err)
	return b
}

// finish seals the state again, to this boot's identity, unless the identity changed and the
// licence has not been made good since: then the old seal stays, so the change keeps counting.
func (bd *binding) finish(b *boot) {
	if bd.status.Unseal != tpm.Changed || b.ev.Snapshot.Status == licence.Licensed {
		b.st.Sealed = bd.seal(b.st.Licence, b.ev)
	}
	b.ev.TPM = bd.status
	bd.close()
}

// seal seals data to this boot's measurement; on failure the old blob is dropped and the status
// says why.
func (bd *binding) seal(data []byte, ev *Evaluation) []byte {
	if bd.t == nil {
		return nil
	}
	blob, err := bd.t.Seal(data, bd.m)
	if err != nil {
		bd.status.Detail = "sealing: " + err.Error()
		ev.Findings = append(ev.Findings, finding.Finding{Code: "tpm-error", Severity: finding.Error,
			Table: "TPM", Offset: finding.NoOffset, Message: bd.status.Detail})
		return nil
	}
	return blob
}

func (bd *binding) close() {
	if bd.t != nil {
		bd.t.Close()
	}
}
