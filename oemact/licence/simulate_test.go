package licence

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oemact/oemact/oemact/edition"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseAction(t *testing.T) {
	good := []struct {
		in   string
		want Action
	}{
		{"day 10: activate", Action{Day: 10, Verb: "activate", Args: []string{}}},
		{"day 3 14:30: replace disk nic", Action{Day: 3, Clock: 14*time.Hour + 30*time.Minute, HasClock: true, Verb: "replace", Args: []string{"disk", "nic"}}},
		{"  Day0:REARM ", Action{Day: 0, Verb: "rearm", Args: []string{}}},
		{"day 2: activate fail 0xC004C003", Action{Day: 2, Verb: "activate", Args: []string{"fail", "0xC004C003"}}},
		{"day 2: kms count 24", Action{Day: 2, Verb: "kms", Args: []string{"count", "24"}}},
		{"day 2: install Volume:MAK", Action{Day: 2, Verb: "install", Args: []string{"Volume:MAK"}}},
		{"day 2: marker v2.0", Action{Day: 2, Verb: "marker", Args: []string{"v2.0"}}},
		{"day 2: ip 2001:db8::5", Action{Day: 2, Verb: "ip", Args: []string{"2001:db8::5"}}},
		{"day 2: open Windows Media Center", Action{Day: 2, Verb: "open", Args: []string{"Windows", "Media", "Center"}}},
		{"day 2: add nic", Action{Day: 2, Verb: "add", Args: []string{"nic"}}},
		{"day 2: replace storage motherboard", Action{Day: 2, Verb: "replace", Args: []string{"storage", "motherboard"}}},
	}
	for _, g := range good {
		a, err := ParseAction(g.in, "test")
		require.NoError(t, err, g.in)
		g.want.Source = "test"
		if len(a.Args) == 0 {
			a.Args = []string{}
		}
		assert.Equal(t, g.want, a, g.in)
	}
	bad := []struct{ in, want string }{
		{"activate", `want "day N: ACTION"`},
		{"day x: activate", `want "day N: ACTION"`},
		{"day 1 25:00: activate", "not a time of day"},
		{"day 99999: activate", "out of range"},
		{"day 1: fly", `unknown action "fly"`},
		{"day 1: rearm twice", "takes no arguments"},
		{"day 1: replace flux-capacitor", "unknown component class"},
		{"day 1: replace", "at least one"},
		{"day 1: kms count -3", "0 or more"},
		{"day 1: kms sideways", "kms count N"},
		{"day 1: ip 999.1.1.1", "not an IP address"},
		{"day 1: marker gold", "valid|none|other|v2.0"},
		{"day 1: install Bootleg", "unknown licence channel"},
		{"day 1: activate fail", "activate fail CODE"},
		{"day 1: open", "APPLICATION"},
	}
	for _, b := range bad {
		_, err := ParseAction(b.in, "--event 1")
		require.Error(t, err, b.in)
		assert.Contains(t, err.Error(), b.want, b.in)
		assert.Contains(t, err.Error(), "--event 1", "errors say where")
	}
}

func FuzzParseAction(f *testing.F) {
	for _, s := range []string{"day 10: activate", "day 3 14:30: replace disk nic", "day 2: kms count 24", "day 1: ip ::1", "day 0:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAction(s, "fuzz")
		if err != nil {
			return
		}
		// What parses prints back to something that parses to the same action.
		b, err := ParseAction(a.String(), "fuzz")
		if err != nil {
			t.Fatalf("%q parsed, but its String %q does not: %v", s, a.String(), err)
		}
		if a.String() != b.String() {
			t.Fatalf("%q -> %q -> %q", s, a.String(), b.String())
		}
	})
}

