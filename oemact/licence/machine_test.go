package licence

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/hwid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2009, 10, 22, 8, 0, 0, 0, time.UTC)

func product(ch edition.Channel, ed string) Product {
	p := Product{Channel: ch, Edition: ed, PartialKey: "7QW3D"}
	if ch == edition.OEMSLP {
		p.OEMID = "TSTOEM"
	}
	return p
}

var (
	retailPro = product(edition.Retail, "win7-professional")
	slpPro    = product(edition.OEMSLP, "win7-professional")
	gvlkPro   = product(edition.VolumeGVLK, "win7-professional")
	gvlkSrv   = product(edition.VolumeGVLK, "server2008r2-standard")
)

// machine returns a machine with the key installed at t0 and its clock.
func machine(t *testing.T, p Product, tweak ...func(*Config)) (*Machine, *ManualClock) {
	t.Helper()
	cfg := DefaultConfig()
	for _, f := range tweak {
		f(&cfg)
	}
	clk := NewManualClock(t0)
	m, err := New(cfg, clk)
	require.NoError(t, err)
	require.NoError(t, m.InstallKey(p))
	return m, clk
}

// baseHardware is the test machine: one component of each class.
var baseHardware = []struct {
	class hwid.Class
	value string
}{
	{hwid.NIC, "52:54:00:12:34:56"},
	{hwid.Disk, "OEMACT-TEST-DISK-0001"},
	{hwid.Memory, hwid.MemoryRange(4 << 20)},
	{hwid.CPU, "QEMU Virtual CPU version 2.5+ x2"},
	{hwid.Display, "1234:1111"},
	{hwid.StorageController, "1af4:1001"},
	{hwid.System, "TSTOEM TSTMODEL 4c4c4544-0000-1000-8000-000000000001"},
	{hwid.Board, "TSTOEM TSTBOARD BSN-0001"},
	{hwid.BIOS, "TSTOEM BIOS 1.0"},
}

// hardware returns the test machine's inventory with the given classes replaced (a class listed
// twice is replaced twice).
func hardware(replaced ...hwid.Class) *hwid.Inventory {
	gen := map[hwid.Class]int{}
	for _, c := range replaced {
		gen[c]++
	}
	inv := &hwid.Inventory{}
	for _, b := range baseHardware {
		v := b.value
		if gen[b.class] > 0 {
			v = fmt.Sprintf("%s new %d", v, gen[b.class])
		}
		inv.Add(b.class, v)
	}
	return inv
}

func validMarker() *Firmware {
	return &Firmware{WindowsMarker: true, Marker: "TSTOEM/TSTBOARD/2.1", OAValid: true}
}

func kinds(events []Event) []EventKind {
	out := make([]EventKind, len(events))
	for i, e := range events {
		out[i] = e.Kind
	}
	return out
}

func lastEvent(m *Machine) Event {
	ev := m.Events()
	if len(ev) == 0 {
		return Event{}
	}
	return ev[len(ev)-1]
}

func TestStatusNumbers(t *testing.T) {
	// SoftwareLicensingProduct.LicenseStatus values, DESIGN.md.
	want := map[Status]string{0: "Unlicensed", 1: "Licensed", 2: "OOBGrace", 3: "OOTGrace", 4: "NonGenuineGrace", 5: "Notification", 6: "ExtendedGrace"}
	for s, name := range want {
		assert.Equal(t, name, s.String())
		got, err := ParseStatus(name)
		require.NoError(t, err)
		assert.Equal(t, s, got)
		got, err = ParseStatus(fmt.Sprint(int(s)))
		require.NoError(t, err)
		assert.Equal(t, s, got)
		b, err := json.Marshal(s)
		require.NoError(t, err)
		var back Status
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, s, back)
	}
	assert.Len(t, Statuses(), 7)
	_, err := ParseStatus("Activated")
	assert.Error(t, err)
	_, err = json.Marshal(Status(9))
	assert.Error(t, err)
	assert.Equal(t, "Additional grace period (KMS license expired or hardware out of tolerance)", OOTGrace.Description())
}

func TestNewMachineIsUnlicensed(t *testing.T) {
	m, err := New(DefaultConfig(), NewManualClock(t0))
	require.NoError(t, err)
	assert.Equal(t, Unlicensed, m.Snapshot().Status)
	assert.Equal(t, 0, m.Snapshot().LicenseStatus)
	var re *RefusedError
	assert.ErrorAs(t, m.Rearm(), &re)
	assert.ErrorAs(t, m.Activate(ActivationResult{Outcome: Succeeded}), &re)
	_, err = New(DefaultConfig(), nil)
	assert.Error(t, err)
}

