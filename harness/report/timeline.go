package report

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/oemact/oemact/harness/runner"
	"github.com/oemact/oemact/oemact/licence"
)

// Colours of the licence statuses: the palette of licence's own timeline drawing, so that the
// two pictures read alike.
var statusColour = map[licence.Status]string{
	licence.Unlicensed: "#9e9e9e", licence.Licensed: "#2e7d32", licence.OOBGrace: "#f9a825", licence.OOTGrace: "#ef6c00",
	licence.NonGenuineGrace: "#6a1b9a", licence.Notification: "#212121", licence.ExtendedGrace: "#1565c0",
}

// Reminder marks: colour and height, as in licence's drawing.
type reminderMark struct {
	colour string
	height float64
	label  string
}

var reminderMarks = map[licence.EventKind]reminderMark{
	licence.EventReminderLogon:     {"#1565c0", 7, "reminder at logon"},
	licence.EventReminderPeriodic:  {"#ef6c00", 11, "reminder every 4 hours"},
	licence.EventReminderHourly:    {"#c62828", 15, "reminder every hour"},
	licence.EventNotificationLogon: {"#212121", 11, "dialog at logon (notification)"},
	licence.EventNotificationApp:   {"#757575", 5, "reminder as an application opens"},
}

const unknownColour = "#e0e0e0"

// timelineSVG is the geometry of one machine's licence timeline, ready for the template: all
// numbers are already formatted, all text is escaped by html/template.
type timelineSVG struct {
	W, H        int
	Left, Right string // plot edges
	Bands       []svgBand
	Grace       []svgPolyline
	GraceTicks  []svgText
	Grid        []svgLine
	Steps       []svgStep
	Events      []svgMarker
	Reminders   []svgLine
	AxisTicks   []svgLine
	AxisLabels  []svgText
	BandY       string
	BandH       string
	BandMid     string // baseline of text in the band
	StepTop     string // where step lines start
	AxisY       string
	AxisLabelY  string
	ReminderY   string // baseline of the "reminders" caption
	ChartMid    string
	Empty       bool
}

type svgBand struct {
	X, W, Fill, Title, Label, LabelX string
}

type svgPolyline struct{ Points, Stroke, Title string }

type svgLine struct{ X1, Y1, X2, Y2, Stroke, Title string }

type svgText struct{ X, Y, Text string }

type svgStep struct{ X, LabelY, Label, Title string }

type svgMarker struct{ X, Y, Fill, Title string }

// Layout of the drawing, in SVG user units (the drawing scales to the page width): step labels
// on top, the status band, a row of licence event markers, the grace chart, the reminder ticks and
// the day axis.
const (
	tlW, tlH        = 1000.0, 208.0
	tlLeft, tlRight = 88.0, 16.0
	tlStepRow       = 12.0 // first row of step labels; a second row 11 below
	tlBandY         = 28.0
	tlBandH         = 22.0
	tlEventY        = 60.0
	tlChartTop      = 76.0
	tlChartBottom   = 150.0
	tlReminderBase  = 172.0
	tlAxisY         = 178.0
)

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// buildTimeline lays out a machine's timeline: x is the scenario day; status bands from each
// point to the next; the grace remaining as a line falling one day per day; a marker per licence
// event; a tick per reminder; dashed lines at the machine's steps, labelled with their numbers.
func buildTimeline(sc *runner.Scenario, m *runner.Machine) timelineSVG {
	t := timelineSVG{W: int(tlW), H: int(tlH), Left: f1(tlLeft), Right: f1(tlW - tlRight),
		BandY: f1(tlBandY), BandH: f1(tlBandH), BandMid: f1(tlBandY + tlBandH/2 + 4), StepTop: f1(tlBandY - 2),
		AxisY: f1(tlAxisY), AxisLabelY: f1(tlAxisY + 18), ReminderY: f1(tlReminderBase - 4),
		ChartMid: f1((tlChartTop + tlChartBottom) / 2)}
	pts := append([]runner.TimelinePoint(nil), m.Timeline...)
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].Day < pts[j].Day })
	var steps []*runner.Step
	for _, s := range sc.Steps {
		if s.Machine == m.Name {
			steps = append(steps, s)
		}
	}
	t.Empty = len(pts) == 0

	// The day range: from the scenario's start (or earlier points) to a little past the last point
	// or step, so that the final status shows as a band.
	d0, d1 := 0.0, 0.0
	for _, p := range pts {
		d0, d1 = math.Min(d0, p.Day), math.Max(d1, p.Day)
	}
	for _, s := range steps {
		d0, d1 = math.Min(d0, s.Day), math.Max(d1, s.Day)
	}
	d1 = math.Max(d1+math.Max(0.5, (d1-d0)*0.04), d0+1)
	l := &timelineLayout{t: &t, pts: pts, d0: d0, d1: d1}
	l.bands()
	l.grace()
	l.events(eventKinds(sc))
	l.steps(steps)
	l.axis()
	return t
}

