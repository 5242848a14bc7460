package licence

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// dayOf is the simulation day of a moment: 0 for the start's calendar day (UTC).
func (r *Result) dayOf(t time.Time) int {
	s := r.Start
	midnight := time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, time.UTC)
	return int(t.Sub(midnight) / Day)
}

// WriteText prints the timeline for people. Runs of the same kind of reminder are folded into one
// line unless all is set.
func (r *Result) WriteText(w io.Writer, all bool) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s), %s from %s UTC; the user boots and logs on daily at %s UTC\n\n",
		r.EditionName, r.Product.Channel, plural(r.Days, "day"), stamp(r.Start), clockOf(r.Config.LogonAt))
	fmt.Fprintf(&b, "%4s  %-10s  %-5s  %-17s  %s\n", "day", "date", "time", "status", "what happened")
	for i := 0; i < len(r.Events); {
		e := r.Events[i]
		j := i + 1
		if !all && e.Kind.Reminder() {
			for j < len(r.Events) && r.Events[j].Kind == e.Kind {
				j++
			}
		}
		msg := e.Message
		if j-i > 1 {
			msg = r.foldReminders(r.Events[i:j])
		}
		status := e.To.String()
		if e.Transition() {
			status = "> " + status
		}
		fmt.Fprintf(&b, "%4d  %s  %s  %-17s  %s\n", r.dayOf(e.Time), e.Time.Format("2006-01-02"), e.Time.Format("15:04"), status, msg)
		i = j
	}
	f := r.Final
	fmt.Fprintf(&b, "\n%4s  %s  %s  %-17s  LicenseStatus %d, %s", "end", f.Time.Format("2006-01-02"), f.Time.Format("15:04"), f.Status, f.LicenseStatus, f.Description)
	if f.Status.Grace() {
		fmt.Fprintf(&b, ", %s of grace left", f.GraceRemaining)
	}
	fmt.Fprintf(&b, "; rearms used %d of %d; %s shown\n", f.Rearms, r.Config.MaxRearms, plural(r.Reminders, "reminder"))
	if len(f.Surfaces) > 0 {
		names := make([]string, len(f.Surfaces))
		for i, s := range f.Surfaces {
			names[i] = string(s)
		}
		fmt.Fprintf(&b, "%4s  %-10s  %-5s  %-17s  active surfaces: %s\n", "", "", "", "", strings.Join(names, ", "))
	}
	if !f.KMSValidUntil.IsZero() {
		fmt.Fprintf(&b, "%4s  %-10s  %-5s  %-17s  KMS activation valid until %s\n", "", "", "", "", stamp(f.KMSValidUntil))
	}
	if len(r.KMSAttempts) > 0 {
		fmt.Fprintf(&b, "%4s  %-10s  %-5s  %-17s  %s\n", "", "", "", "", plural(len(r.KMSAttempts), "KMS attempt"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

var foldWords = map[EventKind]string{
	EventReminderLogon:     "reminders at logon, once a day",
	EventReminderPeriodic:  "reminders every %s",
	EventReminderHourly:    "reminders every hour on the hour",
	EventNotificationLogon: "activation dialogs at logon",
	EventNotificationApp:   "reminders as applications opened",
}

func (r *Result) foldReminders(run []Event) string {
	first, last := run[0], run[len(run)-1]
	what := foldWords[first.Kind]
	if strings.Contains(what, "%s") {
		what = fmt.Sprintf(what, human(r.Config.Reminders.Every))
	}
	s := fmt.Sprintf("%d %s, to day %d %s", len(run), what, r.dayOf(last.Time), last.Time.Format("15:04"))
	if !first.Until.IsZero() {
		s += fmt.Sprintf(" (%s left at the first, %s at the last)", human(first.Until.Sub(first.Time)), human(last.Until.Sub(last.Time)))
	}
	return s + "."
}

func clockOf(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
