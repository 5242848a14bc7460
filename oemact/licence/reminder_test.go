package licence

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create %s", path)
	assert.Equal(t, string(want), got, "golden file %s differs (go test -update rewrites it)", path)
}

// expectedReminder says, from DESIGN.md's words alone, which reminder a 30-day grace that started
// at t0 (08:00) shows at the full hour t, for a user who logs on at 09:00 every day: once a day at
// logon until 3 days remain; every 4 hours for the first two of the last three days; every hour
// on the hour on the last day.
func expectedReminder(t time.Time) (EventKind, bool) {
	end := t0.Add(30 * 24 * time.Hour)
	left := end.Sub(t)
	switch {
	case left <= 0:
		return "", false
	case left > 72*time.Hour:
		if t.Hour() == 9 {
			return EventReminderLogon, true
		}
	case left > 24*time.Hour:
		if (72*time.Hour-left)%(4*time.Hour) == 0 {
			return EventReminderPeriodic, true
		}
	default:
		return EventReminderHourly, true
	}
	return "", false
}

// TestReminderScheduleHourByHour walks the whole 30-day grace hour by hour, logging on at 09:00,
// and checks every hour against DESIGN.md's rule and the golden listing of every reminder.
func TestReminderScheduleHourByHour(t *testing.T) {
	m, clk := machine(t, retailPro)
	m.Drain()
	got := map[time.Time]EventKind{}
	var listing strings.Builder
	end := t0.Add(30 * Day)
	counts := map[EventKind]int{}
	for h := 0; h <= 30*24; h++ {
		at := t0.Add(time.Duration(h) * time.Hour)
		clk.Set(at)
		m.Advance()
		if at.Hour() == 9 {
			m.Logon()
		}
		var here []Event
		for _, e := range m.Drain() {
			if e.Kind.Reminder() {
				here = append(here, e)
			}
		}
		want, ok := expectedReminder(at)
		if !ok {
			assert.Empty(t, here, "hour %d (%s): no reminder expected", h, stamp(at))
			continue
		}
		if assert.Len(t, here, 1, "hour %d (%s): one %s reminder expected", h, stamp(at), want) {
			e := here[0]
			assert.Equal(t, want, e.Kind, "hour %d", h)
			assert.Equal(t, at, e.Time, "hour %d: reminders fall on the hour", h)
			got[e.Time] = e.Kind
			counts[e.Kind]++
			fmt.Fprintf(&listing, "%s  day %2d  %-17s  %s left\n", stamp(e.Time), int(e.Time.Sub(t0.Truncate(Day))/Day), e.Kind, human(end.Sub(e.Time)))
		}
	}
	assert.Equal(t, 27, counts[EventReminderLogon], "daily reminders: days 0 to 26")
	assert.Equal(t, 12, counts[EventReminderPeriodic], "every 4 hours over two days")
	assert.Equal(t, 24, counts[EventReminderHourly], "every hour on the last day")
	assert.Equal(t, Notification, m.Status())
	golden(t, "reminders-30d.golden", listing.String())

	// The schedule's own listing agrees with the machine.
	var logons []time.Time
	for d := 0; d < 31; d++ {
		logons = append(logons, t0.Add(time.Duration(d)*Day+time.Hour))
	}
	list := DefaultSchedule().Reminders(t0, end, logons)
	require.Len(t, list, len(got))
	for _, r := range list {
		assert.Equal(t, got[r.Time], EventKind("reminder-"+string(r.Kind)), stamp(r.Time))
	}
}

// TestRemindersDoNotDependOnSteps: a machine whose clock jumps a day at a time shows the same
// clock-driven reminders, at the same times, as one stepped every hour.
func TestRemindersDoNotDependOnSteps(t *testing.T) {
	run := func(step time.Duration) []Event {
		m, clk := machine(t, retailPro)
		for at := t0; !at.After(t0.Add(31 * Day)); at = at.Add(step) {
			clk.Set(at)
			m.Advance()
		}
		var out []Event
		for _, e := range m.Drain() {
			if e.Kind.Reminder() || e.Kind == EventGraceExpired {
				out = append(out, e)
			}
		}
		return out
	}
	hourly, daily, once := run(time.Hour), run(Day), run(31*Day)
	require.Len(t, hourly, 12+24+1)
	assert.Equal(t, hourly, daily)
	assert.Equal(t, hourly, once)
}

