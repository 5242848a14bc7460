package tpm

import (
	"errors"
	"fmt"
	"strings"
)

// Unseal results, as Status reports them.
const (
	Unsealed = "unsealed" // the firmware identity is the one sealed to
	Changed  = "changed"  // the firmware identity (ErrPolicy) or the TPM (ErrOtherTPM) changed
	None     = "none"     // nothing was sealed yet (ErrNoBlob)
	Failed   = "error"    // the blob is damaged or the TPM failed: see Status.Detail
)

// Status sums up the TPM binding at one boot, for reports.
type Status struct {
	// EKDigest is EKDigest's answer: the TPM's identity.
	EKDigest string `json:"ek_digest"`
	PCR      int    `json:"pcr"`
	PCRValue Digest `json:"pcr_value"`
	Items    []Item `json:"items"`
	// Unseal is Unsealed, Changed, None or Failed.
	Unseal string `json:"unseal"`
	// Changed lists what differs from when the data was sealed: item names (with " (gone)" or
	// " (new)"), or "tpm" for another TPM.
	Changed []string `json:"changed,omitempty"`
	// Detail is the error behind Changed and Failed.
	Detail string `json:"detail,omitempty"`
}

// NewStatus starts a Status from the EK digest and this boot's measurement.
func NewStatus(ekDigest string, m *Measurement) *Status {
	s := &Status{EKDigest: ekDigest}
	if m != nil {
		s.PCR, s.PCRValue, s.Items = m.PCR, m.Value, m.Items
	}
	return s
}

// SetUnseal records Unseal's error (nil for success).
func (s *Status) SetUnseal(err error) {
	s.Changed, s.Detail = nil, ""
	var pe *PolicyError
	switch {
	case err == nil:
		s.Unseal = Unsealed
	case errors.Is(err, ErrNoBlob):
		s.Unseal = None
	case errors.As(err, &pe):
		s.Unseal, s.Detail = Changed, err.Error()
		s.Changed = pe.Changed(s.Items)
	case errors.Is(err, ErrOtherTPM):
		s.Unseal, s.Detail, s.Changed = Changed, err.Error(), []string{"tpm"}
	default:
		s.Unseal, s.Detail = Failed, err.Error()
	}
}

// String is one line for logs: "unsealed (PCR 23 = 5e3a...)" or "changed: smbios/identity".
func (s *Status) String() string {
	switch s.Unseal {
	case Changed:
		return Changed + ": " + strings.Join(s.Changed, ", ")
	case Failed:
		return Failed + ": " + s.Detail
	}
	return fmt.Sprintf("%s (PCR %d = %s)", s.Unseal, s.PCR, s.PCRValue)
}
