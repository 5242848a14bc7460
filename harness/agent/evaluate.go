package agent

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/firmware/finding"
	"github.com/oemact/oemact/firmware/productkey"
	"github.com/oemact/oemact/fixtures"
	"github.com/oemact/oemact/harness/channel"
	"github.com/oemact/oemact/oemact/catalog"
	"github.com/oemact/oemact/oemact/cert"
	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/hwid"
	"github.com/oemact/oemact/oemact/licence"
	"github.com/oemact/oemact/oemact/oa"
	"github.com/oemact/oemact/oemact/service/phone"
	"github.com/oemact/oemact/oemact/tpm"
	"github.com/oemact/oemact/smbios"
)

// Host is what the guest asks of the host during a boot: the activation service and the KMS host
// live there.
type Host interface {
	Activate(req channel.ActivateRequest) (channel.Activation, error)
	KMS(req channel.KMSRequest) (licence.KMSAnswer, error)
}

// StateVersion is the layout of the agent's state on the state disk.
const StateVersion = 1

// State is what the agent keeps on the state disk between boots: the licence machine, the KMS
// client machine ID of the installation, and the TPM-sealed copy when a TPM binds it.
type State struct {
	Version int             `json:"version"`
	Licence json.RawMessage `json:"licence,omitempty"`
	CMID    string          `json:"cmid,omitempty"`
	Sealed  []byte          `json:"sealed,omitempty"`
}

// Input is everything the guest evaluates at one boot.
type Input struct {
	Plan channel.Plan
	// Raw is the collected report: ACPI tables, SMBIOS, kernel log lines.
	Raw *channel.Report
	// State is the agent's state read from the state disk (nil: none, a fresh installation).
	State []byte
	// Inventory is the machine's hardware inventory (hwid.Collect).
	Inventory hwid.Inventory
	// TPMPath is the TPM the plan's TPM binding uses: a device or a swtpm socket; default
	// tpm.DefaultPath.
	TPMPath string
}