func TestInitialGraceIs30Days(t *testing.T) {
	m, clk := machine(t, retailPro)
	s := m.Snapshot()
	assert.Equal(t, OOBGrace, s.Status)
	assert.Equal(t, int64(30*24*60), s.GraceRemainingMinutes)
	assert.Equal(t, t0.Add(30*Day), s.GraceEnd)
	assert.Empty(t, s.Surfaces)

	clk.Set(t0.Add(30*Day - time.Minute))
	s = m.Snapshot()
	assert.Equal(t, OOBGrace, s.Status)
	assert.Equal(t, int64(1), s.GraceRemainingMinutes)

	clk.Set(t0.Add(30 * Day))
	s = m.Snapshot()
	assert.Equal(t, Notification, s.Status)
	assert.Equal(t, 5, s.LicenseStatus)
	ev := lastEvent(m)
	assert.Equal(t, EventGraceExpired, ev.Kind)
	assert.Equal(t, t0.Add(30*Day), ev.Time, "the grace ends at its exact time, however far the clock jumped")
}

func TestNotificationSurfaces(t *testing.T) {
	m, clk := machine(t, retailPro)
	clk.Set(t0.Add(40 * Day))
	s := m.Snapshot()
	require.Equal(t, Notification, s.Status)
	// DESIGN.md: a dialog at logon, a notice above the notification area, a black desktop with a
	// persistent notice, reminders when certain applications open.
	assert.Equal(t, []Surface{SurfaceLogonDialog, SurfaceTrayNotice, SurfaceBlackDesktop, SurfaceAppReminder}, s.Surfaces)
	m.Drain()
	m.Logon()
	m.Logon()
	m.OpenApplication("Windows Update")
	assert.Equal(t, []EventKind{EventNotificationLogon, EventNotificationLogon, EventNotificationApp}, kinds(m.Drain()))
	for _, st := range Statuses() {
		if st != Notification {
			assert.Empty(t, SurfacesFor(st), st.String())
		}
	}
	// Outside Notification, opening an application shows nothing.
	m2, _ := machine(t, retailPro)
	m2.Drain()
	m2.OpenApplication("Windows Update")
	assert.Empty(t, m2.Drain())
}

func TestRearm(t *testing.T) {
	tests := []struct {
		name    string
		tweak   func(*Config)
		at      []time.Duration // when each rearm happens, from t0
		refused []bool
		final   Status
	}{
		{"three rearms in grace, the fourth refused", nil,
			[]time.Duration{10 * Day, 20 * Day, 30 * Day, 40 * Day}, []bool{false, false, false, true}, OOBGrace},
		{"rearm lifts Notification by default", nil,
			[]time.Duration{31 * Day}, []bool{false}, OOBGrace},
		{"rearm in Notification refused when configured", func(c *Config) { c.RearmInNotification = false },
			[]time.Duration{31 * Day}, []bool{true}, Notification},
		{"max_rearms 0", func(c *Config) { c.MaxRearms = 0 },
			[]time.Duration{Day}, []bool{true}, OOBGrace},
		{"each rearm gives a full 30 days", nil,
			[]time.Duration{29 * Day, 58 * Day, 87 * Day}, []bool{false, false, false}, OOBGrace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tweaks []func(*Config)
			if tt.tweak != nil {
				tweaks = append(tweaks, tt.tweak)
			}
			m, clk := machine(t, retailPro, tweaks...)
			used := 0
			for i, at := range tt.at {
				clk.Set(t0.Add(at))
				before := m.Snapshot()
				err := m.Rearm()
				if tt.refused[i] {
					var re *RefusedError
					require.ErrorAs(t, err, &re, "rearm %d", i+1)
					assert.Equal(t, EventRefused, lastEvent(m).Kind)
					assert.Equal(t, before.Status, m.Status())
					assert.Equal(t, before.GraceEnd, m.Snapshot().GraceEnd, "a refused rearm changes nothing")
					continue
				}
				require.NoError(t, err, "rearm %d", i+1)
				used++
				s := m.Snapshot()
				assert.Equal(t, OOBGrace, s.Status)
				assert.Equal(t, t0.Add(at).Add(30*Day), s.GraceEnd, "rearm %d restarts the 30 days", i+1)
				assert.Equal(t, used, s.Rearms)
				assert.Equal(t, m.Config().MaxRearms-used, s.RearmsLeft)
			}
			assert.Equal(t, tt.final, m.Status())
		})
	}
}

func TestRearmLimitMessage(t *testing.T) {
	m, _ := machine(t, retailPro)
	for i := 0; i < 3; i++ {
		require.NoError(t, m.Rearm())
	}
	err := m.Rearm()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "all 3 rearms are used")
	assert.Equal(t, 3, m.Snapshot().Rearms)
	assert.Equal(t, 0, m.Snapshot().RearmsLeft)
}

