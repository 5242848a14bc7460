package scenario

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/oemact/oemact/oemact/licence"
	"github.com/oemact/oemact/smbios"
)

// Bounds on a probe step's command: a program and its arguments, as qemu-ga's guest-exec takes
// them.
const (
	MaxExecArgs   = 256
	MaxExecArgLen = 4096
)

// Expectation classes (KindSpec.Expect): what a step's expect may check.
const (
	expectGuest   = "guest"   // what the harness's agent reported at a boot
	expectService = "service" // the activation service's counts
	expectProbe   = "probe"   // what an OS booted from its image saw, read through its guest agent
)

// expectFields lists the expect fields with whether a raw expect sets them and the steps they
// apply to (KindSpec.Expect): one list that the parser checks every step against.
var expectFields = []struct {
	name string
	set  func(r *rawExpect) bool
	on   []string
}{
	{"status", func(r *rawExpect) bool { return r.Status != "" }, []string{expectGuest}},
	{"grace_days", func(r *rawExpect) bool { return r.GraceDays != nil }, []string{expectGuest}},
	{"rearms", func(r *rawExpect) bool { return r.Rearms != nil }, []string{expectGuest}},
	{"findings", func(r *rawExpect) bool { return r.Findings != nil }, []string{expectGuest, expectProbe}},
	{"no_findings", func(r *rawExpect) bool { return r.NoFindings != nil }, []string{expectGuest, expectProbe}},
	{"oa", func(r *rawExpect) bool { return r.OA != "" }, []string{expectGuest}},
	{"oa_rules_failed", func(r *rawExpect) bool { return r.OARulesFailed != nil }, []string{expectGuest}},
	{"activation", func(r *rawExpect) bool { return r.Activation != "" }, []string{expectGuest}},
	{"activation_code", func(r *rawExpect) bool { return r.ActivationCode != "" }, []string{expectGuest}},
	{"hardware", func(r *rawExpect) bool { return r.Hardware != nil }, []string{expectGuest}},
	{"reminders", func(r *rawExpect) bool { return r.Reminders != nil }, []string{expectGuest}},
	{"surfaces", func(r *rawExpect) bool { return r.Surfaces != nil }, []string{expectGuest}},
	{"kms_count", func(r *rawExpect) bool { return r.KMSCount != nil }, []string{expectGuest, expectService}},
	{"mak_remaining", func(r *rawExpect) bool { return len(r.MAKRemaining) > 0 }, []string{expectGuest, expectService}},
	{"tpm", func(r *rawExpect) bool { return r.TPM != "" }, []string{expectGuest}},
	{"same_tables", func(r *rawExpect) bool { return r.SameTables != nil }, []string{expectGuest, expectProbe}},
	{"identity", func(r *rawExpect) bool { return r.Identity != nil }, []string{expectProbe}},
	{"license_status", func(r *rawExpect) bool { return r.LicenseStatus != "" }, []string{expectProbe}},
	{"channel", func(r *rawExpect) bool { return r.Channel != "" }, []string{expectProbe}},
	{"partial_key", func(r *rawExpect) bool { return r.PartialKey != "" }, []string{expectProbe}},
	{"remaining_grace", func(r *rawExpect) bool { return r.RemainingGrace != "" }, []string{expectProbe}},
	{"exec_output", func(r *rawExpect) bool { return r.ExecOutput != "" }, []string{expectProbe}},
}

// fieldsOn lists the expect fields a class of step takes.
func fieldsOn(class string) string {
	var names []string
	for _, f := range expectFields {
		if slices.Contains(f.on, class) {
			names = append(names, f.name)
		}
	}
	return strings.Join(names, ", ")
}

// checkExpectFields refuses an expect field the step's kind does not take.
func (p *parser) checkExpectFields(field string, r *rawExpect, s *Step) error {
	spec, _ := s.Kind.Spec()
	for _, f := range expectFields {
		if !f.set(r) || slices.Contains(f.on, spec.Expect) {
			continue
		}
		switch spec.Expect {
		case expectService:
			return p.doc.Errorf(field, "a check step checks the service only (%s); the rest needs a boot", fieldsOn(expectService))
		case expectProbe:
			return p.doc.Errorf(field+"."+f.name, "%s does not apply to a probe step, which reads what the OS saw (%s)", f.name, fieldsOn(expectProbe))
		default:
			return p.doc.Errorf(field+"."+f.name, "%s applies to probe steps, which read what an OS booted from its image saw; a %s step boots the harness's agent", f.name, s.Kind)
		}
	}
	return nil
}

// BootsImage reports whether the machine boots an OS image (its profile's vm.boot is disk or
// cdrom): its steps are probes, and only an engine that runs firmware and an OS can run them.
func (m *Machine) BootsImage() bool { return m.Profile.VM.BootsImage() }

// BootsImage reports whether a machine of the scenario boots an OS image (Machine.BootsImage).
func (sc *Scenario) BootsImage() bool {
	return slices.ContainsFunc(sc.Machines, (*Machine).BootsImage)
}

