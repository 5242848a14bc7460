// Package scenario reads scenario files: the machines of a test (a firmware profile, an edition,
// a TEST key), the steps that happen to them (boots, activations, rearms, hardware and firmware
// changes, time passing) and what each step must show.
//
// It parses and validates; running a scenario is package runner's job.
package scenario

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/oemact/oemact/firmware/fileio"
	"github.com/oemact/oemact/fixtures"
	"github.com/oemact/oemact/oemact/catalog"
	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/licence"
	"github.com/oemact/oemact/oemact/profile"
	"github.com/oemact/oemact/oemact/yamldoc"
	"github.com/oemact/oemact/smbios"
)

// DefaultStart is when a scenario's clock starts unless it says otherwise: Windows 7's general
// availability, 2009-10-22, at 08:00 UTC.
var DefaultStart = time.Date(2009, 10, 22, 8, 0, 0, 0, time.UTC)

// Scenario is one scenario file.
type Scenario struct {
	Name        string
	Description string
	Path        string
	Start       time.Time
	Machines    []*Machine
	Service     Service
	Steps       []*Step
	// LoadError is why the file did not load (see Unloadable): such a scenario has no machines
	// or steps, and a run reports it as an error and runs the others.
	LoadError error
	// Catalog is the key catalog the scenario's keys come from: the built-in TEST catalog, extended
	// by the catalogs given to Load and the file's own catalog:, and holding every key a label of the
	// scenario names (see catalog.Catalog.Label), so the service and the guests know them all.
	Catalog *catalog.Catalog
	// OEMCertificates are the TEST certificates found beside the catalogs, by OEM ID, for the
	// OEM:SLP keys the scenario names (nil: none found for that OEM). See Certificate.
	OEMCertificates map[string]*OEMCertificate
}

// Machine is one test machine.
type Machine struct {
	Name    string
	Profile *profile.Profile
	// Edition is what the machine runs; for a machine that boots an OS image it is optional (the
	// zero Edition) and sets only the release whose SLIC version the probe's findings check.
	Edition edition.Edition
	// Key is the catalog entry of the key installed at the first boot (nil: none).
	Key *catalog.Entry
	// TPM gives the machine a TPM 2.0 (swtpm) and binds its licence state to the firmware
	// identity: the profile's vm.tpm, or the machine's tpm setting.
	TPM bool
	// Image is the OEM certificate and authority the machine's Windows image carries.
	Image Image
	// IP is the address the machine's activation requests come from (an activate step's ip:
	// overrides it); "" the harness's own.
	IP string
	// Licence is the licence model's configuration of the installation (nil: the defaults), from
	// the machine's licence: block of overrides.
	Licence *licence.Config
	// Line is where the machine is declared.
	Line int
}

// Service is the emulated activation service's state before the first step.
type Service struct {
	// KMSClients are simulated KMS clients that asked the host before the scenario started.
	KMSClients []KMSClients
	// MAKUsed takes activations out of MAK pools before the scenario starts (simulated machines),
	// by catalog label.
	MAKUsed map[string]int
}

// KMSClients is a group of simulated KMS clients of one edition.
type KMSClients struct {
	Count   int
	Edition edition.Edition
}

// Step is one step.
type Step struct {
	Index int
	Line  int
	// ID is the step's id: field, its test name in reports ("" when it has none; see StepNames).
	ID      string
	Kind    Kind
	Machine *Machine
	// Method is how Activate activates: "online" (default), "telephone" or "proxy".
	Method string
	// With are the other machines a proxy activation gathers into its batch.
	With []*Machine
	// IP is where an Activate step's requests come from ("" the machine's IP).
	IP string
	// KMSHost is "down" or "up" for a KMSHost step.
	KMSHost string
	// Key is the key InstallKey installs.
	Key *catalog.Entry
	// Advance is how far Advance moves the clock.
	Advance time.Duration
	Change  *Changes
	KMS     KMSClients
	// Exec is the command a probe step runs in the guest (nil: none).
	Exec   []string
	Expect *Expect
}

