package licence

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/hwid"
)

// Day is 24 hours. The model counts days as 24-hour spans from the moment a period starts, as
// slmgr's "remaining minutes" do; it knows nothing of daylight saving.
const Day = 24 * time.Hour

// Config holds every number the state machine uses. DefaultConfig gives DESIGN.md's numbers and,
// where DESIGN.md gives none, the model's own choices, each documented on its field. A Config is
// saved with the machine's state, so a machine loaded from disk keeps the rules it started with.
type Config struct {
	// InitialGrace is the out-of-box grace after a key is installed or a rearm: 30 days (DESIGN.md).
	InitialGrace time.Duration
	// MaxRearms is how many rearms a machine gets: 3 (DESIGN.md). The fourth is refused.
	MaxRearms int
	// Reminders is when a grace period shows reminders (DESIGN.md's numbers, see Schedule).
	Reminders Schedule

	// KMSValidity is how long a KMS activation lasts without renewal: 180 days (DESIGN.md).
	KMSValidity time.Duration
	// KMSRenewal is how often an activated KMS client renews: 7 days (DESIGN.md).
	KMSRenewal time.Duration
	// KMSRetry is how often a KMS client that is not activated, or whose renewal failed, tries the
	// host again: 2 hours (DESIGN.md; Windows' default activation interval of 120 minutes).
	KMSRetry time.Duration
	// KMSGrace is the grace after a KMS activation expires: 30 days (DESIGN.md).
	KMSGrace time.Duration

	// OOTGrace is the grace after the hardware leaves tolerance or an OEM licence loses its
	// firmware binding. DESIGN.md gives no number; the model's choice is 3 days, the "activate
	// within 3 days" that Windows Vista and 7 give after a substantial hardware change.
	OOTGrace time.Duration
	// NonGenuineGrace is the grace after the service reports the key as blocked. DESIGN.md gives no
	// number; the model's choice is 30 days, the time Windows Vista's genuine validation gave
	// before reduced functionality, so that a blocked key and a missed activation last as long.
	NonGenuineGrace time.Duration
	// KMSExpiryStatus is the status a KMS client enters when its activation expires. DESIGN.md
	// says only "a 30-day grace"; the model's choice is OOTGrace, because slmgr.vbs describes
	// LicenseStatus 3 as "KMS license expired or hardware out of tolerance". Notification skips
	// the grace.
	KMSExpiryStatus Status
	// OEMLostStatus is the status an OEM:SLP licence enters when it loses its firmware binding
	// (marker gone, changed or no longer valid, or a new system board). DESIGN.md says only that
	// it "needs reactivation"; the model's choice is OOTGrace with the OOTGrace length, because
	// for an OEM licence the firmware is the hardware that went out of tolerance.
	OEMLostStatus Status
	// RearmInNotification lets a rearm lift a machine out of Notification. DESIGN.md is silent;
	// the model's choice is true, as slmgr /rearm works in Windows 7's notification state
	// (it is how an unactivated machine gets its next 30 days).
	RearmInNotification bool
	// RefusedActivation is what a refused activation (the service refuses the key: blocked, in
	// use on other hardware, outside its markets...) shows while the grace runs. DESIGN.md's
	// default, RefusalNotifies: "after the initial grace period expires or activation fails" the
	// four notification surfaces appear until the system is activated, so they come at once and
	// the grace clock keeps running. RefusalAfterGrace is what Windows 7 was seen to do in the
	// field: nothing more until the grace ends.
	RefusedActivation RefusalPolicy

	// VotePolicy decides hardware tolerance for Retail, OEM:COA, OEM:DM and Volume:MAK licences:
	// hwid.VotePolicy (the published 10-vote model) by default.
	VotePolicy hwid.Policy
	// KMSPolicy decides hardware tolerance for KMS clients: hwid.KMSPolicy (disk-weighted).
	KMSPolicy hwid.Policy
	// OEMPolicy decides whether an OEM:SLP licence is still on the board it was activated on:
	// OEMBoardPolicy by default.
	OEMPolicy hwid.Policy
}

