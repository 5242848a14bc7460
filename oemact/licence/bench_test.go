package licence

import (
	"encoding/json"

	"testing"
	"time"

	"github.com/oemact/oemact/oemact/edition"
)

// BenchmarkKMSYear plays a KMS client's year on its own clock: a boot and logon every day, a
// KMS attempt whenever one is due (every 2 hours while the host is down from day 30 to day 300).
// Scenario runs call this model at every boot; keep one year well under a second.
func BenchmarkKMSYear(b *testing.B) {
	p := Product{Channel: edition.VolumeGVLK, Edition: "win7-professional"}
	b.ReportAllocs()
	for b.Loop() {
		clk := NewManualClock(t0)
		m, _ := New(DefaultConfig(), clk)
		if err := m.InstallKey(p); err != nil {
			b.Fatal(err)
		}
		end := t0.Add(365 * Day)
		nextBoot := t0
		for clk.Now().Before(end) {
			due, _ := m.KMSAttemptDue()
			t := nextBoot
			if due.Before(t) {
				t = due
			}
			if t.Before(clk.Now()) {
				t = clk.Now()
			}
			clk.Set(t)
			if t.Equal(nextBoot) {
				m.Boot(Boot{Inventory: hardware(), Firmware: validMarker()})
				m.Logon()
				nextBoot = nextBoot.Add(Day)
			}
			if d, ok := m.KMSAttemptDue(); ok && !d.After(t) {
				day := int(t.Sub(t0) / Day)
				a := KMSAnswer{Reached: day < 30 || day >= 300, Count: 30, Activated: day < 30 || day >= 300}
				if err := m.KMSResponse(a); err != nil {
					b.Fatal(err)
				}
			}
			m.Drain()
		}
	}
}

// BenchmarkBootCycle is what the guest agent does at each boot: load the saved state, advance a
// day, report hardware and firmware, log on, save.
func BenchmarkBootCycle(b *testing.B) {
	clk := NewManualClock(t0)
	m, _ := New(DefaultConfig(), clk)
	_ = m.InstallKey(retailPro)
	m.Boot(Boot{Inventory: hardware(), Firmware: validMarker()})
	_ = m.Activate(ActivationResult{Outcome: Succeeded})
	state, _ := json.Marshal(m)
	inv := hardware()
	b.ReportAllocs()
	for b.Loop() {
		m, err := Load(state, clk)
		if err != nil {
			b.Fatal(err)
		}
		clk.Add(24 * time.Hour)
		m.Boot(Boot{Inventory: inv, Firmware: validMarker()})
		m.Logon()
		m.Drain()
		if state, err = json.Marshal(m); err != nil {
			b.Fatal(err)
		}
	}
}
