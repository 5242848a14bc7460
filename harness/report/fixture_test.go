package report

import (
	"fmt"
	"math"
	"time"

	"github.com/oemact/oemact/firmware/productkey"
	"github.com/oemact/oemact/harness/runner"
	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/licence"
)

// The fixture Run is what the runner reports for five scenarios of the default matrix, with the
// numbers of the activation model (30-day initial grace, 3-day out-of-tolerance grace, reminders
// daily at 09:00 logon until 3 days remain, every 4 hours for the next two days, hourly on the last
// day) and boot times measured on these machines (about 2 s under TCG):
//   - oem21-valid: passes (OEM:SLP survives a disk, NIC and memory swap);
//   - retail-hardware-change: OOBGrace -> Licensed -> OOTGrace -> Notification with reminders, and
//     one failed check (the scenario expected fewer reminders than the model shows);
//   - kms-threshold: a guest hang (an infrastructure error) and the steps after it skipped, and a
//     second machine that never booted;
//   - never-activated: OOBGrace, reminders, Notification, then a rearm back to OOBGrace;
//   - oa30-msdm: passes (OA 3.0 key from the MSDM).

// Start of every scenario's clock (scenario.DefaultStart) and of the run itself.
var (
	scenarioStart = time.Date(2009, 10, 22, 8, 0, 0, 0, time.UTC)
	runStart      = time.Date(2026, 3, 12, 10, 4, 31, 0, time.UTC)
)

type fixtureScenario struct {
	sc       *runner.Scenario
	machines map[string]*runner.Machine
	grace    map[string]float64 // machine -> day its current grace ends (0: none)
	status   map[string]licence.Status
	product  map[string]*licence.Product
	rearms   map[string]int
	keys     map[string]string // masked, as the licence model writes them in its messages
}

func newScenario(name, desc string) *fixtureScenario {
	return &fixtureScenario{
		sc:       &runner.Scenario{Name: name, File: "fixtures/scenarios/" + name + ".yaml", Description: desc, Outcome: runner.Passed},
		machines: map[string]*runner.Machine{}, grace: map[string]float64{}, status: map[string]licence.Status{},
		product: map[string]*licence.Product{}, rearms: map[string]int{}, keys: map[string]string{},
	}
}

func at(d float64) time.Time {
	return scenarioStart.Add(time.Duration(math.Round(d*86400)) * time.Second)
}

func (f *fixtureScenario) machine(name, profile, ed string, ch edition.Channel, keyLabel string) {
	m := &runner.Machine{Name: name, Profile: profile, Edition: ed, Channel: string(ch)}
	f.sc.Machines = append(f.sc.Machines, m)
	f.machines[name] = m
	f.keys[name] = productkey.Derive(keyLabel).Masked()
	f.status[name] = licence.Unlicensed
	f.product[name] = &licence.Product{Channel: ch, Edition: ed, PartialKey: productkey.Derive(keyLabel).LastFive()}
}

// step adds a step; boot steps get a Boot with the QEMU command line the harness would print.
func (f *fixtureScenario) step(line int, kind, machine, desc string, d float64, o runner.Outcome, dur time.Duration) *runner.Step {
	st := &runner.Step{Index: len(f.sc.Steps), Line: line, Kind: kind, Machine: machine, Description: desc,
		Outcome: o, Time: at(d), Day: d, Duration: dur}
	if machine != "" && kind != "change" && o != runner.Skipped {
		n := st.Index + 1
		dir := fmt.Sprintf("artifacts/%s/step-%d", f.sc.Name, n)
		st.Boot = &runner.Boot{
			Wall: dur - 80*time.Millisecond, Accel: "tcg", Outcome: "poweroff",
			Command: fmt.Sprintf("qemu-system-x86_64 -machine q35,accel=tcg -cpu max -m 256 -smp 2 -nographic -no-reboot "+
				"-kernel .cache/oemact/kernel/vmlinuz -initrd %[1]s/initrd.img -append 'console=ttyS0 panic=-1 quiet' "+
				"-acpitable file=%[1]s/SLIC.bin -smbios file=%[1]s/smbios-1.bin "+
				"-device virtio-net-pci,mac=52:54:00:12:34:56 -drive file=%[1]s/state.img,format=raw,if=virtio "+
				"-chardev socket,id=ch,path=%[1]s/channel.sock -device virtio-serial-pci -device virtserialport,chardev=ch,name=oemact.0", dir),
			SerialLog: dir + "/serial.log",
		}
	}
	f.sc.Steps = append(f.sc.Steps, st)
	return st
}

