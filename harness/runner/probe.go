package runner

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/firmware/finding"
	"github.com/oemact/oemact/harness/engine"
	"github.com/oemact/oemact/harness/guestprobe"
	"github.com/oemact/oemact/harness/qga"
	"github.com/oemact/oemact/harness/scenario"
	"github.com/oemact/oemact/oemact/activation"
	"github.com/oemact/oemact/oemact/profile"
)

// Bounds on a probe step's command: what it prints is kept for the check, and a clip of it for
// the report.
const (
	maxExecOutput  = 1 << 20
	execOutputClip = 2 << 10
)

// Probe is what an OS booted from its image saw, read through its QEMU guest agent.
type Probe struct {
	// OS is the guest's operating system as its agent names it.
	OS            string `json:"os"`
	KernelRelease string `json:"kernel_release,omitempty"`
	// Source says where the tables were read: "linux sysfs" or "windows GetSystemFirmwareTable".
	Source string `json:"source"`
	// Tables lists the ACPI tables read, with their sizes ("SLIC 374 bytes"); SMBIOS the
	// structures the OS's table holds.
	Tables []string `json:"tables"`
	SMBIOS int      `json:"smbios_structures"`
	// Identity is the SMBIOS identity the OS saw (smbios.IdentityFields keys).
	Identity map[string]string `json:"identity,omitempty"`
	// Findings are the checks of the tables the OS saw, as oemact inspect makes them.
	Findings finding.List `json:"findings"`
	// Licence is a Windows guest's licence (slmgr /dlv).
	Licence *guestprobe.WindowsLicence `json:"licence,omitempty"`
	// Exec is the step's command and what it did.
	Exec *Exec `json:"exec,omitempty"`
}

// Exec is a command a probe step ran in the guest.
type Exec struct {
	Command  []string `json:"command"`
	ExitCode int      `json:"exit_code"`
	Signal   int      `json:"signal,omitempty"`
	// Stdout and Stderr are the start of what it printed.
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr,omitempty"`
}

// seen is what one probe read.
type seen struct {
	os      *qga.OSInfo
	tables  *guestprobe.Tables
	licence *guestprobe.WindowsLicence
	exec    *qga.ExecStatus
}

