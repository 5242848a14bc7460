package guestprobe

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/oemact/oemact/oemact/licence"
)

// WindowsLicence is what slmgr /dli or /dlv says of the Windows licence. slmgr prints the last
// five characters of the product key only, as partial_key.
type WindowsLicence struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Channel is the licence channel from the description: OEM_SLP, OEM_DM, RETAIL,
	// VOLUME_KMSCLIENT, VOLUME_MAK, TIMEBASED_EVAL...
	Channel       string         `json:"channel"`
	PartialKey    string         `json:"partial_key,omitempty"`
	LicenseStatus licence.Status `json:"license_status"`
	// RemainingGraceMinutes is the "Time remaining" of a grace period, in minutes (and whole
	// days, as slmgr rounds them).
	RemainingGraceMinutes *int `json:"remaining_grace_minutes,omitempty"`
	RemainingGraceDays    *int `json:"remaining_grace_days,omitempty"`
	// ActivationExpiryMinutes is a volume or time-based activation's remaining time.
	ActivationExpiryMinutes *int `json:"activation_expiry_minutes,omitempty"`
	// NotificationReason is the HRESULT of the Notification status, e.g. 0xC004F009.
	NotificationReason string `json:"notification_reason,omitempty"`
	RemainingRearms    *int   `json:"remaining_rearms,omitempty"`
}

var (
	// "Time remaining: 12960 minute(s) (9 day(s))", as slmgr.vbs formats the grace period.
	minutesDays = regexp.MustCompile(`^(\d+) minute\(s\) \((\d+) day\(s\)\)$`)
	channelRe   = regexp.MustCompile(`, ([A-Z][A-Z0-9_]*) channel$`)
	partialRe   = regexp.MustCompile(`^[A-Z0-9]{5}$`)
	reasonRe    = regexp.MustCompile(`^(0x[0-9A-Fa-f]{1,8})\b`)
)

// slmgrStatus reads slmgr's words for a LicenseStatus ("Initial grace period", "Non-genuine
// grace period.") with the model's descriptions, which are the same words.
func slmgrStatus(s string) (licence.Status, bool) {
	s = strings.TrimSuffix(strings.TrimSpace(s), ".")
	for _, st := range licence.Statuses() {
		if strings.EqualFold(s, st.Description()) {
			return st, true
		}
	}
	return 0, false
}

// ParseSlmgr reads the output of slmgr /dlv (or /dli) for one licence. It needs the Name,
// Description (with its channel) and License Status lines; errors name the line. A description
// that the console wrapped onto a second line ("VOLUME_KMSCLIENT chan" / "nel") is joined.
func ParseSlmgr(out []byte) (*WindowsLicence, error) {
	l := &WindowsLicence{}
	var haveStatus bool
	lines := slmgrLines(out)
	for i := 0; i < len(lines); i++ {
		n, line := i+1, lines[i]
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		var err error
		switch strings.TrimSpace(key) {
		case "Name":
			if l.Name != "" {
				return nil, fmt.Errorf("slmgr output line %d: a second licence (%q); the probe reads one", n, value)
			}
			l.Name = value
		case "Description":
			if !strings.HasSuffix(value, " channel") && i+1 < len(lines) && strings.HasSuffix(value+lines[i+1], " channel") {
				value += lines[i+1]
				i++
			}
			l.Description = value
			m := channelRe.FindStringSubmatch(value)
			if m == nil {
				return nil, fmt.Errorf("slmgr output line %d: no channel in the description %q (want \"..., NAME channel\")", n, value)
			}
			l.Channel = m[1]
		case "Partial Product Key":
			if !partialRe.MatchString(value) {
				return nil, fmt.Errorf("slmgr output line %d: partial product key %q is not five letters or digits", n, value)
			}
			l.PartialKey = value
		case "License Status":
			st, ok := slmgrStatus(value)
			if !ok {
				return nil, fmt.Errorf("slmgr output line %d: unknown licence status %q", n, value)
			}
			l.LicenseStatus, haveStatus = st, true
		case "Time remaining":
			l.RemainingGraceMinutes, l.RemainingGraceDays, err = parseMinutesDays(value)
		case "Volume activation expiration", "Timebased activation expiration":
			l.ActivationExpiryMinutes, _, err = parseMinutesDays(value)
		case "Notification Reason":
			m := reasonRe.FindStringSubmatch(value)
			if m == nil {
				return nil, fmt.Errorf("slmgr output line %d: notification reason %q is not an HRESULT", n, value)
			}
			l.NotificationReason = "0x" + strings.ToUpper(m[1][2:])
		case "Remaining Windows rearm count":
			v, perr := strconv.Atoi(value)
			if perr != nil || v < 0 {
				return nil, fmt.Errorf("slmgr output line %d: rearm count %q is not a count", n, value)
			}
			l.RemainingRearms = &v
		}
		if err != nil {
			return nil, fmt.Errorf("slmgr output line %d: %s: %w", n, strings.TrimSpace(key), err)
		}
	}
	var missing []string
	for _, f := range []struct {
		name string
		ok   bool
	}{{"Name", l.Name != ""}, {"Description", l.Description != ""}, {"License Status", haveStatus}} {
		if !f.ok {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("slmgr output has no %s line: is it the output of slmgr /dlv?", strings.Join(missing, ", "))
	}
	return l, nil
}

// slmgrLines splits the output into lines without their CR (cscript writes CRLF).
func slmgrLines(out []byte) []string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, MaxWindowsOutput)
	for sc.Scan() {
		lines = append(lines, strings.TrimRight(sc.Text(), "\r"))
	}
	return lines
}

func parseMinutesDays(v string) (minutes, days *int, err error) {
	m := minutesDays.FindStringSubmatch(v)
	if m == nil {
		return nil, nil, fmt.Errorf("%q is not \"N minute(s) (D day(s))\"", v)
	}
	mins, err1 := strconv.Atoi(m[1])
	ds, err2 := strconv.Atoi(m[2])
	if err1 != nil || err2 != nil {
		return nil, nil, fmt.Errorf("%q: the numbers are too large", v)
	}
	return &mins, &ds, nil
}