// RefusalPolicy says when a refused activation brings the notification surfaces.
type RefusalPolicy string

// The refusal policies.
const (
	RefusalNotifies   RefusalPolicy = "notify"      // at once, the grace keeps running (DESIGN.md)
	RefusalAfterGrace RefusalPolicy = "after-grace" // only when the grace ends (Windows 7 in the field)
)

// MaxPeriod bounds every period of a Config: ten years.
const MaxPeriod = 3650 * Day

// DefaultConfig returns DESIGN.md's numbers and the model's documented choices.
func DefaultConfig() Config {
	return Config{
		InitialGrace:        30 * Day,
		MaxRearms:           3,
		Reminders:           DefaultSchedule(),
		KMSValidity:         180 * Day,
		KMSRenewal:          7 * Day,
		KMSRetry:            2 * time.Hour,
		KMSGrace:            30 * Day,
		OOTGrace:            3 * Day,
		NonGenuineGrace:     30 * Day,
		KMSExpiryStatus:     OOTGrace,
		OEMLostStatus:       OOTGrace,
		RearmInNotification: true,
		RefusedActivation:   RefusalNotifies,
		VotePolicy:          hwid.VotePolicy,
		KMSPolicy:           hwid.KMSPolicy,
		OEMPolicy:           OEMBoardPolicy,
	}
}

// ConfigError is a Config field that cannot be used: Field is its name as the JSON form writes it
// ("oot_grace", "reminders.every"), Msg what is wrong with it.
type ConfigError struct {
	Field string
	Msg   string
}

func (e *ConfigError) Error() string { return "licence config: " + e.Field + ": " + e.Msg }