func TestSpecDefaults(t *testing.T) {
	sc, err := (&Spec{}).Scenario()
	require.NoError(t, err)
	assert.Equal(t, Product{Channel: edition.Retail, Edition: "win7-professional"}, sc.Product)
	assert.Equal(t, 35, sc.Days)
	assert.Equal(t, DefaultStart, sc.Start)
	assert.Equal(t, DefaultIP, sc.IP)
	assert.Equal(t, 25, sc.KMSCount, "the edition's KMS threshold")

	sc, err = (&Spec{Channel: "OEM:DM"}).Scenario()
	require.NoError(t, err)
	assert.Equal(t, "win8-core", sc.Product.Edition, "the first edition sold through OEM:DM")
	sc, err = (&Spec{Channel: "oem:slp"}).Scenario()
	require.NoError(t, err)
	assert.Equal(t, "TSTOEM", sc.Product.OEMID)
	sc, err = (&Spec{Channel: "Volume:GVLK", Edition: "server2008r2-standard"}).Scenario()
	require.NoError(t, err)
	assert.Equal(t, 5, sc.KMSCount)

	for _, tt := range []struct {
		spec Spec
		want string
	}{
		{Spec{Channel: "Pirate"}, "unknown licence channel"},
		{Spec{Edition: "win7-enterprise"}, "not sold through channel Retail"},
		{Spec{Days: -1}, "days must be between"},
		{Spec{Days: MaxDays + 1}, "days must be between"},
		{Spec{Start: "yesterday"}, "RFC 3339"},
		{Spec{IP: "here"}, "not an IP address"},
		{Spec{Marker: "gold"}, "marker"},
		{Spec{Config: map[string]any{"oot_grace": "soon"}}, "oot_grace"},
		{Spec{Config: map[string]any{"oot_grace": "-1d"}}, "oot_grace"},
		{Spec{Config: map[string]any{"kms_retry": "1m"}}, "15 minutes"},
		{Spec{Config: map[string]any{"colour": "blue"}}, "unknown field"},
	} {
		_, err := tt.spec.Scenario()
		require.Error(t, err, "%+v", tt.spec)
		assert.Contains(t, err.Error(), tt.want)
	}
	var neg = -2
	_, err = (&Spec{KMSCount: &neg}).Scenario()
	assert.ErrorContains(t, err, "kms_count")
}

func TestLoadSpec(t *testing.T) {
	s, err := LoadSpec(filepath.Join("testdata", "kms-office.yaml"))
	require.NoError(t, err)
	sc, err := s.Scenario()
	require.NoError(t, err)
	assert.Equal(t, edition.VolumeGVLK, sc.Product.Channel)
	assert.Equal(t, 240, sc.Days)
	require.Len(t, sc.Actions, 4)
	assert.Equal(t, filepath.Join("testdata", "kms-office.yaml")+":8", sc.Actions[0].Source, "actions know their file and line")

	dir := t.TempDir()
	for _, tt := range []struct{ doc, want string }{
		{"chanel: Retail\n", "s.yaml:1: chanel: unknown field; did you mean channel?"},
		{"events:\n  - day: 3\n", "s.yaml:2: events.0: an event is a string like"},
		{"days: many\n", `s.yaml:1: days: want a whole number, got "many"`},
		{"events: [\"day 3: fly\"]\n", ":1"},
		{"countries:\n  - {prefix: nowhere, country: IN}\n", "countries[0]"},
	} {
		p := filepath.Join(dir, "s.yaml")
		require.NoError(t, os.WriteFile(p, []byte(tt.doc), 0o644))
		s, err := LoadSpec(p)
		if err == nil {
			_, err = s.Scenario()
		}
		require.Error(t, err, tt.doc)
		assert.Contains(t, err.Error(), tt.want)
	}
	_, err = LoadSpec(filepath.Join(dir, "missing.yaml"))
	assert.Error(t, err)
}

func simulate(t *testing.T, s Spec) *Result {
	t.Helper()
	sc, err := s.Scenario()
	require.NoError(t, err)
	r, err := Simulate(sc)
	require.NoError(t, err)
	return r
}

func text(t *testing.T, r *Result, all bool) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, r.WriteText(&b, all))
	return b.String()
}

func spec(channel, ed string, days int, events ...string) Spec {
	s := Spec{Channel: channel, Edition: ed, Days: days}
	for i, e := range events {
		s.AddEvent(e, "event "+string(rune('1'+i)))
	}
	return s
}

