package licence

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/hwid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var allSurfaces = []Surface{SurfaceLogonDialog, SurfaceTrayNotice, SurfaceBlackDesktop, SurfaceAppReminder}

// DESIGN.md: "after the initial grace period expires or activation fails" the four surfaces
// appear until the system is activated. By default a refused activation brings them at once and
// the grace keeps running.
func TestRefusedActivationNotifiesAtOnce(t *testing.T) {
	for _, tt := range []struct {
		name   string
		result ActivationResult
		status Status
		end    time.Time
	}{
		{"key in use", ActivationResult{Outcome: Failed, Code: "key-in-use", Refused: true}, OOBGrace, t0.Add(30 * Day)},
		{"out of market", ActivationResult{Outcome: Failed, Code: "market-restricted", Refused: true}, OOBGrace, t0.Add(30 * Day)},
		{"blocked", ActivationResult{Outcome: Blocked, Code: "key-blocked"}, NonGenuineGrace, t0.Add(32 * Day)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, clk := machine(t, retailPro)
			clk.Set(t0.Add(2 * Day))
			assert.Empty(t, m.Snapshot().Surfaces, "a grace with no refusal shows no surface")
			require.NoError(t, m.Activate(tt.result))
			s := m.Snapshot()
			assert.Equal(t, tt.status, s.Status)
			assert.Equal(t, allSurfaces, s.Surfaces, "the surfaces come at once")
			assert.Equal(t, tt.end, s.GraceEnd, "the grace clock keeps running")
			assert.Equal(t, tt.result.Code, s.Refusal)
			assert.Contains(t, lastEvent(m).Message, "Until Windows is activated")

			m.Drain()
			clk.Add(Day)
			m.Logon()
			m.OpenApplication("Paint")
			assert.Equal(t, []EventKind{EventNotificationLogon, EventNotificationApp}, kinds(m.Drain()),
				"the dialog at logon (standing for the daily reminder) and the reminder when an application opens")

			// Until the system is activated: a rearm or another key does not take them away.
			if tt.status == OOBGrace {
				require.NoError(t, m.Rearm())
				assert.Equal(t, allSurfaces, m.Snapshot().Surfaces)
			}
			require.NoError(t, m.InstallKey(product(edition.Retail, "win7-professional")))
			assert.Equal(t, allSurfaces, m.Snapshot().Surfaces)
			require.NoError(t, m.Activate(ActivationResult{Outcome: Succeeded}))
			s = m.Snapshot()
			assert.Equal(t, Licensed, s.Status)
			assert.Empty(t, s.Surfaces)
			assert.Empty(t, s.Refusal)
		})
	}
}

// A failure that is not a refusal of the key (the service was not reached, a confirmation ID typed
// wrong) brings nothing; nor does a refusal of a machine that is activated already.
func TestFailureThatIsNotARefusal(t *testing.T) {
	m, _ := machine(t, retailPro)
	require.NoError(t, m.Activate(ActivationResult{Outcome: Failed, Code: "no-network"}))
	assert.Empty(t, m.Snapshot().Surfaces)
	assert.Contains(t, lastEvent(m).Message, "failed with code no-network")

	require.NoError(t, m.Activate(ActivationResult{Outcome: Succeeded}))
	require.NoError(t, m.Activate(ActivationResult{Outcome: Failed, Code: "key-in-use", Refused: true}))
	assert.Equal(t, Licensed, m.Status())
	assert.Empty(t, m.Snapshot().Refusal)
	m.Boot(Boot{Inventory: hardware()})
	m.Boot(Boot{Inventory: hardware(hwid.NIC, hwid.Disk)}) // out of tolerance: a grace, with no stale refusal
	s := m.Snapshot()
	assert.Equal(t, OOTGrace, s.Status)
	assert.Empty(t, s.Surfaces)
}

// Windows 7 in the field: a refused activation shows nothing more until the grace ends, then
// Notification.
func TestRefusedActivationAfterGracePolicy(t *testing.T) {
	m, clk := machine(t, retailPro, func(c *Config) { c.RefusedActivation = RefusalAfterGrace })
	require.NoError(t, m.Activate(ActivationResult{Outcome: Failed, Code: "key-in-use", Refused: true}))
	s := m.Snapshot()
	assert.Equal(t, OOBGrace, s.Status)
	assert.Empty(t, s.Surfaces)
	assert.Equal(t, "key-in-use", s.Refusal, "the refusal is kept, only not shown")
	assert.NotContains(t, lastEvent(m).Message, "Until Windows is activated")
	m.Drain()
	clk.Add(Day)
	m.Logon()
	assert.Equal(t, []EventKind{EventReminderLogon}, kinds(m.Drain()), "the daily reminder, not the dialog")
	clk.Set(t0.Add(30 * Day))
	s = m.Snapshot()
	assert.Equal(t, Notification, s.Status)
	assert.Equal(t, allSurfaces, s.Surfaces)
}

func TestRefusalPolicyConfig(t *testing.T) {
	c := DefaultConfig()
	assert.Equal(t, RefusalNotifies, c.RefusedActivation, "DESIGN.md's behaviour is the default")
	b, err := json.Marshal(c)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"refused_activation":"notify"`)
	require.NoError(t, json.Unmarshal([]byte(`{"refused_activation": "after-grace"}`), &c))
	assert.Equal(t, RefusalAfterGrace, c.RefusedActivation)
	require.NoError(t, c.Validate())
	c.RefusedActivation = "sometimes"
	err = c.Validate()
	var ce *ConfigError
	require.True(t, errors.As(err, &ce), "%v", err)
	assert.Equal(t, "refused_activation", ce.Field)
	assert.Contains(t, err.Error(), "notify or after-grace")

	// A state saved before the setting existed gets the default.
	m, _ := machine(t, retailPro)
	var raw map[string]any
	b, err = json.Marshal(m)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &raw))
	delete(raw["config"].(map[string]any), "refused_activation")
	b, err = json.Marshal(raw)
	require.NoError(t, err)
	back, err := Load(b, NewManualClock(t0))
	require.NoError(t, err)
	assert.Equal(t, RefusalNotifies, back.Config().RefusedActivation)
}

// Config errors name the field, so a scenario's licence: block can point at it.
func TestConfigErrorsNameTheField(t *testing.T) {
	for doc, field := range map[string]string{
		`{"oot_grace": "0d"}`:                  "oot_grace",
		`{"oot_grace": "soon"}`:                "oot_grace",
		`{"kms_retry": "5m"}`:                  "kms_retry",
		`{"max_rearms": -1}`:                   "max_rearms",
		`{"max_rearms": "three"}`:              "max_rearms",
		`{"grace": "3d"}`:                      "grace",
		`{"reminders": {"every": "0s"}}`:       "reminders.every",
		`{"reminders": {"often": "2h"}}`:       "reminders.often",
		`{"reminders": 7}`:                     "reminders",
		`{"reminders": {"hourly_from": "4d"}}`: "reminders.daily_until",
		`{"kms_expiry_status": "Licensed"}`:    "kms_expiry_status",
	} {
		c := DefaultConfig()
		err := json.Unmarshal([]byte(doc), &c)
		if err == nil {
			err = c.Validate()
		}
		var ce *ConfigError
		if assert.True(t, errors.As(err, &ce), "%s: %v", doc, err) {
			assert.Equal(t, field, ce.Field, doc)
		}
	}
}