func TestRearmDropsActivation(t *testing.T) {
	m, clk := machine(t, retailPro)
	m.Boot(Boot{Inventory: hardware()})
	require.NoError(t, m.Activate(ActivationResult{Outcome: Succeeded}))
	clk.Set(t0.Add(5 * Day))
	require.NoError(t, m.Rearm())
	s := m.Snapshot()
	assert.Equal(t, OOBGrace, s.Status)
	assert.Equal(t, t0.Add(35*Day), s.GraceEnd)
	assert.True(t, s.ActivatedAt.IsZero())
}

// activated returns a machine of the channel, activated at t0 on hardware().
func activated(t *testing.T, p Product, tweak ...func(*Config)) (*Machine, *ManualClock) {
	t.Helper()
	m, clk := machine(t, p, tweak...)
	m.Boot(Boot{Inventory: hardware(), Firmware: validMarker()})
	switch ActivationPath(p.Channel) {
	case PathService:
		require.NoError(t, m.Activate(ActivationResult{Outcome: Succeeded}))
	case PathKMS:
		require.NoError(t, m.KMSResponse(KMSAnswer{Reached: true, Count: 50, Activated: true}))
	}
	require.Equal(t, Licensed, m.Status(), "%v", m.Events())
	return m, clk
}

func TestHardwareTolerance(t *testing.T) {
	C := func(c ...hwid.Class) []hwid.Class { return c }
	tests := []struct {
		name     string
		p        Product
		boots    [][]hwid.Class // the hardware at each boot, as replacements since activation
		dockable bool
		want     Status
		lost     int // votes lost at the last boot
	}{
		{"retail: NIC alone costs 3 of 10 votes, 7 still match", retailPro, [][]hwid.Class{C(hwid.NIC)}, false, Licensed, 3},
		{"retail: NIC then disk, the 4th vote lost", retailPro, [][]hwid.Class{C(hwid.NIC), C(hwid.NIC, hwid.Disk)}, false, OOTGrace, 4},
		{"retail: NIC and disk at once", retailPro, [][]hwid.Class{C(hwid.NIC, hwid.Disk)}, false, OOTGrace, 4},
		{"retail: three single votes", retailPro, [][]hwid.Class{C(hwid.Disk, hwid.Memory, hwid.CPU)}, false, Licensed, 3},
		{"retail: four single votes", retailPro, [][]hwid.Class{C(hwid.Disk, hwid.Memory, hwid.CPU, hwid.Display)}, false, OOTGrace, 4},
		{"retail: changes accumulate across boots", retailPro, [][]hwid.Class{C(hwid.Disk), C(hwid.Disk, hwid.Memory), C(hwid.Disk, hwid.Memory, hwid.CPU), C(hwid.Disk, hwid.Memory, hwid.CPU, hwid.BIOS)}, false, OOTGrace, 4},
		{"retail: board and TPM carry no votes", retailPro, [][]hwid.Class{C(hwid.Board, hwid.TPM)}, false, Licensed, 0},
		{"retail dockable: 6 votes may go", retailPro, [][]hwid.Class{C(hwid.NIC, hwid.Disk, hwid.Memory, hwid.CPU)}, true, Licensed, 6},
		{"retail dockable: the 7th vote lost", retailPro, [][]hwid.Class{C(hwid.NIC, hwid.Disk, hwid.Memory, hwid.CPU, hwid.Display)}, true, OOTGrace, 7},
		{"OEM:COA follows the vote policy", product(edition.OEMCOA, "win7-homepremium"), [][]hwid.Class{C(hwid.NIC, hwid.Disk)}, false, OOTGrace, 4},
		{"OEM:DM follows the vote policy", product(edition.OEMDM, "win8-pro"), [][]hwid.Class{C(hwid.NIC, hwid.Disk)}, false, OOTGrace, 4},
		{"MAK follows the vote policy", product(edition.VolumeMAK, "win7-professional"), [][]hwid.Class{C(hwid.NIC, hwid.Disk)}, false, OOTGrace, 4},
		{"MAK: NIC alone in tolerance", product(edition.VolumeMAK, "win7-enterprise"), [][]hwid.Class{C(hwid.NIC)}, false, Licensed, 3},
		{"KMS: a disk swap alone is out of tolerance", gvlkPro, [][]hwid.Class{C(hwid.Disk)}, false, OOTGrace, 4},
		{"KMS: NIC, memory and CPU stay in tolerance", gvlkPro, [][]hwid.Class{C(hwid.NIC, hwid.Memory, hwid.CPU)}, false, Licensed, 3},
		{"OEM:SLP survives disk, NIC and memory", slpPro, [][]hwid.Class{C(hwid.Disk, hwid.NIC, hwid.Memory)}, false, Licensed, 0},
		{"OEM:SLP survives every component but the board", slpPro, [][]hwid.Class{C(hwid.Disk, hwid.NIC, hwid.Memory, hwid.CPU, hwid.Display, hwid.StorageController, hwid.System, hwid.BIOS)}, false, Licensed, 0},
		{"OEM:SLP fails on a new board", slpPro, [][]hwid.Class{C(hwid.Board)}, false, OOTGrace, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, clk := activated(t, tt.p)
			for i, b := range tt.boots {
				clk.Add(Day)
				inv := hardware(b...)
				inv.Dockable = tt.dockable
				m.Boot(Boot{Inventory: inv, Firmware: validMarker()})
				if i < len(tt.boots)-1 {
					require.Equal(t, Licensed, m.Status(), "boot %d", i+1)
				}
			}
			s := m.Snapshot()
			assert.Equal(t, tt.want, s.Status, "%v", m.Events())
			if tt.lost > 0 || s.Hardware != nil {
				require.NotNil(t, s.Hardware)
				assert.Equal(t, tt.lost, s.Hardware.Lost)
			}
			if tt.want == OOTGrace {
				assert.Equal(t, clk.Now().Add(3*Day), s.GraceEnd, "out-of-tolerance grace is 3 days")
			}
		})
	}
}