func TestNextTimed(t *testing.T) {
	s := DefaultSchedule()
	at := func(day, hour, min int) time.Time {
		return time.Date(2009, 11, day, hour, min, 0, 0, time.UTC)
	}
	all := func(start, end time.Time) []time.Time {
		var out []time.Time
		for r, ok := s.NextTimed(start, end, time.Time{}); ok; r, ok = s.NextTimed(start, end, r) {
			out = append(out, r)
		}
		return out
	}
	t.Run("grace ending off the hour", func(t *testing.T) {
		end := at(21, 10, 37)
		got := all(end.Add(-30*Day), end)
		require.Len(t, got, 12+24)
		assert.Equal(t, at(18, 10, 37), got[0], "periodic reminders start when 3 days remain")
		assert.Equal(t, at(20, 6, 37), got[11], "the 12th comes 44 hours later")
		assert.Equal(t, at(20, 11, 0), got[12], "hourly reminders sit on the hour")
		assert.Equal(t, at(21, 10, 0), got[35], "the last on the last full hour before the end")
	})
	t.Run("three-day grace after a hardware change", func(t *testing.T) {
		start := at(10, 9, 0)
		got := all(start, start.Add(3*Day))
		require.Len(t, got, 36)
		assert.Equal(t, start, got[0], "the first reminder comes at once")
		assert.Equal(t, s.Phase(start, start.Add(3*Day)), PhasePeriodic)
	})
	t.Run("grace starting inside the periodic phase keeps its grid", func(t *testing.T) {
		end := at(21, 8, 0)
		got := all(end.Add(-50*time.Hour), end)
		assert.Equal(t, end.Add(-48*time.Hour), got[0])
		assert.Len(t, got, 6+24)
	})
	t.Run("half-day grace: hourly only", func(t *testing.T) {
		start := at(10, 9, 30)
		got := all(start, start.Add(12*time.Hour))
		require.Len(t, got, 12)
		assert.Equal(t, at(10, 10, 0), got[0])
		assert.Equal(t, at(10, 21, 0), got[11])
	})
	t.Run("after a reminder, the next", func(t *testing.T) {
		end := at(21, 8, 0)
		r, ok := s.NextTimed(end.Add(-30*Day), end, end.Add(-72*time.Hour))
		require.True(t, ok)
		assert.Equal(t, end.Add(-68*time.Hour), r)
		_, ok = s.NextTimed(end.Add(-30*Day), end, end.Add(-time.Hour))
		assert.False(t, ok, "nothing after the last hourly reminder")
	})
	t.Run("phases", func(t *testing.T) {
		end := at(21, 8, 0)
		assert.Equal(t, PhaseDaily, s.Phase(end.Add(-72*time.Hour-time.Nanosecond), end))
		assert.Equal(t, PhasePeriodic, s.Phase(end.Add(-72*time.Hour), end))
		assert.Equal(t, PhasePeriodic, s.Phase(end.Add(-24*time.Hour-time.Nanosecond), end))
		assert.Equal(t, PhaseHourly, s.Phase(end.Add(-24*time.Hour), end))
		assert.Equal(t, PhaseOver, s.Phase(end, end))
		assert.Equal(t, "periodic", PhasePeriodic.String())
	})
}

func TestLogonReminderOncePerDay(t *testing.T) {
	m, clk := machine(t, retailPro)
	m.Drain()
	clk.Set(t0.Add(time.Hour))
	m.Logon()
	clk.Set(t0.Add(5 * time.Hour))
	m.Logon()
	clk.Set(t0.Add(16*time.Hour + 30*time.Minute)) // 00:30 the next day
	m.Logon()
	assert.Equal(t, []EventKind{EventReminderLogon, EventReminderLogon}, kinds(m.Drain()))
	// In the periodic phase a logon adds nothing: the clock-driven reminders cover it.
	clk.Set(t0.Add(27*Day + 2*time.Hour))
	m.Advance()
	m.Drain()
	m.Logon()
	assert.Empty(t, m.Drain())
}

func TestScheduleValidate(t *testing.T) {
	assert.NoError(t, DefaultSchedule().Validate())
	assert.Error(t, Schedule{DailyUntil: Day, Every: 0, HourlyFrom: Day}.Validate())
	assert.Error(t, Schedule{DailyUntil: Day, Every: time.Hour, HourlyFrom: 2 * Day}.Validate())
	assert.Error(t, Schedule{DailyUntil: Day, Every: time.Hour, HourlyFrom: -1}.Validate())
}