func configErrorf(field, format string, args ...any) *ConfigError {
	return &ConfigError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Validate checks that the numbers make a working machine. Errors are *ConfigError.
func (c Config) Validate() error {
	positive := []struct {
		name string
		d    time.Duration
	}{
		{"initial_grace", c.InitialGrace}, {"kms_validity", c.KMSValidity}, {"kms_renewal", c.KMSRenewal},
		{"kms_retry", c.KMSRetry}, {"kms_grace", c.KMSGrace}, {"oot_grace", c.OOTGrace},
		{"non_genuine_grace", c.NonGenuineGrace},
	}
	for _, p := range positive {
		if p.d <= 0 || p.d > MaxPeriod {
			return configErrorf(p.name, "must be positive and at most %s, got %s", formatDuration(MaxPeriod), formatDuration(p.d))
		}
	}
	// Windows accepts KMS intervals from 15 minutes (SetVLActivationInterval, SetVLRenewalInterval).
	for _, p := range positive[2:4] {
		if p.d < 15*time.Minute {
			return configErrorf(p.name, "must be at least 15 minutes, as Windows requires, got %s", formatDuration(p.d))
		}
	}
	if c.MaxRearms < 0 {
		return configErrorf("max_rearms", "must be 0 or more, got %d", c.MaxRearms)
	}
	for _, s := range []struct {
		name string
		v    Status
	}{{"kms_expiry_status", c.KMSExpiryStatus}, {"oem_lost_status", c.OEMLostStatus}} {
		if !s.v.Grace() && s.v != Notification {
			return configErrorf(s.name, "must be a grace status or Notification, got %s", s.v)
		}
	}
	if c.RefusedActivation != RefusalNotifies && c.RefusedActivation != RefusalAfterGrace {
		return configErrorf("refused_activation", "must be %s or %s, got %q", RefusalNotifies, RefusalAfterGrace, c.RefusedActivation)
	}
	if err := c.Reminders.Validate(); err != nil {
		return err
	}
	for _, p := range []struct {
		name string
		p    hwid.Policy
	}{{"vote_policy", c.VotePolicy}, {"kms_policy", c.KMSPolicy}, {"oem_policy", c.OEMPolicy}} {
		if err := p.p.Validate(); err != nil {
			return configErrorf(p.name, "%v", err)
		}
	}
	return nil
}

// Policy returns the hardware policy that binds a channel's activation.
func (c Config) Policy(ch edition.Channel) hwid.Policy {
	switch ch {
	case edition.OEMSLP:
		return c.OEMPolicy
	case edition.VolumeGVLK:
		return c.KMSPolicy
	}
	return c.VotePolicy
}

// configJSON is Config on disk: snake_case names, durations as "30d" or "2h0m0s".
type configJSON struct {
	InitialGrace        duration      `json:"initial_grace"`
	MaxRearms           int           `json:"max_rearms"`
	Reminders           scheduleJSON  `json:"reminders"`
	KMSValidity         duration      `json:"kms_validity"`
	KMSRenewal          duration      `json:"kms_renewal"`
	KMSRetry            duration      `json:"kms_retry"`
	KMSGrace            duration      `json:"kms_grace"`
	OOTGrace            duration      `json:"oot_grace"`
	NonGenuineGrace     duration      `json:"non_genuine_grace"`
	KMSExpiryStatus     Status        `json:"kms_expiry_status"`
	OEMLostStatus       Status        `json:"oem_lost_status"`
	RearmInNotification bool          `json:"rearm_in_notification"`
	RefusedActivation   RefusalPolicy `json:"refused_activation"`
	VotePolicy          hwid.Policy   `json:"vote_policy"`
	KMSPolicy           hwid.Policy   `json:"kms_policy"`
	OEMPolicy           hwid.Policy   `json:"oem_policy"`
}

type scheduleJSON struct {
	DailyUntil duration `json:"daily_until"`
	Every      duration `json:"every"`
	HourlyFrom duration `json:"hourly_from"`
}

func (c Config) toJSON() configJSON {
	return configJSON{
		InitialGrace: duration(c.InitialGrace), MaxRearms: c.MaxRearms,
		Reminders:   scheduleJSON{duration(c.Reminders.DailyUntil), duration(c.Reminders.Every), duration(c.Reminders.HourlyFrom)},
		KMSValidity: duration(c.KMSValidity), KMSRenewal: duration(c.KMSRenewal), KMSRetry: duration(c.KMSRetry),
		KMSGrace: duration(c.KMSGrace), OOTGrace: duration(c.OOTGrace), NonGenuineGrace: duration(c.NonGenuineGrace),
		KMSExpiryStatus: c.KMSExpiryStatus, OEMLostStatus: c.OEMLostStatus,
		RearmInNotification: c.RearmInNotification, RefusedActivation: c.RefusedActivation,
		VotePolicy: c.VotePolicy, KMSPolicy: c.KMSPolicy, OEMPolicy: c.OEMPolicy,
	}
}

func (j configJSON) config() Config {
	return Config{
		InitialGrace: time.Duration(j.InitialGrace), MaxRearms: j.MaxRearms,
		Reminders:   Schedule{time.Duration(j.Reminders.DailyUntil), time.Duration(j.Reminders.Every), time.Duration(j.Reminders.HourlyFrom)},
		KMSValidity: time.Duration(j.KMSValidity), KMSRenewal: time.Duration(j.KMSRenewal), KMSRetry: time.Duration(j.KMSRetry),
		KMSGrace: time.Duration(j.KMSGrace), OOTGrace: time.Duration(j.OOTGrace), NonGenuineGrace: time.Duration(j.NonGenuineGrace),
		KMSExpiryStatus: j.KMSExpiryStatus, OEMLostStatus: j.OEMLostStatus,
		RearmInNotification: j.RearmInNotification, RefusedActivation: j.RefusedActivation,
		VotePolicy: j.VotePolicy, KMSPolicy: j.KMSPolicy, OEMPolicy: j.OEMPolicy,
	}
}

// MarshalJSON writes the config with snake_case names and readable durations ("30d", "2h0m0s").
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(c.toJSON()) }

