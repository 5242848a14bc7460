package licence

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/oemact/oemact/oemact/hwid"
)

// Reason is why a licence is not (or no longer) Licensed; it picks the words of the messages and
// decides what can bring the licence back.
type Reason string

const (
	ReasonNone         Reason = ""
	ReasonNotActivated Reason = "not-activated" // initial grace: never activated, or rearmed
	ReasonHardware     Reason = "hardware"      // hardware out of tolerance of the activation
	ReasonOEM          Reason = "oem"           // OEM:SLP licence lost its firmware binding
	ReasonKMSExpired   Reason = "kms-expired"   // KMS activation not renewed in time
	ReasonNonGenuine   Reason = "non-genuine"   // the service reported the key as blocked
)

// EventKind names an entry of the event log.
type EventKind string

const (
	EventInstalled         EventKind = "installed" // set up without a product key
	EventKeyInstalled      EventKind = "key-installed"
	EventActivated         EventKind = "activated"
	EventActivationFailed  EventKind = "activation-failed"
	EventRefused           EventKind = "refused" // an input the machine does not accept
	EventBlocked           EventKind = "blocked"
	EventRearm             EventKind = "rearm"
	EventGraceExpired      EventKind = "grace-expired"
	EventReminderLogon     EventKind = "reminder-logon"
	EventReminderPeriodic  EventKind = "reminder-periodic"
	EventReminderHourly    EventKind = "reminder-hourly"
	EventNotificationLogon EventKind = "notification-logon" // the dialog at logon in Notification
	EventNotificationApp   EventKind = "notification-app"   // a reminder when an application opens
	EventHardwareChanged   EventKind = "hardware-changed"   // changed, still in tolerance
	EventOutOfTolerance    EventKind = "out-of-tolerance"
	EventBackInTolerance   EventKind = "back-in-tolerance"
	EventOEMActivated      EventKind = "oem-activated"
	EventOEMNotActivated   EventKind = "oem-not-activated"
	EventOEMLost           EventKind = "oem-lost"
	EventOEMRestored       EventKind = "oem-restored"
	EventKMSActivated      EventKind = "kms-activated"
	EventKMSRenewed        EventKind = "kms-renewed"
	EventKMSFailed         EventKind = "kms-failed"
	EventKMSExpired        EventKind = "kms-expired"
	EventClockBack         EventKind = "clock-back"
)

// Reminder reports whether the event is a reminder shown to the user.
func (k EventKind) Reminder() bool {
	switch k {
	case EventReminderLogon, EventReminderPeriodic, EventReminderHourly, EventNotificationLogon, EventNotificationApp:
		return true
	}
	return false
}

// Event is one entry of the machine's log: what happened, in words a user understands.
type Event struct {
	Time    time.Time `json:"time"`
	Kind    EventKind `json:"kind"`
	From    Status    `json:"from"`
	To      Status    `json:"to"`
	Message string    `json:"message"`
	Code    string    `json:"code,omitempty"`
	// Until is the end of the grace or of the KMS validity that the event set.
	Until    time.Time  `json:"until,omitzero"`
	Hardware *hwid.Diff `json:"hardware,omitempty"`
}

// Transition reports whether the event changed the status.
func (e Event) Transition() bool { return e.From != e.To }

