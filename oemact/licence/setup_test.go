package licence

import (
	"encoding/json"
	"testing"

	"github.com/oemact/oemact/oemact/edition"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// DESIGN.md: no key still means grace. An installation without a key runs the 30-day grace with
// its reminders, cannot activate, and a key installed later continues the same grace.
func TestSetupWithoutAKey(t *testing.T) {
	clk := NewManualClock(t0)
	m, err := New(DefaultConfig(), clk)
	require.NoError(t, err)
	require.NoError(t, m.Setup("win7-ultimate"))
	s := m.Snapshot()
	assert.Equal(t, OOBGrace, s.Status)
	assert.Equal(t, t0.Add(30*Day), s.GraceEnd)
	require.NotNil(t, s.Product)
	assert.True(t, s.Product.Keyless())
	assert.Equal(t, "win7-ultimate", s.Product.Edition)
	assert.Equal(t, PathService, s.ActivationPath)
	assert.Equal(t, EventInstalled, lastEvent(m).Kind)
	assert.Contains(t, lastEvent(m).Message, "without a product key")

	m.Drain()
	m.Logon()
	assert.Equal(t, []EventKind{EventReminderLogon}, kinds(m.Drain()), "reminders like any installation")
	var re *RefusedError
	assert.ErrorAs(t, m.Activate(ActivationResult{Outcome: Succeeded}), &re, "nothing to activate without a key")
	assert.ErrorAs(t, m.Setup("win7-ultimate"), &re, "installed already")
	_, due := m.KMSAttemptDue()
	assert.False(t, due)

	clk.Set(t0.Add(27 * Day))
	m.Advance()
	assert.Len(t, reminders(m.Drain()), 1, "the first four-hourly reminder, at three days left")

	clk.Set(t0.Add(28 * Day))
	require.NoError(t, m.InstallKey(product(edition.Retail, "win7-ultimate")))
	s = m.Snapshot()
	assert.Equal(t, OOBGrace, s.Status)
	assert.Equal(t, t0.Add(30*Day), s.GraceEnd, "the key continues the grace of the installation")
	assert.Contains(t, lastEvent(m).Message, "Product key installed")
	require.NoError(t, m.Activate(ActivationResult{Outcome: Succeeded}))
	assert.Equal(t, Licensed, m.Status())

	// Saved and loaded, a keyless installation stays what it is.
	k, err := New(DefaultConfig(), clk)
	require.NoError(t, err)
	require.NoError(t, k.Setup("win7-professional"))
	b, err := json.Marshal(k)
	require.NoError(t, err)
	back, err := Load(b, clk)
	require.NoError(t, err)
	assert.True(t, back.Snapshot().Product.Keyless())

	bad, err := New(DefaultConfig(), clk)
	require.NoError(t, err)
	assert.ErrorAs(t, bad.Setup("win99"), &re)
	assert.Equal(t, Unlicensed, bad.Status())
	assert.Error(t, Product{Edition: "win7-ultimate", PartialKey: "7QW3D"}.Validate(), "a partial key needs a channel")
}
