package report

import (
	"fmt"
	"html"
	"io"
	"strings"

	"github.com/oemact/oemact/harness/runner"
)

// WriteTimelineSVG draws every machine's licence timeline, one under another, as one standalone
// SVG document: the drawing the HTML report shows, for `oemact simulate --svg`.
func WriteTimelineSVG(w io.Writer, r *runner.Run) error {
	var parts []string
	y := 0
	for _, sc := range r.Scenarios {
		for _, m := range sc.Machines {
			t := buildTimeline(sc, m)
			if t.Empty {
				continue
			}
			var b strings.Builder
			if err := htmlTemplate().ExecuteTemplate(&b, "timeline", t); err != nil {
				return err
			}
			title := fmt.Sprintf("%s: %s (profile %s, %s", sc.Name, m.Name, m.Profile, m.Edition)
			if m.Channel != "" {
				title += ", " + m.Channel
			}
			parts = append(parts, fmt.Sprintf(`<text x="8" y="%d" font-family="DejaVu Sans, Arial, sans-serif" font-size="13" font-weight="bold">%s)</text>`+
				"\n"+`<g transform="translate(0,%d)">%s</g>`, y+16, html.EscapeString(title), y+22, b.String()))
			y += 22 + t.H + 12
		}
	}
	if len(parts) == 0 {
		return fmt.Errorf("no machine reported a licence state: nothing to draw")
	}
	_, err := fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">`+"\n"+
		`<rect width="%d" height="%d" fill="#ffffff"/>`+"\n%s\n</svg>\n", int(tlW), y, int(tlW), y, int(tlW), y, strings.Join(parts, "\n"))
	return err
}

// WriteTimelines prints every machine's licence timeline for people: the day, the time and the
// status after each event, and what happened. Runs of reminders of one kind fold into one line
// unless all is set.
func WriteTimelines(w io.Writer, r *runner.Run, all bool) error {
	var b strings.Builder
	for _, sc := range r.Scenarios {
		for _, m := range sc.Machines {
			fmt.Fprintf(&b, "\n%s: %s (profile %s, %s", sc.Name, m.Name, m.Profile, m.Edition)
			if m.Channel != "" {
				fmt.Fprintf(&b, ", %s", m.Channel)
			}
			b.WriteString(")\n")
			if len(m.Timeline) == 0 {
				b.WriteString("  no licence state was reported (the machine never booted)\n")
				continue
			}
			fmt.Fprintf(&b, "  %6s  %-16s  %-16s  %s\n", "day", "time (UTC)", "status", "what happened")
			writeTimeline(&b, m.Timeline, all)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeTimeline(b *strings.Builder, pts []runner.TimelinePoint, all bool) {
	prev := ""
	for i := 0; i < len(pts); {
		p := pts[i]
		j := i + 1
		if !all && p.Reminder {
			for j < len(pts) && pts[j].Reminder && pts[j].Kind == p.Kind {
				j++
			}
		}
		what := p.Event
		if n := j - i; n > 1 {
			last := pts[j-1]
			what = fmt.Sprintf("%d reminders (%s), to day %.2f %s; the first: %s", n, p.Kind, last.Day, last.Time.Format("15:04"), p.Event)
		}
		status := p.Status
		if status != prev && prev != "" {
			status = "> " + status
		}
		prev = p.Status
		fmt.Fprintf(b, "  %6.2f  %-16s  %-16s  %s\n", p.Day, p.Time.UTC().Format("2006-01-02 15:04"), status, what)
		i = j
	}
}
