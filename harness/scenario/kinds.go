package scenario

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/oemact/oemact/oemact/licence"
)

// Kind is what a step does.
type Kind string

const (
	Boot       Kind = "boot"        // boot the machine: the guest checks its firmware and licence
	Activate   Kind = "activate"    // boot and activate (online, telephone, MAK proxy, or with the KMS host)
	Rearm      Kind = "rearm"       // boot and rearm
	InstallKey Kind = "install_key" // boot and install another key
	Change     Kind = "change"      // change hardware or firmware (takes effect at the next boot), or the network
	Shutdown   Kind = "shutdown"    // the machine powers off after its last boot step, until its next
	Advance    Kind = "advance"     // move the clock forward
	AddKMS     Kind = "kms_clients" // simulated KMS clients ask the host now
	KMSHost    Kind = "kms_host"    // the organisation's KMS host goes down or comes back up
	Check      Kind = "check"       // check the service's counts, no boot
	Probe      Kind = "probe"       // boot an OS image (or use it still running) and read what it saw
)

// KindSpec is everything the scenario language knows of one step kind. The kinds table is the
// one list the parser, Describe, Boots and the runner's dispatch read: a new kind is an entry
// here, its fields in rawStep and stepFields, and its runner function.
type KindSpec struct {
	Kind Kind
	// Machine: the kind's own field names a machine ("boot: pc").
	Machine bool
	// Boots: the step boots its machine (the guest runs and reports).
	Boots bool
	// Expect is whether the step takes expect: "" no, "guest" a boot's, "service" the service's
	// counts only, "probe" what an OS booted from its image saw (expectFields lists each field's).
	Expect string
	// Fields are the other step fields the kind takes.
	Fields []string
	// present reports whether a raw step uses this kind (its own field is set).
	present func(r *rawStep) bool
	// machine is the machine name its own field gives.
	machine func(r *rawStep) string
	// parse reads the kind's fields into s (s.Machine is set already).
	parse func(p *parser, field string, r *rawStep, s *Step) error
	// describe is the step's label (default "KIND MACHINE").
	describe func(s *Step) string
	// Tag is the kind's short word in the HTML report's matrix cells.
	Tag string
}

var kinds = []KindSpec{
	{Kind: Boot, Machine: true, Boots: true, Expect: "guest", Tag: "boot",
		present: func(r *rawStep) bool { return r.Boot != "" }, machine: func(r *rawStep) string { return r.Boot }},
	{Kind: Activate, Machine: true, Boots: true, Expect: "guest", Fields: []string{"method", "with", "ip"}, Tag: "act",
		present: func(r *rawStep) bool { return r.Activate != "" }, machine: func(r *rawStep) string { return r.Activate },
		parse: parseActivate, describe: describeActivate},
	{Kind: Rearm, Machine: true, Boots: true, Expect: "guest", Tag: "rearm",
		present: func(r *rawStep) bool { return r.Rearm != "" }, machine: func(r *rawStep) string { return r.Rearm }},
	{Kind: InstallKey, Machine: true, Boots: true, Expect: "guest", Fields: []string{"key"}, Tag: "key",
		present: func(r *rawStep) bool { return r.InstallKey != "" }, machine: func(r *rawStep) string { return r.InstallKey },
		parse:    parseInstallKey,
		describe: func(s *Step) string { return fmt.Sprintf("install key %s on %s", s.Key.Label, s.Machine.Name) }},
	{Kind: Change, Machine: true, Fields: []string{"nic", "add_nic", "disk", "memory_mb", "cpus", "smbios", "board", "tpm", "network"}, Tag: "chg",
		present: func(r *rawStep) bool { return r.Change != "" }, machine: func(r *rawStep) string { return r.Change },
		parse: func(p *parser, field string, r *rawStep, s *Step) (err error) {
			s.Change, err = p.changes(field, r)
			return err
		},
		describe: func(s *Step) string { return fmt.Sprintf("change %s: %s", s.Machine.Name, s.Change.Describe()) }},
	{Kind: Shutdown, Machine: true, Tag: "off",
		present: func(r *rawStep) bool { return r.Shutdown != "" }, machine: func(r *rawStep) string { return r.Shutdown },
		describe: func(s *Step) string { return "shut down " + s.Machine.Name }},
	{Kind: Advance, Tag: "adv", present: func(r *rawStep) bool { return r.Advance != "" }, parse: parseAdvance,
		describe: func(s *Step) string { return "advance " + FormatDuration(s.Advance) }},
	{Kind: AddKMS, Tag: "kms", present: func(r *rawStep) bool { return r.KMSClients != nil },
		parse: func(p *parser, field string, r *rawStep, s *Step) (err error) {
			if p.kmsDown > 0 {
				return p.doc.Errorf(field+".kms_clients", "the KMS host is down (kms_host: down at line %d): no client reaches it", p.kmsDown)
			}
			s.KMS, err = p.kms(field+".kms_clients", *r.KMSClients)
			return err
		},
		describe: func(s *Step) string {
			return fmt.Sprintf("%d simulated KMS clients (%s)", s.KMS.Count, s.KMS.Edition.ID)
		}},
	{Kind: KMSHost, Tag: "kmsh", present: func(r *rawStep) bool { return r.KMSHost != "" }, parse: parseKMSHost,
		describe: func(s *Step) string { return "KMS host " + s.KMSHost }},
	{Kind: Check, Expect: "service", Tag: "chk", present: func(r *rawStep) bool { return r.Check != nil },
		describe: func(s *Step) string { return "check the service" }},
	{Kind: Probe, Machine: true, Boots: true, Expect: "probe", Fields: []string{"exec"}, Tag: "probe",
		present: func(r *rawStep) bool { return r.Probe != "" }, machine: func(r *rawStep) string { return r.Probe },
		parse: parseProbe,
		describe: func(s *Step) string {
			if s.Exec != nil {
				return fmt.Sprintf("probe %s: %s", s.Machine.Name, strings.Join(s.Exec, " "))
			}
			return "probe " + s.Machine.Name
		}},
}