// Evaluate runs the activation model of the guest for one boot: it decodes and checks the tables
// the firmware gave (the same code as on the host), evaluates OEM Activation for the installed
// key, feeds the licence machine the boot (inventory, firmware verdict), the logon and the
// plan's actions (asking host for activations), and returns what it found and the state to save.
func Evaluate(in Input, host Host) (*channel.Evaluation, []byte, error) {
	p := in.Plan
	if p.Now.IsZero() {
		return nil, nil, errors.New("plan: no time (now)")
	}
	ed, err := edition.Lookup(p.Edition)
	if err != nil {
		return nil, nil, fmt.Errorf("plan: %w", err)
	}
	cat, err := catalogFor(p)
	if err != nil {
		return nil, nil, fmt.Errorf("plan: %w", err)
	}
	ev := &channel.Evaluation{Inventory: in.Inventory, Digests: map[string]string{}}

	// The same decoders and checks as `oemact inspect` on the host.
	set := firmware.NewSet("guest", firmware.SetBytes)
	for _, b := range in.Raw.ACPITables {
		set.AddBytes(b.Name, b.Data)
		if sig := tableSig(b.Data); sig == "SLIC" || sig == "MSDM" {
			ev.Digests[b.Name] = digest(b.Data)
		}
	}
	if hs, err := firmware.ParseKernelLog(strings.NewReader(strings.Join(in.Raw.KernelLog, "\n"))); err == nil {
		set.AddKernelLog(hs, "kernel log")
	}
	rel := ed.ReleaseInfo()
	ev.Findings = append(ev.Findings, firmware.Check(set, firmware.Options{Release: rel.Name, MinSLICVersion: rel.SLICVersion})...)
	if len(in.Raw.SMBIOSTable) > 0 {
		ev.Digests["SMBIOS"] = digest(in.Raw.SMBIOSTable)
		info, err := smbios.DecodeSysfs(in.Raw.SMBIOSEntryPoint, in.Raw.SMBIOSTable)
		if info != nil {
			ev.Findings = append(ev.Findings, smbios.Lint(info, nil)...)
			id := info.Identity()
			ev.Identity = map[string]string{
				"system.manufacturer": id.SystemManufacturer, "system.product_name": id.SystemProduct,
				"system.serial_number": id.SystemSerial, "system.uuid": id.SystemUUID,
				"baseboard.manufacturer": id.BoardManufacturer, "baseboard.product_name": id.BoardProduct,
				"baseboard.serial_number": id.BoardSerial, "bios.vendor": id.BIOSVendor, "bios.version": id.BIOSVersion,
			}
		} else if err != nil {
			ev.Findings = append(ev.Findings, finding.Finding{Code: "smbios-unreadable", Severity: finding.Error,
				Table: "SMBIOS", Offset: finding.NoOffset, Message: err.Error()})
		}
	}

	// The state kept across boots.
	st := State{Version: StateVersion}
	if len(in.State) > 0 {
		if err := json.Unmarshal(in.State, &st); err != nil {
			return nil, nil, fmt.Errorf("state disk: %w", err)
		}
		if st.Version != StateVersion {
			return nil, nil, fmt.Errorf("state disk: layout version %d, this agent reads %d", st.Version, StateVersion)
		}
	}
	if st.CMID == "" {
		st.CMID = newCMID()
	}
	ev.CMID = st.CMID
	clock := licence.NewManualClock(p.Now)
	var m *licence.Machine
	if len(st.Licence) > 0 {
		if m, err = licence.Load(st.Licence, clock); err != nil {
			return nil, nil, err
		}
	} else {
		cfg := licence.DefaultConfig()
		if p.Licence != nil {
			cfg = *p.Licence
		}
		if m, err = licence.New(cfg, clock); err != nil {
			return nil, nil, err
		}
	}

	// The installed key: the plan's, or for OA 3.0 editions without one, the MSDM's.
	var entry *catalog.Entry
	if p.Key != "" {
		k, err := productkey.Parse(p.Key)
		if err != nil {
			return nil, nil, fmt.Errorf("plan: %w", err)
		}
		if entry, err = cat.Lookup(k); err != nil {
			return nil, nil, fmt.Errorf("plan: %w", err)
		}
	}
	fw := &licence.Firmware{}
	switch {
	case entry != nil && entry.Channel == edition.OEMSLP:
		c, auth, err := certificateFor(p, set)
		if err != nil {
			ev.Findings = append(ev.Findings, finding.Finding{Code: "oa-certificate-unreadable", Severity: finding.Error,
				Table: "certificate", Offset: finding.NoOffset, Message: err.Error()})
		}
		ev.OA = oa.Evaluate21(oa.Input21{Set: set, Certificate: c, Authority: auth, Key: entry, Edition: ed})
	case entry == nil && ed.Allows(edition.OEMDM), entry != nil && entry.Channel == edition.OEMDM:
		var dm *catalog.Entry
		ev.OA, dm = oa.Evaluate30(oa.Input30{Set: set, Catalog: cat, Edition: ed})
		if entry == nil && dm != nil {
			entry, p.InstallKey = dm, p.InstallKey || m.Status() == licence.Unlicensed
		}
	}
	if ev.OA != nil {
		fw.OAValid, fw.Reasons, fw.Marker, fw.WindowsMarker = ev.OA.Valid, ev.OA.Reasons(), ev.OA.Marker, ev.OA.WindowsMarker
		ev.Findings = append(ev.Findings, oaOnly(ev.OA.Findings)...)
	} else {
		fw.WindowsMarker = windowsMarker(set)
	}
	ev.WindowsMarker = fw.WindowsMarker

	// The TPM binding: measure the firmware identity and unseal what the last activation sealed.
	var bind *binding
	if p.TPM {
		bind = newBinding(in, st.Sealed, ev)
		if bind.status.Unseal == tpm.Changed {
			why := "the firmware identity sealed in the TPM changed: " + strings.Join(bind.status.Changed, ", ")
			ev.Findings = append(ev.Findings, finding.Finding{Code: "tpm-identity-changed", Severity: finding.Warning,
				Table: "TPM", Offset: finding.NoOffset, Message: why})
			// An OEM licence is bound to the firmware: a changed identity needs reactivation. Other
			// channels follow their hardware policy (the inventory).
			if entry != nil && entry.Channel == edition.OEMSLP {
				fw.OAValid, fw.Reasons = false, append(fw.Reasons, why)
			}
		}
	}
	ev.Findings.Sort()

	refused := func(err error) {
		var r *licence.RefusedError
		if errors.As(err, &r) {
			ev.Refused = append(ev.Refused, r.Error())
		}
	}
	if bind != nil && bind.ek != "" {
		in.Inventory.Add(hwid.TPM, bind.ek)
		ev.Inventory = in.Inventory
	}
	if p.InstallKey && entry != nil {
		refused(m.InstallKey(licence.ProductOf(entry)))
	}
	inv := in.Inventory
	m.Boot(licence.Boot{Inventory: &inv, Firmware: fw})
	if p.Logon {
		m.Logon()
	}
	kmsTried := false
	for _, a := range p.Actions {
		switch a {
		case channel.ActionRearm:
			refused(m.Rearm())
		case channel.ActionActivateOnline, channel.ActionActivateTelephone:
			if entry == nil {
				ev.Refused = append(ev.Refused, "activation refused: no product key is installed")
				continue
			}
			switch licence.ActivationPath(entry.Channel) {
			case licence.PathKMS:
				kmsTried = true
				if err := askKMS(m, host, ed, st.CMID, fw.WindowsMarker, ev); err != nil {
					return nil, nil, err
				}
			case licence.PathFirmware:
				// OEM:SLP activates from the firmware at boot; asking for more is refused by the model.
				refused(m.Activate(licence.ActivationResult{Outcome: licence.Failed, Code: "slp-offline-only"}))
			default:
				if err := activate(m, host, a, entry, ed, inv, ev); err != nil {
					return nil, nil, err
				}
			}
		default:
			return nil, nil, fmt.Errorf("plan: unknown action %q", a)
		}
	}
	// A KMS client contacts its host on its own when an attempt is due.
	if due, ok := m.KMSAttemptDue(); ok && !kmsTried && !due.After(p.Now) {
		if err := askKMS(m, host, ed, st.CMID, fw.WindowsMarker, ev); err != nil {
			return nil, nil, err
		}
	}
	ev.Snapshot = m.Snapshot()
	ev.Events = m.Drain()
	if ev.Events == nil {
		ev.Events = []licence.Event{}
	}
	if p.Stateless && bind == nil {
		return ev, nil, nil // nothing boots this machine again: there is no state to keep
	}
	if st.Licence, err = json.Marshal(m); err != nil {
		return nil, nil, err
	}
	if bind != nil {
		// Seal again, to this boot's identity, unless the identity changed and the licence has
		// not been made good since: then the old seal stays, so the change keeps counting.
		if bind.status.Unseal != tpm.Changed || ev.Snapshot.Status == licence.Licensed {
			st.Sealed = bind.seal(st.Licence, ev)
		}
		ev.TPM, _ = json.Marshal(bind.status)
		bind.close()
	}
	out, err := json.Marshal(st)
	if err != nil {
		return nil, nil, err
	}
	return ev, out, nil
}