// readGuest reads what the OS saw: its tables (Linux sysfs, or Windows' GetSystemFirmwareTable
// and its licence), then runs the step's command.
func readGuest(ctx context.Context, c *qga.Client, cmd []string) (*seen, error) {
	info, err := c.OSInfo(ctx)
	if err != nil {
		return nil, err
	}
	out := &seen{os: info}
	if info.Windows() {
		out.tables, out.licence, err = guestprobe.ReadWindows(ctx, c)
	} else {
		out.tables, err = guestprobe.ReadLinux(ctx, c)
	}
	if err != nil {
		return nil, err
	}
	if cmd != nil {
		if out.exec, err = c.Run(ctx, qga.Command{Path: cmd[0], Args: cmd[1:]}, maxExecOutput); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// probeStep boots the machine's OS image (or, kept running since its previous probe, probes it
// again) and checks what the OS saw.
func (sr *scenarioRun) probeStep(ctx context.Context, i int, s *scenario.Step, st *Step) {
	m := sr.machines[s.Machine.Name]
	k := roundKey{i, m.def.Name}
	resumed, stay := sr.plan.resumes[k], sr.plan.stays[k]
	if resumed && m.liveOS == nil {
		st.Outcome, st.Error = Error, fmt.Sprintf("%s should still be running from its previous step, but is not", m.def.Name)
		return
	}
	var hw engine.Hardware
	if !resumed {
		t, err := m.firmware.Synthesize()
		if err != nil {
			st.Outcome, st.Error = Error, fmt.Sprintf("synthesizing %s's tables: %v", m.def.Name, err)
			return
		}
		hw, m.tables = engine.FromProfile(t, m.vm, m.tpm), t
	}
	var got *seen
	probe := func(ctx context.Context, c *qga.Client) (err error) {
		got, err = readGuest(ctx, c, s.Exec)
		return err
	}
	var res *engine.Result
	var err error
	if resumed {
		res, err = m.liveOS.Probe(ctx, probe, stay)
	} else {
		res, err = m.eng.Probe(ctx, hw, probe, stay)
	}
	m.liveOS = nil
	if res != nil { // counted as a boot step's boot is: when the engine gave a boot
		sr.count(resumed)
		m.liveOS = res.RunningOS
		st.Boot = &Boot{Wall: res.Wall, Accel: res.Accel, Command: res.Command, SerialLog: res.Log, Outcome: res.Outcome,
			Resumed: resumed, BootToAgent: res.BootToAgent}
	}
	if err != nil {
		st.Outcome, st.Error = Error, err.Error()
		return
	}
	st.Probe, st.Checks = sr.probeChecks(m, s, got)
	for _, c := range st.Checks {
		if !c.OK {
			st.Outcome = Failed
		}
	}
}

// probeChecks reports what the OS saw and checks it: always that it saw the tables the machine
// was given, then the step's expectations.
func (sr *scenarioRun) probeChecks(m *machine, s *scenario.Step, g *seen) (*Probe, []Check) {
	p := &Probe{OS: g.os.PrettyName, KernelRelease: g.os.KernelRelease, Source: g.tables.Source, Licence: g.licence}
	if p.OS == "" {
		p.OS = g.os.ID
	}
	sigs := make([]string, 0, len(g.tables.ACPI))
	for sig := range g.tables.ACPI {
		sigs = append(sigs, sig)
	}
	sort.Strings(sigs)
	set := firmware.NewSet("guest", firmware.SetBytes)
	for _, sig := range sigs {
		p.Tables = append(p.Tables, fmt.Sprintf("%s %d bytes", sig, len(g.tables.ACPI[sig])))
		set.AddBytes(sig, g.tables.ACPI[sig])
	}
	info, err := g.tables.SMBIOS()
	if info != nil {
		p.SMBIOS = len(info.Structures)
		p.Identity = info.IdentityValues()
	}
	p.Findings = append(p.Findings, activation.CheckTables(set, info, err, m.def.Edition)...)
	p.Findings.Sort()
	if g.exec != nil {
		p.Exec = &Exec{Command: s.Exec, ExitCode: g.exec.ExitCode, Signal: g.exec.Signal,
			Stdout: clipText(string(g.exec.Stdout), execOutputClip), Stderr: clipText(string(g.exec.Stderr), execOutputClip)}
	}
	checks := []Check{osSawTables(m.tables, m.vm, g.tables)}
	if s.Expect != nil {
		checks = append(checks, probeExpectations(s.Expect, p, g)...)
	}
	if g.exec != nil {
		checks = append(checks, execChecks(s, g.exec)...)
	}
	return p, checks
}

// osSawTables compares what the OS saw with what the machine was given: the markers byte for
// byte and every SMBIOS structure at its handle (except those OVMF writes itself).
func osSawTables(t *profile.Tables, vm profile.VM, seen *guestprobe.Tables) Check {
	given := guestprobe.Given{ACPI: map[string][]byte{}}
	for _, m := range t.Markers() {
		given.ACPI[m.Name] = m.Data
	}
	if t.SMBIOS != nil {
		given.SMBIOS = t.SMBIOS.QEMUStructures()
	}
	if vm.Firmware == "ovmf" {
		given.FirmwareTypes = []uint8{0} // OVMF writes its own BIOS information
	}
	got := "same"
	if mm := guestprobe.Compare(given, seen); len(mm) > 0 {
		parts := make([]string, len(mm))
		for i, x := range mm {
			parts[i] = x.String()
		}
		got = strings.Join(parts, "; ")
	}
	return check("the OS sees the synthesized tables", "same", got)
}

// probeExpectations checks a probe step's expect block.
func probeExpectations(e *scenario.Expect, p *Probe, g *seen) []Check {
	out := tableFindingChecks(e, p.Findings, "the tables the OS saw give")
	keys := make([]string, 0, len(e.Identity))
	for k := range e.Identity {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		got, ok := p.Identity[k]
		if !ok {
			got = "no SMBIOS"
		}
		out = append(out, check("SMBIOS "+k, e.Identity[k], got))
	}
	return append(out, windowsLicenceChecks(e, g)...)
}

// windowsLicenceChecks compares a Windows guest's licence with license_status, channel, partial_key and
// remaining_grace.
func windowsLicenceChecks(e *scenario.Expect, g *seen) []Check {
	type field struct {
		name, want string
		got        func(l *guestprobe.WindowsLicence) string
	}
	var fs []field
	if e.LicenseStatus != nil {
		fs = append(fs, field{"licence status", e.LicenseStatus.String(), func(l *guestprobe.WindowsLicence) string { return l.LicenseStatus.String() }})
	}
	if e.Channel != nil {
		fs = append(fs, field{"licence channel", *e.Channel, func(l *guestprobe.WindowsLicence) string { return orDash(l.Channel) }})
	}
	if e.PartialKey != nil {
		fs = append(fs, field{"partial product key", *e.PartialKey, func(l *guestprobe.WindowsLicence) string { return orDash(l.PartialKey) }})
	}
	if d := e.RemainingGrace; d != nil {
		if scenario.WholeDays(*d) {
			fs = append(fs, field{"remaining grace (days)", fmt.Sprint(int(d.Hours() / 24)), func(l *guestprobe.WindowsLicence) string { return intOrDash(l.RemainingGraceDays) }})
		} else {
			fs = append(fs, field{"remaining grace (minutes)", fmt.Sprint(int(d.Minutes())), func(l *guestprobe.WindowsLicence) string { return intOrDash(l.RemainingGraceMinutes) }})
		}
	}
	out := make([]Check, 0, len(fs))
	for _, f := range fs {
		got := fmt.Sprintf("no Windows licence: the guest runs %s", g.os.ID)
		if g.licence != nil {
			got = f.got(g.licence)
		}
		out = append(out, check(f.name, f.want, got))
	}
	return out
}

// execChecks checks the step's command: it exits 0, and its output matches exec_output.
func execChecks(s *scenario.Step, st *qga.ExecStatus) []Check {
	name := "exec " + strings.Join(s.Exec, " ")
	got := fmt.Sprintf("exit status %d", st.ExitCode)
	if st.Signal != 0 {
		got = fmt.Sprintf("killed by signal %d", st.Signal)
	}
	if st.ExitCode != 0 || st.Signal != 0 {
		if msg := strings.TrimSpace(string(st.Stderr)); msg != "" {
			got += ": " + clipText(msg, 200)
		}
	}
	out := []Check{check(name, "exit status 0", got)}
	if s.Expect != nil && s.Expect.ExecOutput != nil {
		re := s.Expect.ExecOutput
		out = append(out, Check{Name: name + ": output", Want: "matches " + re.String(), Got: clipText(strings.TrimRight(string(st.Stdout), "\n"), 200), OK: re.Match(st.Stdout)})
	}
	return out
}
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func intOrDash(n *int) string {
	if n == nil {
		return "-"
	}
	return fmt.Sprint(*n)
}

// clipText shortens what a guest printed for a report.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("... (%d bytes)", len(s))
}