func TestOOTGraceEndsInNotificationAndReactivationResets(t *testing.T) {
	m, clk := activated(t, retailPro)
	clk.Add(Day)
	m.Boot(Boot{Inventory: hardware(hwid.NIC, hwid.Disk)})
	require.Equal(t, OOTGrace, m.Status())
	ev := lastEvent(m)
	assert.Equal(t, EventOutOfTolerance, ev.Kind)
	assert.Contains(t, ev.Message, "6 of 10 votes match, 7 required")
	assert.Contains(t, ev.Message, "within 3 days")

	clk.Add(3*Day - time.Second)
	assert.Equal(t, OOTGrace, m.Snapshot().Status)
	clk.Add(time.Second)
	assert.Equal(t, Notification, m.Snapshot().Status)

	// Reactivation takes the current hardware as the new baseline.
	require.NoError(t, m.Activate(ActivationResult{Outcome: Succeeded, Method: "telephone"}))
	assert.Equal(t, Licensed, m.Status())
	clk.Add(Day)
	m.Boot(Boot{Inventory: hardware(hwid.NIC, hwid.Disk)})
	assert.Equal(t, Licensed, m.Status())
	assert.Equal(t, 0, m.Snapshot().Hardware.Lost, "the baseline moved at reactivation")
	m.Boot(Boot{Inventory: hardware(hwid.NIC, hwid.Disk, hwid.NIC)})
	assert.Equal(t, Licensed, m.Status(), "a NIC swap after reactivation costs 3 of the new 10 votes")
}

func TestHardwareBackInTolerance(t *testing.T) {
	m, clk := activated(t, retailPro)
	clk.Add(Day)
	m.Boot(Boot{Inventory: hardware(hwid.NIC, hwid.Disk)})
	require.Equal(t, OOTGrace, m.Status())
	clk.Add(Day)
	m.Boot(Boot{Inventory: hardware(hwid.NIC)})
	assert.Equal(t, Licensed, m.Status())
	assert.Equal(t, EventBackInTolerance, lastEvent(m).Kind)
	// A change within tolerance is noted once, not at every boot.
	m.Drain()
	m.Boot(Boot{Inventory: hardware(hwid.NIC)})
	m.Boot(Boot{Inventory: hardware(hwid.NIC)})
	assert.Len(t, m.Drain(), 0)
	m.Boot(Boot{Inventory: hardware(hwid.Memory)})
	assert.Equal(t, []EventKind{EventHardwareChanged}, kinds(m.Drain()))
}

func TestOEMSLP(t *testing.T) {
	other := &Firmware{WindowsMarker: true, Marker: "OTHOEM/OTHBOARD/2.1", Reasons: []string{"the OEM certificate's key does not match the SLIC key"}}
	none := &Firmware{Reasons: []string{"no SLIC table"}}
	v20 := &Firmware{WindowsMarker: true, Marker: "TSTOEM/TSTBOARD/2.0", Reasons: []string{"SLIC version 2.0 is below 2.1"}}
	sameButNewKey := &Firmware{WindowsMarker: true, Marker: "TSTOEM/TSTBOARD/2.1/otherkey", OAValid: true}
	tests := []struct {
		name string
		fw   *Firmware
		hw   []hwid.Class
		want Status
		kind EventKind
	}{
		{"same marker, disk NIC memory swapped", validMarker(), []hwid.Class{hwid.Disk, hwid.NIC, hwid.Memory}, Licensed, EventHardwareChanged},
		{"another OEM's marker", other, nil, OOTGrace, EventOEMLost},
		{"marker removed", none, nil, OOTGrace, EventOEMLost},
		{"marker downgraded to 2.0", v20, nil, OOTGrace, EventOEMLost},
		{"a different marker that also validates", sameButNewKey, nil, OOTGrace, EventOEMLost},
		{"same marker on a new board", validMarker(), []hwid.Class{hwid.Board}, OOTGrace, EventOEMLost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, clk := machine(t, slpPro)
			m.Boot(Boot{Inventory: hardware(), Firmware: validMarker()})
			require.Equal(t, Licensed, m.Status())
			assert.Equal(t, EventOEMActivated, lastEvent(m).Kind)
			assert.Equal(t, "TSTOEM/TSTBOARD/2.1", m.Snapshot().BaselineMarker)
			clk.Add(Day)
			m.Boot(Boot{Inventory: hardware(tt.hw...), Firmware: tt.fw})
			assert.Equal(t, tt.want, m.Status())
			assert.Equal(t, tt.kind, lastEvent(m).Kind, "%v", m.Events())
			if tt.want == OOTGrace {
				// Putting the original firmware and board back restores the OEM activation.
				clk.Add(time.Hour)
				m.Boot(Boot{Inventory: hardware(), Firmware: validMarker()})
				assert.Equal(t, Licensed, m.Status())
				assert.Equal(t, EventOEMRestored, lastEvent(m).Kind)
			}
		})
	}
}