func activate(m *licence.Machine, host Host, action string, entry *catalog.Entry, ed edition.Edition, inv hwid.Inventory, ev *channel.Evaluation) error {
	req := channel.ActivateRequest{Method: "online"}
	if action == channel.ActionActivateTelephone {
		iid, err := phone.NewInstallationID(entry.Key, inv)
		if err != nil {
			return fmt.Errorf("installation ID: %w", err)
		}
		req.Method, req.InstallationID = "telephone", iid
	} else {
		red := inv.Redacted()
		req.Key, req.Edition, req.Hardware = entry.Key.Reveal(), ed.ID, &red
	}
	ans, err := host.Activate(req)
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
	var r *licence.RefusedError
	if err := m.Activate(ans.Result); err != nil && !errors.As(err, &r) {
		return err
	} else if err != nil {
		ev.Refused = append(ev.Refused, err.Error())
	}
	return nil
}

func askKMS(m *licence.Machine, host Host, ed edition.Edition, cmid string, marker bool, ev *channel.Evaluation) error {
	ans, err := host.KMS(channel.KMSRequest{CMID: cmid, Edition: ed.ID, MarkerPresent: marker})
	if err != nil {
		return fmt.Errorf("KMS: %w", err)
	}
	ev.KMS = append(ev.KMS, ans)
	var r *licence.RefusedError
	if err := m.KMSResponse(ans); err != nil && !errors.As(err, &r) {
		return err
	} else if err != nil {
		ev.Refused = append(ev.Refused, err.Error())
	}
	return nil
}