// UnmarshalJSON reads what MarshalJSON writes. Fields that are missing keep the value c had, so
// decoding into DefaultConfig() overrides only what the document names. An error about a field
// is a *ConfigError.
func (c *Config) UnmarshalJSON(b []byte) error {
	j := c.toJSON()
	if err := decodeFields(b, &j, ""); err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			return err
		}
		return fmt.Errorf("licence config: %w", err)
	}
	*c = j.config()
	return nil
}

// decodeFields decodes a JSON object into the struct dst points to, field by field, so that an
// error names the field (a *ConfigError: "oot_grace: duration ...") and an unknown field is
// refused.
func decodeFields(b []byte, dst any, prefix string) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		if prefix != "" {
			return configErrorf(strings.TrimSuffix(prefix, "."), "want a mapping of its fields: %v", err)
		}
		return err
	}
	v := reflect.ValueOf(dst).Elem()
	fields := map[string]reflect.Value{}
	for i := 0; i < v.NumField(); i++ {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			fields[name] = v.Field(i)
		}
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f, ok := fields[k]
		if !ok {
			return &ConfigError{Field: prefix + k, Msg: fmt.Sprintf("unknown field %q", prefix+k)}
		}
		if f.Kind() == reflect.Struct && f.Type() == reflect.TypeOf(scheduleJSON{}) {
			if err := decodeFields(raw[k], f.Addr().Interface(), prefix+k+"."); err != nil {
				return err
			}
			continue
		}
		if err := json.Unmarshal(raw[k], f.Addr().Interface()); err != nil {
			return configErrorf(prefix+k, "%v", err)
		}
	}
	return nil
}

// duration is a time.Duration written as whole days ("30d") when it is whole days, and in Go's
// form ("2h0m0s") otherwise.
type duration time.Duration

func (d duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(formatDuration(time.Duration(d)))
}

func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: want a string like \"30d\" or \"2h\", got %s", b)
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = duration(v)
	return nil
}

func formatDuration(d time.Duration) string {
	if d != 0 && d%Day == 0 {
		return strconv.FormatInt(int64(d/Day), 10) + "d"
	}
	return d.String()
}

// MaxDuration bounds what ParseDuration reads: a hundred years, far beyond any period of the
// model (MaxPeriod is ten years) and far inside what time.Duration holds (292 years).
const MaxDuration = 36500 * Day

// ParseDuration reads whole or fractional days ("30d", "1.5d"), Go's durations ("72h", "90m",
// "2h0m0s") and the two together, days first ("29d4h", "1d12h30m"). A leading sign is allowed;
// anything longer than MaxDuration either way is refused.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	neg := false
	if t != "" && (t[0] == '-' || t[0] == '+') {
		neg, t = t[0] == '-', t[1:]
	}
	m := durationForm().FindStringSubmatch(t)
	if t == "" || m == nil {
		return 0, fmt.Errorf("duration %q: want days, hours, minutes or seconds such as \"30d\", \"1.5d\", \"29d4h\", \"72h\" or \"90m\"", s)
	}
	tooLong := fmt.Errorf("duration %q: at most %d days", s, MaxDuration/Day)
	var d time.Duration
	if m[1] != "" {
		n, err := strconv.ParseFloat(m[1], 64)
		if err != nil || n > float64(MaxDuration/Day) {
			return 0, tooLong
		}
		d = time.Duration(n * float64(Day))
	}
	if m[2] != "" {
		// The form is Go's, so the only error left is a number too large for a Duration.
		r, err := time.ParseDuration(m[2])
		if err != nil || r > MaxDuration-d {
			return 0, tooLong
		}
		d += r
	}
	if neg {
		d = -d
	}
	return d, nil
}

// durationForm is ParseDuration's grammar: optional days (digits, an optional fraction; no
// exponent, no "inf"), then Go's number-and-unit pairs, or a bare 0.
var durationForm = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?:([0-9]{1,9}(?:\.[0-9]{1,9})?)d)?((?:[0-9]{1,20}(?:\.[0-9]{1,20})?(?:ns|us|µs|ms|s|m|h))*|0)$`)
})
