package licence

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/hwid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// step is one input at a time after t0.
type step struct {
	at time.Duration
	do func(m *Machine)
}

// life drives a machine through steps. Before each step, any KMS attempt that falls due up to
// that moment is answered by host (when the machine is on, i.e. always in this driver). With
// reload, the machine is saved to JSON and loaded again before every input and every attempt,
// as the guest agent does across boots.
func life(t *testing.T, p Product, steps []step, host func(time.Duration) KMSAnswer, reload bool, end time.Duration) []byte {
	t.Helper()
	clk := NewManualClock(t0)
	m, err := New(DefaultConfig(), clk)
	require.NoError(t, err)
	require.NoError(t, m.InstallKey(p))
	cycle := func() {
		if !reload {
			return
		}
		b, err := json.Marshal(m)
		require.NoError(t, err)
		m, err = Load(b, clk)
		require.NoError(t, err)
	}
	kmsUntil := func(limit time.Time) {
		for host != nil {
			due, ok := m.KMSAttemptDue()
			if !ok || due.After(limit) {
				return
			}
			if due.Before(clk.Now()) {
				due = clk.Now()
			}
			clk.Set(due)
			cycle()
			require.NoError(t, m.KMSResponse(host(due.Sub(t0))))
		}
	}
	for _, s := range steps {
		kmsUntil(t0.Add(s.at))
		clk.Set(t0.Add(s.at))
		cycle()
		s.do(m)
	}
	kmsUntil(t0.Add(end))
	clk.Set(t0.Add(end))
	cycle()
	m.Advance()
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return b
}

func daily(days int, do func(day int) func(m *Machine)) []step {
	var out []step
	for d := 0; d < days; d++ {
		out = append(out, step{time.Duration(d)*Day + time.Hour, do(d)})
		// A second logon later in the day must not bring the daily reminder back.
		out = append(out, step{time.Duration(d)*Day + 13*time.Hour, func(m *Machine) { m.Logon() }})
	}
	return out
}

