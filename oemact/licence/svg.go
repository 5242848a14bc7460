package licence

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"math"
	"time"
)

// Colours of the drawing: statuses, reminder marks.
var statusColour = map[Status]string{
	Unlicensed: "#9e9e9e", Licensed: "#2e7d32", OOBGrace: "#f9a825", OOTGrace: "#ef6c00",
	NonGenuineGrace: "#6a1b9a", Notification: "#212121", ExtendedGrace: "#1565c0",
}

type markStyle struct {
	colour string
	height float64
	label  string
}

var reminderStyle = map[EventKind]markStyle{
	EventReminderLogon:     {"#1565c0", 10, "reminder at logon (daily)"},
	EventReminderPeriodic:  {"#ef6c00", 18, "reminder every 4 hours"},
	EventReminderHourly:    {"#c62828", 26, "reminder every hour"},
	EventNotificationLogon: {"#212121", 14, "dialog at logon (notification)"},
	EventNotificationApp:   {"#757575", 8, "reminder as an application opens"},
}

// segment is a span of one status.
type segment struct {
	from, to time.Time
	status   Status
}

// segments returns the status spans of the run, from the transitions in the log.
func (r *Result) segments() []segment {
	var out []segment
	cur, since := Unlicensed, r.Start
	for _, e := range r.Events {
		if !e.Transition() {
			continue
		}
		if e.Time.After(since) {
			out = append(out, segment{since, e.Time, cur})
		}
		cur, since = e.To, e.Time
	}
	if r.End.After(since) {
		out = append(out, segment{since, r.End, cur})
	}
	return out
}

// zoomEnd picks the grace end the second panel magnifies: the first grace that expired, or else
// the first grace end seen.
func (r *Result) zoomEnd() (time.Time, bool) {
	for _, e := range r.Events {
		if e.Kind == EventGraceExpired {
			return e.Time, true
		}
	}
	for _, s := range r.Samples {
		if !s.GraceEnd.IsZero() {
			return s.GraceEnd, true
		}
	}
	return time.Time{}, false
}

type svgWriter struct{ b bytes.Buffer }

func (w *svgWriter) f(format string, a ...any) { fmt.Fprintf(&w.b, format, a...) }

func esc(s string) string { return html.EscapeString(s) }

