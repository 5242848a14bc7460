package activation

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/firmware/finding"
	"github.com/oemact/oemact/firmware/productkey"
	"github.com/oemact/oemact/fixtures"
	"github.com/oemact/oemact/oemact/catalog"
	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/hwid"
	"github.com/oemact/oemact/oemact/licence"
	"github.com/oemact/oemact/smbios"
)

// StateVersion is the layout of the saved state.
const StateVersion = 1

// State is what the client keeps between boots (on the guest's state disk): the licence machine,
// the KMS client machine ID of the installation, and the TPM-sealed copy when a TPM binds it.
type State struct {
	Version int             `json:"version"`
	Licence json.RawMessage `json:"licence,omitempty"`
	CMID    string          `json:"cmid,omitempty"`
	Sealed  []byte          `json:"sealed,omitempty"`
}

// boot is one evaluation in progress.
type boot struct {
	in    Input
	host  Host
	ed    edition.Edition
	cat   *catalog.Catalog
	ev    *Evaluation
	set   *firmware.Set
	st    State
	m     *licence.Machine
	clock *licence.ManualClock
	entry *catalog.Entry // the installed key
	fw    *licence.Firmware
	bind  *binding
}

// Evaluate runs the client for one boot: it decodes and checks the tables the firmware gave (the
// same code as `oemact inspect`), evaluates OEM Activation for the installed key, feeds the
// licence machine the boot (inventory, firmware verdict), the logon and the actions (asking the
// host for activations), and returns what it found and the state to save (nil when Stateless).
func Evaluate(in Input, host Host) (*Evaluation, []byte, error) {
	b, err := start(in, host)
	if err != nil {
		return nil, nil, err
	}
	b.readFirmware()
	if err := b.loadState(); err != nil {
		return nil, nil, err
	}
	if err := b.installedKey(); err != nil {
		return nil, nil, err
	}
	b.evaluateOA()
	if in.TPM {
		b.bindTPM()
	}
	b.ev.Findings.Sort()
	if err := b.feed(); err != nil {
		return nil, nil, err
	}
	return b.finish()
}

func start(in Input, host Host) (*boot, error) {
	if in.Now.IsZero() {
		return nil, errors.New("plan: no time (now)")
	}
	if !in.PowerOffAt.IsZero() && (!in.StaysOn || in.PowerOffAt.Before(in.Now)) {
		return nil, fmt.Errorf("plan: a power-off at %s needs a machine that stays on after the boot at %s", in.PowerOffAt.UTC().Format(time.RFC3339), in.Now.UTC().Format(time.RFC3339))
	}
	ed, err := edition.Lookup(in.Edition)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	cat := in.Catalog
	if cat == nil {
		if cat, err = fixtures.Catalog(); err != nil {
			return nil, fmt.Errorf("plan: %w", err)
		}
	}
	for _, a := range in.Actions {
		switch a {
		case ActivateOnline, ActivateTelephone, ActivateProxy, Rearm:
		default:
			return nil, fmt.Errorf("plan: unknown action %q", a)
		}
	}
	ev := &Evaluation{Inventory: in.Inventory, Digests: map[string]string{}}
	return &boot{in: in, host: host, ed: ed, cat: cat, ev: ev, fw: &licence.Firmware{}}, nil
}

// readFirmware decodes and checks the tables and the SMBIOS identity, as `oemact inspect` does.
func (b *boot) readFirmware() {
	fw, ev := b.in.Firmware, b.ev
	b.set = firmware.NewSet("guest", firmware.SetBytes)
	for _, t := range fw.Tables {
		b.set.AddBytes(t.Name, t.Data)
		if len(t.Data) >= 4 && firmware.IsMarker(string(t.Data[:4])) {
			ev.Digests[t.Name] = digest(t.Data)
		}
	}
	if hs, err := firmware.ParseKernelLog(strings.NewReader(strings.Join(fw.KernelLog, "\n"))); err == nil {
		b.set.AddKernelLog(hs, "kernel log")
	}
	var info *smbios.Info
	var err error
	if len(fw.SMBIOSTable) > 0 {
		ev.Digests["SMBIOS"] = digest(fw.SMBIOSTable)
		if info, err = smbios.DecodeSysfs(fw.SMBIOSEntryPoint, fw.SMBIOSTable); info != nil {
			ev.Identity = Identity(info)
		}
	}
	ev.Findings = append(ev.Findings, CheckTables(b.set, info, err, b.ed)...)
}

