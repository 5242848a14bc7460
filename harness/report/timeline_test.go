package report

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/runner"
)

func TestTimelineRetail(t *testing.T) {
	r := fixtureRun()
	sc := r.Scenarios[1]
	m := sc.Machines[0]
	tl := buildTimeline(sc, m)
	require.False(t, tl.Empty)

	// The bands follow the statuses in order, each from its first point to the next status.
	var bands []string
	for _, b := range tl.Bands {
		bands = append(bands, b.Title)
	}
	assert.Equal(t, []string{
		"OOBGrace from day 0.0 to day 2.0",
		"Licensed from day 2.0 to day 10.0",
		"OOTGrace from day 10.0 to day 13.0",
		"Notification from day 13.0 to day 14.6",
	}, bands)
	assert.Equal(t, statusColour[3], tl.Bands[2].Fill)

	// Grace: 30 days falling to 28 by the activation; then the 3-day grace falling to 0 on day 13.
	require.Len(t, tl.Grace, 2)
	x := func(d float64) float64 { return tlLeft + (tlW-tlLeft-tlRight)*d/14.56 }
	pts := func(p svgPolyline) []string { return strings.Fields(p.Points) }
	g := pts(tl.Grace[0])
	assert.Equal(t, f1(x(0))+",76.0", g[0])        // 30 days at the top of the chart
	assert.Equal(t, f1(x(2))+",80.9", g[len(g)-1]) // 28 days
	g = pts(tl.Grace[1])
	assert.Equal(t, f1(x(10))+",142.6", g[0]) // 3 days of 30
	assert.Equal(t, f1(x(13))+",150.0", g[len(g)-1])
	assert.Equal(t, "OOTGrace: grace remaining", tl.Grace[1].Title)

	// A marker per licence event, a tick per reminder.
	events, reminders := 0, 0
	for _, st := range sc.Steps {
		for _, e := range st.Events {
			if e.Kind.Reminder() {
				reminders++
			} else {
				events++
			}
		}
	}
	assert.Len(t, tl.Events, events)
	assert.Equal(t, 4, events) // installed, activated, out of tolerance, grace expired; boots have no mark
	assert.Contains(t, tl.Events[2].Title, "out-of-tolerance: hardware out of tolerance")
	assert.Len(t, tl.Reminders, reminders)
	assert.Equal(t, 2+11+24+1, reminders) // logon, every 4 hours, hourly, the notification dialog
	assert.Equal(t, reminderMarks["reminder-hourly"].colour, tl.Reminders[20].Stroke)

	// The machine's steps, numbered from 1; steps on the same day share a label.
	var labels []string
	for _, s := range tl.Steps {
		labels = append(labels, s.Label)
	}
	assert.Equal(t, []string{"1", "3,4", "6", "8", "10"}, labels)
	assert.Contains(t, tl.Steps[3].Title, "step 8: boot pc (failed)")
}

func TestTimelineEdges(t *testing.T) {
	sc := &runner.Scenario{Name: "x", Steps: []*runner.Step{{Index: 0, Machine: "pc", Description: "boot pc", Day: 0}}}

	// No points: an empty drawing, no division by zero.
	tl := buildTimeline(sc, &runner.Machine{Name: "pc"})
	assert.True(t, tl.Empty)

	// One point at day 0: the range still spans a day, with tenth-of-a-day ticks.
	tl = buildTimeline(sc, &runner.Machine{Name: "pc", Timeline: []runner.TimelinePoint{{Day: 0, Status: "Licensed"}}})
	require.Len(t, tl.Bands, 1)
	assert.Equal(t, f1(tlW-tlLeft-tlRight), tl.Bands[0].W)
	assert.Equal(t, "0.1", tl.AxisLabels[1].Text)
	assert.Equal(t, "1", tl.AxisLabels[len(tl.AxisLabels)-1].Text)

	// Statuses that lasted minutes show as slivers drawn over the long bands.
	tl = buildTimeline(sc, &runner.Machine{Name: "pc", Timeline: []runner.TimelinePoint{
		{Day: 0, Status: "OOBGrace"}, {Day: 0.001, Status: "Licensed"}, {Day: 10, Status: "OOTGrace"}, {Day: 10.002, Status: "Licensed"}}})
	require.Len(t, tl.Bands, 4)
	assert.Equal(t, []string{"Licensed", "Licensed", "OOBGrace", "OOTGrace"},
		[]string{tl.Bands[0].Title[:8], tl.Bands[1].Title[:8], tl.Bands[2].Title[:8], tl.Bands[3].Title[:8]})
	assert.Equal(t, "3.0", tl.Bands[3].W)
	assert.Equal(t, "OOTGrace from day 10.000 to day 10.002", tl.Bands[3].Title)

	// An unknown status is drawn grey rather than dropped, and points out of order are sorted.
	tl = buildTimeline(sc, &runner.Machine{Name: "pc", Timeline: []runner.TimelinePoint{
		{Day: 5, Status: "Licensed"}, {Day: 1, Status: "Bogus", GraceRemaining: 200}}})
	require.Len(t, tl.Bands, 2)
	assert.Equal(t, unknownColour, tl.Bands[0].Fill)
	assert.Equal(t, "210 d", tl.GraceTicks[2].Text, "a long grace widens the scale in steps of 30 days")
}

// A failed KMS attempt sets no grace of its own: the grace line goes on through it.
func TestTimelineGraceCarriesOver(t *testing.T) {
	sc := fixtureRun().Scenarios[2]
	m := sc.Machines[0]
	require.Equal(t, 0.0, m.Timeline[1].GraceRemaining, "the fixture's kms-failed point carries no grace")
	assert.Equal(t, []float64{30, 30, m.Timeline[2].GraceRemaining}, graceOf(m.Timeline))
	tl := buildTimeline(sc, m)
	assert.Len(t, tl.Grace, 1)
}