// TestSaveLoadGivesTheSameLife: for each channel, a life lived with a save and load before every
// input ends in the same state, event for event, as one lived without stopping.
func TestSaveLoadGivesTheSameLife(t *testing.T) {
	boot := func(inv *hwid.Inventory, fw *Firmware) func(m *Machine) {
		return func(m *Machine) { m.Boot(Boot{Inventory: inv, Firmware: fw}); m.Logon() }
	}
	retailLife := daily(120, func(d int) func(m *Machine) {
		switch {
		case d == 2:
			return func(m *Machine) {
				m.Boot(Boot{Inventory: hardware()})
				_ = m.Activate(ActivationResult{Outcome: Succeeded})
			}
		case d >= 5 && d < 9:
			return boot(hardware(hwid.NIC), nil)
		case d >= 9 && d < 20:
			return boot(hardware(hwid.NIC, hwid.Disk), nil) // out of tolerance, then Notification
		case d == 20:
			return func(m *Machine) { _ = m.Rearm() }
		case d == 60:
			return func(m *Machine) { m.OpenApplication("Windows Update"); _ = m.Rearm() }
		case d == 70:
			return func(m *Machine) { _ = m.Activate(ActivationResult{Outcome: Blocked}) }
		case d == 75:
			return func(m *Machine) { _ = m.InstallKey(retailPro) }
		}
		return boot(hardware(hwid.NIC, hwid.Disk), nil)
	})
	slpLife := daily(60, func(d int) func(m *Machine) {
		switch {
		case d == 10:
			return boot(hardware(hwid.Disk, hwid.NIC, hwid.Memory), validMarker())
		case d >= 11 && d < 20:
			return boot(hardware(hwid.Board), &Firmware{WindowsMarker: true, Marker: "OTHOEM/OTHBOARD/2.1"})
		case d == 30:
			return func(m *Machine) { _ = m.Rearm() }
		}
		return boot(hardware(), validMarker())
	})
	// The KMS host: 20 machines at first, 30 from day 3, unreachable from day 40 to day 300.
	host := func(at time.Duration) KMSAnswer {
		switch {
		case at >= 40*Day && at < 300*Day:
			return KMSAnswer{}
		case at < 3*Day:
			return KMSAnswerFor(mustEdition("win7-professional"), 20)
		}
		return KMSAnswerFor(mustEdition("win7-professional"), 30)
	}
	kmsLife := []step{
		{0, func(m *Machine) { m.Boot(Boot{Inventory: hardware(), Firmware: validMarker()}) }},
		{20 * Day, func(m *Machine) { m.Boot(Boot{Inventory: hardware(hwid.Disk), Firmware: validMarker()}) }},
		{250 * Day, func(m *Machine) { m.Logon() }},
	}
	// The harness's way: the machine is off between boots a few days apart, and the clock jumps.
	jumpy := []step{
		{0, boot(hardware(), nil)},
		{6 * Day, func(m *Machine) { _ = m.Activate(ActivationResult{Outcome: Failed, Code: "0xC004C003"}) }},
		{13 * Day, boot(hardware(hwid.Memory), nil)},
		{29*Day + 20*time.Hour, boot(hardware(), nil)},
		{45 * Day, func(m *Machine) { _ = m.Rearm() }},
		{90 * Day, boot(hardware(), nil)},
	}
	cases := []struct {
		name  string
		p     Product
		steps []step
		host  func(time.Duration) KMSAnswer
		end   time.Duration
	}{
		{"retail", retailPro, retailLife, nil, 130 * Day},
		{"oem slp", slpPro, slpLife, nil, 70 * Day},
		{"kms", gvlkPro, kmsLife, host, 400 * Day},
		{"boots days apart", product(edition.VolumeMAK, "win7-enterprise"), jumpy, nil, 120 * Day},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			straight := life(t, c.p, c.steps, c.host, false, c.end)
			stopping := life(t, c.p, c.steps, c.host, true, c.end)
			require.True(t, bytes.Equal(straight, stopping), "saved-and-loaded life differs:\n%s\n---\n%s", straight, stopping)
			var st State
			require.NoError(t, json.Unmarshal(straight, &st))
			assert.Greater(t, len(st.Log), 5, "the life did something")
		})
	}
}

// TestSavedStateKeepsNoKey: the state holds the last five characters of the key, never the rest.
func TestSavedStateKeepsNoKey(t *testing.T) {
	m, _ := activated(t, retailPro)
	b, err := json.Marshal(m)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"partial_key":"7QW3D"`)
	assert.NotContains(t, string(b), `"value"`, "raw hardware identifiers stay out of the saved state")
}

func mustEdition(id string) edition.Edition {
	ed, err := edition.Lookup(id)
	if err != nil {
		panic(err)
	}
	return ed
}

func FuzzLoad(f *testing.F) {
	clk := NewManualClock(t0)
	m, _ := New(DefaultConfig(), clk)
	_ = m.InstallKey(retailPro)
	m.Boot(Boot{Inventory: hardware(), Firmware: validMarker()})
	_ = m.Activate(ActivationResult{Outcome: Succeeded})
	clk.Add(Day)
	m.Boot(Boot{Inventory: hardware(hwid.NIC, hwid.Disk)})
	b, _ := json.Marshal(m)
	f.Add(b)
	f.Add([]byte(`{"version":1,"status":"OOBGrace","grace_start":"2009-10-22T08:00:00Z","grace_end":"2009-11-21T08:00:00Z","product":{"channel":"Volume:GVLK","edition":"win7-professional"}}`))
	f.Add([]byte(`{"version":1,"config":{"reminders":{"every":"1ns","daily_until":"3d","hourly_from":"1d"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		clk := NewManualClock(t0)
		m, err := Load(data, clk)
		if err != nil {
			return
		}
		// A loaded machine must run without panicking; a short advance keeps runs bounded.
		clk.Set(t0.Add(40 * Day))
		_ = m.Snapshot()
		m.Logon()
		_ = m.Rearm()
		_, _ = json.Marshal(m)
	})
}