// CheckTables checks a machine's firmware as the agent does, for edition ed (the zero Edition
// checks no release): the ACPI tables in set, then the SMBIOS: its lint when it decoded (info),
// else an smbios-unreadable finding with the decoder's error; nothing when both are nil (no
// SMBIOS). The OS image probe checks what an OS saw with it too.
func CheckTables(set *firmware.Set, info *smbios.Info, smbiosErr error, ed edition.Edition) finding.List {
	var opts firmware.Options
	if ed.ID != "" {
		rel := ed.ReleaseInfo()
		opts = firmware.Options{Release: rel.Name, MinSLICVersion: rel.SLICVersion}
	}
	fs := firmware.Check(set, opts)
	switch {
	case info != nil:
		fs = append(fs, smbios.Lint(info, nil)...)
	case smbiosErr != nil:
		fs = append(fs, finding.Finding{Code: "smbios-unreadable", Severity: finding.Error,
			Table: "SMBIOS", Offset: finding.NoOffset, Message: smbiosErr.Error()})
	}
	return fs
}

// Identity is the SMBIOS identity of a decoded table, by the keys of smbios.IdentityFields: its
// core fields, those that name the machine, its board and its firmware.
func Identity(info *smbios.Info) map[string]string {
	all := info.IdentityValues()
	id := map[string]string{}
	for _, f := range smbios.IdentityFields() {
		if f.Core {
			id[f.Key] = all[f.Key]
		}
	}
	return id
}

// loadState reads the saved state, or starts a new installation.
func (b *boot) loadState() error {
	b.st = State{Version: StateVersion}
	if len(b.in.State) > 0 {
		if err := json.Unmarshal(b.in.State, &b.st); err != nil {
			return fmt.Errorf("state disk: %w", err)
		}
		if b.st.Version != StateVersion {
			return fmt.Errorf("state disk: layout version %d, this agent reads %d", b.st.Version, StateVersion)
		}
	}
	if b.st.CMID == "" {
		b.st.CMID = newCMID()
	}
	b.ev.CMID = b.st.CMID
	clock := licence.NewManualClock(b.in.Now)
	b.clock = clock
	var err error
	if len(b.st.Licence) > 0 {
		b.m, err = licence.Load(b.st.Licence, clock)
		return err
	}
	cfg := licence.DefaultConfig()
	if b.in.Licence != nil {
		cfg = *b.in.Licence
	}
	b.m, err = licence.New(cfg, clock)
	return err
}

// installedKey finds the installed key in the catalog; with none given, the edition's default.
func (b *boot) installedKey() error {
	if b.in.Key == "" {
		var err error
		b.entry, err = DefaultKey(b.ed, b.cat)
		return err
	}
	k, err := productkey.Parse(b.in.Key)
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	if b.entry, err = b.cat.Lookup(k); err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	return nil
}

// evaluateOA evaluates OEM Activation for the installed key (OA 2.1 for an OEM:SLP key, OA 3.0
// for an OEM:DM key or, with no key, an edition that reads its key from the MSDM) and turns the
// verdict into what the licence machine takes.
func (b *boot) evaluateOA() {
	kind := ChooseOA(b.ed, b.entry, false)
	if kind == "" {
		b.fw.WindowsMarker = WindowsMarker(b.set)
		b.ev.WindowsMarker = b.fw.WindowsMarker
		return
	}
	in := OAInput{Set: b.set, Edition: b.ed, Key: b.entry, Catalog: b.cat, Kind: kind}
	if kind == OA21 {
		var err error
		in.Certificate, in.Authority, err = CertificateFor(b.in.Certificate, b.in.Authority, b.entry)
		if err != nil {
			b.ev.Findings = append(b.ev.Findings, finding.Finding{Code: "oa-certificate-unreadable", Severity: finding.Error,
				Table: "certificate", Offset: finding.NoOffset, Message: err.Error()})
		}
	}
	v, dm := EvaluateOA(in)
	if b.entry == nil && dm != nil {
		// OA 3.0 with no key given: Windows installs the MSDM's key.
		b.entry = dm
		b.in.InstallKey = b.in.InstallKey || b.m.Status() == licence.Unlicensed
	}
	b.ev.OA = v
	b.fw.OAValid, b.fw.Reasons, b.fw.Marker, b.fw.WindowsMarker = v.Valid, v.Reasons(), v.Marker, v.WindowsMarker
	b.ev.WindowsMarker = v.WindowsMarker
	for _, f := range v.Findings {
		if strings.HasPrefix(f.Code, "oa-") { // the firmware's own findings are in the list already
			b.ev.Findings = append(b.ev.Findings, f)
		}
	}
}