// Changes to a machine's hardware or firmware. Zero fields change nothing.
type Changes struct {
	NIC      string // new MAC of NIC 0
	AddNIC   string // MAC of an added NIC
	Disk     string // new serial of disk 0 (a new disk)
	MemoryMB int
	CPUs     int
	// SMBIOS sets fields of the profile's SMBIOS, e.g. "system.serial_number".
	SMBIOS map[string]string
	// Board swaps the system board: the ACPI IDs, markers and SMBIOS of another profile, the
	// machine's own disks and NICs kept. The TPM, on the board, is replaced too.
	Board *profile.Profile
	// TPM replaces the TPM alone (a new endorsement key).
	TPM bool
	// Network, when set, connects (true) or disconnects (false) the machine's network. Alone it
	// is no hardware change: the machine need not be off.
	Network *bool
}

// Hardware reports whether the changes touch the machine's hardware or firmware, which is changed
// with the machine off (everything but the network).
func (c *Changes) Hardware() bool {
	d := *c
	d.Network = nil
	return d.Describe() != ""
}

// Booted lists the machines a step boots: its machine, and those a proxy activation gathers.
func (s *Step) Booted() []*Machine {
	if !s.Kind.Boots() {
		return nil
	}
	return append([]*Machine{s.Machine}, s.With...)
}

// Describe lists the changes.
func (c *Changes) Describe() string {
	var out []string
	if c.NIC != "" {
		out = append(out, "NIC "+c.NIC)
	}
	if c.AddNIC != "" {
		out = append(out, "add NIC "+c.AddNIC)
	}
	if c.Disk != "" {
		out = append(out, "disk "+c.Disk)
	}
	if c.MemoryMB != 0 {
		out = append(out, fmt.Sprintf("memory %d MB", c.MemoryMB))
	}
	if c.CPUs != 0 {
		out = append(out, fmt.Sprintf("%d CPUs", c.CPUs))
	}
	keys := make([]string, 0, len(c.SMBIOS))
	for k := range c.SMBIOS {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, fmt.Sprintf("SMBIOS %s=%q", k, c.SMBIOS[k]))
	}
	if c.Board != nil {
		out = append(out, "board "+c.Board.Name)
	}
	if c.TPM {
		out = append(out, "new TPM")
	}
	if c.Network != nil {
		out = append(out, map[bool]string{true: "network connected", false: "network disconnected"}[*c.Network])
	}
	return strings.Join(out, ", ")
}

// Expect is what a step must show. Nil fields are not checked; Findings and Surfaces given as an
// empty list ([]) check there are none.
type Expect struct {
	Status     *licence.Status
	GraceDays  *int // whole days of grace left (rounded down)
	Rearms     *int // rearms used
	Findings   []string
	NoFindings []string
	// OA is "valid" or "invalid": the guest's OEM Activation verdict.
	OA *string
	// OARulesFailed lists the OA rules that must fail (and no other).
	OARulesFailed []int
	// Activation is the answer to this boot's last activation (the service's, or the KMS host's
	// for a KMS client, which asks on its own when an attempt is due): success, failure, blocked.
	Activation     *string
	ActivationCode *string
	Hardware       *HardwareExpect
	// Reminders is how many reminders the user saw since the previous step of this machine.
	Reminders *int
	Surfaces  []string
	// Service counts.
	KMSCount     *int
	MAKRemaining map[string]int
	// TPM is the result of unsealing the licence state: "unsealed", "changed" or "none".
	TPM *string
	// SameTables: the guest saw the SLIC, MSDM and SMBIOS the host synthesized, byte for byte.
	SameTables *bool

	// What an OS booted from its image saw (probe steps). Identity holds SMBIOS identity fields
	// by smbios.IdentityFields keys.
	Identity map[string]string
	// The Windows licence as slmgr /dlv reports it (a Windows image). RemainingGrace compares in
	// whole days when it is a whole number of days (WholeDays), else in minutes.
	LicenseStatus  *licence.Status
	Channel        *string
	PartialKey     *string
	RemainingGrace *time.Duration
	// ExecOutput must match the standard output of the step's command (Step.Exec).
	ExecOutput *regexp.Regexp
}

// HardwareExpect checks the hardware comparison.
type HardwareExpect struct {
	InTolerance *bool
	LostVotes   *int
	Changed     []string
}

// Unloadable stands for a scenario file that did not load, named by its file (its name: is not
// known), so that a run reports the error for that file and still runs the others.
func Unloadable(path string, err error) *Scenario {
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	return &Scenario{Name: name, Path: path, Start: DefaultStart, LoadError: err}
}

// Load reads and validates a scenario file. Catalog files given add to the built-in key catalog,
// before the scenario's own catalog: does.
func Load(path string, catalogs ...string) (*Scenario, error) {
	return load(path, Options{Catalogs: catalogs})
}