func catalogFor(p channel.Plan) (*catalog.Catalog, error) {
	if len(p.Catalog) > 0 {
		return catalog.ParseWire(p.Catalog)
	}
	return fixtures.Catalog()
}

// certificateFor returns the OEM certificate installed with Windows (the plan's, or the built-in
// TEST certificate of the SLIC header's OEM ID) and the authority it must chain to. A missing
// certificate is nil, not an error: OA rule 2 reports it.
func certificateFor(p channel.Plan, set *firmware.Set) (*cert.Certificate, *rsa.PublicKey, error) {
	var auth *rsa.PublicKey
	var err error
	if len(p.Authority) > 0 {
		auth, err = cert.ParsePublicKeyPEM(p.Authority, "the plan's authority")
	} else {
		auth, err = fixtures.Authority()
	}
	if err != nil {
		return nil, nil, err
	}
	if len(p.Certificate) > 0 {
		c, err := cert.Parse(p.Certificate)
		return c, auth, err
	}
	t := set.First("SLIC")
	if t == nil || t.HeaderOnly {
		return nil, auth, nil
	}
	c, err := fixtures.Certificate(string(t.Header.OEMID[:]))
	if err != nil {
		return nil, auth, nil // no certificate for this OEM: rule 2 says so
	}
	return c, auth, nil
}

// oaOnly keeps the evaluation's own findings (oa-*): the firmware ones are already in the list.
func oaOnly(l finding.List) finding.List {
	var out finding.List
	for _, f := range l {
		if strings.HasPrefix(f.Code, "oa-") {
			out = append(out, f)
		}
	}
	return out
}

func windowsMarker(set *firmware.Set) bool {
	t := set.First("SLIC")
	return t != nil && t.SLIC != nil && t.SLIC.HasMarker && t.SLIC.Marker.WindowsFlag == firmware.WindowsFlag
}

func tableSig(b []byte) string {
	if len(b) < 4 {
		return ""
	}
	return string(b[:4])
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// newCMID makes a KMS client machine ID: a random version 4 UUID, as Windows makes at setup.
func newCMID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on Linux; a fixed-but-valid ID keeps the model going.
		copy(b[:], bytes.Repeat([]byte{0x5a}, 16))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// binding is one boot's TPM binding.
type binding struct {
	t      *tpm.TPM
	m      *tpm.Measurement
	ek     string
	status *tpm.Status
}

// newBinding opens the TPM, reads its EK, measures the firmware identity the guest sees and
// unseals the previous boot's blob. Failures are recorded in the status (and as a finding), not
// returned: a broken TPM is something to report, not a reason to stop the boot.
func newBinding(in Input, sealed []byte, ev *channel.Evaluation) *binding {
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
	events, err := tpm.FirmwareEvents(channel.TPMTables(in.Raw.ACPITables), in.Raw.SMBIOSEntryPoint, in.Raw.SMBIOSTable)
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

// seal seals data to this boot's measurement; on failure the old blob is dropped and the status
// says why.
func (b *binding) seal(data []byte, ev *channel.Evaluation) []byte {
	if b.t == nil {
		return nil
	}
	blob, err := b.t.Seal(data, b.m)
	if err != nil {
		b.status.Detail = "sealing: " + err.Error()
		ev.Findings = append(ev.Findings, finding.Finding{Code: "tpm-error", Severity: finding.Error,
			Table: "TPM", Offset: finding.NoOffset, Message: b.status.Detail})
		return nil
	}
	return blob
}

func (b *binding) close() {
	if b.t != nil {
		b.t.Close()
	}
}