// feed gives the licence machine the boot, the logon and the actions.
func (b *boot) feed() error {
	m, ev := b.m, b.ev
	if b.bind != nil && b.bind.ek != "" {
		b.in.Inventory.Add(hwid.TPM, b.bind.ek)
		ev.Inventory = b.in.Inventory
	}
	// The first boot of an installation installs the key given, or the edition's default, or
	// none: Windows installs without a key and runs its grace (DESIGN.md).
	fresh := m.Product() == nil
	switch {
	case b.entry != nil && (b.in.InstallKey || fresh):
		b.refused(m.InstallKey(licence.ProductOf(b.entry)))
	case fresh:
		b.refused(m.Setup(b.ed.ID))
	}
	inv := b.in.Inventory
	m.Boot(licence.Boot{Inventory: &inv, Firmware: b.fw})
	if b.in.Logon {
		m.Logon()
	}
	kmsTried := false
	for _, a := range b.in.Actions {
		tried, err := b.act(a)
		if err != nil {
			return err
		}
		kmsTried = kmsTried || tried
	}
	// A KMS client contacts its host on its own when an attempt is due.
	if due, ok := m.KMSAttemptDue(); ok && !kmsTried && !due.After(b.in.Now) {
		if err := b.askKMS(); err != nil {
			return err
		}
	}
	return nil
}

// act performs one action; tried says the KMS host was asked.
func (b *boot) act(a Action) (tried bool, err error) {
	if a == Rearm {
		b.refused(b.m.Rearm())
		return false, nil
	}
	if b.entry == nil {
		b.ev.Refused = append(b.ev.Refused, "activation refused: no product key is installed")
		return false, nil
	}
	switch licence.ActivationPath(b.entry.Channel) {
	case licence.PathKMS:
		return true, b.askKMS()
	case licence.PathFirmware:
		// OEM:SLP activates from the firmware at boot; asking for more is refused by the model.
		b.refused(b.m.Activate(licence.ActivationResult{Outcome: licence.Failed, Code: "slp-offline-only"}))
		return false, nil
	}
	return false, b.activate(a)
}

func (b *boot) refused(err error) {
	var r *licence.RefusedError
	if errors.As(err, &r) {
		b.ev.Refused = append(b.ev.Refused, r.Error())
	}
}

// finish takes the snapshot and events and makes the state to save.
func (b *boot) finish() (*Evaluation, []byte, error) {
	ev := b.ev
	ev.Snapshot = b.m.Snapshot()
	ev.Events = b.m.Drain()
	if ev.Events == nil {
		ev.Events = []licence.Event{}
	}
	// The machine powers off now, or runs on until PowerOffAt: what it shows meanwhile stays in
	// the state's log, for the next boot to report.
	switch {
	case !b.in.StaysOn:
		b.m.PowerOff()
	case !b.in.PowerOffAt.IsZero():
		b.clock.Set(b.in.PowerOffAt)
		b.m.PowerOff()
	}
	if b.in.Stateless && b.bind == nil {
		return ev, nil, nil // nothing boots this machine again: there is no state to keep
	}
	var err error
	if b.st.Licence, err = json.Marshal(b.m); err != nil {
		return nil, nil, err
	}
	if b.bind != nil {
		b.bind.finish(b)
	}
	out, err := json.Marshal(b.st)
	if err != nil {
		return nil, nil, err
	}
	return ev, out, nil
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