// TestSimulateGolden keeps the timelines of typical lives as golden files; the first one is a
// retail Windows 7 machine never activated, over 35 days.
func TestSimulateGolden(t *testing.T) {
	kmsFile, err := LoadSpec(filepath.Join("testdata", "kms-office.yaml"))
	require.NoError(t, err)
	cases := []struct {
		name string
		spec Spec
	}{
		{"retail-never-activated-35d", spec("Retail", "win7-homepremium", 35)},
		{"retail-hardware-rearm", spec("Retail", "win7-ultimate", 45,
			"day 3: activate", "day 10: replace nic", "day 12: replace disk", "day 16: activate phone", "day 20: rearm", "day 21: rearm", "day 22: rearm", "day 23: rearm")},
		{"oem-slp", spec("OEM:SLP", "win7-professional", 20,
			"day 2: replace disk nic memory", "day 5: marker other", "day 6: restore", "day 9: replace board", "day 14: activate")},
		{"starter-geography", spec("Retail", "win7-starter", 3, "day 1: activate", "day 1 10:00: ip 192.0.2.5", "day 1 10:05: activate")},
		{"blocked-key", spec("Retail", "win7-professional", 70, "day 1: activate blocked", "day 2: rearm", "day 40: install OEM:COA", "day 41: activate")},
		{"kms-office", *kmsFile},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			golden(t, "simulate-"+c.name+".golden", text(t, simulate(t, c.spec), false))
		})
	}
}

// TestSimulatedRemindersFollowTheSchedule: the simulator's reminders are exactly the schedule's
// for a user who logs on at 09:00 every day, and its 35-day retail life ends as DESIGN.md says.
func TestSimulatedRemindersFollowTheSchedule(t *testing.T) {
	r := simulate(t, spec("Retail", "win7-homepremium", 35))
	var logons []time.Time
	for d := 0; d < 35; d++ {
		logons = append(logons, time.Date(2009, 10, 22+d, 9, 0, 0, 0, time.UTC))
	}
	want := DefaultSchedule().Reminders(DefaultStart, DefaultStart.Add(30*Day), logons)
	var got []Reminder
	dialogs := 0
	for _, e := range r.Events {
		switch e.Kind {
		case EventReminderLogon, EventReminderPeriodic, EventReminderHourly:
			got = append(got, Reminder{e.Time, ReminderKind(strings.TrimPrefix(string(e.Kind), "reminder-"))})
		case EventNotificationLogon:
			dialogs++
		}
	}
	assert.Equal(t, want, got)
	assert.Len(t, got, 63)
	assert.Equal(t, 5, dialogs, "a dialog at each logon on days 30 to 34")
	assert.Equal(t, Notification, r.Final.Status)
	assert.Equal(t, 68, r.Reminders)

	// Every event, unfolded, is one line.
	all := text(t, r, true)
	assert.Equal(t, 3+len(r.Events)+3, strings.Count(all, "\n"))
}

func TestSimulateKMS(t *testing.T) {
	s := spec("Volume:GVLK", "win7-enterprise", 200, "day 5: kms count 25", "day 20: kms down")
	n := 24
	s.KMSCount = &n
	r := simulate(t, s)
	require.NotEmpty(t, r.KMSAttempts)
	// Retries every 2 hours until the count reaches 25, then renewals every 7 days, then retries
	// every 2 hours while the host is gone; expiry 180 days after the last renewal.
	var activatedAt, lastRenewal time.Time
	for i, a := range r.KMSAttempts {
		if i == 0 {
			assert.Equal(t, DefaultStart, a.Time)
			continue
		}
		gap := a.Time.Sub(r.KMSAttempts[i-1].Time)
		prev := r.KMSAttempts[i-1]
		switch {
		case prev.Activated:
			assert.Equal(t, 7*Day, gap, "renewal after %s", stamp(prev.Time))
			lastRenewal = prev.Time
		default:
			assert.Equal(t, 2*time.Hour, gap, "retry after %s", stamp(prev.Time))
		}
		if a.Activated && activatedAt.IsZero() {
			activatedAt = a.Time
			assert.Equal(t, 25, a.Count)
		}
	}
	assert.Equal(t, time.Date(2009, 10, 27, 10, 0, 0, 0, time.UTC), activatedAt, "the first retry after the count reached 25 at 09:00")
	var expired Event
	for _, e := range r.Events {
		if e.Kind == EventKMSExpired {
			expired = e
		}
	}
	assert.Equal(t, lastRenewal.Add(180*Day), expired.Time)
	assert.Equal(t, OOTGrace, r.Final.Status)
}

