package activation_test

import (
	"testing"
	"time"

	"github.com/oemact/oemact/oemact/activation"
	"github.com/oemact/oemact/oemact/catalog"
	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/licence"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder keeps the requests it is asked and answers as host does.
type recorder struct {
	host activation.Host
	reqs []activation.ActivateRequest
	kms  int
}

func (r *recorder) Activate(req activation.ActivateRequest) (activation.Activation, error) {
	r.reqs = append(r.reqs, req)
	return r.host.Activate(req)
}

func (r *recorder) KMS(req activation.KMSRequest) (licence.KMSAnswer, error) {
	r.kms++
	return r.host.KMS(req)
}

// DESIGN.md: no key still means grace. A retail edition installed with no key runs its 30-day
// grace with reminders and cannot activate; a volume edition installs its GVLK and asks a KMS host
// at the first boot.
func TestEvaluateWithNoKey(t *testing.T) {
	r := raw(t, profiles(t, "tstoem-desktop"))
	inv := inventory("52:54:00:4f:45:01", "TSTDISK0417")

	b := &boot{w: newWorld(t, t0)}
	ev := b.run(t, activation.Input{Now: t0, Edition: "win7-ultimate"}, r, inv)
	assert.Equal(t, licence.OOBGrace, ev.Snapshot.Status)
	assert.Equal(t, 30*24*60, int(ev.Snapshot.GraceRemainingMinutes))
	require.NotNil(t, ev.Snapshot.Product)
	assert.True(t, ev.Snapshot.Product.Keyless())
	assert.Equal(t, 1, countReminders(ev), "the daily reminder at the first logon")
	ev = b.run(t, activation.Input{Now: t0.Add(time.Hour), Edition: "win7-ultimate", Actions: []activation.Action{activation.ActivateOnline}}, r, inv)
	assert.Empty(t, ev.Activations, "nothing to send")
	assert.NotEmpty(t, ev.Refused)
	// A key installed later continues the same grace.
	ev = b.run(t, activation.Input{Now: t0.Add(2 * 24 * time.Hour), Edition: "win7-ultimate", Key: key("retail/win7-ultimate"), InstallKey: true}, r, inv)
	assert.Equal(t, 28*24*60, int(ev.Snapshot.GraceRemainingMinutes))
	assert.Equal(t, edition.Retail, ev.Snapshot.Product.Channel)

	w := newWorld(t, t0)
	rec := &recorder{host: w.host}
	in := activation.Input{Now: t0, Edition: "win7-enterprise", Logon: true, Firmware: r, Inventory: inv}
	ev, _, err := activation.Evaluate(in, rec)
	require.NoError(t, err)
	require.NotNil(t, ev.Snapshot.Product)
	assert.Equal(t, edition.VolumeGVLK, ev.Snapshot.Product.Channel, "Windows 7 Enterprise installs its KMS client key")
	assert.Equal(t, 1, rec.kms, "and looks for a KMS host at boot")
	require.Len(t, ev.KMS, 1)
	assert.Equal(t, 1, ev.KMS[0].Count)
	assert.Equal(t, licence.OOBGrace, ev.Snapshot.Status, "one client is below the threshold")

	cat, err := catalog.Parse([]byte("keys: []\n"), "empty")
	require.NoError(t, err)
	e, err := activation.DefaultKey(mustEdition(t, "vista-enterprise"), cat)
	require.NoError(t, err, "a GVLK label no catalog lists is the label grammar's")
	assert.Equal(t, edition.VolumeGVLK, e.Channel)
	e, err = activation.DefaultKey(mustEdition(t, "win7-professional"), cat)
	require.NoError(t, err)
	assert.Nil(t, e, "Professional is sold retail too: no default key")
}

func mustEdition(t *testing.T, id string) edition.Edition {
	ed, err := edition.Lookup(id)
	require.NoError(t, err)
	return ed
}

func countReminders(ev *activation.Evaluation) int {
	n := 0
	for _, e := range ev.Events {
		if e.Kind.Reminder() {
			n++
		}
	}
	return n
}

// An online request carries DESIGN.md's list: software version, language, product key, IP and
// hardware; telephone and proxy requests carry the installation ID and the IP.
func TestEvaluateRequestCarries(t *testing.T) {
	r := raw(t, profiles(t, "tstoem-desktop"))
	inv := inventory("52:54:00:4f:45:01", "TSTDISK0417")
	w := newWorld(t, t0)
	rec := &recorder{host: w.host}
	in := activation.Input{Now: t0, Edition: "win7-ultimate", Key: key("retail/win7-ultimate"), InstallKey: true, Logon: true,
		Firmware: r, Inventory: inv, IP: "198.51.100.20", Actions: []activation.Action{activation.ActivateOnline, activation.ActivateTelephone}}
	_, _, err := activation.Evaluate(in, rec)
	require.NoError(t, err)
	require.Len(t, rec.reqs, 2)
	on := rec.reqs[0]
	assert.Equal(t, "online", on.Method)
	assert.Equal(t, "6.1.7600", on.SoftwareVersion)
	assert.Equal(t, activation.Language, on.Language)
	assert.Equal(t, key("retail/win7-ultimate"), on.Key)
	assert.Equal(t, "198.51.100.20", on.IP)
	require.NotNil(t, on.Hardware)
	for _, c := range on.Hardware.Components {
		assert.Empty(t, c.Value, "digests only")
	}
	tel := rec.reqs[1]
	assert.Equal(t, "telephone", tel.Method)
	assert.NotEmpty(t, tel.InstallationID)
	assert.Empty(t, tel.Key)
	assert.Equal(t, "198.51.100.20", tel.IP)
}

// A machine with no network fails online and proxy activation with a clear code without asking
// anyone, reaches no KMS host, and still activates by telephone.
func TestEvaluateOffline(t *testing.T) {
	r := raw(t, profiles(t, "tstoem-desktop"))
	inv := inventory("52:54:00:4f:45:01", "TSTDISK0417")
	w := newWorld(t, t0)
	rec := &recorder{host: w.host}
	in := activation.Input{Now: t0, Edition: "win7-ultimate", Key: key("retail/win7-ultimate"), InstallKey: true, Logon: true,
		Firmware: r, Inventory: inv, Offline: true, Actions: []activation.Action{activation.ActivateOnline}}
	ev, st, err := activation.Evaluate(in, rec)
	require.NoError(t, err)
	assert.Empty(t, rec.reqs)
	require.Len(t, ev.Activations, 1)
	assert.Equal(t, activation.CodeNoNetwork, ev.Activations[0].Result.Code)
	assert.Equal(t, "online", ev.Activations[0].Result.Method)
	assert.Contains(t, ev.Activations[0].Result.Message, "activate by telephone")
	assert.Empty(t, ev.Snapshot.Surfaces, "not reaching the service is not a refusal")

	in.State, in.InstallKey, in.Actions = st, false, []activation.Action{activation.ActivateTelephone}
	ev, _, err = activation.Evaluate(in, rec)
	require.NoError(t, err)
	require.Len(t, rec.reqs, 1)
	assert.Equal(t, licence.Licensed, ev.Snapshot.Status)

	kin := activation.Input{Now: t0, Edition: "win7-enterprise", Key: key("gvlk/win7-enterprise"), InstallKey: true, Logon: true,
		Firmware: r, Inventory: inv, Offline: true}
	ev, _, err = activation.Evaluate(kin, rec)
	require.NoError(t, err)
	assert.Zero(t, rec.kms)
	require.Len(t, ev.KMS, 1)
	assert.False(t, ev.KMS[0].Reached)
	assert.Equal(t, licence.CodeKMSUnreachable, lastKMSFailure(ev))
}

func lastKMSFailure(ev *activation.Evaluation) string {
	for i := len(ev.Events) - 1; i >= 0; i-- {
		if ev.Events[i].Kind == licence.EventKMSFailed {
			return ev.Events[i].Code
		}
	}
	return ""
}

// A machine powers off after its boot unless it stays on: the reminders that fall due while it is
// off are not shown at its next boot; kept on, they are.
func TestEvaluatePowerOffBetweenBoots(t *testing.T) {
	r := raw(t, profiles(t, "tstoem-desktop"))
	inv := inventory("52:54:00:4f:45:01", "TSTDISK0417")
	run := func(staysOn bool) int {
		b := &boot{w: newWorld(t, t0)}
		b.run(t, activation.Input{Now: t0, Edition: "win7-ultimate", Key: key("retail/win7-ultimate"), InstallKey: true, StaysOn: staysOn}, r, inv)
		ev := b.run(t, activation.Input{Now: t0.Add(29*24*time.Hour + 4*time.Hour), Edition: "win7-ultimate", Key: key("retail/win7-ultimate")}, r, inv)
		return countReminders(ev)
	}
	assert.Equal(t, 0, run(false), "off from day 0 to day 29: none of the gap's reminders, and no logon reminder in the last days")
	assert.Equal(t, 12+5, run(true), "on all along: the 12 four-hourly and the hourly ones of 00:00 to 04:00 on the last day")

	// On until a power-off on day 28: the reminders shown while it ran come with the next boot.
	b := &boot{w: newWorld(t, t0)}
	b.run(t, activation.Input{Now: t0, Edition: "win7-ultimate", Key: key("retail/win7-ultimate"), InstallKey: true,
		StaysOn: true, PowerOffAt: t0.Add(28 * 24 * time.Hour)}, r, inv)
	ev := b.run(t, activation.Input{Now: t0.Add(29*24*time.Hour + 4*time.Hour), Edition: "win7-ultimate", Key: key("retail/win7-ultimate")}, r, inv)
	assert.Equal(t, 7, countReminders(ev), "the four-hourly ones of day 27 and the one at the power-off, none after")
	for _, e := range ev.Events {
		if e.Kind.Reminder() {
			assert.False(t, e.Time.After(t0.Add(28*24*time.Hour)), e.Time)
		}
	}

	_, _, err := activation.Evaluate(activation.Input{Now: t0, Edition: "win7-ultimate", PowerOffAt: t0.Add(time.Hour), Firmware: r}, noHost{})
	assert.ErrorContains(t, err, "needs a machine that stays on")
	_, _, err = activation.Evaluate(activation.Input{Now: t0, Edition: "win7-ultimate", StaysOn: true, PowerOffAt: t0.Add(-time.Hour), Firmware: r}, noHost{})
	assert.ErrorContains(t, err, "needs a machine that stays on")
}

// MAK proxy activation: the installation ID goes to the host as a proxy request; the confirmation
// ID that comes back is checked like a telephone one.
func TestEvaluateProxy(t *testing.T) {
	r := raw(t, profiles(t, "tstoem-desktop"))
	inv := inventory("52:54:00:4f:45:01", "TSTDISK0417")
	w := newWorld(t, t0)
	rec := &recorder{host: w.host}
	in := activation.Input{Now: t0, Edition: "win7-enterprise", Key: key("mak/win7-enterprise"), InstallKey: true, Logon: true,
		Firmware: r, Inventory: inv, Actions: []activation.Action{activation.ActivateProxy}}
	ev, _, err := activation.Evaluate(in, rec)
	require.NoError(t, err)
	require.Len(t, rec.reqs, 1)
	assert.Equal(t, "proxy", rec.reqs[0].Method)
	assert.NotEmpty(t, rec.reqs[0].InstallationID)
	assert.Empty(t, rec.reqs[0].Key, "a proxy sends installation IDs, not keys")
	require.Len(t, ev.Activations, 1)
	assert.Equal(t, "proxy", ev.Activations[0].Result.Method)
	assert.Equal(t, licence.Licensed, ev.Snapshot.Status)

	// A confirmation ID for another installation is refused by the machine.
	bad := &fixedHost{ans: activation.Activation{Result: licence.ActivationResult{Outcome: licence.Succeeded}, ConfirmationID: "000000-000000-000000-000000-000000-000000-000000-000000"}}
	in.Key, in.Edition = key("mak/win7-professional"), "win7-professional"
	ev, _, err = activation.Evaluate(in, bad)
	require.NoError(t, err)
	require.Len(t, ev.Activations, 1)
	assert.Equal(t, activation.CodeConfirmationInvalid, ev.Activations[0].Result.Code)
	assert.NotEqual(t, licence.Licensed, ev.Snapshot.Status)
}

type fixedHost struct{ ans activation.Activation }

func (h *fixedHost) Activate(activation.ActivateRequest) (activation.Activation, error) {
	return h.ans, nil
}
func (h *fixedHost) KMS(activation.KMSRequest) (licence.KMSAnswer, error) {
	return licence.KMSAnswer{}, nil
}