func load(path string, o Options) (*Scenario, error) {
	b, err := fileio.ReadFile(path, fileio.YAMLLimit)
	if err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	return ParseWith(b, path, o)
}

// raw types mirror the YAML.
type rawScenario struct {
	Name        string                `yaml:"name"`
	Description string                `yaml:"description"`
	Start       string                `yaml:"start"`
	Catalog     string                `yaml:"catalog"`
	Machines    map[string]rawMachine `yaml:"machines"`
	Service     rawService            `yaml:"service"`
	Steps       []rawStep             `yaml:"steps"`
}

type rawMachine struct {
	Profile string `yaml:"profile"`
	Edition string `yaml:"edition"`
	Key     string `yaml:"key"`
	TPM     *bool  `yaml:"tpm"`
	// Certificate and Authority are the image's OEM certificate and its authority's key.
	Certificate string         `yaml:"certificate"`
	Authority   string         `yaml:"authority"`
	IP          string         `yaml:"ip"`
	Licence     map[string]any `yaml:"licence"`
}

type rawService struct {
	KMSClients []rawKMS       `yaml:"kms_clients"`
	MAKUsed    map[string]int `yaml:"mak_used"`
}

type rawKMS struct {
	Count   int    `yaml:"count"`
	Edition string `yaml:"edition"`
}

type rawStep struct {
	ID string `yaml:"id"`

	Boot       string  `yaml:"boot"`
	Activate   string  `yaml:"activate"`
	Rearm      string  `yaml:"rearm"`
	InstallKey string  `yaml:"install_key"`
	Change     string  `yaml:"change"`
	Advance    string  `yaml:"advance"`
	KMSClients *rawKMS `yaml:"kms_clients"`
	KMSHost    string  `yaml:"kms_host"`
	Shutdown   string  `yaml:"shutdown"`
	Check      *bool   `yaml:"check"`
	Probe      string  `yaml:"probe"`

	Method string   `yaml:"method"`
	With   []string `yaml:"with"`
	IP     string   `yaml:"ip"`
	Key    string   `yaml:"key"`

	NIC      string            `yaml:"nic"`
	AddNIC   string            `yaml:"add_nic"`
	Disk     string            `yaml:"disk"`
	MemoryMB int               `yaml:"memory_mb"`
	CPUs     int               `yaml:"cpus"`
	SMBIOS   map[string]string `yaml:"smbios"`
	Board    string            `yaml:"board"`
	TPM      bool              `yaml:"tpm"`
	Network  *bool             `yaml:"network"`

	Exec []string `yaml:"exec"`

	Expect *rawExpect `yaml:"expect"`
}

type rawExpect struct {
	Status         string         `yaml:"status"`
	GraceDays      *int           `yaml:"grace_days"`
	Rearms         *int           `yaml:"rearms"`
	Findings       []string       `yaml:"findings"`
	NoFindings     []string       `yaml:"no_findings"`
	OA             string         `yaml:"oa"`
	OARulesFailed  []int          `yaml:"oa_rules_failed"`
	Activation     string         `yaml:"activation"`
	ActivationCode string         `yaml:"activation_code"`
	Hardware       *rawHardware   `yaml:"hardware"`
	Reminders      *int           `yaml:"reminders"`
	Surfaces       []string       `yaml:"surfaces"`
	KMSCount       *int           `yaml:"kms_count"`
	MAKRemaining   map[string]int `yaml:"mak_remaining"`
	TPM            string         `yaml:"tpm"`
	SameTables     *bool          `yaml:"same_tables"`

	Identity       map[string]string `yaml:"identity"`
	LicenseStatus  string            `yaml:"license_status"`
	Channel        string            `yaml:"channel"`
	PartialKey     string            `yaml:"partial_key"`
	RemainingGrace string            `yaml:"remaining_grace"`
	ExecOutput     string            `yaml:"exec_output"`
}

type rawHardware struct {
	InTolerance *bool    `yaml:"in_tolerance"`
	LostVotes   *int     `yaml:"lost_votes"`
	Changed     []string `yaml:"changed"`
}

// Parse reads and validates a scenario; name is used in errors and to resolve relative paths.
// Catalog files given add to the built-in key catalog, as for Load.
func Parse(b []byte, name string, catalogs ...string) (*Scenario, error) {
	return ParseWith(b, name, Options{Catalogs: catalogs})
}