func TestOEMSLPLostGoesToConfiguredStatusAndNotification(t *testing.T) {
	m, clk := machine(t, slpPro)
	m.Boot(Boot{Inventory: hardware(), Firmware: validMarker()})
	clk.Add(Day)
	m.Boot(Boot{Firmware: &Firmware{Reasons: []string{"no SLIC table"}}})
	require.Equal(t, OOTGrace, m.Status())
	assert.Contains(t, lastEvent(m).Message, "no SLIC table")
	clk.Add(3 * Day)
	assert.Equal(t, Notification, m.Snapshot().Status)

	m2, clk2 := machine(t, slpPro, func(c *Config) { c.OEMLostStatus = Notification })
	m2.Boot(Boot{Inventory: hardware(), Firmware: validMarker()})
	clk2.Add(Day)
	m2.Boot(Boot{Firmware: &Firmware{}})
	assert.Equal(t, Notification, m2.Status())
}

func TestOEMSLPNeverActivatesOnBadFirmware(t *testing.T) {
	m, _ := machine(t, slpPro)
	fw := &Firmware{WindowsMarker: true, Marker: "TSTOEM/TSTBOARD/2.0", Reasons: []string{"SLIC version 2.0 is below the 2.1 that Windows 7 requires"}}
	m.Boot(Boot{Inventory: hardware(), Firmware: fw})
	m.Boot(Boot{Inventory: hardware(), Firmware: fw})
	assert.Equal(t, OOBGrace, m.Status())
	ev := m.Events()
	require.Len(t, ev, 2, "the failure is logged once: %v", ev)
	assert.Equal(t, EventOEMNotActivated, ev[1].Kind)
	assert.Contains(t, ev[1].Message, "2.0 is below the 2.1")
}

func TestActivationPathsRefuseTheWrongInput(t *testing.T) {
	var re *RefusedError
	m, _ := machine(t, slpPro)
	require.ErrorAs(t, m.Activate(ActivationResult{Outcome: Succeeded}), &re)
	assert.Contains(t, re.Reason, "offline from the firmware marker")
	require.ErrorAs(t, m.KMSResponse(KMSAnswer{Reached: true, Count: 50, Activated: true}), &re)
	assert.Equal(t, OOBGrace, m.Status())

	k, _ := machine(t, gvlkPro)
	require.ErrorAs(t, k.Activate(ActivationResult{Outcome: Succeeded}), &re)
	assert.Contains(t, re.Reason, "KMS host")
	assert.Equal(t, OOBGrace, k.Status())

	assert.Equal(t, PathService, ActivationPath(edition.Retail))
	assert.Equal(t, PathService, ActivationPath(edition.OEMCOA))
	assert.Equal(t, PathService, ActivationPath(edition.OEMDM))
	assert.Equal(t, PathService, ActivationPath(edition.VolumeMAK))
	assert.Equal(t, PathFirmware, ActivationPath(edition.OEMSLP))
	assert.Equal(t, PathKMS, ActivationPath(edition.VolumeGVLK))
}

func TestActivationFailureKeepsStatus(t *testing.T) {
	m, _ := machine(t, retailPro)
	require.NoError(t, m.Activate(ActivationResult{Outcome: Failed, Code: "0xC004C003", Message: "the key is not valid"}))
	assert.Equal(t, OOBGrace, m.Status())
	ev := lastEvent(m)
	assert.Equal(t, EventActivationFailed, ev.Kind)
	assert.Equal(t, "0xC004C003", ev.Code)
	assert.Contains(t, ev.Message, "the key is not valid")
	assert.Error(t, m.Activate(ActivationResult{Outcome: "maybe"}))
}