// KMSState is a KMS client's schedule.
type KMSState struct {
	ValidUntil  time.Time `json:"valid_until,omitzero"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	Attempts    int       `json:"attempts"`
	LastCount   int       `json:"last_count"`
	// LastOutcome is the code of the last attempt ("ok" on success), so a run of identical
	// failures is logged once.
	LastOutcome string `json:"last_outcome,omitempty"`
}

// StateVersion is the version of the saved state's layout.
const StateVersion = 1

// State is everything the machine keeps, as saved on the guest's state disk. Loading it and
// moving the clock gives the same result as never stopping.
type State struct {
	Version int       `json:"version"`
	Config  Config    `json:"config"`
	Now     time.Time `json:"now"` // the latest time the machine has reached
	Product *Product  `json:"product,omitempty"`
	Status  Status    `json:"status"`
	Reason  Reason    `json:"reason,omitempty"`
	// GraceStart and GraceEnd bound the current grace (grace statuses only).
	GraceStart time.Time `json:"grace_start,omitzero"`
	GraceEnd   time.Time `json:"grace_end,omitzero"`
	// OOBStart and OOBEnd bound the out-of-box grace of the install or the last rearm; installing
	// another key resumes it rather than starting a new one.
	OOBStart time.Time `json:"oob_start,omitzero"`
	OOBEnd   time.Time `json:"oob_end,omitzero"`
	Rearms   int       `json:"rearms"`
	// LastReminder is the last clock-driven reminder of the current grace; LastLogonDay the UTC
	// day of its last daily logon reminder.
	LastReminder time.Time `json:"last_reminder,omitzero"`
	LastLogonDay string    `json:"last_logon_day,omitempty"`
	// PoweredOff is true from PowerOff to the next Boot, LoggedOff from a Boot to its Logon: a
	// reminder that falls due then is shown to nobody, and not later either. A new machine is on,
	// with its user logged on (the installation).
	PoweredOff  bool      `json:"powered_off,omitempty"`
	LoggedOff   bool      `json:"logged_off,omitempty"`
	ActivatedAt time.Time `json:"activated_at,omitzero"`
	// Baseline is the hardware (digests only) at the last activation; BaselineMarker the firmware
	// marker an OEM:SLP licence was activated with.
	Baseline       *hwid.Inventory `json:"baseline,omitempty"`
	BaselineMarker string          `json:"baseline_marker,omitempty"`
	// Inventory and Firmware are what the last boot reported.
	Inventory *hwid.Inventory `json:"inventory,omitempty"`
	Firmware  *Firmware       `json:"firmware,omitempty"`
	// LastDiff is the last comparison with the baseline.
	LastDiff *hwid.Diff `json:"last_diff,omitempty"`
	// LastNote keeps a repeated note (same hardware changes, same OA failure) from being logged
	// at every boot.
	LastNote string `json:"last_note,omitempty"`
	// Refusal is the code of a refused activation since the last one that succeeded: under
	// Config.RefusedActivation "notify" the notification surfaces show until the machine is
	// activated.
	Refusal string   `json:"refusal,omitempty"`
	KMS     KMSState `json:"kms"`
	// Log holds the events not yet taken with Drain.
	Log []Event `json:"log"`
}

// Machine is one Windows installation's licence. Inputs are methods; each first brings the
// machine up to the clock's time (grace expiries, KMS expiry and reminders happen at their exact
// times, however far the clock jumped), then applies the input. A Machine is not safe for
// concurrent use.
type Machine struct {
	st    State
	clock Clock
}

// RefusedError is an input the machine does not accept; the refusal is also in the event log.
type RefusedError struct {
	Input  string
	Reason string
}

func (e *RefusedError) Error() string { return e.Input + " refused: " + e.Reason }

// New returns an Unlicensed machine with no key, at the clock's time.
func New(cfg Config, clock Clock) (*Machine, error) {
	if clock == nil {
		return nil, errors.New("licence: a clock is required (ClockFunc(time.Now) outside tests)")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Machine{st: State{Version: StateVersion, Config: cfg, Now: clock.Now().UTC(), Status: Unlicensed}, clock: clock}, nil
}

// Load restores a machine saved with MarshalJSON; name is used in errors.
func Load(data []byte, clock Clock) (*Machine, error) {
	if clock == nil {
		return nil, errors.New("licence: a clock is required (ClockFunc(time.Now) outside tests)")
	}
	st := State{Config: DefaultConfig()}
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("licence state: %w (the state file is damaged: delete it to start again)", err)
	}
	if st.Version != StateVersion {
		return nil, fmt.Errorf("licence state: layout version %d, this oemact reads version %d", st.Version, StateVersion)
	}
	if err := st.Config.Validate(); err != nil {
		return nil, fmt.Errorf("licence state: %w", err)
	}
	if !st.Status.valid() {
		return nil, fmt.Errorf("licence state: status %d is not a LicenseStatus value", int(st.Status))
	}
	if st.Product != nil {
		if err := st.Product.Validate(); err != nil {
			return nil, fmt.Errorf("licence state: product: %w", err)
		}
	}
	if st.Status.Grace() && !st.GraceEnd.After(st.GraceStart) {
		return nil, fmt.Errorf("licence state: status %s with a grace that ends (%s) before it starts (%s)", st.Status, st.GraceEnd, st.GraceStart)
	}
	return &Machine{st: st, clock: clock}, nil
}

// MarshalJSON saves the whole state, config and unread log included.
func (m *Machine) MarshalJSON() ([]byte, error) { return json.Marshal(m.st) }

// State returns a copy of the state.
func (m *Machine) State() State {
	var st State
	b, _ := json.Marshal(m.st)
	_ = json.Unmarshal(b, &st)
	return st
}

// Config returns the machine's rules.
func (m *Machine) Config() Config { return m.st.Config }

// Product returns what is installed (a copy), nil before the first key or Setup.
func (m *Machine) Product() *Product {
	if m.st.Product == nil {
		return nil
	}
	p := *m.st.Product
	return &p
}

// Status returns the status as of the last input or Advance.
func (m *Machine) Status() Status { return m.st.Status }

// Events returns the log (events not yet drained).
func (m *Machine) Events() []Event { return append([]Event(nil), m.st.Log...) }

// Drain returns the log and empties it, so that a long-lived state stays small.
func (m *Machine) Drain() []Event {
	out := m.st.Log
	m.st.Log = nil
	return out
}

// Advance brings the machine up to the clock's time.
func (m *Machine) Advance() { m.advanceTo(m.begin()) }

// begin returns the time for an input. A clock that went back is noted and ignored: the machine
// never moves backwards.
func (m *Machine) begin() time.Time {
	t := m.clock.Now().UTC()
	if t.Before(m.st.Now) {
		m.log(Event{Time: m.st.Now, Kind: EventClockBack, From: m.st.Status, To: m.st.Status,
			Message: fmt.Sprintf("The clock went back to %s; the licence keeps counting from %s.", stamp(t), stamp(m.st.Now))})
		return m.st.Now
	}
	return t
}

func (m *Machine) log(e Event) { m.st.Log = append(m.st.Log, e) }

type timer int

const (
	timerNone timer = iota
	timerReminder
	timerGraceEnd
	timerKMSExpiry
)

// nextTimer returns the machine's next clock-driven event.
func (m *Machine) nextTimer() (time.Time, timer) {
	st := &m.st
	switch {
	case st.Status.Grace():
		if t, ok := st.Config.Reminders.NextTimed(st.GraceStart, st.GraceEnd, st.LastReminder); ok {
			return t, timerReminder
		}
		return st.GraceEnd, timerGraceEnd
	case st.Status == Licensed && !st.KMS.ValidUntil.IsZero():
		return st.KMS.ValidUntil, timerKMSExpiry
	}
	return time.Time{}, timerNone
}

func (m *Machine) advanceTo(t time.Time) {
	for {
		at, what := m.nextTimer()
		if what == timerNone || at.After(t) {
			break
		}
		// A timer can lie behind the machine's time (a KMS validity that ran out while the
		// licence was in another status): it fires now, never in the past.
		if at.Before(m.st.Now) {
			at = m.st.Now
		}
		m.st.Now = at
		switch what {
		case timerReminder:
			m.timedReminder(at)
		case timerGraceEnd:
			m.graceOver(at)
		case timerKMSExpiry:
			m.kmsExpired(at)
		}
	}
	if t.After(m.st.Now) {
		m.st.Now = t
	}
}

func (m *Machine) timedReminder(at time.Time) {
	st := &m.st
	st.LastReminder = at
	if st.PoweredOff || st.LoggedOff {
		return // nobody sees it, and it is not shown later
	}
	kind, how := EventReminderPeriodic, fmt.Sprintf("every %s", human(st.Config.Reminders.Every))
	if st.Config.Reminders.Phase(at, st.GraceEnd) == PhaseHourly {
		kind, how = EventReminderHourly, "every hour"
	}
	m.log(Event{Time: at, Kind: kind, From: st.Status, To: st.Status, Until: st.GraceEnd,
		Message: fmt.Sprintf("Reminder (%s): activate Windows now; %s left.", how, human(st.GraceEnd.Sub(at)))})
}

var expiryWords = map[Reason]string{
	ReasonNotActivated: "The initial grace period is over and Windows was not activated",
	ReasonHardware:     "The grace after the hardware change is over and Windows was not reactivated",
	ReasonOEM:          "The grace after the OEM activation was lost is over",
	ReasonKMSExpired:   "The grace after the KMS activation expired is over and no KMS host renewed it",
	ReasonNonGenuine:   "The non-genuine grace is over: the key is blocked",
}

func (m *Machine) graceOver(at time.Time) {
	st := &m.st
	from := st.Status
	words := expiryWords[st.Reason]
	if words == "" {
		words = "The grace period is over"
	}
	m.toNotification()
	m.log(Event{Time: at, Kind: EventGraceExpired, From: from, To: st.Status,
		Message: words + ": notification mode (" + surfaceSummary() + ")."})
}

func (m *Machine) toNotification() {
	st := &m.st
	st.Status = Notification
	st.GraceStart, st.GraceEnd, st.LastReminder, st.LastLogonDay = time.Time{}, time.Time{}, time.Time{}, ""
}

// enterGrace starts a grace period (or goes straight to Notification when s is Notification).
func (m *Machine) enterGrace(at time.Time, s Status, reason Reason, length time.Duration) {
	st := &m.st
	st.Reason = reason
	if s == Notification {
		m.toNotification()
		return
	}
	st.Status, st.GraceStart, st.GraceEnd = s, at, at.Add(length)
	st.LastReminder, st.LastLogonDay = time.Time{}, ""
}

func (m *Machine) licensed(at time.Time) {
	st := &m.st
	st.Status, st.Reason, st.ActivatedAt, st.Refusal = Licensed, ReasonNone, at, ""
	st.GraceStart, st.GraceEnd, st.LastReminder, st.LastLogonDay = time.Time{}, time.Time{}, time.Time{}, ""
	st.Baseline = cloneInventory(st.Inventory)
	st.BaselineMarker = ""
	if st.Firmware != nil {
		st.BaselineMarker = st.Firmware.Marker
	}
	st.LastDiff, st.LastNote = nil, ""
}

func (m *Machine) kmsExpired(at time.Time) {
	st := &m.st
	from := st.Status
	st.KMS.ValidUntil = time.Time{}
	m.enterGrace(at, st.Config.KMSExpiryStatus, ReasonKMSExpired, st.Config.KMSGrace)
	msg := fmt.Sprintf("The KMS activation expired: no KMS host renewed it for %s.", human(st.Config.KMSValidity))
	if st.Status.Grace() {
		msg += fmt.Sprintf(" %s of grace to reach a KMS host, until %s.", capital(human(st.Config.KMSGrace)), stamp(st.GraceEnd))
	}
	m.log(Event{Time: at, Kind: EventKMSExpired, From: from, To: st.Status, Until: st.GraceEnd, Message: msg})
}

func (m *Machine) refuse(at time.Time, input, reason string) error {
	m.log(Event{Time: at, Kind: EventRefused, From: m.st.Status, To: m.st.Status, Message: capital(input) + " refused: " + reason + "."})
	return &RefusedError{Input: input, Reason: reason}
}

// InstallKey installs a product key (slmgr /ipk). The first key starts the initial grace. Another
// key replaces the first: the activation is gone, and the machine resumes the out-of-box grace it
// had (Notification when that is over); the edition cannot change.
func (m *Machine) InstallKey(p Product) error {
	t := m.begin()
	m.advanceTo(t)
	st := &m.st
	if err := p.Validate(); err != nil {
		return m.refuse(t, "installing the key", err.Error())
	}
	from := st.Status
	if st.Product == nil {
		st.Product = &p
		m.startInitialGrace(t)
		m.log(Event{Time: t, Kind: EventKeyInstalled, From: from, To: st.Status, Until: st.GraceEnd,
			Message: fmt.Sprintf("Product key installed (%s): %s of initial grace to activate, until %s.",
				p.describe(), human(st.Config.InitialGrace), stamp(st.GraceEnd))})
		return nil
	}
	if !strings.EqualFold(p.Edition, st.Product.Edition) {
		return m.refuse(t, "installing the key", fmt.Sprintf("the key is for %s but %s is installed; the model does not change editions", p.Edition, st.Product.Edition))
	}
	keyless := st.Product.Keyless()
	st.Product = &p
	m.resetActivation()
	msg := fmt.Sprintf("Product key replaced (%s): the previous activation no longer applies.", p.describe())
	if keyless {
		msg = fmt.Sprintf("Product key installed (%s).", p.describe())
	}
	if st.OOBEnd.After(t) {
		st.Status, st.Reason, st.GraceStart, st.GraceEnd = OOBGrace, ReasonNotActivated, st.OOBStart, st.OOBEnd
		st.LastReminder, st.LastLogonDay = t, dayKey(t)
		msg += fmt.Sprintf(" The initial grace continues: %s left, until %s.", human(st.OOBEnd.Sub(t)), stamp(st.OOBEnd))
	} else {
		st.Reason = ReasonNotActivated
		m.toNotification()
		msg += " The initial grace is already over: activate the new key."
	}
	m.log(Event{Time: t, Kind: EventKeyInstalled, From: from, To: st.Status, Until: st.GraceEnd, Message: msg})
	return nil
}

// Setup is Windows installed without a product key: the edition chosen at setup runs the initial
// grace, with its reminders, like any installation (DESIGN.md: no key still means grace); it
// cannot activate until a key is installed, which continues the same grace. Only a machine with
// nothing installed takes it.
func (m *Machine) Setup(editionID string) error {
	t := m.begin()
	m.advanceTo(t)
	st := &m.st
	if st.Product != nil {
		return m.refuse(t, "setup", "Windows is already installed ("+st.Product.describe()+")")
	}
	p := Product{Edition: editionID}
	if err := p.Validate(); err != nil {
		return m.refuse(t, "setup", err.Error())
	}
	st.Product = &p
	m.startInitialGrace(t)
	m.log(Event{Time: t, Kind: EventInstalled, From: Unlicensed, To: st.Status, Until: st.GraceEnd,
		Message: fmt.Sprintf("Windows installed without a product key (%s): %s of initial grace to install a key and activate, until %s.",
			p.describe(), human(st.Config.InitialGrace), stamp(st.GraceEnd))})
	return nil
}

// startInitialGrace starts the initial (OOB) grace at t, as installing, setup and rearm do, and
// forgets any activation.
func (m *Machine) startInitialGrace(t time.Time) {
	st := &m.st
	st.OOBStart, st.OOBEnd = t, t.Add(st.Config.InitialGrace)
	m.enterGrace(t, OOBGrace, ReasonNotActivated, st.Config.InitialGrace)
	m.resetActivation()
}

// resetActivation forgets the activation, its hardware baseline and the KMS schedule.
func (m *Machine) resetActivation() {
	st := &m.st
	st.ActivatedAt, st.Baseline, st.BaselineMarker, st.LastDiff, st.LastNote = time.Time{}, nil, "", nil, ""
	st.KMS = KMSState{}
	if st.Product != nil && ActivationPath(st.Product.Channel) == PathKMS {
		st.KMS.NextAttempt = st.Now
	}
}

// Activate applies the activation service's answer to an online or telephone activation. OEM:SLP
// licences activate from the firmware at boot and KMS clients from a KMS host: both are refused.
func (m *Machine) Activate(r ActivationResult) error {
	t := m.begin()
	m.advanceTo(t)
	st := &m.st
	if st.Product == nil {
		return m.refuse(t, "activation", "no product key is installed")
	}
	switch ActivationPath(st.Product.Channel) {
	case PathService:
		if st.Product.Keyless() {
			return m.refuse(t, "activation", "no product key is installed: install one (slmgr /ipk) to activate")
		}
	case PathFirmware:
		return m.refuse(t, "activation", "an OEM:SLP key activates offline from the firmware marker at boot (OEM Activation 2.1), never online or by telephone; install a retail or COA key to activate through the service")
	case PathKMS:
		return m.refuse(t, "activation", "a KMS client key (Volume:GVLK) activates from a KMS host; install a MAK or retail key to activate through the service")
	}
	how := r.Method
	if how == "" {
		how = "online"
	}
	from := st.Status
	switch r.Outcome {
	case Succeeded:
		m.licensed(t)
		msg := fmt.Sprintf("Windows is activated (%s).", how)
		if st.Baseline != nil {
			msg += fmt.Sprintf(" The licence is bound to this hardware by the %s policy.", st.Config.Policy(st.Product.Channel).Name)
		}
		m.log(Event{Time: t, Kind: EventActivated, From: from, To: st.Status, Message: msg})
	case Blocked:
		m.enterGrace(t, NonGenuineGrace, ReasonNonGenuine, st.Config.NonGenuineGrace)
		st.Refusal = or(r.Code, "key-blocked")
		m.log(Event{Time: t, Kind: EventBlocked, From: from, To: st.Status, Until: st.GraceEnd, Code: r.Code,
			Message: fmt.Sprintf("Activation refused: the product key is blocked%s. This copy is not genuine: %s of grace to install a genuine key, until %s.%s",
				detail(r.Message), human(st.Config.NonGenuineGrace), stamp(st.GraceEnd), m.refusalNotice())})
	case Failed:
		code := or(r.Code, "unspecified")
		msg := fmt.Sprintf("Activation (%s) failed with code %s%s; the status stays %s.", how, code, detail(r.Message), from)
		if r.Refused && from != Licensed { // an activated machine stays activated: nothing to show
			st.Refusal = code
			msg = fmt.Sprintf("Activation (%s) refused with code %s%s; the status stays %s.%s", how, code, detail(r.Message), from, m.refusalNotice())
		}
		m.log(Event{Time: t, Kind: EventActivationFailed, From: from, To: from, Code: code, Message: msg})
	default:
		return fmt.Errorf("licence: activation result has unknown outcome %q (want success, failure or blocked)", r.Outcome)
	}
	return nil
}

// Rearm restarts the initial grace (slmgr /rearm), at most Config.MaxRearms times. It is refused
// in non-genuine grace (a blocked key stays blocked; the model's choice) and in Notification
// unless Config.RearmInNotification. On an activated machine it drops the activation.
func (m *Machine) Rearm() error {
	t := m.begin()
	m.advanceTo(t)
	st := &m.st
	switch {
	case st.Product == nil:
		return m.refuse(t, "rearm", "no product key is installed")
	case st.Status == NonGenuineGrace || (st.Status == Notification && st.Reason == ReasonNonGenuine):
		return m.refuse(t, "rearm", "the product key is blocked; rearming does not make it genuine: install another key")
	case st.Status == Notification && !st.Config.RearmInNotification:
		return m.refuse(t, "rearm", "this configuration does not allow rearm in notification mode")
	case st.Rearms >= st.Config.MaxRearms:
		return m.refuse(t, "rearm", fmt.Sprintf("all %d rearms are used", st.Config.MaxRearms))
	}
	from := st.Status
	st.Rearms++
	m.startInitialGrace(t)
	m.log(Event{Time: t, Kind: EventRearm, From: from, To: st.Status, Until: st.GraceEnd,
		Message: fmt.Sprintf("Rearm %d of %d: the initial grace starts again, %s until %s.",
			st.Rearms, st.Config.MaxRearms, human(st.Config.InitialGrace), stamp(st.GraceEnd))})
	return nil
}

// Logon is a user logging on: the daily reminder in the first part of a grace, the activation
// dialog in Notification. From now until PowerOff the user sees the clock-driven reminders.
func (m *Machine) Logon() {
	t := m.begin()
	m.advanceTo(t)
	st := &m.st
	st.PoweredOff, st.LoggedOff = false, false
	switch {
	case m.notifying():
		// The dialog at logon is one of the surfaces; it stands for the daily reminder too.
		st.LastLogonDay = dayKey(t)
		m.log(Event{Time: t, Kind: EventNotificationLogon, From: st.Status, To: st.Status,
			Message: SurfaceLogonDialog.Describe() + "."})
	case st.Status.Grace() && st.Config.Reminders.LogonReminder(t, st.GraceStart, st.GraceEnd, st.LastLogonDay):
		st.LastLogonDay = dayKey(t)
		m.log(Event{Time: t, Kind: EventReminderLogon, From: st.Status, To: st.Status, Until: st.GraceEnd,
			Message: fmt.Sprintf("Reminder at logon (once a day): activate Windows; %s left.", human(st.GraceEnd.Sub(t)))})
	}
}

// notifying reports whether the notification surfaces show: in Notification, and, under the
// default refusal policy, from a refused activation until the machine is activated.
func (m *Machine) notifying() bool {
	st := &m.st
	return st.Status == Notification ||
		(st.Refusal != "" && st.Status != Licensed && st.Config.RefusedActivation == RefusalNotifies)
}

// refusalNotice is what a refusal's event adds about the surfaces.
func (m *Machine) refusalNotice() string {
	if m.st.Config.RefusedActivation != RefusalNotifies {
		return ""
	}
	return " Until Windows is activated: " + surfaceSummary() + "; the grace keeps running."
}

// Surfaces returns the notification surfaces showing now (none while Licensed or in a grace with
// no refused activation).
func (m *Machine) surfaces() []Surface {
	if m.notifying() {
		return SurfacesFor(Notification)
	}
	return []Surface{}
}

// OpenApplication is the user opening an application; in Notification it brings up a reminder.
func (m *Machine) OpenApplication(name string) {
	t := m.begin()
	m.advanceTo(t)
	if m.notifying() {
		m.log(Event{Time: t, Kind: EventNotificationApp, From: m.st.Status, To: m.st.Status,
			Message: fmt.Sprintf("%s opened: %s.", name, SurfaceAppReminder.Describe())})
	}
}

// PowerOff is the machine shutting down: until the next Boot (and its Logon) nobody sees the
// reminders that fall due, and they are not shown later.
func (m *Machine) PowerOff() {
	m.advanceTo(m.begin())
	m.st.PoweredOff, m.st.LoggedOff = true, false
}

// Boot is the machine starting, or a machine that kept running looking at its hardware and
// firmware again: the hardware is compared with the activation's baseline by the channel's
// policy, and an OEM:SLP licence is checked against the firmware marker. A machine that was
// powered off is on from now, with nobody logged on until Logon; one that kept running keeps its
// user.
func (m *Machine) Boot(b Boot) {
	t := m.begin()
	m.advanceTo(t)
	st := &m.st
	if st.PoweredOff {
		st.PoweredOff, st.LoggedOff = false, true
	}
	if b.Inventory != nil {
		st.Inventory = cloneInventory(b.Inventory)
	}
	if b.Firmware != nil {
		fw := *b.Firmware
		fw.Reasons = append([]string(nil), fw.Reasons...)
		st.Firmware = &fw
	}
	if st.Product == nil {
		return
	}
	if ActivationPath(st.Product.Channel) == PathFirmware {
		m.oemBoot(t, b.Firmware, b.Inventory != nil)
		return
	}
	if b.Inventory != nil {
		m.hardwareBoot(t)
	}
}

// hardwareBoot applies the channel's hardware policy to the inventory just reported.
func (m *Machine) hardwareBoot(t time.Time) {
	st := &m.st
	activeReason := st.Status == Licensed || ((st.Status == OOTGrace || st.Status == Notification) && st.Reason == ReasonHardware)
	if !activeReason {
		return
	}
	if st.Baseline == nil {
		// Activated before any inventory was known: the first one seen becomes the baseline.
		st.Baseline = cloneInventory(st.Inventory)
		return
	}
	policy := st.Config.Policy(st.Product.Channel)
	d := policy.Compare(*st.Baseline, *st.Inventory)
	st.LastDiff = &d
	from := st.Status
	switch {
	case st.Status == Licensed && !d.InTolerance:
		m.enterGrace(t, OOTGrace, ReasonHardware, st.Config.OOTGrace)
		if ActivationPath(st.Product.Channel) == PathKMS {
			st.KMS.NextAttempt = t // a KMS client reactivates from its host: try now
		}
		st.LastNote = "hw:" + d.String()
		m.log(Event{Time: t, Kind: EventOutOfTolerance, From: from, To: st.Status, Until: st.GraceEnd, Hardware: &d,
			Message: fmt.Sprintf("The hardware changed too much since activation (%s policy: %s): Windows must be reactivated within %s, until %s.",
				policy.Name, d, human(st.Config.OOTGrace), stamp(st.GraceEnd))})
	case st.Status != Licensed && d.InTolerance:
		st.Status, st.Reason, st.Refusal = Licensed, ReasonNone, ""
		st.GraceStart, st.GraceEnd, st.LastReminder, st.LastLogonDay = time.Time{}, time.Time{}, time.Time{}, ""
		st.LastNote = "hw:" + d.String()
		m.log(Event{Time: t, Kind: EventBackInTolerance, From: from, To: st.Status, Hardware: &d,
			Message: fmt.Sprintf("The hardware is back within tolerance of the activation (%s): Windows is activated again.", d)})
	case st.Status == Licensed && len(d.Changes) > 0:
		note := "hw:" + d.String()
		if note != st.LastNote {
			st.LastNote = note
			m.log(Event{Time: t, Kind: EventHardwareChanged, From: from, To: from, Hardware: &d,
				Message: fmt.Sprintf("Hardware changed since activation, still within tolerance (%s policy: %s).", policy.Name, d)})
		}
	}
}

// oemBoot applies OEM Activation 2.1 at boot: a valid marker activates an OEM:SLP licence
// offline; an activated licence needs the same marker and the same board at every boot.
func (m *Machine) oemBoot(t time.Time, fw *Firmware, haveInventory bool) {
	st := &m.st
	if fw == nil && !haveInventory {
		return
	}
	if st.Status == NonGenuineGrace || st.Reason == ReasonNonGenuine {
		return
	}
	cur := st.Firmware
	valid := cur != nil && cur.OAValid
	var board *hwid.Diff
	if st.Baseline != nil && st.Inventory != nil {
		d := st.Config.OEMPolicy.Compare(*st.Baseline, *st.Inventory)
		board = &d
	}
	boardOK := board == nil || board.InTolerance
	sameMarker := cur != nil && cur.Marker == st.BaselineMarker
	from := st.Status
	switch {
	case st.Status == Licensed:
		var why string
		switch {
		case !valid:
			why = "the firmware marker no longer activates this licence: " + reasons(cur)
		case !sameMarker:
			why = fmt.Sprintf("the firmware marker changed (activated with %s, now %s)", orNone(st.BaselineMarker), orNone(cur.Marker))
		case !boardOK:
			why = fmt.Sprintf("the system board changed (%s policy: %s)", st.Config.OEMPolicy.Name, board)
		default:
			m.oemHardwareNote(t)
			return
		}
		m.enterGrace(t, st.Config.OEMLostStatus, ReasonOEM, st.Config.OOTGrace)
		st.LastDiff, st.LastNote = board, ""
		msg := "OEM activation lost: " + why + "."
		if st.Status.Grace() {
			msg += fmt.Sprintf(" Restore the original firmware and board, or activate with another key, within %s (until %s).", human(st.Config.OOTGrace), stamp(st.GraceEnd))
		}
		m.log(Event{Time: t, Kind: EventOEMLost, From: from, To: st.Status, Until: st.GraceEnd, Hardware: board, Message: msg})
	case st.Reason == ReasonOEM:
		if valid && sameMarker && boardOK {
			m.licensed(t)
			m.log(Event{Time: t, Kind: EventOEMRestored, From: from, To: st.Status,
				Message: "The original firmware marker and system board are back: the OEM activation holds again."})
		}
	default:
		if valid {
			m.licensed(t)
			m.log(Event{Time: t, Kind: EventOEMActivated, From: from, To: st.Status,
				Message: fmt.Sprintf("Activated offline by the firmware marker %s (OEM Activation 2.1); the licence is bound to this marker and system board.", orNone(st.BaselineMarker))})
			return
		}
		note := "oa:" + reasons(cur)
		if note != st.LastNote {
			st.LastNote = note
			m.log(Event{Time: t, Kind: EventOEMNotActivated, From: from, To: from,
				Message: "The OEM:SLP key cannot activate from this firmware: " + reasons(cur) + "."})
		}
	}
}

// oemHardwareNote says, once per set of changes, that an OEM:SLP licence ignores changes to
// components other than the board.
func (m *Machine) oemHardwareNote(t time.Time) {
	st := &m.st
	if st.Baseline == nil || st.Inventory == nil {
		return
	}
	d := st.Config.VotePolicy.Compare(*st.Baseline, *st.Inventory)
	if len(d.Changes) == 0 {
		return
	}
	names := make([]string, len(d.Changes))
	for i, c := range d.Changes {
		names[i] = string(c.Class)
	}
	note := "oemhw:" + strings.Join(names, ",")
	if note == st.LastNote {
		return
	}
	st.LastNote = note
	m.log(Event{Time: t, Kind: EventHardwareChanged, From: st.Status, To: st.Status,
		Message: fmt.Sprintf("Hardware changed since activation (%s); an OEM licence depends only on the firmware marker and the system board, so it still holds.", strings.Join(names, ", "))})
}

// KMSAttemptDue returns when a KMS client next contacts its host (a time in the past means now).
// ok is false for other channels and for a blocked key.
func (m *Machine) KMSAttemptDue() (time.Time, bool) {
	st := &m.st
	if st.Product == nil || ActivationPath(st.Product.Channel) != PathKMS || st.Reason == ReasonNonGenuine {
		return time.Time{}, false
	}
	return st.KMS.NextAttempt, true
}

// KMSResponse applies what the KMS host answered to an attempt made now. Success activates (or
// renews) for the validity and schedules the renewal; anything else schedules a retry. Windows 7
// volume editions refuse KMS activation when the last boot showed no Windows marker in the BIOS.
func (m *Machine) KMSResponse(a KMSAnswer) error {
	t := m.begin()
	m.advanceTo(t)
	st := &m.st
	if st.Product == nil || ActivationPath(st.Product.Channel) != PathKMS {
		return m.refuse(t, "KMS activation", "the installed key is not a KMS client key (Volume:GVLK)")
	}
	if st.Reason == ReasonNonGenuine {
		return m.refuse(t, "KMS activation", "the product key is blocked")
	}
	ed, err := st.Product.EditionInfo()
	if err != nil {
		return err
	}
	cfg := st.Config
	validity, renewal, retry := or(a.Validity, cfg.KMSValidity), or(a.Renewal, cfg.KMSRenewal), or(a.Retry, cfg.KMSRetry)
	st.KMS.Attempts++
	st.KMS.LastAttempt = t
	if a.Reached {
		st.KMS.LastCount = a.Count
	}
	from := st.Status
	fail := func(code, why string) {
		st.KMS.NextAttempt = t.Add(retry)
		if code == st.KMS.LastOutcome {
			return
		}
		st.KMS.LastOutcome = code
		what := "KMS activation failed"
		if from == Licensed {
			what = "KMS renewal failed"
		}
		m.log(Event{Time: t, Kind: EventKMSFailed, From: from, To: from, Code: code,
			Message: fmt.Sprintf("%s: %s. Retrying every %s.", what, why, human(retry))})
	}
	switch {
	case KMSNeedsMarker(ed) && (st.Firmware == nil || !st.Firmware.WindowsMarker):
		fail(CodeNoWindowsMarker, fmt.Sprintf("%s volume editions need a Windows marker in the BIOS (a qualifying OS) to use KMS, and this machine has none", ed.ReleaseInfo().Name))
	case !a.Reached:
		fail(CodeKMSUnreachable, "no KMS host answered"+detail(a.Message))
	case !a.Activated:
		code := a.Code
		if code == "" {
			code = CodeKMSCountLow
		}
		why := a.Message
		if why == "" {
			_, why = KMSActivates(ed, a.Count)
		}
		fail(code, why)
	default:
		st.KMS.LastOutcome = "ok"
		st.KMS.NextAttempt = t.Add(renewal)
		renewed := st.Status == Licensed
		if !renewed {
			m.licensed(t)
		}
		st.KMS.ValidUntil = t.Add(validity)
		kind, what := EventKMSActivated, "Activated by the KMS host"
		if renewed {
			kind, what = EventKMSRenewed, "KMS activation renewed"
		}
		m.log(Event{Time: t, Kind: kind, From: from, To: st.Status, Until: st.KMS.ValidUntil,
			Message: fmt.Sprintf("%s (count %d): valid until %s; next renewal in %s.", what, a.Count, stamp(st.KMS.ValidUntil), human(renewal))})
	}
	return nil
}

// Snapshot is the machine's outputs at a moment.
type Snapshot struct {
	Time          time.Time `json:"time"`
	Status        Status    `json:"status"`
	LicenseStatus int       `json:"license_status"`
	Description   string    `json:"description"`
	Reason        Reason    `json:"reason,omitempty"`
	Product       *Product  `json:"product,omitempty"`
	GraceEnd      time.Time `json:"grace_end,omitzero"`
	// GraceRemainingMinutes is what slmgr /dli shows as the time left in a grace period.
	GraceRemainingMinutes int64 `json:"grace_remaining_minutes"`
	// GraceRemaining is the same in words ("2 days 20 hours").
	GraceRemaining string `json:"grace_remaining,omitempty"`
	Rearms         int    `json:"rearms"`
	RearmsLeft     int    `json:"rearms_left"`
	// NextReminder is the next clock-driven reminder (logon reminders come with logons).
	NextReminder  time.Time `json:"next_reminder,omitzero"`
	ReminderPhase string    `json:"reminder_phase,omitempty"`
	Surfaces      []Surface `json:"surfaces"`
	// Refusal is the code of a refused activation not yet made good by an activation.
	Refusal        string     `json:"refusal,omitempty"`
	KMSValidUntil  time.Time  `json:"kms_valid_until,omitzero"`
	KMSNextAttempt time.Time  `json:"kms_next_attempt,omitzero"`
	KMSAttempts    int        `json:"kms_attempts,omitempty"`
	Hardware       *hwid.Diff `json:"hardware,omitempty"`
	ActivatedAt    time.Time  `json:"activated_at,omitzero"`
	BaselineMarker string     `json:"baseline_marker,omitempty"`
	ActivationPath Path       `json:"activation_path,omitempty"`
}

// Snapshot brings the machine up to the clock's time and reports its outputs.
func (m *Machine) Snapshot() Snapshot {
	t := m.begin()
	m.advanceTo(t)
	st := &m.st
	s := Snapshot{
		Time: t, Status: st.Status, LicenseStatus: int(st.Status), Description: st.Status.Description(),
		Reason: st.Reason, Product: st.Product, Rearms: st.Rearms, RearmsLeft: st.Config.MaxRearms - st.Rearms,
		Surfaces: m.surfaces(), Refusal: st.Refusal, Hardware: st.LastDiff, ActivatedAt: st.ActivatedAt,
		BaselineMarker: st.BaselineMarker, KMSValidUntil: st.KMS.ValidUntil, KMSAttempts: st.KMS.Attempts,
	}
	if s.RearmsLeft < 0 {
		s.RearmsLeft = 0
	}
	if st.Product != nil {
		s.ActivationPath = ActivationPath(st.Product.Channel)
	}
	if next, ok := m.KMSAttemptDue(); ok {
		s.KMSNextAttempt = next
	}
	if st.Status.Grace() {
		s.GraceEnd = st.GraceEnd
		left := st.GraceEnd.Sub(t)
		s.GraceRemainingMinutes = int64(left / time.Minute)
		s.GraceRemaining = human(left)
		s.ReminderPhase = st.Config.Reminders.Phase(t, st.GraceEnd).String()
		if next, ok := st.Config.Reminders.NextTimed(st.GraceStart, st.GraceEnd, st.LastReminder); ok {
			s.NextReminder = next
		}
	}
	return s
}

func cloneInventory(inv *hwid.Inventory) *hwid.Inventory {
	if inv == nil {
		return nil
	}
	r := inv.Redacted()
	return &r
}

func or[T comparable](v, def T) T {
	var zero T
	if v != zero {
		return v
	}
	return def
}

func reasons(fw *Firmware) string {
	if fw == nil {
		return "the firmware was not reported"
	}
	if len(fw.Reasons) == 0 {
		if fw.OAValid {
			return "valid"
		}
		return "the OEM Activation check failed"
	}
	return strings.Join(fw.Reasons, "; ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func detail(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// stamp prints a moment the way the event log shows it.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }

// human prints a duration in days, hours and minutes: "30 days", "2 days 20 hours", "45 minutes".
func human(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Round(time.Minute)
	days, hours, mins := int(d/Day), int(d%Day/time.Hour), int(d%time.Hour/time.Minute)
	var parts []string
	add := func(n int, unit string) {
		if n == 1 {
			parts = append(parts, "1 "+unit)
		} else if n > 1 {
			parts = append(parts, fmt.Sprintf("%d %ss", n, unit))
		}
	}
	add(days, "day")
	add(hours, "hour")
	if days == 0 {
		add(mins, "minute")
	}
	if len(parts) == 0 {
		return "0 minutes"
	}
	return strings.Join(parts, " ")
}