func (f *fixtureScenario) check(st *runner.Step, name, want, got string) {
	st.Checks = append(st.Checks, runner.Check{Name: name, Want: want, Got: got, OK: want == got})
	if want != got && st.Outcome == runner.Passed {
		st.Outcome = runner.Failed
		f.sc.Outcome = runner.Failed
	}
}

// graceSetting are the events the licence model logs with the grace's end (Event.Until).
var graceSetting = map[licence.EventKind]bool{
	licence.EventKeyInstalled: true, licence.EventRearm: true, licence.EventOutOfTolerance: true,
	licence.EventReminderLogon: true, licence.EventReminderPeriodic: true, licence.EventReminderHourly: true,
}

// event records a licence event of a machine in the step and, as the runner does, a point on the
// machine's timeline with the event's message. graceDays starts a grace of that many days at d.
func (f *fixtureScenario) event(st *runner.Step, machine string, d float64, kind licence.EventKind, to licence.Status, msg string, graceDays float64) {
	from := f.status[machine]
	if graceDays > 0 {
		f.grace[machine] = d + graceDays
	}
	if !to.Grace() {
		f.grace[machine] = 0
	}
	f.status[machine] = to
	e := licence.Event{Time: at(d), Kind: kind, From: from, To: to, Message: msg}
	left := 0.0
	if g := f.grace[machine]; g > 0 && graceSetting[kind] {
		e.Until = at(g)
		left = e.Until.Sub(e.Time).Hours() / 24
	}
	st.Events = append(st.Events, e)
	m := f.machines[machine]
	m.Timeline = append(m.Timeline, runner.TimelinePoint{Time: e.Time, Day: d, Status: to.String(),
		GraceRemaining: left, Event: msg, Reminder: kind.Reminder(), Step: st.Index})
}

// boot records the licence state the guest reported at the end of a boot step, and its point on
// the timeline.
func (f *fixtureScenario) boot(st *runner.Step, machine string) {
	s := f.status[machine]
	// The guest reports its state at the end of the boot, a boot's wall time after the step began.
	now := st.Time.Add(st.Duration)
	sn := &licence.Snapshot{Time: now, Status: s, LicenseStatus: int(s), Description: s.Description(),
		Product: f.product[machine], Rearms: f.rearms[machine], RearmsLeft: 3 - f.rearms[machine], Surfaces: licence.SurfacesFor(s)}
	if g := f.grace[machine]; g > 0 && s.Grace() {
		sn.GraceEnd = at(g)
		left := at(g).Sub(now)
		sn.GraceRemainingMinutes = int64(left / time.Minute)
		sn.GraceRemaining = fmt.Sprintf("%d days %d hours", int(left/(24*time.Hour)), int(left%(24*time.Hour)/time.Hour))
	}
	st.Snapshot = sn
	m := f.machines[machine]
	m.Timeline = append(m.Timeline, runner.TimelinePoint{Time: now, Day: now.Sub(scenarioStart).Hours() / 24, Status: s.String(),
		GraceRemaining: float64(sn.GraceRemainingMinutes) / (24 * 60), Event: "boot: " + st.Description, Step: st.Index})
}

// reminders adds the reminders a grace shows between two days: at the 09:00 logon while more than
// 3 days remain, every 4 hours on the hour for the next two days, every hour on the last day; in
// Notification a dialog at each logon.
func (f *fixtureScenario) reminders(st *runner.Step, machine string, from, to float64) int {
	n := 0
	for h := math.Floor(from*24) + 1; h <= to*24; h++ {
		d := h / 24
		hour := int(math.Mod(h+8, 24)) // the clock starts at 08:00
		end := f.grace[machine]
		switch {
		case f.status[machine] == licence.Notification:
			if hour == 9 {
				f.event(st, machine, d, licence.EventNotificationLogon, licence.Notification, "This copy of Windows is not genuine", 0)
				n++
			}
		case end == 0 || d >= end:
		case end-d > 3:
			if hour == 9 {
				f.event(st, machine, d, licence.EventReminderLogon, f.status[machine], fmt.Sprintf("Activate Windows now: %d days left", int(end-d)), 0)
				n++
			}
		case end-d > 1:
			if hour%4 == 0 {
				f.event(st, machine, d, licence.EventReminderPeriodic, f.status[machine], fmt.Sprintf("Activate Windows now: %.0f hours left", (end-d)*24), 0)
				n++
			}
		default:
			f.event(st, machine, d, licence.EventReminderHourly, f.status[machine], fmt.Sprintf("Activate Windows now: %.0f hours left", (end-d)*24), 0)
			n++
		}
	}
	return n
}