// ParseWith reads and validates a scenario with options.
func ParseWith(b []byte, name string, o Options) (*Scenario, error) {
	var r rawScenario
	doc, err := yamldoc.Decode(b, name, &r)
	if err != nil {
		return nil, err
	}
	p := &parser{doc: doc, dir: filepath.Dir(name), catalogs: o.Catalogs, confine: o.Confine}
	return p.scenario(&r)
}

type parser struct {
	doc      *yamldoc.Doc
	dir      string
	catalogs []string
	confine  string
	sc       *Scenario
	clock    time.Time      // the scenario clock after the steps read so far
	ids      map[string]int // step ids read so far, and their lines
	kmsDown  int            // the line of the kms_host: down step in force, 0 when the host is up

	// catalogFolders are where OEM certificates beside the catalogs are looked for.
	catalogFolders []catalogFolder
}

func (p *parser) resolve(f string) string {
	if f == "" || filepath.IsAbs(f) {
		return f
	}
	return filepath.Join(p.dir, f)
}

func (p *parser) scenario(r *rawScenario) (*Scenario, error) {
	sc := &Scenario{Name: r.Name, Description: r.Description, Path: p.doc.File, Start: DefaultStart}
	p.sc = sc
	if sc.Name == "" {
		return nil, p.doc.Errorf("name", "a scenario needs a name")
	}
	if r.Start != "" {
		t, err := time.Parse(time.RFC3339, r.Start)
		if err != nil {
			return nil, p.doc.Errorf("start", "%q: want an RFC 3339 time such as 2009-10-22T08:00:00Z", r.Start)
		}
		sc.Start = t.UTC()
	}
	if err := checkClock(sc.Start); err != nil {
		return nil, p.doc.Errorf("start", "%v", err)
	}
	p.clock = sc.Start
	var err error
	if sc.Catalog, err = fixtures.CatalogWith(p.catalogs...); err != nil {
		return nil, fmt.Errorf("%s: %w", p.doc.File, err)
	}
	for _, c := range p.catalogs {
		p.catalogFolders = append(p.catalogFolders, catalogFolder{dir: filepath.Dir(c)})
	}
	if r.Catalog != "" {
		path, err := p.reference("catalog", r.Catalog)
		if err != nil {
			return nil, err
		}
		p.catalogFolders = append(p.catalogFolders, catalogFolder{dir: filepath.Dir(path), confined: true})
		more, err := catalog.Load(path)
		if err == nil {
			err = sc.Catalog.Extend(more)
		}
		if err != nil {
			return nil, p.doc.Errorf("catalog", "%v", err)
		}
	}
	if len(r.Machines) == 0 {
		return nil, p.doc.Errorf("machines", "a scenario needs at least one machine")
	}
	names := make([]string, 0, len(r.Machines))
	for n := range r.Machines {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return p.doc.Line("machines."+names[i]) < p.doc.Line("machines."+names[j]) })
	for _, n := range names {
		m, err := p.machine(n, r.Machines[n])
		if err != nil {
			return nil, err
		}
		sc.Machines = append(sc.Machines, m)
	}
	if err := p.service(&r.Service); err != nil {
		return nil, err
	}
	if len(r.Steps) == 0 {
		return nil, p.doc.Errorf("steps", "a scenario needs at least one step")
	}
	for i := range r.Steps {
		s, err := p.step(i, &r.Steps[i])
		if err != nil {
			return nil, err
		}
		sc.Steps = append(sc.Steps, s)
	}
	return sc, nil
}