// imageMachine checks what a machine that boots an OS image cannot have: what the harness's agent
// installs in the Windows it models (a key, an OEM certificate and its authority); the OS image
// has its own.
func (p *parser) imageMachine(field string, m *Machine, r rawMachine) error {
	if !m.BootsImage() {
		return nil
	}
	for _, f := range []struct {
		name string
		set  bool
	}{{"key", r.Key != ""}, {"certificate", r.Certificate != ""}, {"authority", r.Authority != ""}, {"ip", r.IP != ""}, {"licence", r.Licence != nil}} {
		if f.set {
			return p.doc.Errorf(field+"."+f.name, "machine %s boots an OS image (vm.boot: %s), which has its own: %s is for the harness's agent",
				m.Name, m.Profile.VM.Boot, f.name)
		}
	}
	return nil
}

// stepMachineKind checks that a step that boots fits a machine it boots (named at field): probes
// for a machine that boots an OS image, the agent's steps for one that boots the harness's kernel.
func (p *parser) stepMachineKind(field string, k KindSpec, m *Machine) error {
	switch {
	case !k.Boots:
		return nil
	case k.Kind == Probe && !m.BootsImage():
		return p.doc.Errorf(field, "machine %s boots the harness's kernel: a probe step needs a machine whose profile boots an OS image (vm.boot: disk or cdrom)", m.Name)
	case k.Kind != Probe && m.BootsImage():
		var agent []string
		for _, o := range kinds {
			if o.Boots && o.Kind != Probe {
				agent = append(agent, string(o.Kind))
			}
		}
		return p.doc.Errorf(field, "machine %s boots an OS image (vm.boot: %s): probe it; %s steps run the harness's agent",
			m.Name, m.Profile.VM.Boot, strings.Join(agent, ", "))
	}
	return nil
}

// parseProbe reads a probe step's exec: the program and its arguments, run in the guest.
func parseProbe(p *parser, field string, r *rawStep, s *Step) error {
	if r.Exec == nil {
		return nil
	}
	field += ".exec"
	switch {
	case len(r.Exec) == 0 || r.Exec[0] == "":
		return p.doc.Errorf(field, "give the program and its arguments, such as [uname, -r]")
	case len(r.Exec) > MaxExecArgs:
		return p.doc.Errorf(field, "%d words; a command takes at most %d", len(r.Exec), MaxExecArgs)
	}
	for i, a := range r.Exec {
		if len(a) > MaxExecArgLen || strings.ContainsRune(a, 0) {
			return p.doc.Errorf(fmt.Sprintf("%s.%d", field, i), "an argument is at most %d bytes, with no NUL", MaxExecArgLen)
		}
	}
	s.Exec = r.Exec
	return nil
}

var (
	channelWord = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`) })
	partialKey  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Z0-9]{5}$`) })
)

// probeExpect reads the expectations only a probe step takes.
func (p *parser) probeExpect(field string, r *rawExpect, s *Step, e *Expect) error {
	if r.Identity != nil {
		for k := range r.Identity {
			if _, err := smbios.LookupIdentityField(k); err != nil {
				return p.doc.Errorf(field+".identity."+k, "%v", err)
			}
		}
		e.Identity = r.Identity
	}
	if r.LicenseStatus != "" {
		st, err := licence.ParseStatus(r.LicenseStatus)
		if err != nil {
			return p.doc.Errorf(field+".license_status", "%v", err)
		}
		e.LicenseStatus = &st
	}
	if r.Channel != "" {
		if !channelWord().MatchString(r.Channel) {
			return p.doc.Errorf(field+".channel", "%q: want a licence channel as slmgr names it (OEM_SLP, OEM_DM, RETAIL, VOLUME_KMSCLIENT, VOLUME_MAK...)", r.Channel)
		}
		e.Channel = &r.Channel
	}
	if r.PartialKey != "" {
		if !partialKey().MatchString(r.PartialKey) {
			return p.doc.Errorf(field+".partial_key", "want the last five characters of the key, as slmgr prints them (A-Z, 0-9)")
		}
		e.PartialKey = &r.PartialKey
	}
	if r.RemainingGrace != "" {
		d, err := licence.ParseDuration(r.RemainingGrace)
		if err != nil || d < 0 {
			return p.doc.Errorf(field+".remaining_grace", "%q: want a duration such as 30d or 4320m (whole days compare with slmgr's days, else its minutes)", r.RemainingGrace)
		}
		e.RemainingGrace = &d
	}
	if r.ExecOutput != "" {
		if s.Exec == nil {
			return p.doc.Errorf(field+".exec_output", "exec_output checks the output of the step's command: give the step exec: [PROGRAM, ARGUMENTS...]")
		}
		re, err := regexp.Compile(r.ExecOutput)
		if err != nil {
			return p.doc.Errorf(field+".exec_output", "not a regular expression: %v", err)
		}
		e.ExecOutput = re
	}
	return nil
}

// WholeDays reports whether a remaining_grace expectation is a whole number of days, compared
// with slmgr's days (else with its minutes).
func WholeDays(d time.Duration) bool { return d%(24*time.Hour) == 0 }