// timelineLayout draws one machine's timeline into t: x is the scenario day in [d0, d1].
type timelineLayout struct {
	t      *timelineSVG
	pts    []runner.TimelinePoint
	d0, d1 float64
}

func (l *timelineLayout) x(d float64) float64 {
	return tlLeft + (tlW-tlLeft-tlRight)*(d-l.d0)/(l.d1-l.d0)
}

func (l *timelineLayout) bands() {
	t, pts, x, d1 := l.t, l.pts, l.x, l.d1
	// Status bands, merging runs of one status. A status that lasted minutes (activated at once,
	// out of tolerance until the next activation) still shows as a sliver, drawn over its
	// neighbours, with its tooltip.
	const minBand = 3.0
	var slivers []svgBand
	for i := 0; i < len(pts); {
		j := i
		for j+1 < len(pts) && pts[j+1].Status == pts[i].Status {
			j++
		}
		from, to := pts[i].Day, d1
		if j+1 < len(pts) {
			to = pts[j+1].Day
		}
		if to > from {
			colour := unknownColour
			if st, err := licence.ParseStatus(pts[i].Status); err == nil {
				colour = statusColour[st]
			}
			w := x(to) - x(from)
			b := svgBand{X: f1(x(from)), W: f1(math.Max(w, minBand)), Fill: colour,
				Title: fmt.Sprintf("%s from day %.1f to day %.1f", pts[i].Status, from, to)}
			if w > 8*float64(len(pts[i].Status))+8 {
				b.Label, b.LabelX = pts[i].Status, f1(x(from)+4)
			}
			if w < minBand {
				b.Title = fmt.Sprintf("%s from day %.3f to day %.3f", pts[i].Status, from, to)
				slivers = append(slivers, b)
			} else {
				t.Bands = append(t.Bands, b)
			}
		}
		i = j + 1
	}
	t.Bands = append(t.Bands, slivers...)

}

func (l *timelineLayout) grace() {
	t, pts, x, d1 := l.t, l.pts, l.x, l.d1
	// Grace remaining: each point's grace falls one day per day until the next point; consecutive
	// pieces that join up make one line.
	gmax := 5.0
	for _, p := range pts {
		gmax = math.Max(gmax, p.GraceRemaining)
	}
	if gmax <= 30 {
		gmax = math.Ceil(gmax/5) * 5
	} else {
		gmax = math.Ceil(gmax/30) * 30
	}
	y := func(g float64) float64 { return tlChartBottom - (tlChartBottom-tlChartTop)*g/gmax }
	for _, g := range []float64{0, gmax / 2, gmax} {
		t.Grid = append(t.Grid, svgLine{X1: f1(tlLeft), Y1: f1(y(g)), X2: f1(tlW - tlRight), Y2: f1(y(g)), Stroke: "#e0e0e0"})
		t.GraceTicks = append(t.GraceTicks, svgText{X: f1(tlLeft - 6), Y: f1(y(g) + 4), Text: fmt.Sprintf("%g d", g)})
	}
	var cur []string
	var curStatus string
	flush := func() {
		if len(cur) >= 2 {
			colour := "#424242"
			if st, err := licence.ParseStatus(curStatus); err == nil {
				colour = statusColour[st]
			}
			t.Grace = append(t.Grace, svgPolyline{Points: strings.Join(cur, " "), Stroke: colour, Title: curStatus + ": grace remaining"})
		}
		cur = nil
	}
	grace := graceOf(pts)
	lastD, lastG := math.NaN(), math.NaN()
	for i, p := range pts {
		g := grace[i]
		if g <= 0 {
			flush()
			continue
		}
		next := d1
		if i+1 < len(pts) {
			next = pts[i+1].Day
		}
		continues := len(cur) > 0 && p.Status == curStatus && math.Abs(lastD-p.Day) < 1e-9 && math.Abs(lastG-g) < 0.01
		if !continues {
			flush()
			curStatus = p.Status
			cur = append(cur, f1(x(p.Day))+","+f1(y(g)))
		}
		endD, endG := next, g-(next-p.Day)
		if endG < 0 {
			endD, endG = p.Day+g, 0
		}
		cur = append(cur, f1(x(endD))+","+f1(y(endG)))
		lastD, lastG = endD, endG
		if endG == 0 {
			flush()
		}
	}
	flush()

}