func TestNonGenuineGrace(t *testing.T) {
	m, clk := machine(t, retailPro)
	clk.Set(t0.Add(2 * Day))
	require.NoError(t, m.Activate(ActivationResult{Outcome: Blocked, Code: "key-blocked"}))
	s := m.Snapshot()
	assert.Equal(t, NonGenuineGrace, s.Status)
	assert.Equal(t, 4, s.LicenseStatus)
	assert.Equal(t, t0.Add(32*Day), s.GraceEnd, "non-genuine grace is 30 days (model default)")
	var re *RefusedError
	assert.ErrorAs(t, m.Rearm(), &re, "a blocked key cannot be rearmed away")

	// A new key resumes the out-of-box grace that was left.
	clk.Set(t0.Add(10 * Day))
	require.NoError(t, m.InstallKey(product(edition.Retail, "win7-professional")))
	s = m.Snapshot()
	assert.Equal(t, OOBGrace, s.Status)
	assert.Equal(t, t0.Add(30*Day), s.GraceEnd)

	// Left alone, non-genuine grace ends in Notification.
	m2, clk2 := machine(t, retailPro)
	require.NoError(t, m2.Activate(ActivationResult{Outcome: Blocked}))
	clk2.Set(t0.Add(30 * Day))
	assert.Equal(t, Notification, m2.Snapshot().Status)
	assert.Equal(t, ReasonNonGenuine, m2.Snapshot().Reason)
	assert.ErrorAs(t, m2.Rearm(), &re)
	// And a new key after the out-of-box grace is over lands in Notification until activated.
	require.NoError(t, m2.InstallKey(retailPro))
	assert.Equal(t, Notification, m2.Status())
	require.NoError(t, m2.Activate(ActivationResult{Outcome: Succeeded}))
	assert.Equal(t, Licensed, m2.Status())
}

func TestInstallKeyChecks(t *testing.T) {
	m, _ := machine(t, retailPro)
	var re *RefusedError
	assert.ErrorAs(t, m.InstallKey(product(edition.Retail, "win7-ultimate")), &re, "no edition change")
	assert.ErrorAs(t, m.InstallKey(product(edition.VolumeGVLK, "win7-homepremium")), &re, "Home Premium has no volume channel")
	assert.ErrorAs(t, m.InstallKey(Product{Channel: edition.Retail, Edition: "win99"}), &re)
}

func TestClockGoingBackIsIgnored(t *testing.T) {
	m, clk := machine(t, retailPro)
	clk.Set(t0.Add(10 * Day))
	m.Advance()
	clk.Set(t0.Add(2 * Day))
	s := m.Snapshot()
	assert.Equal(t, t0.Add(10*Day), s.Time)
	assert.Equal(t, int64(20*24*60), s.GraceRemainingMinutes)
	assert.Equal(t, EventClockBack, lastEvent(m).Kind)
}

func TestKMS(t *testing.T) {
	tests := []struct {
		name   string
		p      Product
		fw     *Firmware
		count  int
		want   Status
		code   string
		attept bool
	}{
		{"Windows 7: 24 machines are not enough", gvlkPro, validMarker(), 24, OOBGrace, CodeKMSCountLow, true},
		{"Windows 7: 25 machines activate", gvlkPro, validMarker(), 25, Licensed, "", true},
		{"Windows 7 Enterprise: 25 machines activate", product(edition.VolumeGVLK, "win7-enterprise"), validMarker(), 25, Licensed, "", true},
		{"Server 2008 R2: 4 machines are not enough", gvlkSrv, validMarker(), 4, OOBGrace, CodeKMSCountLow, true},
		{"Server 2008 R2: 5 machines activate", gvlkSrv, validMarker(), 5, Licensed, "", true},
		{"Windows 7 without a Windows marker is refused KMS", gvlkPro, &Firmware{}, 50, OOBGrace, CodeNoWindowsMarker, true},
		{"Windows 7 with firmware never reported is refused KMS", gvlkPro, nil, 50, OOBGrace, CodeNoWindowsMarker, true},
		{"Server 2008 R2 needs no marker", gvlkSrv, &Firmware{}, 5, Licensed, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, clk := machine(t, tt.p)
			m.Boot(Boot{Inventory: hardware(), Firmware: tt.fw})
			due, ok := m.KMSAttemptDue()
			require.True(t, ok)
			assert.Equal(t, t0, due, "a KMS client tries at once")
			ed, _ := tt.p.EditionInfo()
			require.NoError(t, m.KMSResponse(KMSAnswerFor(ed, tt.count)))
			assert.Equal(t, tt.want, m.Status())
			due, _ = m.KMSAttemptDue()
			if tt.want == Licensed {
				assert.Equal(t, t0.Add(7*Day), due, "renewal every 7 days")
				assert.Equal(t, t0.Add(180*Day), m.Snapshot().KMSValidUntil, "valid 180 days")
				return
			}
			assert.Equal(t, t0.Add(2*time.Hour), due, "retry every 2 hours")
			ev := lastEvent(m)
			assert.Equal(t, EventKMSFailed, ev.Kind)
			assert.Equal(t, tt.code, ev.Code)
			// The same failure again is not logged again, but the retry moves on.
			clk.Set(due)
			n := len(m.Events())
			require.NoError(t, m.KMSResponse(KMSAnswerFor(ed, tt.count)))
			assert.Len(t, m.Events(), n)
			due, _ = m.KMSAttemptDue()
			assert.Equal(t, t0.Add(4*time.Hour), due)
		})
	}
}