// stepFields are the optional step fields, with whether a raw step sets them: a field set on a
// kind that does not take it is an error, not ignored.
var stepFields = []struct {
	name string
	set  func(r *rawStep) bool
}{
	{"method", func(r *rawStep) bool { return r.Method != "" }},
	{"with", func(r *rawStep) bool { return r.With != nil }},
	{"ip", func(r *rawStep) bool { return r.IP != "" }},
	{"network", func(r *rawStep) bool { return r.Network != nil }},
	{"key", func(r *rawStep) bool { return r.Key != "" }},
	{"nic", func(r *rawStep) bool { return r.NIC != "" }},
	{"add_nic", func(r *rawStep) bool { return r.AddNIC != "" }},
	{"disk", func(r *rawStep) bool { return r.Disk != "" }},
	{"memory_mb", func(r *rawStep) bool { return r.MemoryMB != 0 }},
	{"cpus", func(r *rawStep) bool { return r.CPUs != 0 }},
	{"smbios", func(r *rawStep) bool { return r.SMBIOS != nil }},
	{"board", func(r *rawStep) bool { return r.Board != "" }},
	{"tpm", func(r *rawStep) bool { return r.TPM }},
	{"exec", func(r *rawStep) bool { return r.Exec != nil }},
}

// Kinds lists the step kinds in the order the scenario language documents them.
func Kinds() []KindSpec { return append([]KindSpec(nil), kinds...) }

// Spec returns what the language knows of a kind.
func (k Kind) Spec() (KindSpec, bool) {
	for _, s := range kinds {
		if s.Kind == k {
			return s, true
		}
	}
	return KindSpec{}, false
}

// Boots reports whether the step boots its machine.
func (k Kind) Boots() bool {
	s, ok := k.Spec()
	return ok && s.Boots
}

// Describe is a short label, e.g. "activate pc (online)".
func (s *Step) Describe() string {
	if spec, ok := s.Kind.Spec(); ok && spec.describe != nil {
		return spec.describe(s)
	}
	return string(s.Kind) + " " + s.Machine.Name
}

func kindNames() string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k.Kind)
	}
	return strings.Join(names, ", ")
}

