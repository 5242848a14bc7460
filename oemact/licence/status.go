// Package licence is the client side of the activation model: a licence's state machine with an
// injected clock (grace periods, rearm, reminders, notification, hardware tolerance, OEM firmware
// binding, KMS renewal), the per-channel rules, and a simulator that plays a licence's life.
//
// It is a model of Windows 7 / Server 2008 R2 licensing as DESIGN.md describes it, not Windows'
// implementation. It holds no keys (only the last five characters), no certificates and no OEM
// Activation evaluation: those verdicts arrive as plain inputs.
package licence

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Status is SoftwareLicensingProduct.LicenseStatus, with the same numbers.
type Status int

const (
	Unlicensed      Status = 0
	Licensed        Status = 1
	OOBGrace        Status = 2 // initial (out-of-box) grace
	OOTGrace        Status = 3 // out-of-tolerance grace: hardware changed, or KMS activation expired
	NonGenuineGrace Status = 4 // the service reported the key as blocked
	Notification    Status = 5 // a grace period ran out
	ExtendedGrace   Status = 6
)

var statusNames = [...]string{"Unlicensed", "Licensed", "OOBGrace", "OOTGrace", "NonGenuineGrace", "Notification", "ExtendedGrace"}

// The words slmgr.vbs prints for each LicenseStatus.
var statusDescriptions = [...]string{
	"Unlicensed",
	"Licensed",
	"Initial grace period",
	"Additional grace period (KMS license expired or hardware out of tolerance)",
	"Non-genuine grace period",
	"Notification",
	"Extended grace period",
}

// Statuses lists every status in LicenseStatus order.
func Statuses() []Status {
	return []Status{Unlicensed, Licensed, OOBGrace, OOTGrace, NonGenuineGrace, Notification, ExtendedGrace}
}

func (s Status) valid() bool { return s >= 0 && int(s) < len(statusNames) }

// String returns the LicenseStatus name, e.g. "OOBGrace".
func (s Status) String() string {
	if s.valid() {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Description returns the words slmgr.vbs uses for the status.
func (s Status) Description() string {
	if s.valid() {
		return statusDescriptions[s]
	}
	return s.String()
}

// Grace reports whether the status is a grace period, which has an end and reminders.
func (s Status) Grace() bool {
	return s == OOBGrace || s == OOTGrace || s == NonGenuineGrace || s == ExtendedGrace
}

// ParseStatus reads a status by name ("OOTGrace", case-insensitive) or number ("3").
func ParseStatus(str string) (Status, error) {
	t := strings.TrimSpace(str)
	for i, n := range statusNames {
		if strings.EqualFold(t, n) || t == fmt.Sprint(i) {
			return Status(i), nil
		}
	}
	return 0, fmt.Errorf("unknown licence status %q (known: %s, or 0-6)", str, strings.Join(statusNames[:], ", "))
}

// MarshalJSON writes the name; the number is in Snapshot.LicenseStatus.
func (s Status) MarshalJSON() ([]byte, error) {
	if !s.valid() {
		return nil, fmt.Errorf("licence status %d is not a LicenseStatus value", int(s))
	}
	return json.Marshal(s.String())
}

// UnmarshalJSON reads a name or a number.
func (s *Status) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		var n int
		if err2 := json.Unmarshal(b, &n); err2 != nil {
			return fmt.Errorf("licence status: want a name or a number, got %s", b)
		}
		str = fmt.Sprint(n)
	}
	v, err := ParseStatus(str)
	if err != nil {
		return err
	}
	*s = v
	return nil
}
