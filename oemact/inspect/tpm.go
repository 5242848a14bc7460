package inspect

import (
	"fmt"
	"os"
	"strings"

	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/oemact/tpm"
	"github.com/oemact/oemact/smbios"
)

// TPMSection is the report's TPM section: the TPM of the machine inspect runs on (or the one
// --tpm names), its endorsement key digest (what the hardware inventory records as hwid.TPM) and
// the PCR the activation binding measures the firmware identity into (tpm.DefaultPCR). When the
// document holds one machine's firmware, Expected is the measurement the guest agent makes of
// those tables and that SMBIOS: a guest booted with them reports the same PCR value.
type TPMSection struct {
	Path string `json:"path"`
	// Error says why the TPM could not be read; the other fields are then empty.
	Error    string     `json:"error,omitempty"`
	EKDigest string     `json:"ek_digest,omitempty"`
	PCR      int        `json:"pcr"`
	PCRValue tpm.Digest `json:"pcr_value,omitempty"`
	// Expected is computed, not read from the TPM: inspect never extends a PCR.
	Expected *tpm.Measurement `json:"expected,omitempty"`
}

// AddTPMAt reads the TPM at path into the document, as `oemact inspect --tpm` does: "" means
// tpm.DefaultPath when it exists (no section when it does not, and a TPM there that cannot be
// opened is reported in the section); "none" skips the TPM. A path given that cannot be opened is
// an error. When sets hold one machine's tables, the section has the measurement the guest agent
// would make of them with smb's identity (smb may be nil).
func (d *Document) AddTPMAt(path string, sets []*firmware.Set, smb *smbios.Info) error {
	explicit := path != ""
	switch {
	case path == "none":
		return nil
	case !explicit:
		if _, err := os.Stat(tpm.DefaultPath); err != nil {
			return nil
		}
		path = tpm.DefaultPath
	}
	t, err := tpm.Open(path)
	switch {
	case err != nil && explicit:
		return err
	case err != nil:
		d.TPMUnavailable(path, err)
	default:
		d.AddTPM(t, path)
		t.Close()
	}
	if len(sets) == 1 {
		m, err := ExpectedMeasurement(sets[0], smb)
		if err != nil {
			return err
		}
		d.TPM.Expected = m
	}
	return nil
}

// AddTPM reads the TPM t (opened from path) into the document: its EK digest and the binding's
// PCR. It only reads: no PCR is extended and nothing is left in the TPM. A failure is kept in the
// section, not returned, since the firmware checks stand without it.
func (d *Document) AddTPM(t *tpm.TPM, path string) {
	s := &TPMSection{Path: path, PCR: tpm.DefaultPCR}
	d.TPM = s
	ek, err := t.EKDigest()
	if err != nil {
		s.Error = err.Error()
		return
	}
	v, err := t.ReadPCRs(tpm.DefaultPCR)
	if err != nil {
		s.Error = err.Error()
		return
	}
	s.EKDigest, s.PCRValue = ek, v[0].Value
}

// TPMUnavailable records a TPM that could not be opened.
func (d *Document) TPMUnavailable(path string, err error) {
	d.TPM = &TPMSection{Path: path, PCR: tpm.DefaultPCR, Error: err.Error()}
}

// ExpectedMeasurement is the measurement of one machine's firmware identity, as the guest agent
// makes it (tpm.FirmwareEvents): the set's SLIC and MSDM tables, each cut to its header's length as
// the kernel exposes it, and the SMBIOS identity (empty when smb is nil).
func ExpectedMeasurement(set *firmware.Set, smb *smbios.Info) (*tpm.Measurement, error) {
	var tables []tpm.Table
	for _, t := range set.Tables {
		raw := t.Raw
		if l := int(t.Header.Length); l >= firmware.HeaderSize && l < len(raw) {
			raw = raw[:l]
		}
		tables = append(tables, tpm.Table{Name: t.Name, Data: raw})
	}
	items, err := tpm.Items(tpm.IdentityEvents(tables, tpm.IdentityOf(smb)))
	if err != nil {
		return nil, err
	}
	return &tpm.Measurement{PCR: tpm.DefaultPCR, Value: tpm.Replay(items), Items: items}, nil
}

func writeTPM(b *strings.Builder, s *TPMSection) {
	fmt.Fprintf(b, "\n== TPM %s\n", s.Path)
	line := func(label, value string) { fmt.Fprintf(b, "  %-45s: %s\n", label, value) }
	if s.Error != "" {
		line("not read", s.Error)
	} else {
		line("EK digest (SHA-256 of the RSA EK public area)", s.EKDigest)
		v := s.PCRValue.String()
		if strings.Trim(v, "0") == "" {
			v += " (nothing measured since the TPM started)"
		}
		line(fmt.Sprintf("PCR %d now (firmware identity binding)", s.PCR), v)
	}
	if m := s.Expected; m != nil {
		line(fmt.Sprintf("PCR %d expected for this firmware", m.PCR), m.Value.String())
		for _, it := range m.Items {
			fmt.Fprintf(b, "    %-16s %s  %d bytes\n", it.Name, it.Digest, it.Size)
		}
	}
}