// WriteSVG draws the run: status bands, the grace remaining, rearms and activations, and every
// reminder over time; a second panel magnifies the last days of the first grace that ran out,
// where the 4-hourly and hourly reminders are.
func (r *Result) WriteSVG(out io.Writer) error {
	const (
		W, H         = 1000.0, 690.0
		left, right  = 70.0, 30.0
		bandY, bandH = 58.0, 22.0
		chartTop     = 96.0
		chartBottom  = 266.0
		tickBase     = 306.0
		axisY        = 312.0
	)
	plotW := W - left - right
	span := r.End.Sub(r.Start)
	x := func(t time.Time) float64 { return left + plotW*float64(t.Sub(r.Start))/float64(span) }

	var w svgWriter
	w.f(`<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="DejaVu Sans, Arial, sans-serif" font-size="11">`+"\n", W, H, W, H)
	w.f(`<rect width="100%%" height="100%%" fill="#ffffff"/>` + "\n")
	w.f(`<text x="%.0f" y="24" font-size="15" font-weight="bold">%s (%s): %d days from %s UTC</text>`+"\n", left, esc(r.EditionName), esc(string(r.Product.Channel)), r.Days, stamp(r.Start))
	w.f(`<text x="%.0f" y="42" fill="#555">Final status %s (LicenseStatus %d); %d reminders; rearms used %d of %d. User logs on daily at %s UTC.</text>`+"\n",
		left, r.Final.Status, r.Final.LicenseStatus, r.Reminders, r.Final.Rearms, r.Config.MaxRearms, clockOf(r.Config.LogonAt))

	// Status bands.
	for _, s := range r.segments() {
		x0, x1 := x(s.from), x(s.to)
		w.f(`<rect x="%.2f" y="%.0f" width="%.2f" height="%.0f" fill="%s"><title>%s from %s to %s</title></rect>`+"\n",
			x0, bandY, math.Max(x1-x0, 0.5), bandH, statusColour[s.status], s.status, stamp(s.from), stamp(s.to))
		if x1-x0 > 70 {
			w.f(`<text x="%.2f" y="%.0f" fill="#fff" font-weight="bold">%s</text>`+"\n", x0+4, bandY+15, s.status)
		}
	}
	w.f(`<text x="%.0f" y="%.0f" text-anchor="end">status</text>`+"\n", left-6, bandY+15)

	// Grace remaining, in days.
	maxDays := 5.0
	for _, s := range r.Samples {
		if !s.GraceEnd.IsZero() {
			maxDays = math.Max(maxDays, s.GraceEnd.Sub(s.Time).Hours()/24)
		}
	}
	maxDays = math.Ceil(maxDays/5) * 5
	y := func(days float64) float64 { return chartBottom - (chartBottom-chartTop)*days/maxDays }
	for d := 0.0; d <= maxDays; d += 5 {
		w.f(`<line x1="%.0f" y1="%.2f" x2="%.0f" y2="%.2f" stroke="#e0e0e0"/>`+"\n", left, y(d), W-right, y(d))
		w.f(`<text x="%.0f" y="%.2f" text-anchor="end">%.0f d</text>`+"\n", left-6, y(d)+4, d)
	}
	w.f(`<text x="16" y="%.0f" transform="rotate(-90 16 %.0f)" text-anchor="middle">grace remaining</text>`+"\n", (chartTop+chartBottom)/2, (chartTop+chartBottom)/2)
	for i := 0; i < len(r.Samples); {
		s := r.Samples[i]
		if s.GraceEnd.IsZero() {
			i++
			continue
		}
		j := i
		for j+1 < len(r.Samples) && r.Samples[j+1].GraceEnd.Equal(s.GraceEnd) {
			j++
		}
		endT := r.Samples[j].Time
		if j+1 < len(r.Samples) {
			endT = r.Samples[j+1].Time
		}
		if s.GraceEnd.Before(endT) {
			endT = s.GraceEnd
		}
		rem := func(t time.Time) float64 { return s.GraceEnd.Sub(t).Hours() / 24 }
		w.f(`<polyline fill="none" stroke="%s" stroke-width="2" points="%.2f,%.2f %.2f,%.2f"><title>grace until %s</title></polyline>`+"\n",
			statusColour[s.Status], x(s.Time), y(rem(s.Time)), x(endT), y(rem(endT)), stamp(s.GraceEnd))
		i = j + 1
	}

	// Rearms, activations and scripted inputs as vertical lines.
	for _, e := range r.Events {
		var colour, label string
		switch e.Kind {
		case EventRearm:
			colour, label = "#1565c0", fmt.Sprintf("rearm %d", rearmNumber(r.Events, e))
		case EventActivated, EventOEMActivated, EventKMSActivated, EventOEMRestored, EventBackInTolerance:
			colour, label = "#2e7d32", "activated"
		case EventInput:
			colour, label = "#9e9e9e", ""
		default:
			continue
		}
		xe := x(e.Time)
		w.f(`<line x1="%.2f" y1="%.0f" x2="%.2f" y2="%.0f" stroke="%s" stroke-dasharray="4 3"><title>%s %s</title></line>`+"\n",
			xe, chartTop-8, xe, tickBase, colour, stamp(e.Time), esc(e.Message))
		if label != "" {
			w.f(`<text x="%.2f" y="%.0f" fill="%s" font-weight="bold">%s</text>`+"\n", xe+3, chartTop+4, colour, label)
		}
	}

	// Reminder marks.
	w.f(`<text x="%.0f" y="%.0f" text-anchor="end">reminders</text>`+"\n", left-6, tickBase-4)
	for _, e := range r.Events {
		st, ok := reminderStyle[e.Kind]
		if !ok {
			continue
		}
		xe := x(e.Time)
		w.f(`<line x1="%.2f" y1="%.0f" x2="%.2f" y2="%.2f" stroke="%s" stroke-width="1.2"><title>%s %s</title></line>`+"\n",
			xe, tickBase, xe, tickBase-st.height, st.colour, stamp(e.Time), esc(e.Message))
	}

	// Day axis.
	w.f(`<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#000"/>`+"\n", left, axisY, W-right, axisY)
	step := niceStep(r.Days)
	for d := 0; d <= r.Days; d++ {
		t := r.Start.Add(time.Duration(d) * Day)
		h := 3.0
		if d%step == 0 {
			h = 6
			w.f(`<text x="%.2f" y="%.0f" text-anchor="middle">%d</text>`+"\n", x(t), axisY+18, d)
		}
		w.f(`<line x1="%.2f" y1="%.0f" x2="%.2f" y2="%.0f" stroke="#000"/>`+"\n", x(t), axisY, x(t), axisY+h)
	}
	w.f(`<text x="%.0f" y="%.0f" text-anchor="middle">days since the key was installed</text>`+"\n", left+plotW/2, axisY+34)

	// Zoom on the last days of a grace.
	if end, ok := r.zoomEnd(); ok {
		r.zoomPanel(&w, end, left, right, W)
	}

	// Legend.
	lx, ly := left, H-22.0
	for _, s := range Statuses() {
		w.f(`<rect x="%.0f" y="%.0f" width="12" height="12" fill="%s"/><text x="%.0f" y="%.0f">%s</text>`+"\n", lx, ly-10, statusColour[s], lx+16, ly, s)
		lx += 24 + 7*float64(len(s.String()))
	}
	lx, ly = left, H-44.0
	for _, k := range []EventKind{EventReminderLogon, EventReminderPeriodic, EventReminderHourly, EventNotificationLogon} {
		st := reminderStyle[k]
		w.f(`<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="%s" stroke-width="3"/><text x="%.0f" y="%.0f">%s</text>`+"\n", lx+5, ly, lx+5, ly-12, st.colour, lx+14, ly, st.label)
		lx += 26 + 6.2*float64(len(st.label))
	}
	w.f("</svg>\n")
	_, err := out.Write(w.b.Bytes())
	return err
}