func (l *timelineLayout) events(kinds map[eventKey]licence.EventKind) {
	t, pts, x := l.t, l.pts, l.x
	// Licence events and reminders. A point that is no licence event of its step (the state at the
	// end of a boot) has no mark: the step's line stands for it.
	for _, p := range pts {
		if p.Event == "" {
			continue
		}
		kind, known := kinds[eventKey{p.Step, p.Time.UnixNano(), p.Event}]
		if !known && !p.Reminder {
			continue
		}
		title := fmt.Sprintf("day %.2f (%s UTC): %s", p.Day, p.Time.UTC().Format("2006-01-02 15:04"), p.Event)
		if known {
			title = fmt.Sprintf("day %.2f (%s UTC) %s: %s", p.Day, p.Time.UTC().Format("2006-01-02 15:04"), kind, p.Event)
		}
		if p.Reminder || kind.Reminder() {
			mk, ok := reminderMarks[kind]
			if !ok {
				mk = reminderMark{"#616161", 8, ""}
			}
			t.Reminders = append(t.Reminders, svgLine{X1: f1(x(p.Day)), Y1: f1(tlReminderBase), X2: f1(x(p.Day)),
				Y2: f1(tlReminderBase - mk.height), Stroke: mk.colour, Title: title})
			continue
		}
		fill := "#ffffff"
		if st, err := licence.ParseStatus(p.Status); err == nil {
			fill = statusColour[st]
		}
		t.Events = append(t.Events, svgMarker{X: f1(x(p.Day)), Y: f1(tlEventY), Fill: fill, Title: title})
	}

}

func (l *timelineLayout) steps(steps []*runner.Step) {
	t, x := l.t, l.x
	// Step boundaries: steps on the same day share a line and a label ("2,3"); a label that would
	// touch the one before it drops to a second row.
	lastEnd := math.Inf(-1)
	row := 0
	for i := 0; i < len(steps); {
		j := i
		for j+1 < len(steps) && math.Abs(steps[j+1].Day-steps[i].Day) < 1e-9 {
			j++
		}
		var nums, titles []string
		for _, s := range steps[i : j+1] {
			nums = append(nums, fmt.Sprint(stepNumber(s)))
			titles = append(titles, fmt.Sprintf("step %d: %s (%s)", stepNumber(s), s.Description, outcome(s.Outcome)))
		}
		label := strings.Join(nums, ",")
		xs := x(steps[i].Day)
		width := 7 * float64(len(label))
		if xs-width/2 < lastEnd+4 && row == 0 {
			row = 1
		} else {
			row = 0
		}
		lastEnd = xs + width/2
		t.Steps = append(t.Steps, svgStep{X: f1(xs), LabelY: f1(tlStepRow + 11*float64(row)), Label: label,
			Title: fmt.Sprintf("day %.1f: %s", steps[i].Day, strings.Join(titles, "; "))})
		i = j + 1
	}

}

func (l *timelineLayout) axis() {
	t, x, d0, d1 := l.t, l.x, l.d0, l.d1
	// Day axis: at most 20 ticks of a round number of days, labelled.
	span := d1 - d0
	tick := math.Pow(10, math.Ceil(math.Log10(span/20))) // for spans of more than 4000 days
	for _, s := range []float64{0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200} {
		if span/s <= 20 {
			tick = s
			break
		}
	}
	// Counted, not stepped until d1: with days read from a report, i*tick may not move.
	first := math.Ceil(d0 / tick)
	for n := 0; n <= 21 && (first+float64(n))*tick <= d1; n++ {
		d := math.Round((first+float64(n))*tick*1000) / 1000
		t.AxisTicks = append(t.AxisTicks, svgLine{X1: f1(x(d)), Y1: f1(tlAxisY), X2: f1(x(d)), Y2: f1(tlAxisY + 5), Stroke: "#000000"})
		t.AxisLabels = append(t.AxisLabels, svgText{X: f1(x(d)), Y: f1(tlAxisY + 18), Text: strconv.FormatFloat(d, 'f', -1, 64)})
	}
}

// eventKey finds a timeline point's licence event among its step's events: the runner records
// the event's message as the point's text.
type eventKey struct {
	step int
	time int64
	text string
}

func eventKinds(sc *runner.Scenario) map[eventKey]licence.EventKind {
	m := map[eventKey]licence.EventKind{}
	for _, s := range sc.Steps {
		for _, e := range s.Events {
			m[eventKey{s.Index, e.Time.UnixNano(), e.Message}] = e.Kind
		}
	}
	return m
}

// graceOf is the grace left at each point. Events that do not set a grace (a failed KMS attempt,
// a hardware change within tolerance) carry none of their own although the machine is still in
// its grace: such a point takes the grace of the point before it, less the days between, so the
// line does not break.
func graceOf(pts []runner.TimelinePoint) []float64 {
	out := make([]float64, len(pts))
	for i, p := range pts {
		out[i] = p.GraceRemaining
		if out[i] > 0 || i == 0 || p.Status != pts[i-1].Status {
			continue
		}
		if st, err := licence.ParseStatus(p.Status); err != nil || !st.Grace() {
			continue
		}
		out[i] = math.Max(0, out[i-1]-(p.Day-pts[i-1].Day))
	}
	return out
}