func TestKMSRenewalAndExpiry(t *testing.T) {
	m, clk := activated(t, gvlkPro)
	// Renewals every 7 days push the validity out.
	for i := 1; i <= 30; i++ {
		due, _ := m.KMSAttemptDue()
		require.Equal(t, t0.Add(time.Duration(i)*7*Day), due, "renewal %d", i)
		clk.Set(due)
		require.NoError(t, m.KMSResponse(KMSAnswer{Reached: true, Count: 30, Activated: true}))
		assert.Equal(t, due.Add(180*Day), m.Snapshot().KMSValidUntil)
		assert.Equal(t, EventKMSRenewed, lastEvent(m).Kind)
	}
	renewedAt := clk.Now()
	// Then the host goes away: retries every 2 hours, and expiry 180 days after the last renewal.
	due, _ := m.KMSAttemptDue()
	attempts := 0
	for due.Before(renewedAt.Add(180 * Day)) {
		clk.Set(due)
		require.NoError(t, m.KMSResponse(KMSAnswer{Reached: false}))
		attempts++
		next, _ := m.KMSAttemptDue()
		require.Equal(t, due.Add(2*time.Hour), next)
		due = next
	}
	clk.Set(due)
	m.Advance()
	require.Equal(t, OOTGrace, m.Status(), "KMS expiry enters OOTGrace (model default)")
	ev := m.Events()
	var exp Event
	for _, e := range ev {
		if e.Kind == EventKMSExpired {
			exp = e
		}
	}
	assert.Equal(t, renewedAt.Add(180*Day), exp.Time, "expiry 180 days after the last renewal")
	assert.Equal(t, renewedAt.Add(210*Day), exp.Until, "30 days of grace")
	assert.Equal(t, int((180*Day-7*Day)/(2*time.Hour)), attempts, "one attempt every 2 hours from the missed renewal to expiry")
	// A host answering in the grace reactivates.
	clk.Set(renewedAt.Add(200 * Day))
	require.NoError(t, m.KMSResponse(KMSAnswer{Reached: true, Count: 30, Activated: true}))
	assert.Equal(t, Licensed, m.Status())
	assert.Equal(t, EventKMSActivated, lastEvent(m).Kind)

	// Without a host at all, the grace ends in Notification 210 days after the last renewal.
	m2, clk2 := activated(t, gvlkPro)
	clk2.Set(t0.Add(210*Day - time.Second))
	assert.Equal(t, OOTGrace, m2.Snapshot().Status)
	clk2.Set(t0.Add(210 * Day))
	assert.Equal(t, Notification, m2.Snapshot().Status)
	assert.Equal(t, ReasonKMSExpired, m2.Snapshot().Reason)

	// The expiry status is configurable.
	m3, clk3 := activated(t, gvlkPro, func(c *Config) { c.KMSExpiryStatus = ExtendedGrace })
	clk3.Set(t0.Add(181 * Day))
	assert.Equal(t, ExtendedGrace, m3.Snapshot().Status)
}

func TestKMSHostNumbersOverrideConfig(t *testing.T) {
	m, _ := machine(t, gvlkSrv)
	require.NoError(t, m.KMSResponse(KMSAnswer{Reached: true, Count: 5, Activated: true, Validity: 30 * Day, Renewal: Day}))
	due, _ := m.KMSAttemptDue()
	assert.Equal(t, t0.Add(Day), due)
	assert.Equal(t, t0.Add(30*Day), m.Snapshot().KMSValidUntil)
}

func TestKMSOutOfToleranceRetriesAtOnce(t *testing.T) {
	m, clk := activated(t, gvlkPro)
	clk.Add(Day)
	m.Boot(Boot{Inventory: hardware(hwid.Disk), Firmware: validMarker()})
	require.Equal(t, OOTGrace, m.Status())
	due, _ := m.KMSAttemptDue()
	assert.Equal(t, clk.Now(), due)
	require.NoError(t, m.KMSResponse(KMSAnswer{Reached: true, Count: 30, Activated: true}))
	assert.Equal(t, Licensed, m.Status())
	m.Boot(Boot{Inventory: hardware(hwid.Disk), Firmware: validMarker()})
	assert.Equal(t, Licensed, m.Status(), "reactivation moved the baseline")
}