// stepKind finds the one kind a raw step uses and checks its other fields belong to it.
func (p *parser) stepKind(field string, r *rawStep) (KindSpec, error) {
	var found []KindSpec
	for _, k := range kinds {
		if k.present(r) {
			found = append(found, k)
		}
	}
	switch len(found) {
	case 0:
		return KindSpec{}, p.doc.Errorf(field, "a step needs one of %s", kindNames())
	case 1:
	default:
		names := make([]string, len(found))
		for i, k := range found {
			names[i] = string(k.Kind)
		}
		return KindSpec{}, p.doc.Errorf(field, "a step does one thing; this one says %s", strings.Join(names, " and "))
	}
	k := found[0]
	for _, f := range stepFields {
		if f.set(r) && !slices.Contains(k.Fields, f.name) {
			return KindSpec{}, p.doc.Errorf(field+"."+f.name, "%s does not apply to a %s step", f.name, k.Kind)
		}
	}
	return k, nil
}

// Activation methods.
const (
	MethodOnline    = "online"
	MethodTelephone = "telephone"
	MethodProxy     = "proxy" // MAK proxy (VAMT's role): one batch request for the step's machines
)

func parseActivate(p *parser, field string, r *rawStep, s *Step) error {
	s.Method = r.Method
	if s.Method == "" {
		s.Method = MethodOnline
	}
	switch s.Method {
	case MethodOnline, MethodTelephone, MethodProxy:
	default:
		return p.doc.Errorf(field+".method", "%q: want online, telephone or proxy", r.Method)
	}
	if r.IP != "" {
		ip, err := parseIP(r.IP)
		if err != nil {
			return p.doc.Errorf(field+".ip", "%v", err)
		}
		s.IP = ip
	}
	if r.With == nil {
		return nil
	}
	if s.Method != MethodProxy {
		return p.doc.Errorf(field+".with", "with gathers machines into a MAK proxy batch: it needs method: proxy")
	}
	if len(r.With) == 0 {
		return p.doc.Errorf(field+".with", "name the machines the proxy gathers with %s, or leave with out", s.Machine.Name)
	}
	seen := map[string]bool{s.Machine.Name: true}
	for i, name := range r.With {
		f := fmt.Sprintf("%s.with.%d", field, i)
		m, err := p.findMachine(f, name)
		if err != nil {
			return err
		}
		if seen[name] {
			return p.doc.Errorf(f, "%s is in the batch already", name)
		}
		seen[name] = true
		s.With = append(s.With, m)
	}
	return nil
}

func describeActivate(s *Step) string {
	if len(s.With) == 0 {
		return fmt.Sprintf("activate %s (%s)", s.Machine.Name, s.Method)
	}
	names := make([]string, len(s.With))
	for i, m := range s.With {
		names[i] = m.Name
	}
	return fmt.Sprintf("activate %s (%s, with %s)", s.Machine.Name, s.Method, strings.Join(names, ", "))
}

// parseIP reads an activation request's address, IPv4 or IPv6.
func parseIP(s string) (string, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return "", fmt.Errorf("%q is not an IPv4 or IPv6 address", s)
	}
	return a.String(), nil
}

func parseKMSHost(p *parser, field string, r *rawStep, s *Step) error {
	switch r.KMSHost {
	case "down":
		if p.kmsDown > 0 {
			return p.doc.Errorf(field+".kms_host", "the KMS host is down already (line %d)", p.kmsDown)
		}
		p.kmsDown = p.doc.Line(field)
	case "up":
		if p.kmsDown == 0 {
			return p.doc.Errorf(field+".kms_host", "the KMS host is up already: kms_host: up follows a kms_host: down")
		}
		p.kmsDown = 0
	default:
		return p.doc.Errorf(field+".kms_host", "%q: want down or up", r.KMSHost)
	}
	s.KMSHost = r.KMSHost
	return nil
}

func parseInstallKey(p *parser, field string, r *rawStep, s *Step) (err error) {
	if r.Key == "" {
		return p.doc.Errorf(field, "install_key needs key: a catalog label")
	}
	s.Key, err = p.key(field+".key", r.Key, s.Machine.Edition)
	return err
}

func parseAdvance(p *parser, field string, r *rawStep, s *Step) error {
	d, err := licence.ParseDuration(r.Advance)
	if err != nil || d <= 0 {
		return p.doc.Errorf(field+".advance", "%q: want a positive duration such as 10d, 1.5d, 29d4h, 4h or 90m (at most %d days)", r.Advance, licence.MaxDuration/licence.Day)
	}
	s.Advance = d
	p.clock = p.clock.Add(d)
	if err := checkClock(p.clock); err != nil {
		return p.doc.Errorf(field+".advance", "the scenario clock would read %s after it: %v", p.clock.Format(time.RFC3339), err)
	}
	return nil
}
