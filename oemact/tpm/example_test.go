package tpm_test

import (
	"errors"
	"fmt"

	"github.com/oemact/oemact/oemact/tpm"
)

// The binding at one boot of a guest, as the agent does it: the EK digest for the hardware
// inventory, the firmware identity measured, last boot's blob unsealed (or found changed), and
// the new licence state sealed for the next boot. The blob is kept with the state, on the state
// disk.
func Example() {
	// What the kernel exposes: /sys/firmware/acpi/tables/* and /sys/firmware/dmi/tables/*.
	var tables []tpm.Table
	var entryPoint, dmi []byte
	var sealed []byte // what the previous boot left on the state disk

	t, err := tpm.Open(tpm.DefaultPath)
	if err != nil {
		return // no TPM: no binding
	}
	defer t.Close()
	ek, _ := t.EKDigest() // hwid.Options.TPMEKDigest
	events, err := tpm.FirmwareEvents(tables, entryPoint, dmi)
	if err != nil {
		return
	}
	m, err := t.Measure(tpm.DefaultPCR, events)
	if err != nil {
		return
	}
	st := tpm.NewStatus(ek, m)
	record, err := t.Unseal(sealed)
	st.SetUnseal(err)
	switch {
	case err == nil:
		// The firmware identity is the one the licence state was sealed to: use record.
		_ = record
	case errors.Is(err, tpm.ErrPolicy), errors.Is(err, tpm.ErrOtherTPM):
		// A changed board, BIOS or TPM: the activation model decides (OEM: reactivation;
		// retail: the hardware policy). st.Changed says what changed.
	}
	fmt.Println(st) // e.g. "changed: smbios/identity"
	newSealed, err := t.Seal([]byte(`{"licence":"..."}`), m)
	_, _ = newSealed, err
}
