package licence

import "time"

// Schedule is when a grace period reminds the user to activate, by the time left before the
// grace ends (DESIGN.md): once a day at logon while more than DailyUntil remains; every Every
// (counted from the moment DailyUntil remains) until HourlyFrom remains; then every hour, on the
// hour, until the end.
//
// With the defaults (3 days, 4 hours, 1 day) a 30-day grace that ends at E shows one reminder at
// the first logon of each day before E-72h, twelve at E-72h, E-68h, ... E-28h, and twenty-four on
// the hours of the last day.
type Schedule struct {
	// DailyUntil: reminders come once a day at logon while more than this remains: 3 days.
	DailyUntil time.Duration
	// Every: then a reminder this often: 4 hours.
	Every time.Duration
	// HourlyFrom: when this much remains, a reminder every hour on the hour: 1 day.
	HourlyFrom time.Duration
}

// DefaultSchedule returns DESIGN.md's reminder numbers.
func DefaultSchedule() Schedule {
	return Schedule{DailyUntil: 3 * Day, Every: 4 * time.Hour, HourlyFrom: Day}
}

// Validate checks the phases are in order. Errors are *ConfigError naming reminders.FIELD.
func (s Schedule) Validate() error {
	switch {
	case s.Every <= 0:
		return configErrorf("reminders.every", "must be positive, got %s", formatDuration(s.Every))
	case s.HourlyFrom < 0:
		return configErrorf("reminders.hourly_from", "must be 0 or more, got %s", formatDuration(s.HourlyFrom))
	case s.DailyUntil < s.HourlyFrom:
		return configErrorf("reminders.daily_until", "(%s) must be at least hourly_from (%s)", formatDuration(s.DailyUntil), formatDuration(s.HourlyFrom))
	case s.DailyUntil > 365*Day:
		return configErrorf("reminders.daily_until", "must be at most a year, got %s", formatDuration(s.DailyUntil))
	case (s.DailyUntil-s.HourlyFrom)/s.Every > maxPeriodic:
		return configErrorf("reminders.every", "%s between daily_until and hourly_from makes more than %d reminders", formatDuration(s.Every), maxPeriodic)
	}
	return nil
}

// maxPeriodic bounds the reminders of the periodic phase, so a bad schedule cannot flood a log.
const maxPeriodic = 1000

// Phase is the part of a grace period a moment falls in.
type Phase int

const (
	PhaseDaily    Phase = iota // more than DailyUntil left: a reminder at the first logon of each day
	PhasePeriodic              // a reminder every Every
	PhaseHourly                // a reminder every hour on the hour
	PhaseOver                  // the grace has ended
)

func (p Phase) String() string {
	switch p {
	case PhaseDaily:
		return "daily"
	case PhasePeriodic:
		return "periodic"
	case PhaseHourly:
		return "hourly"
	}
	return "over"
}

// Phase returns the phase of moment t in a grace that ends at end.
func (s Schedule) Phase(t, end time.Time) Phase {
	left := end.Sub(t)
	switch {
	case left <= 0:
		return PhaseOver
	case left > s.DailyUntil:
		return PhaseDaily
	case left > s.HourlyFrom:
		return PhasePeriodic
	}
	return PhaseHourly
}

// NextTimed returns the first clock-driven reminder (periodic or hourly) of the grace [start, end)
// that falls strictly after `after` (pass the zero time for the first one). ok is false when no
// reminder is left.
func (s Schedule) NextTimed(start, end, after time.Time) (t time.Time, ok bool) {
	lo := start
	if !after.Before(lo) {
		lo = after.Add(time.Nanosecond)
	}
	if !lo.Before(end) {
		return time.Time{}, false
	}
	periodicStart, hourlyStart := end.Add(-s.DailyUntil), end.Add(-s.HourlyFrom)
	// Periodic reminders sit on the grid periodicStart + k*Every.
	if lo.Before(hourlyStart) {
		t := periodicStart
		if lo.After(t) {
			k := (lo.Sub(t) + s.Every - 1) / s.Every
			t = t.Add(k * s.Every)
		}
		if t.Before(hourlyStart) {
			return t, true
		}
	}
	// Hourly reminders sit on the hours (UTC) of [hourlyStart, end).
	x := lo
	if x.Before(hourlyStart) {
		x = hourlyStart
	}
	h := x.Truncate(time.Hour)
	if h.Before(x) {
		h = h.Add(time.Hour)
	}
	if h.Before(end) {
		return h, true
	}
	return time.Time{}, false
}

// LogonReminder reports whether a logon at t, in a grace [start, end), shows the daily reminder,
// given the UTC day ("2006-01-02") of the last daily reminder shown in this grace.
func (s Schedule) LogonReminder(t, start, end time.Time, lastDay string) bool {
	return !t.Before(start) && s.Phase(t, end) == PhaseDaily && dayKey(t) != lastDay
}

func dayKey(t time.Time) string { return t.UTC().Format("2006-01-02") }

// ReminderKind says what brought a reminder up.
type ReminderKind string

const (
	ReminderLogon    ReminderKind = "logon"    // the daily reminder at logon
	ReminderPeriodic ReminderKind = "periodic" // every 4 hours in the last days
	ReminderHourly   ReminderKind = "hourly"   // every hour on the hour on the last day
)

// Reminder is one reminder shown.
type Reminder struct {
	Time time.Time    `json:"time"`
	Kind ReminderKind `json:"kind"`
}

// Reminders lists every reminder of a grace [start, end) for a user who logs on at the given
// times, in time order. The state machine produces the same list one reminder at a time.
func (s Schedule) Reminders(start, end time.Time, logons []time.Time) []Reminder {
	var out []Reminder
	lastDay := ""
	li := 0
	next, ok := s.NextTimed(start, end, time.Time{})
	for {
		// Merge logon reminders and timed reminders in time order (logon first on a tie).
		for li < len(logons) && (!ok || !logons[li].After(next)) {
			l := logons[li]
			li++
			if l.Before(end) && s.LogonReminder(l, start, end, lastDay) {
				out = append(out, Reminder{l, ReminderLogon})
				lastDay = dayKey(l)
			}
		}
		if !ok {
			return out
		}
		kind := ReminderPeriodic
		if s.Phase(next, end) == PhaseHourly {
			kind = ReminderHourly
		}
		out = append(out, Reminder{next, kind})
		next, ok = s.NextTimed(start, end, next)
	}
}