// zoomPanel magnifies [end - DailyUntil - 12h, end + 12h] with the reminder phases shaded.
func (r *Result) zoomPanel(w *svgWriter, end time.Time, left, right, W float64) {
	const (
		top, bandH = 392.0, 18.0
		base       = 562.0
	)
	sch := r.Config.Reminders
	from, to := end.Add(-sch.DailyUntil-12*time.Hour), end.Add(12*time.Hour)
	if from.Before(r.Start) {
		from = r.Start
	}
	if to.After(r.End) {
		to = r.End
	}
	if !to.After(from) {
		return
	}
	plotW := W - left - right
	x := func(t time.Time) float64 { return left + plotW*float64(t.Sub(from))/float64(to.Sub(from)) }
	clip := func(t time.Time) time.Time {
		if t.Before(from) {
			return from
		}
		if t.After(to) {
			return to
		}
		return t
	}
	w.f(`<text x="%.0f" y="%.0f" font-size="13" font-weight="bold">The last %s of the grace that ended on day %d (%s), hour by hour</text>`+"\n",
		left, top-14, human(sch.DailyUntil), r.dayOf(end), stamp(end))
	// Phase shading: periodic, then hourly.
	phases := []struct {
		a, b  time.Time
		fill  string
		label string
	}{
		{end.Add(-sch.DailyUntil), end.Add(-sch.HourlyFrom), "#fff3e0", "every " + human(sch.Every)},
		{end.Add(-sch.HourlyFrom), end, "#ffebee", "every hour on the hour"},
	}
	for _, p := range phases {
		a, b := clip(p.a), clip(p.b)
		if !b.After(a) {
			continue
		}
		w.f(`<rect x="%.2f" y="%.0f" width="%.2f" height="%.0f" fill="%s"/>`+"\n", x(a), top+bandH+4, x(b)-x(a), base-top-bandH-4, p.fill)
		w.f(`<text x="%.2f" y="%.0f" fill="#555">%s</text>`+"\n", x(a)+4, top+bandH+18, esc(p.label))
	}
	for _, s := range r.segments() {
		a, b := clip(s.from), clip(s.to)
		if !b.After(a) {
			continue
		}
		w.f(`<rect x="%.2f" y="%.0f" width="%.2f" height="%.0f" fill="%s"><title>%s</title></rect>`+"\n", x(a), top, x(b)-x(a), bandH, statusColour[s.status], s.status)
		if x(b)-x(a) > 70 {
			w.f(`<text x="%.2f" y="%.0f" fill="#fff" font-weight="bold">%s</text>`+"\n", x(a)+4, top+13, s.status)
		}
	}
	for _, e := range r.Events {
		st, ok := reminderStyle[e.Kind]
		if !ok || e.Time.Before(from) || e.Time.After(to) {
			continue
		}
		h := st.height * 3
		w.f(`<line x1="%.2f" y1="%.0f" x2="%.2f" y2="%.2f" stroke="%s" stroke-width="2"><title>%s %s</title></line>`+"\n",
			x(e.Time), base, x(e.Time), base-h, st.colour, stamp(e.Time), esc(e.Message))
	}
	// Hour axis: a tick every hour, a label every 4 hours (on the hours divisible by 4).
	w.f(`<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#000"/>`+"\n", left, base, W-right, base)
	for t := from.Truncate(time.Hour); !t.After(to); t = t.Add(time.Hour) {
		if t.Before(from) {
			continue
		}
		h := 3.0
		if t.Hour()%4 == 0 {
			h = 6
			w.f(`<text x="%.2f" y="%.0f" text-anchor="middle" font-size="9">%s</text>`+"\n", x(t), base+16, t.Format("15h"))
		}
		if t.Hour() == 0 {
			w.f(`<text x="%.2f" y="%.0f" text-anchor="middle" font-size="10" font-weight="bold">day %d</text>`+"\n", x(t), base+30, r.dayOf(t))
		}
		w.f(`<line x1="%.2f" y1="%.0f" x2="%.2f" y2="%.0f" stroke="#000"/>`+"\n", x(t), base, x(t), base+h)
	}
	xe := x(end)
	w.f(`<line x1="%.2f" y1="%.0f" x2="%.2f" y2="%.0f" stroke="#000" stroke-width="2"/><text x="%.2f" y="%.0f" font-weight="bold">grace ends</text>`+"\n",
		xe, top, xe, base, xe+4, top+bandH+32)
}

func rearmNumber(events []Event, e Event) int {
	n := 0
	for _, x := range events {
		if x.Kind == EventRearm {
			n++
			if x.Time.Equal(e.Time) && x.Message == e.Message {
				return n
			}
		}
	}
	return n
}

// niceStep picks a label step so that a day axis has at most about 15 labels.
func niceStep(days int) int {
	for _, s := range []int{1, 2, 5, 10, 20, 50, 100, 200, 500} {
		if days/s <= 15 {
			return s
		}
	}
	return 1000
}
