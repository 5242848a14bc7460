package licence

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/oemact/oemact/firmware/fileio"
	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/hwid"
	"github.com/oemact/oemact/oemact/yamldoc"
	"go.yaml.in/yaml/v3"
)

// DefaultStart is when a simulation starts unless told otherwise: 08:00 UTC on 22 October 2009,
// the day Windows 7 went on sale. The model's choice: any date works, a fixed one keeps outputs
// reproducible.
var DefaultStart = time.Date(2009, 10, 22, 8, 0, 0, 0, time.UTC)

// DefaultIP is the address a simulated activation comes from: 203.0.113.10, in the documentation
// range that DefaultCountries places in the United States (outside Windows 7 Starter's markets).
var DefaultIP = netip.MustParseAddr("203.0.113.10")

// MaxDays bounds a simulation.
const MaxDays = 3650

// Marker states of the simulated firmware.
const (
	MarkerValid = "valid" // the product's OEM marker, SLIC 2.1 (the default)
	MarkerNone  = "none"  // no SLIC table
	MarkerOther = "other" // another OEM's marker (OTHOEM), which the product's OEM certificate does not match
	MarkerV20   = "v2.0"  // the product's OEM marker at SLIC version 2.0
)

var markerStates = []string{MarkerValid, MarkerNone, MarkerOther, MarkerV20}

// Scenario is a licence's life to simulate: one machine, a simulated user who boots and logs on
// once a day at Config.LogonAt, a KMS host, an activation service that applies the channel
// rules, and a list of actions.
type Scenario struct {
	Product Product
	// Blocked makes the simulated service answer "blocked" to activations of this key.
	Blocked bool
	Start   time.Time
	Days    int
	Config  Config
	Actions []Action
	// KMSCount is the KMS host's count of machines at the start; KMSDown starts it unreachable.
	KMSCount int
	KMSDown  bool
	// IP is where activation requests come from, judged by Countries (Windows 7 Starter).
	IP        netip.Addr
	Countries CountryTable
	// Marker is the firmware at the start (MarkerValid, MarkerNone, ...).
	Marker string
}

// Action is one scripted input: "day 10: activate", "day 12 14:30: replace disk nic".
type Action struct {
	Day int
	// Clock is the time of day; HasClock false means the simulated user's logon time.
	Clock    time.Duration
	HasClock bool
	Verb     string
	Args     []string
	// Source says where the action was written ("--event 2", "events.yaml:14"), for errors.
	Source string
}

func (a Action) String() string {
	s := fmt.Sprintf("day %d", a.Day)
	if a.HasClock {
		s += fmt.Sprintf(" %02d:%02d", int(a.Clock/time.Hour), int(a.Clock%time.Hour/time.Minute))
	}
	return s + ": " + strings.TrimSpace(a.Verb+" "+strings.Join(a.Args, " "))
}

var actionRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)^\s*day\s*(\d+)(?:\s+(\d{1,2}):(\d{2}))?\s*:\s*(.+?)\s*$`)
})

// ActionHelp lists the actions a scenario understands.
const ActionHelp = `actions ("day N[ HH:MM]: ACTION"; without HH:MM, at the user's logon time):
  activate [online|phone]     activate through the service (Starter: judged by the IP)
  activate fail CODE          the service answers failure with CODE
  activate blocked            the service reports the key as blocked
  rearm                       slmgr /rearm
  install CHANNEL             install a key of another channel for the same edition
  replace CLASS...            replace components (nic disk memory cpu display storage system board bios tpm) and reboot
  add CLASS...                add a second component of a class and reboot
  restore                     put the original hardware and firmware back and reboot
  marker valid|none|other|v2.0  change the firmware marker and reboot
  kms count N | kms down | kms up   change the KMS host
  ip ADDRESS                  activation requests come from ADDRESS
  boot | logon | open APP     reboot, log on, open an application`

// ParseAction reads one action; source names it in errors.
func ParseAction(s, source string) (Action, error) {
	m := actionRE().FindStringSubmatch(s)
	if m == nil {
		return Action{}, fmt.Errorf("%s: %q: want \"day N: ACTION\" or \"day N HH:MM: ACTION\"", source, s)
	}
	a := Action{Source: source}
	day, err := strconv.Atoi(m[1])
	if err != nil || day > MaxDays {
		return Action{}, fmt.Errorf("%s: day %s is out of range (0 to %d)", source, m[1], MaxDays)
	}
	a.Day = day
	if m[2] != "" {
		h, _ := strconv.Atoi(m[2])
		mi, _ := strconv.Atoi(m[3])
		if h > 23 || mi > 59 {
			return Action{}, fmt.Errorf("%s: %s:%s is not a time of day", source, m[2], m[3])
		}
		a.Clock, a.HasClock = time.Duration(h)*time.Hour+time.Duration(mi)*time.Minute, true
	}
	words := strings.Fields(m[4])
	if len(words) == 0 {
		return Action{}, fmt.Errorf("%s: %q: the action is missing after the colon", source, s)
	}
	a.Verb, a.Args = strings.ToLower(words[0]), words[1:]
	if err := a.check(); err != nil {
		return Action{}, fmt.Errorf("%s: %q: %w", source, s, err)
	}
	return a, nil
}

func (a Action) check() error {
	n := len(a.Args)
	arg := func(i int) string { return strings.ToLower(a.Args[i]) }
	switch a.Verb {
	case "activate":
		switch {
		case n == 0, n == 1 && (arg(0) == "online" || arg(0) == "phone" || arg(0) == "telephone"), n == 1 && arg(0) == "blocked":
			return nil
		case n == 2 && arg(0) == "fail":
			return nil
		}
		return errors.New("want activate [online|phone], activate fail CODE or activate blocked")
	case "rearm", "restore", "boot", "logon":
		if n != 0 {
			return fmt.Errorf("%s takes no arguments", a.Verb)
		}
	case "install":
		if n != 1 {
			return errors.New("want install CHANNEL (Retail, OEM:COA, Volume:MAK, ...)")
		}
		_, err := edition.ParseChannel(a.Args[0])
		return err
	case "replace", "add":
		if n == 0 {
			return fmt.Errorf("%s needs at least one component class", a.Verb)
		}
		for _, c := range a.Args {
			if _, err := parseClass(c); err != nil {
				return err
			}
		}
	case "marker":
		if n != 1 || !slices.Contains(markerStates, arg(0)) {
			return fmt.Errorf("want marker %s", strings.Join(markerStates, "|"))
		}
	case "kms":
		switch {
		case n == 1 && (arg(0) == "down" || arg(0) == "up"):
			return nil
		case n == 2 && arg(0) == "count":
			if c, err := strconv.Atoi(a.Args[1]); err != nil || c < 0 {
				return fmt.Errorf("kms count %q: want a number of machines, 0 or more", a.Args[1])
			}
			return nil
		}
		return errors.New("want kms count N, kms down or kms up")
	case "ip":
		if n != 1 {
			return errors.New("want ip ADDRESS")
		}
		if _, err := netip.ParseAddr(a.Args[0]); err != nil {
			return fmt.Errorf("ip %q is not an IP address", a.Args[0])
		}
	case "open":
		if n == 0 {
			return errors.New("want open APPLICATION")
		}
	default:
		return fmt.Errorf("unknown action %q\n%s", a.Verb, ActionHelp)
	}
	return nil
}

var classAliases = map[string]hwid.Class{"storage": hwid.StorageController, "network": hwid.NIC, "ram": hwid.Memory, "motherboard": hwid.Board, "mainboard": hwid.Board}

func parseClass(s string) (hwid.Class, error) {
	k := strings.ToLower(s)
	if c, ok := classAliases[k]; ok {
		return c, nil
	}
	for _, c := range hwid.Classes {
		if string(c) == k {
			return c, nil
		}
	}
	names := make([]string, len(hwid.Classes))
	for i, c := range hwid.Classes {
		names[i] = string(c)
	}
	return "", fmt.Errorf("unknown component class %q (known: %s, storage)", s, strings.Join(names, ", "))
}

// Spec is a scenario as a user writes it (YAML file or flags), before it is checked.
type Spec struct {
	Channel   string         `yaml:"channel"`
	Edition   string         `yaml:"edition"`
	Days      int            `yaml:"days"`
	Start     string         `yaml:"start"`
	KMSCount  *int           `yaml:"kms_count"`
	KMSDown   bool           `yaml:"kms_down"`
	IP        string         `yaml:"ip"`
	Marker    string         `yaml:"marker"`
	Events    []sourced      `yaml:"events"`
	Config    map[string]any `yaml:"config"`
	Countries []struct {
		Prefix  string `yaml:"prefix"`
		Country string `yaml:"country"`
	} `yaml:"countries"`
	// Product, when set, is the installed key (from a catalog entry) and overrides Channel and
	// Edition; Blocked comes with it.
	Product *Product `yaml:"-"`
	Blocked bool     `yaml:"-"`
}

type sourced struct {
	Text   string
	Source string
}

func (s *sourced) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("an event is a string like \"day 10: activate\"")
	}
	s.Text, s.Source = n.Value, fmt.Sprintf("line %d", n.Line)
	return nil
}

// AddEvent appends an action written on the command line.
func (s *Spec) AddEvent(text, source string) { s.Events = append(s.Events, sourced{text, source}) }

// LoadSpec reads a scenario file (YAML). Unknown fields are errors; errors name the file and line.
func LoadSpec(path string) (*Spec, error) {
	b, err := fileio.ReadFile(path, fileio.YAMLLimit)
	if err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	var s Spec
	if _, err := yamldoc.Decode(b, path, &s); err != nil {
		return nil, err
	}
	for i := range s.Events {
		s.Events[i].Source = path + ":" + strings.TrimPrefix(s.Events[i].Source, "line ")
	}
	return &s, nil
}

// Scenario checks the spec and fills in the defaults: channel Retail, edition win7-professional
// (or the first edition sold through the channel), 35 days from DefaultStart, the KMS host at the
// edition's threshold, requests from DefaultIP judged by DefaultCountries, a valid marker.
func (s *Spec) Scenario() (Scenario, error) {
	sc := Scenario{Start: DefaultStart, Days: 35, Config: DefaultConfig(), IP: DefaultIP, Countries: DefaultCountries, Marker: MarkerValid, KMSDown: s.KMSDown, Blocked: s.Blocked}
	if s.Product != nil {
		sc.Product = *s.Product
	} else {
		ch := edition.Retail
		if s.Channel != "" {
			c, err := edition.ParseChannel(s.Channel)
			if err != nil {
				return sc, err
			}
			ch = c
		}
		edID := s.Edition
		if edID == "" {
			edID = "win7-professional"
			if ed, _ := edition.Lookup(edID); !ed.Allows(ch) {
				for _, e := range edition.All() {
					if e.Allows(ch) {
						edID = e.ID
						break
					}
				}
			}
		}
		sc.Product = Product{Channel: ch, Edition: edID}
		if ch == edition.OEMSLP {
			sc.Product.OEMID = "TSTOEM"
		}
	}
	if err := sc.Product.Validate(); err != nil {
		return sc, err
	}
	if s.Days != 0 {
		sc.Days = s.Days
	}
	if sc.Days <= 0 || sc.Days > MaxDays {
		return sc, fmt.Errorf("days must be between 1 and %d, got %d", MaxDays, sc.Days)
	}
	if s.Start != "" {
		t, err := time.Parse(time.RFC3339, s.Start)
		if err != nil {
			return sc, fmt.Errorf("start %q: want an RFC 3339 time like 2009-10-22T08:00:00Z", s.Start)
		}
		sc.Start = t.UTC()
	}
	if len(s.Config) > 0 {
		b, err := json.Marshal(s.Config)
		if err != nil {
			return sc, fmt.Errorf("config: %w", err)
		}
		if err := json.Unmarshal(b, &sc.Config); err != nil {
			return sc, err
		}
		if err := sc.Config.Validate(); err != nil {
			return sc, err
		}
	}
	ed, _ := sc.Product.EditionInfo()
	sc.KMSCount = ed.ReleaseInfo().KMSThreshold
	if s.KMSCount != nil {
		if *s.KMSCount < 0 {
			return sc, fmt.Errorf("kms_count must be 0 or more, got %d", *s.KMSCount)
		}
		sc.KMSCount = *s.KMSCount
	}
	if s.IP != "" {
		ip, err := netip.ParseAddr(s.IP)
		if err != nil {
			return sc, fmt.Errorf("ip %q is not an IP address", s.IP)
		}
		sc.IP = ip
	}
	if s.Marker != "" {
		if !slices.Contains(markerStates, strings.ToLower(s.Marker)) {
			return sc, fmt.Errorf("marker %q: want %s", s.Marker, strings.Join(markerStates, ", "))
		}
		sc.Marker = strings.ToLower(s.Marker)
	}
	if len(s.Countries) > 0 {
		sc.Countries = nil
		for i, c := range s.Countries {
			p, err := netip.ParsePrefix(c.Prefix)
			if err != nil || len(c.Country) != 2 {
				return sc, fmt.Errorf("countries[%d]: want a prefix like 192.0.2.0/24 and a two-letter country, got %q %q", i, c.Prefix, c.Country)
			}
			sc.Countries = append(sc.Countries, CountryRange{p, strings.ToUpper(c.Country)})
		}
	}
	for _, e := range s.Events {
		a, err := ParseAction(e.Text, e.Source)
		if err != nil {
			return sc, err
		}
		sc.Actions = append(sc.Actions, a)
	}
	return sc, nil
}

// EventInput is a simulation's own log entry: the scripted action, shown where it happened.
const EventInput EventKind = "input"

// Sample is the machine's status at a moment of the simulation.
type Sample struct {
	Time     time.Time `json:"time"`
	Status   Status    `json:"status"`
	GraceEnd time.Time `json:"grace_end,omitzero"`
	Rearms   int       `json:"rearms"`
}

// KMSAttempt is one contact with the KMS host.
type KMSAttempt struct {
	Time      time.Time `json:"time"`
	Reached   bool      `json:"reached"`
	Count     int       `json:"count"`
	Activated bool      `json:"activated"`
}

// Result is a simulated life.
type Result struct {
	Product     Product      `json:"product"`
	EditionName string       `json:"edition_name"`
	Start       time.Time    `json:"start"`
	End         time.Time    `json:"end"`
	Days        int          `json:"days"`
	Config      Config       `json:"config"`
	Events      []Event      `json:"events"`
	KMSAttempts []KMSAttempt `json:"kms_attempts,omitempty"`
	Reminders   int          `json:"reminders"`
	Final       Snapshot     `json:"final"`
	// Samples hold the status every hour and at every input, for drawing.
	Samples []Sample `json:"-"`
	// State is the machine's saved state at the end.
	State json.RawMessage `json:"-"`
}

// simWorld is everything around the machine: hardware, firmware, KMS host, service.
type simWorld struct {
	sc       Scenario
	ed       edition.Edition
	product  Product
	gen      map[hwid.Class]int // replacements so far per class
	extra    map[hwid.Class]int // added components per class
	marker   string
	kmsCount int
	kmsDown  bool
	ip       netip.Addr
}

var baseHardware = []struct {
	class hwid.Class
	value string
}{
	{hwid.NIC, "52:54:00:12:34:56"},
	{hwid.Disk, "OEMACT-TEST-DISK-0001"},
	{hwid.Memory, hwid.MemoryRange(4 << 20)},
	{hwid.CPU, "QEMU Virtual CPU version 2.5+ x2"},
	{hwid.Display, "1234:1111"},
	{hwid.StorageController, "1af4:1001"},
	{hwid.System, "TSTOEM TSTMODEL 4c4c4544-0000-1000-8000-000000000001"},
	{hwid.Board, "TSTOEM TSTBOARD BSN-0001"},
	{hwid.BIOS, "TSTOEM BIOS 1.0"},
}

func (w *simWorld) inventory() *hwid.Inventory {
	inv := &hwid.Inventory{}
	for _, b := range baseHardware {
		v := b.value
		if g := w.gen[b.class]; g > 0 {
			v = fmt.Sprintf("%s (replacement %d)", v, g)
		}
		inv.Add(b.class, v)
		for i := 1; i <= w.extra[b.class]; i++ {
			inv.Add(b.class, fmt.Sprintf("%s (added %d)", b.value, i))
		}
	}
	if g := w.gen[hwid.TPM]; g > 0 {
		inv.Add(hwid.TPM, fmt.Sprintf("TEST EK %d", g))
	}
	return inv
}

func (w *simWorld) oem() string {
	if w.product.OEMID != "" {
		return w.product.OEMID
	}
	return "TSTOEM"
}

// firmware plays the OEM Activation evaluation's verdict for the simulated marker.
func (w *simWorld) firmware() *Firmware {
	slp := w.product.Channel == edition.OEMSLP
	need := w.ed.ReleaseInfo().SLICVersion
	oem := w.oem()
	switch w.marker {
	case MarkerNone:
		return &Firmware{Reasons: []string{"no SLIC table in the firmware"}}
	case MarkerOther:
		return &Firmware{WindowsMarker: true, Marker: "OTHOEM/OTHBOARD/2.1",
			Reasons: []string{fmt.Sprintf("the marker is OTHOEM's: the %s OEM certificate's key does not match the SLIC key", oem)}}
	case MarkerV20:
		fw := &Firmware{WindowsMarker: true, Marker: oem + "/TSTBOARD/2.0"}
		if need > edition.SLIC20 {
			fw.Reasons = []string{fmt.Sprintf("SLIC version 2.0 is below the 2.1 that %s requires", w.ed.ReleaseInfo().Name)}
		} else {
			fw.OAValid = slp
		}
		return fw
	}
	fw := &Firmware{WindowsMarker: true, Marker: oem + "/TSTBOARD/2.1", OAValid: slp}
	if slp && need == 0 {
		fw.OAValid, fw.Reasons = false, []string{w.ed.ReleaseInfo().Name + " does not use SLIC markers"}
	}
	return fw
}

func (w *simWorld) boot() Boot { return Boot{Inventory: w.inventory(), Firmware: w.firmware()} }

func (w *simWorld) kms() KMSAnswer {
	if w.kmsDown {
		return KMSAnswer{Reached: false}
	}
	return KMSAnswerFor(w.ed, w.kmsCount)
}

// activation plays the activation service: a blocked key is blocked, Starter is judged by the
// request's IP, everything else succeeds (the MAK pool and key bindings are the service's).
func (w *simWorld) activation(a Action) ActivationResult {
	method := "online"
	if len(a.Args) == 1 && (strings.EqualFold(a.Args[0], "phone") || strings.EqualFold(a.Args[0], "telephone")) {
		method = "telephone"
	}
	switch {
	case len(a.Args) == 1 && strings.EqualFold(a.Args[0], "blocked"), w.sc.Blocked && w.product == w.sc.Product:
		return ActivationResult{Outcome: Blocked, Code: "key-blocked", Method: method}
	case len(a.Args) == 2:
		return ActivationResult{Outcome: Failed, Code: a.Args[1], Method: method}
	}
	if err := CheckMarket(w.ed, w.ip, w.sc.Countries); err != nil {
		return ActivationResult{Outcome: Failed, Code: "outside-market", Message: err.Error(), Method: method}
	}
	return ActivationResult{Outcome: Succeeded, Method: method}
}

// Simulate plays a scenario. The machine is stepped to every logon, action, KMS attempt and hour;
// grace expiries and reminders fall at their exact times in between.
func Simulate(sc Scenario) (*Result, error) {
	if err := sc.Product.Validate(); err != nil {
		return nil, err
	}
	if sc.Days <= 0 || sc.Days > MaxDays {
		return nil, fmt.Errorf("days must be between 1 and %d, got %d", MaxDays, sc.Days)
	}
	if err := sc.Config.Validate(); err != nil {
		return nil, err
	}
	ed, _ := sc.Product.EditionInfo()
	start := sc.Start.UTC()
	end := start.Add(time.Duration(sc.Days) * Day)
	midnight := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, time.UTC)

	type timed struct {
		at time.Time
		a  Action
	}
	var actions []timed
	for _, a := range sc.Actions {
		at := midnight.Add(time.Duration(a.Day) * Day)
		if a.HasClock {
			at = at.Add(a.Clock)
		} else {
			at = at.Add(sc.Config.LogonAt)
		}
		if at.Before(start) || !at.Before(end) {
			return nil, fmt.Errorf("%s: %q falls at %s, outside the simulated %d days (%s to %s)", a.Source, a.String(), stamp(at), sc.Days, stamp(start), stamp(end))
		}
		actions = append(actions, timed{at, a})
	}
	sort.SliceStable(actions, func(i, j int) bool { return actions[i].at.Before(actions[j].at) })

	w := &simWorld{sc: sc, ed: ed, product: sc.Product, gen: map[hwid.Class]int{}, extra: map[hwid.Class]int{},
		marker: sc.Marker, kmsCount: sc.KMSCount, kmsDown: sc.KMSDown, ip: sc.IP}
	if w.marker == "" {
		w.marker = MarkerValid
	}
	if !w.ip.IsValid() {
		w.ip = DefaultIP
	}
	clk := NewManualClock(start)
	m, err := New(sc.Config, clk)
	if err != nil {
		return nil, err
	}
	r := &Result{Product: sc.Product, EditionName: ed.Name, Start: start, End: end, Days: sc.Days, Config: sc.Config}
	collect := func() { r.Events = append(r.Events, m.Drain()...) }
	sample := func(t time.Time) {
		st := &m.st
		s := Sample{Time: t, Status: st.Status, Rearms: st.Rearms}
		if st.Status.Grace() {
			s.GraceEnd = st.GraceEnd
		}
		if n := len(r.Samples); n > 0 && r.Samples[n-1].Time.Equal(t) && r.Samples[n-1].GraceEnd.Equal(s.GraceEnd) && r.Samples[n-1].Status == s.Status && r.Samples[n-1].Rearms == s.Rearms {
			return
		}
		r.Samples = append(r.Samples, s)
	}
	sample(start)
	if err := m.InstallKey(sc.Product); err != nil {
		return nil, err
	}
	m.Boot(w.boot())
	collect()
	sample(start)

	nextLogon := midnight.Add(sc.Config.LogonAt)
	if nextLogon.Before(start) {
		nextLogon = nextLogon.Add(Day)
	}
	nextSample := start.Add(time.Hour)
	ai := 0
	for {
		t := end
		pick := func(c time.Time) {
			if c.Before(t) {
				t = c
			}
		}
		pick(nextLogon)
		pick(nextSample)
		if ai < len(actions) {
			pick(actions[ai].at)
		}
		due, kmsOK := m.KMSAttemptDue()
		if kmsOK {
			if due.Before(clk.Now()) {
				due = clk.Now()
			}
			pick(due)
		}
		clk.Set(t)
		m.Advance()
		collect()
		if !t.Before(end) {
			sample(end)
			break
		}
		if t.Equal(nextLogon) {
			m.Boot(w.boot())
			m.Logon()
			collect()
			nextLogon = nextLogon.Add(Day)
		}
		for ai < len(actions) && actions[ai].at.Equal(t) {
			a := actions[ai].a
			ai++
			sample(t)
			r.Events = append(r.Events, Event{Time: t, Kind: EventInput, From: m.st.Status, To: m.st.Status, Message: "Input: " + strings.TrimSpace(a.Verb+" "+strings.Join(a.Args, " "))})
			w.apply(m, a)
			collect()
			sample(t)
		}
		if due, ok := m.KMSAttemptDue(); ok && !due.After(t) {
			ans := w.kms()
			r.KMSAttempts = append(r.KMSAttempts, KMSAttempt{Time: t, Reached: ans.Reached, Count: ans.Count, Activated: ans.Activated})
			_ = m.KMSResponse(ans)
			collect()
		}
		if t.Equal(nextSample) {
			nextSample = nextSample.Add(time.Hour)
		}
		sample(t)
	}
	for _, e := range r.Events {
		if e.Kind.Reminder() {
			r.Reminders++
		}
	}
	r.Final = m.Snapshot()
	collect()
	r.State, err = m.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return r, nil
}

// apply performs a scripted action on the world and the machine. Refusals are in the log.
func (w *simWorld) apply(m *Machine, a Action) {
	switch a.Verb {
	case "activate":
		_ = m.Activate(w.activation(a))
	case "rearm":
		_ = m.Rearm()
	case "install":
		ch, _ := edition.ParseChannel(a.Args[0])
		p := Product{Channel: ch, Edition: w.product.Edition}
		if ch == edition.OEMSLP {
			p.OEMID = w.oem()
		}
		if m.InstallKey(p) == nil {
			w.product = p
			m.Boot(w.boot())
		}
	case "replace":
		for _, s := range a.Args {
			c, _ := parseClass(s)
			w.gen[c]++
		}
		m.Boot(w.boot())
	case "add":
		for _, s := range a.Args {
			c, _ := parseClass(s)
			w.extra[c]++
		}
		m.Boot(w.boot())
	case "restore":
		w.gen, w.extra, w.marker = map[hwid.Class]int{}, map[hwid.Class]int{}, MarkerValid
		if w.sc.Marker != "" {
			w.marker = w.sc.Marker
		}
		m.Boot(w.boot())
	case "marker":
		w.marker = strings.ToLower(a.Args[0])
		m.Boot(w.boot())
	case "kms":
		switch strings.ToLower(a.Args[0]) {
		case "down":
			w.kmsDown = true
		case "up":
			w.kmsDown = false
		case "count":
			w.kmsCount, _ = strconv.Atoi(a.Args[1])
		}
	case "ip":
		w.ip, _ = netip.ParseAddr(a.Args[0])
	case "boot":
		m.Boot(w.boot())
	case "logon":
		m.Logon()
	case "open":
		m.OpenApplication(strings.Join(a.Args, " "))
	}
}
