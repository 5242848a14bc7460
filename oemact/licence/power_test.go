package licence

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reminders returns the reminders among events.
func reminders(events []Event) []Event {
	var out []Event
	for _, e := range events {
		if e.Kind.Reminder() {
			out = append(out, e)
		}
	}
	return out
}

// A machine powered off across the last three days of its grace shows none of the four-hourly
// and hourly reminders that fell due while it was off, neither at its next boot nor later; once
// its user logs on, the next ones come as they fall due.
func TestRemindersAreNotShownWhileOff(t *testing.T) {
	m, clk := machine(t, retailPro)
	end := t0.Add(30 * Day)
	m.Drain()
	clk.Set(end.Add(-80 * time.Hour))
	m.PowerOff()
	assert.Empty(t, reminders(m.Drain()), "no reminder falls due before the last three days")

	clk.Set(end.Add(-(4*time.Hour + 30*time.Minute))) // off through 12 four-hourly and 20 hourly reminders
	m.Boot(Boot{Inventory: hardware()})
	assert.Empty(t, reminders(m.Drain()), "the reminders due while the machine was off are not shown at boot")
	clk.Add(10 * time.Minute)
	m.Advance()
	assert.Empty(t, reminders(m.Drain()), "booted, nobody logged on yet")
	m.Logon()
	assert.Empty(t, reminders(m.Drain()), "the last day has no logon reminder; the hourly ones of the gap stay unshown")

	clk.Set(end)
	m.Advance()
	got := reminders(m.Drain())
	require.Len(t, got, 4, "the hours from the logon to the end of the grace")
	for i, e := range got {
		assert.Equal(t, EventReminderHourly, e.Kind)
		assert.Equal(t, end.Add(time.Duration(i-4)*time.Hour), e.Time)
	}
	assert.Equal(t, Notification, m.Status())
}

// The same span with the machine kept running (no PowerOff): every reminder of it is shown.
func TestRemindersAreShownWhileRunning(t *testing.T) {
	m, clk := machine(t, retailPro)
	end := t0.Add(30 * Day)
	m.Drain()
	clk.Set(end.Add(-80 * time.Hour))
	m.Advance()
	clk.Set(end.Add(-(4*time.Hour + 30*time.Minute)))
	m.Boot(Boot{Inventory: hardware()}) // a look at the hardware, not a power-on
	m.Logon()
	got := reminders(m.Drain())
	assert.Len(t, got, 12+20, "12 four-hourly and 20 hourly reminders shown while the machine ran")
}

// A boot with nobody logging on shows nothing; the logon brings the daily reminder and the timed
// ones from then on.
func TestRemindersNeedALogon(t *testing.T) {
	m, clk := machine(t, retailPro)
	end := t0.Add(30 * Day)
	m.Drain()
	clk.Set(t0.Add(26 * Day))
	m.PowerOff()
	clk.Set(end.Add(-70 * time.Hour))
	m.Boot(Boot{Inventory: hardware()})
	clk.Set(end.Add(-50 * time.Hour))
	m.Advance()
	assert.Empty(t, reminders(m.Drain()), "running with nobody logged on")
	m.Logon()
	clk.Set(end.Add(-40 * time.Hour))
	m.Advance()
	got := reminders(m.Drain())
	require.Len(t, got, 3, "after the logon: -48h, -44h and -40h")
	assert.Equal(t, end.Add(-48*time.Hour), got[0].Time)
}

// The daily reminder needs a logon; a day spent off shows none, and the next logon shows that
// day's reminder only.
func TestDailyReminderAfterDaysOff(t *testing.T) {
	m, clk := machine(t, retailPro)
	m.Logon()
	require.Len(t, reminders(m.Drain()), 1)
	m.PowerOff()
	clk.Add(10 * Day)
	m.Boot(Boot{Inventory: hardware()})
	m.Logon()
	got := reminders(m.Drain())
	require.Len(t, got, 1, "one daily reminder at the logon, none for the ten days off")
	assert.Equal(t, EventReminderLogon, got[0].Kind)
}

// Power and logon are part of the saved state: a machine saved while off and loaded again still
// shows nothing of what fell due while it was off.
func TestPowerStateIsSaved(t *testing.T) {
	m, clk := machine(t, retailPro)
	clk.Set(t0.Add(26 * Day))
	m.PowerOff()
	m.Drain()
	b, err := json.Marshal(m)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"powered_off":true`)
	clk.Set(t0.Add(29 * Day))
	back, err := Load(b, clk)
	require.NoError(t, err)
	back.Boot(Boot{})
	back.Logon()
	assert.Empty(t, reminders(back.Drain()))

	// A state saved before the machine knew of power (no field) is on, as it always was.
	var raw map[string]any
	require.NoError(t, json.Unmarshal(b, &raw))
	delete(raw, "powered_off")
	b, err = json.Marshal(raw)
	require.NoError(t, err)
	old, err := Load(b, clk)
	require.NoError(t, err)
	old.Advance()
	assert.Len(t, reminders(old.Drain()), 12+1, "every reminder from day 27 to day 29 08:00 (its first hourly one)")
}