func TestSimulateWindows7VolumeNeedsMarker(t *testing.T) {
	for _, tt := range []struct {
		edition, marker string
		want            Status
	}{
		{"win7-professional", MarkerValid, Licensed},
		{"win7-professional", MarkerNone, OOBGrace},
		{"win7-enterprise", MarkerNone, OOBGrace},
		{"win7-enterprise", MarkerOther, Licensed}, // any Windows marker qualifies for KMS
		{"server2008r2-standard", MarkerNone, Licensed},
	} {
		s := spec("Volume:GVLK", tt.edition, 2)
		s.Marker = tt.marker
		r := simulate(t, s)
		assert.Equal(t, tt.want, r.Final.Status, "%s with marker %s", tt.edition, tt.marker)
	}
}

func TestSimulateRejectsActionsOutsideTheRun(t *testing.T) {
	sc, err := (&Spec{Days: 5, Events: []sourced{{"day 5: activate", "--event 1"}}}).Scenario()
	require.NoError(t, err)
	_, err = Simulate(sc)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--event 1")
	assert.Contains(t, err.Error(), "outside the simulated 5 days")
	sc, err = (&Spec{Days: 5, Events: []sourced{{"day 0 07:00: activate", "--event 1"}}}).Scenario()
	require.NoError(t, err)
	_, err = Simulate(sc)
	assert.ErrorContains(t, err, "outside")
}

func TestSimulateJSON(t *testing.T) {
	r := simulate(t, spec("Retail", "win7-professional", 35, "day 31: rearm"))
	b, err := json.Marshal(r)
	require.NoError(t, err)
	var doc struct {
		Product struct {
			Channel string `json:"channel"`
		} `json:"product"`
		Events []struct {
			Kind string `json:"kind"`
			From string `json:"from"`
			To   string `json:"to"`
		} `json:"events"`
		Final struct {
			LicenseStatus int `json:"license_status"`
			Rearms        int `json:"rearms"`
		} `json:"final"`
		Config map[string]any `json:"config"`
	}
	require.NoError(t, json.Unmarshal(b, &doc))
	assert.Equal(t, "Retail", doc.Product.Channel)
	assert.Equal(t, 2, doc.Final.LicenseStatus)
	assert.Equal(t, 1, doc.Final.Rearms)
	assert.Equal(t, "30d", doc.Config["initial_grace"])
	assert.Equal(t, len(r.Events), len(doc.Events))
	// The saved state of the run loads back.
	_, err = Load(r.State, NewManualClock(r.End))
	require.NoError(t, err)
}

// TestSVG checks the drawing is well-formed XML with one mark per reminder, status bands and
// the rearm line.
func TestSVG(t *testing.T) {
	r := simulate(t, spec("Retail", "win7-professional", 40, "day 33: rearm"))
	var b bytes.Buffer
	require.NoError(t, r.WriteSVG(&b))
	dec := xml.NewDecoder(bytes.NewReader(b.Bytes()))
	lines, rects, titles := 0, 0, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "line":
				lines++
			case "rect":
				rects++
			case "title":
				titles++
			}
		}
	}
	svg := b.String()
	for kind, st := range reminderStyle {
		n := 0
		for _, e := range r.Events {
			if e.Kind == kind {
				n++
			}
		}
		// Each reminder is drawn on the whole run, and again in the zoom when it falls there.
		assert.GreaterOrEqual(t, strings.Count(svg, `stroke="`+st.colour+`" stroke-width="1.2"`), n, kind)
	}
	assert.Contains(t, svg, "rearm 1")
	assert.Contains(t, svg, statusColour[Notification])
	assert.Contains(t, svg, "grace ends")
	assert.Greater(t, lines, r.Reminders)
	assert.Greater(t, rects, 3)
	assert.Greater(t, titles, r.Reminders)
}