func (f *fixtureScenario) finish(d time.Duration) *runner.Scenario {
	f.sc.Duration = d
	return f.sc
}

func fixtureRun() *runner.Run {
	const s = time.Second
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	r := &runner.Run{Started: runStart, Accel: "tcg (the KVM canary boot did not finish within 10s)", Jobs: 2}

	// oem21-valid
	f := newScenario("oem21-valid", "An OEM:SLP Windows 7 Professional on a TSTOEM board with a valid SLIC 2.1 stays activated across a disk, NIC and memory swap.")
	f.machine("pc", "tstoem-desktop", "win7-professional", edition.OEMSLP, "oem-slp/TSTOEM/win7-professional")
	st := f.step(12, "boot", "pc", "boot pc", 0, runner.Passed, ms(2140))
	f.event(st, "pc", 0, licence.EventKeyInstalled, licence.OOBGrace, "Product key installed (channel OEM:SLP, key "+f.keys["pc"]+"): 30 days of initial grace", 30)
	f.event(st, "pc", 0, licence.EventOEMActivated, licence.Licensed, "activated offline by the OEM marker TSTOEM/TSTBOARD (SLIC 2.1)", 0)
	f.boot(st, "pc")
	st.OA = "OA 2.1: valid"
	f.check(st, "status", "Licensed", "Licensed")
	f.check(st, "oa", "valid", "valid")
	f.check(st, "no findings slic-signature", "absent", "absent")
	f.step(16, "change", "pc", "change pc: NIC 52:54:00:12:34:99, disk TST-DISK-2, memory 2048 MB", 0, runner.Passed, ms(3))
	f.step(22, "advance", "", "advance 10d", 10, runner.Passed, ms(1))
	st = f.step(23, "boot", "pc", "boot pc", 10, runner.Passed, ms(2310))
	f.event(st, "pc", 10, licence.EventHardwareChanged, licence.Licensed, "disk, NIC and memory changed; still on the board it was activated on", 0)
	f.boot(st, "pc")
	st.OA = "OA 2.1: valid"
	f.check(st, "status", "Licensed", "Licensed")
	f.check(st, "hardware in tolerance", "true", "true")
	f.check(st, "hardware changed", "disk, memory, nic", "disk, memory, nic")
	r.Scenarios = append(r.Scenarios, f.finish(ms(4630)))

	// retail-hardware-change
	f = newScenario("retail-hardware-change", "A retail Windows 7 Ultimate activated online loses tolerance after a NIC, disk and CPU change, and its 3-day grace runs out into Notification.")
	f.machine("pc", "tstoem-desktop", "win7-ultimate", edition.Retail, "retail/win7-ultimate")
	st = f.step(10, "boot", "pc", "boot pc", 0, runner.Passed, ms(2080))
	f.event(st, "pc", 0, licence.EventKeyInstalled, licence.OOBGrace, "Product key installed (channel Retail, key "+f.keys["pc"]+"): 30 days of initial grace", 30)
	f.boot(st, "pc")
	f.check(st, "status", "OOBGrace", "OOBGrace")
	f.check(st, "grace_days", "29", "29")
	f.step(14, "advance", "", "advance 2d", 2, runner.Passed, ms(1))
	st = f.step(15, "activate", "pc", "activate pc (online)", 2, runner.Passed, ms(2450))
	f.reminders(st, "pc", 0, 2)
	f.event(st, "pc", 2, licence.EventActivated, licence.Licensed, "activated online", 0)
	f.boot(st, "pc")
	st.Activation = &runner.Activation{Method: "online", Result: "success", Message: "activated; the key's hardware binding was recorded"}
	f.check(st, "activation", "success", "success")
	f.check(st, "status", "Licensed", "Licensed")
	f.step(19, "change", "pc", "change pc: NIC 52:54:00:aa:bb:01, disk TST-NEW-DISK, 4 CPUs", 2, runner.Passed, ms(2))
	f.step(24, "advance", "", "advance 8d", 10, runner.Passed, ms(1))
	st = f.step(25, "boot", "pc", "boot pc", 10, runner.Passed, ms(2390))
	f.event(st, "pc", 10, licence.EventOutOfTolerance, licence.OOTGrace, "hardware out of tolerance: 5 of 10 votes lost (NIC 3, disk 1, CPU 1); activate within 3 days", 3)
	f.boot(st, "pc")
	f.check(st, "status", "OOTGrace", "OOTGrace")
	f.check(st, "hardware in tolerance", "false", "false")
	f.check(st, "hardware lost votes", "5", "5")
	f.check(st, "grace_days", "2", "2")
	f.step(32, "advance", "", "advance 2d", 12, runner.Passed, ms(1))
	st = f.step(33, "boot", "pc", "boot pc", 12, runner.Passed, ms(2270))
	n := f.reminders(st, "pc", 10, 12)
	f.boot(st, "pc")
	f.check(st, "status", "OOTGrace", "OOTGrace")
	f.check(st, "reminders", "6", fmt.Sprint(n))
	st.Notes = append(st.Notes, "reminders since step 6: 11 every 4 hours, then hourly from day 12 (the last day of a grace)")
	f.step(38, "advance", "", "advance 2d", 14, runner.Passed, ms(1))
	st = f.step(39, "boot", "pc", "boot pc", 14, runner.Passed, ms(2330))
	f.reminders(st, "pc", 12, 13)
	f.event(st, "pc", 13, licence.EventGraceExpired, licence.Notification, "the out-of-tolerance grace ran out", 0)
	f.reminders(st, "pc", 13, 14)
	f.boot(st, "pc")
	f.check(st, "status", "Notification", "Notification")
	f.check(st, "surfaces", "logon-dialog, tray-notice, black-desktop, app-reminder", "logon-dialog, tray-notice, black-desktop, app-reminder")
	r.Scenarios = append(r.Scenarios, f.finish(ms(11590)))

	// kms-threshold
	f = newScenario("kms-threshold", "Windows 7 Enterprise KMS clients activate only once the host has seen 25 machines.")
	f.machine("kms-1", "tstoem-desktop", "win7-enterprise", edition.VolumeGVLK, "gvlk/win7-enterprise")
	f.machine("kms-2", "tstoem-desktop", "win7-enterprise", edition.VolumeGVLK, "gvlk/win7-enterprise")
	f.step(14, "kms_clients", "", "20 simulated KMS clients (win7-enterprise)", 0, runner.Passed, ms(4))
	st = f.step(16, "boot", "kms-1", "boot kms-1", 0, runner.Passed, ms(2520))
	f.event(st, "kms-1", 0, licence.EventKeyInstalled, licence.OOBGrace, "Product key installed (channel Volume:GVLK, key "+f.keys["kms-1"]+"): 30 days of initial grace", 30)
	f.event(st, "kms-1", 0, licence.EventKMSFailed, licence.OOBGrace, "the KMS host counts 21 machines; Windows 7 needs 25 (0xC004F038)", 0)
	f.boot(st, "kms-1")
	f.check(st, "status", "OOBGrace", "OOBGrace")
	st = f.step(19, "check", "", "check the service", 0, runner.Passed, ms(2))
	f.check(st, "kms_count", "21", "21")
	f.step(22, "kms_clients", "", "4 simulated KMS clients (win7-enterprise)", 0, runner.Passed, ms(3))
	st = f.step(24, "activate", "kms-1", "activate kms-1 (online)", 0, runner.Error, 60*s+ms(40))
	st.Error = "qemu: the guest did not power off within 60s and was killed (timeout); last serial line: \"virtio_blk virtio1: [vda] 2048 512-byte logical blocks (1.05 MB/1.00 MiB)\""
	st.Boot.Outcome = "timeout"
	st.Boot.Wall = 60*s + ms(10)
	f.step(28, "boot", "kms-2", "boot kms-2", 0, runner.Skipped, 0)
	f.step(31, "check", "", "check the service", 0, runner.Skipped, 0)
	f.sc.Outcome = runner.Error
	f.sc.Error = "step 5: qemu: the guest did not power off within 60s and was killed (timeout)"
	f.sc.Artifacts = "artifacts/kms-threshold"
	r.Scenarios = append(r.Scenarios, f.finish(62*s+ms(610)))

	// never-activated
	f = newScenario("never-activated", "An unactivated retail Windows 7 Home Premium shows reminders, runs out of grace into Notification, and a rearm gives it 30 more days.")
	f.machine("pc", "tstoem-desktop", "win7-homepremium", edition.Retail, "retail/win7-homepremium")
	st = f.step(9, "boot", "pc", "boot pc", 0, runner.Passed, ms(2050))
	f.event(st, "pc", 0, licence.EventKeyInstalled, licence.OOBGrace, "Product key installed (channel Retail, key "+f.keys["pc"]+"): 30 days of initial grace", 30)
	f.boot(st, "pc")
	f.check(st, "status", "OOBGrace", "OOBGrace")
	f.step(13, "advance", "", "advance 26d", 26, runner.Passed, ms(1))
	st = f.step(14, "boot", "pc", "boot pc", 26, runner.Passed, ms(2120))
	n = f.reminders(st, "pc", 0, 26)
	f.boot(st, "pc")
	f.check(st, "status", "OOBGrace", "OOBGrace")
	f.check(st, "grace_days", "4", "4")
	f.check(st, "reminders", "26", fmt.Sprint(n))
	f.step(19, "advance", "", "advance 3d", 29, runner.Passed, ms(1))
	st = f.step(20, "boot", "pc", "boot pc", 29, runner.Passed, ms(2200))
	n = f.reminders(st, "pc", 26, 29)
	f.boot(st, "pc")
	f.check(st, "grace_days", "1", "1")
	f.check(st, "reminders", "14", fmt.Sprint(n))
	f.step(25, "advance", "", "advance 2d", 31, runner.Passed, ms(1))
	st = f.step(26, "boot", "pc", "boot pc", 31, runner.Passed, ms(2180))
	f.reminders(st, "pc", 29, 30)
	f.event(st, "pc", 30, licence.EventGraceExpired, licence.Notification, "the initial grace ran out", 0)
	f.reminders(st, "pc", 30, 31)
	f.boot(st, "pc")
	f.check(st, "status", "Notification", "Notification")
	st = f.step(31, "rearm", "pc", "rearm pc", 31, runner.Passed, ms(2240))
	f.rearms["pc"]++
	f.event(st, "pc", 31, licence.EventRearm, licence.OOBGrace, "rearmed: 30 days of grace, 2 rearms left", 30)
	f.boot(st, "pc")
	f.check(st, "status", "OOBGrace", "OOBGrace")
	f.check(st, "rearms", "1", "1")
	f.check(st, "grace_days", "29", "29")
	r.Scenarios = append(r.Scenarios, f.finish(ms(10840)))

	// oa30-msdm
	f = newScenario("oa30-msdm", "A Windows 8 Pro key in the MSDM table activates against the hardware hash.")
	f.machine("tablet", "tstoem-oa3", "win8-pro", edition.OEMDM, "oem-dm/win8-pro")
	st = f.step(8, "boot", "tablet", "boot tablet", 0, runner.Passed, ms(2190))
	f.event(st, "tablet", 0, licence.EventKeyInstalled, licence.OOBGrace, "Product key installed from the MSDM (channel OEM:DM, key "+f.keys["tablet"]+"): 30 days of initial grace", 30)
	f.boot(st, "tablet")
	st.OA = "OA 3.0: MSDM key for win8-pro"
	f.check(st, "status", "OOBGrace", "OOBGrace")
	st = f.step(11, "activate", "tablet", "activate tablet (online)", 0, runner.Passed, ms(2360))
	f.event(st, "tablet", 0.01, licence.EventActivated, licence.Licensed, "activated online; key bound to this hardware", 0)
	f.boot(st, "tablet")
	st.Activation = &runner.Activation{Method: "online", Result: "success"}
	f.check(st, "activation", "success", "success")
	f.check(st, "status", "Licensed", "Licensed")
	r.Scenarios = append(r.Scenarios, f.finish(ms(4590)))

	for _, sc := range r.Scenarios {
		for _, st := range sc.Steps {
			if st.Boot != nil {
				r.Boots++
			}
		}
	}
	r.Duration = 81*s + ms(370) // -j 2: the longest chain of scenarios, not their sum
	return r
}