var machineName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`) })

func (p *parser) machine(name string, r rawMachine) (*Machine, error) {
	field := "machines." + name
	if !machineName().MatchString(name) {
		return nil, p.doc.Errorf(field, "machine name %q: want 1 to 32 of a-z, 0-9 and -, starting with a letter", name)
	}
	m := &Machine{Name: name, Line: p.doc.Line(field)}
	if r.Profile == "" {
		return nil, p.doc.Errorf(field, "a machine needs a profile")
	}
	prof, err := p.loadProfile(field+".profile", r.Profile)
	if err != nil {
		return nil, err
	}
	m.Profile = prof
	p.msdmKey(prof)
	m.TPM = prof.VM.TPM
	if r.TPM != nil {
		m.TPM = *r.TPM
	}
	if err := p.imageMachine(field, m, r); err != nil {
		return nil, err
	}
	if r.Edition == "" && m.BootsImage() {
		return m, nil // the image's OS is what it is; an edition would only set the SLIC version checked
	}
	if m.Edition, err = edition.Lookup(r.Edition); err != nil {
		return nil, p.doc.Errorf(field+".edition", "%v", err)
	}
	if m.Image, err = p.image(field, r); err != nil {
		return nil, err
	}
	if r.Key != "" {
		if m.Key, err = p.key(field+".key", r.Key, m.Edition); err != nil {
			return nil, err
		}
	}
	if r.IP != "" {
		if m.IP, err = parseIP(r.IP); err != nil {
			return nil, p.doc.Errorf(field+".ip", "%v", err)
		}
	}
	if r.Licence != nil {
		if m.Licence, err = p.licence(field+".licence", r.Licence); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// licence reads a machine's licence: block: overrides of the licence model's defaults, in the
// names of its JSON form (licence.Config). Errors point at the field.
func (p *parser) licence(field string, overrides map[string]any) (*licence.Config, error) {
	fail := func(err error) error {
		var ce *licence.ConfigError
		if errors.As(err, &ce) {
			return p.doc.Errorf(field+"."+ce.Field, "%s", ce.Msg)
		}
		return p.doc.Errorf(field, "%v", err)
	}
	b, err := json.Marshal(overrides)
	if err != nil {
		return nil, p.doc.Errorf(field, "want a mapping of licence settings: %v", err)
	}
	cfg := licence.DefaultConfig()
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fail(err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fail(err)
	}
	return &cfg, nil
}

// key finds the entry of a key label and checks it is for the edition.
func (p *parser) key(field, label string, ed edition.Edition) (*catalog.Entry, error) {
	e, err := p.catalogLabel(field, label)
	if err != nil {
		return nil, err
	}
	if e.Edition.ID != ed.ID {
		return nil, p.doc.Errorf(field, "key %s is for %s, the machine runs %s", label, e.Edition.ID, ed.ID)
	}
	return e, p.oemCertificate(field, e)
}

func (p *parser) service(r *rawService) error {
	for i, k := range r.KMSClients {
		g, err := p.kms(fmt.Sprintf("service.kms_clients.%d", i), k)
		if err != nil {
			return err
		}
		p.sc.Service.KMSClients = append(p.sc.Service.KMSClients, g)
	}
	for label, n := range r.MAKUsed {
		field := "service.mak_used." + label
		e, err := p.catalogLabel(field, label)
		if err != nil {
			return err
		}
		if e.Channel != edition.VolumeMAK {
			return p.doc.Errorf(field, "%s is a %s key, not a MAK", label, e.Channel)
		}
		if n < 0 || n > e.MAKLimit {
			return p.doc.Errorf(field, "%d: the pool holds %d activations", n, e.MAKLimit)
		}
		if p.sc.Service.MAKUsed == nil {
			p.sc.Service.MAKUsed = map[string]int{}
		}
		p.sc.Service.MAKUsed[label] = n
	}
	return nil
}

// catalogLabel finds the entry of a key label. A key that only the label grammar defines joins
// the scenario's catalog, so the service and the guests know it.
func (p *parser) catalogLabel(field, label string) (*catalog.Entry, error) {
	e, err := p.sc.Catalog.Label(label)
	if err != nil {
		return nil, p.doc.Errorf(field, "%v", err)
	}
	p.keep(e)
	return e, nil
}

// keep adds an entry that only the label grammar defines to the scenario's catalog, once.
func (p *parser) keep(e *catalog.Entry) {
	if e.File != "" {
		return
	}
	if _, err := p.sc.Catalog.Lookup(e.Key); err != nil {
		_ = p.sc.Catalog.Add(e) // Lookup said it is not there
	}
}

// msdmKey puts the key of a profile's synthesized MSDM in the scenario's catalog when only the
// label grammar defines it (oem-dm/EDITION), so the guest's OA 3.0 finds it. A key_label the
// catalog cannot resolve stays out: the guest then reports the MSDM's key as unknown, which is
// what such a profile tests.
func (p *parser) msdmKey(prof *profile.Profile) {
	m := prof.Markers.MSDM
	if m == nil || m.KeyLabel == "" {
		return
	}
	if e, err := p.sc.Catalog.Label(m.KeyLabel); err == nil {
		p.keep(e)
	}
}

func (p *parser) kms(field string, k rawKMS) (KMSClients, error) {
	ed, err := edition.Lookup(k.Edition)
	if err != nil {
		return KMSClients{}, p.doc.Errorf(field+".edition", "%v", err)
	}
	if !ed.Allows(edition.VolumeGVLK) {
		return KMSClients{}, p.doc.Errorf(field+".edition", "%s has no KMS clients (not a volume edition)", ed.ID)
	}
	if k.Count < 1 || k.Count > 1000 {
		return KMSClients{}, p.doc.Errorf(field+".count", "%d: want 1 to 1000", k.Count)
	}
	return KMSClients{Count: k.Count, Edition: ed}, nil
}

func (p *parser) findMachine(field, name string) (*Machine, error) {
	for _, m := range p.sc.Machines {
		if m.Name == name {
			return m, nil
		}
	}
	known := make([]string, len(p.sc.Machines))
	for i, m := range p.sc.Machines {
		known[i] = m.Name
	}
	return nil, p.doc.Errorf(field, "no machine %q (machines: %s)", name, strings.Join(known, ", "))
}

func (p *parser) step(i int, r *rawStep) (*Step, error) {
	field := fmt.Sprintf("steps.%d", i)
	s := &Step{Index: i, Line: p.doc.Line(field)}
	k, err := p.stepKind(field, r)
	if err != nil {
		return nil, err
	}
	s.Kind = k.Kind
	if s.ID, err = p.stepID(field, r.ID); err != nil {
		return nil, err
	}
	if k.Machine {
		if s.Machine, err = p.findMachine(field+"."+string(k.Kind), k.machine(r)); err != nil {
			return nil, err
		}
		if err := p.stepMachineKind(field+"."+string(k.Kind), k, s.Machine); err != nil {
			return nil, err
		}
	}
	if k.parse != nil {
		if err := k.parse(p, field, r, s); err != nil {
			return nil, err
		}
	}
	for _, m := range s.With {
		if err := p.stepMachineKind(field+".with", k, m); err != nil {
			return nil, err
		}
	}
	switch {
	case r.Expect != nil && k.Expect == "":
		return nil, p.doc.Errorf(field+".expect", "a %s step has nothing to check; put expect on the boot after it or on a check step", s.Kind)
	case r.Expect != nil:
		if s.Expect, err = p.expect(field+".expect", r.Expect, s); err != nil {
			return nil, err
		}
	case k.Expect == "service":
		return nil, p.doc.Errorf(field, "a %s step needs expect", s.Kind)
	}
	return s, nil
}

func (p *parser) changes(field string, r *rawStep) (*Changes, error) {
	c := &Changes{NIC: r.NIC, AddNIC: r.AddNIC, Disk: r.Disk, MemoryMB: r.MemoryMB, CPUs: r.CPUs, SMBIOS: r.SMBIOS, TPM: r.TPM, Network: r.Network}
	for _, mac := range []struct{ name, v string }{{"nic", r.NIC}, {"add_nic", r.AddNIC}} {
		if mac.v == "" {
			continue
		}
		hw, err := net.ParseMAC(mac.v)
		if err != nil || len(hw) != 6 || hw[0]&1 == 1 {
			return nil, p.doc.Errorf(field+"."+mac.name, "%q is not a unicast MAC address", mac.v)
		}
	}
	if r.Disk != "" && !regexp.MustCompile(`^[A-Za-z0-9._-]{1,20}$`).MatchString(r.Disk) {
		return nil, p.doc.Errorf(field+".disk", "%q: want 1 to 20 of A-Z a-z 0-9 . _ -", r.Disk)
	}
	if r.MemoryMB != 0 && (r.MemoryMB < 64 || r.MemoryMB > 65536) {
		return nil, p.doc.Errorf(field+".memory_mb", "%d: want 64 to 65536", r.MemoryMB)
	}
	if r.CPUs != 0 && (r.CPUs < 1 || r.CPUs > 64) {
		return nil, p.doc.Errorf(field+".cpus", "%d: want 1 to 64", r.CPUs)
	}
	for k := range r.SMBIOS {
		if _, err := smbios.LookupIdentityField(k); err != nil {
			return nil, p.doc.Errorf(field+".smbios."+k, "not a field a change can set: %v", err)
		}
	}
	if r.Board != "" {
		b, err := p.loadProfile(field+".board", r.Board)
		if err != nil {
			return nil, err
		}
		c.Board = b
		p.msdmKey(b)
	}
	if c.Describe() == "" {
		return nil, p.doc.Errorf(field, "a change step changes nothing; give nic, add_nic, disk, memory_mb, cpus, smbios, board, tpm or network")
	}
	return c, nil
}

func (p *parser) expect(field string, r *rawExpect, s *Step) (*Expect, error) {
	e := &Expect{GraceDays: r.GraceDays, Rearms: r.Rearms, Findings: r.Findings, NoFindings: r.NoFindings,
		OARulesFailed: r.OARulesFailed, Reminders: r.Reminders, Surfaces: r.Surfaces, KMSCount: r.KMSCount, SameTables: r.SameTables}
	if err := p.checkExpectFields(field, r, s); err != nil {
		return nil, err
	}
	if err := p.probeExpect(field, r, s, e); err != nil {
		return nil, err
	}
	if r.NoFindings != nil && len(r.NoFindings) == 0 {
		return nil, p.doc.Errorf(field+".no_findings", "an empty list checks nothing; findings: [] says there must be none")
	}
	if r.Status != "" {
		st, err := licence.ParseStatus(r.Status)
		if err != nil {
			return nil, p.doc.Errorf(field+".status", "%v", err)
		}
		e.Status = &st
	}
	if r.OA != "" {
		if r.OA != "valid" && r.OA != "invalid" {
			return nil, p.doc.Errorf(field+".oa", "%q: want valid or invalid", r.OA)
		}
		e.OA = &r.OA
	}
	for _, n := range r.OARulesFailed {
		if n < 1 || n > 5 {
			return nil, p.doc.Errorf(field+".oa_rules_failed", "rule %d: OA rules are numbered 1 to 5", n)
		}
	}
	if r.Activation != "" || r.ActivationCode != "" {
		// Any boot may carry an answer: KMS clients contact their host on their own when due.
		switch r.Activation {
		case "", "success", "failure", "blocked":
		default:
			return nil, p.doc.Errorf(field+".activation", "%q: want success, failure or blocked", r.Activation)
		}
		if r.Activation != "" {
			e.Activation = &r.Activation
		}
		if r.ActivationCode != "" {
			e.ActivationCode = &r.ActivationCode
		}
	}
	if h := r.Hardware; h != nil {
		e.Hardware = &HardwareExpect{InTolerance: h.InTolerance, LostVotes: h.LostVotes, Changed: h.Changed}
	}
	for _, sf := range r.Surfaces {
		ok := false
		for _, all := range licence.SurfacesFor(licence.Notification) {
			ok = ok || string(all) == sf
		}
		if !ok {
			return nil, p.doc.Errorf(field+".surfaces", "%q is not a notification surface", sf)
		}
	}
	for label := range r.MAKRemaining {
		en, err := p.catalogLabel(field+".mak_remaining."+label, label)
		if err != nil {
			return nil, err
		}
		if en.Channel != edition.VolumeMAK {
			return nil, p.doc.Errorf(field+".mak_remaining."+label, "%s is not a MAK", label)
		}
	}
	e.MAKRemaining = r.MAKRemaining
	switch r.TPM {
	case "":
	case "unsealed", "changed", "none":
		e.TPM = &r.TPM
	default:
		return nil, p.doc.Errorf(field+".tpm", "%q: want unsealed, changed or none", r.TPM)
	}
	return e, nil
}

// FormatDuration prints a duration the way scenarios write it: "10d", "29d4h", "1d12h30m", "4h",
// "90m", else Go's form.
func FormatDuration(d time.Duration) string {
	if d <= 0 || d%time.Minute != 0 {
		return d.String()
	}
	days, rest := d/licence.Day, d%licence.Day
	out := ""
	if days > 0 {
		out = fmt.Sprintf("%dd", days)
	}
	if rest == 0 {
		return out
	}
	if days == 0 && rest%time.Hour != 0 && rest < 2*time.Hour {
		return fmt.Sprintf("%dm", rest/time.Minute) // 90m, as scenarios write it
	}
	if h := rest / time.Hour; h > 0 {
		out += fmt.Sprintf("%dh", h)
	}
	if m := rest % time.Hour / time.Minute; m > 0 {
		out += fmt.Sprintf("%dm", m)
	}
	return out
}