func TestLoadErrors(t *testing.T) {
	clk := NewManualClock(t0)
	for _, tt := range []struct{ name, doc, want string }{
		{"not JSON", "{", "damaged"},
		{"wrong version", `{"version": 9}`, "layout version 9"},
		{"bad status", `{"version": 1, "status": 12}`, "unknown licence status"},
		{"bad config", `{"version": 1, "config": {"initial_grace": "-3d"}}`, "initial_grace"},
		{"unknown config field", `{"version": 1, "config": {"grace": "3d"}}`, "unknown field"},
		{"bad edition", `{"version": 1, "product": {"channel": "Retail", "edition": "win99"}}`, "win99"},
		{"grace inverted", `{"version": 1, "status": "OOBGrace", "grace_start": "2009-10-22T08:00:00Z", "grace_end": "2009-10-21T08:00:00Z"}`, "before it starts"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load([]byte(tt.doc), clk)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	_, err := Load([]byte(`{"version":1}`), nil)
	assert.Error(t, err)
}

func TestConfigJSON(t *testing.T) {
	c := DefaultConfig()
	b, err := json.Marshal(c)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"initial_grace":"30d"`)
	assert.Contains(t, string(b), `"kms_retry":"2h0m0s"`)
	assert.Contains(t, string(b), `"kms_expiry_status":"OOTGrace"`)
	var back Config
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, c, back)

	over := DefaultConfig()
	require.NoError(t, json.Unmarshal([]byte(`{"oot_grace": "1.5d", "max_rearms": 5}`), &over))
	assert.Equal(t, 36*time.Hour, over.OOTGrace)
	assert.Equal(t, 5, over.MaxRearms)
	assert.Equal(t, 30*Day, over.InitialGrace, "fields not named keep their value")

	nested := DefaultConfig()
	require.NoError(t, json.Unmarshal([]byte(`{"reminders": {"every": "2h"}}`), &nested))
	assert.Equal(t, 2*time.Hour, nested.Reminders.Every)
	assert.Equal(t, 3*Day, nested.Reminders.DailyUntil)
	assert.ErrorContains(t, json.Unmarshal([]byte(`{"reminders": {"often": "2h"}}`), &nested), `unknown field "reminders.often"`)
	assert.ErrorContains(t, json.Unmarshal([]byte(`{"reminders": {"every": 7}}`), &nested), "reminders.every")
	assert.ErrorContains(t, json.Unmarshal([]byte(`{"kms_expiry_status": "Happy"}`), &nested), "kms_expiry_status")

	bad := DefaultConfig()
	bad.KMSExpiryStatus = Licensed
	assert.ErrorContains(t, bad.Validate(), "kms_expiry_status")
	bad = DefaultConfig()
	bad = DefaultConfig()
	bad.Reminders.HourlyFrom = 4 * Day
	assert.ErrorContains(t, bad.Validate(), "daily_until")
	bad = DefaultConfig()
	bad.VotePolicy.MinMatching = 11
	assert.Error(t, bad.Validate())
}

// TestDefaultsAreDesignNumbers pins every number DESIGN.md gives.
func TestDefaultsAreDesignNumbers(t *testing.T) {
	c := DefaultConfig()
	assert.Equal(t, 30*Day, c.InitialGrace)
	assert.Equal(t, 3, c.MaxRearms)
	assert.Equal(t, 3*Day, c.Reminders.DailyUntil)
	assert.Equal(t, 4*time.Hour, c.Reminders.Every)
	assert.Equal(t, Day, c.Reminders.HourlyFrom)
	assert.Equal(t, 180*Day, c.KMSValidity)
	assert.Equal(t, 7*Day, c.KMSRenewal)
	assert.Equal(t, 2*time.Hour, c.KMSRetry)
	assert.Equal(t, 30*Day, c.KMSGrace)
	assert.Equal(t, hwid.VotePolicy.Name, c.VotePolicy.Name)
	assert.Equal(t, hwid.KMSPolicy.Name, c.KMSPolicy.Name)
	// The model's own choices, documented on Config.
	assert.Equal(t, 3*Day, c.OOTGrace)
	assert.Equal(t, 30*Day, c.NonGenuineGrace)
	assert.Equal(t, OOTGrace, c.KMSExpiryStatus)
	assert.Equal(t, OOTGrace, c.OEMLostStatus)
	assert.True(t, c.RearmInNotification)
	require.NoError(t, c.Validate())
}

func TestRefusedErrorIsTyped(t *testing.T) {
	m, _ := machine(t, retailPro)
	for i := 0; i < 3; i++ {
		require.NoError(t, m.Rearm())
	}
	err := m.Rearm()
	var re *RefusedError
	require.True(t, errors.As(err, &re))
	assert.Equal(t, "rearm", re.Input)
}
