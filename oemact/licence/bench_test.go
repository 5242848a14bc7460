package licence

import (
	"encoding/json"
	"testing"
	"time"
)

// BenchmarkSimulateKMSYear plays a KMS client's year: hourly samples, daily logons, a KMS
// attempt every 2 hours while the host is down. The guest agent and scenario runs call this
// model thousands of times; keep one year well under a second.
func BenchmarkSimulateKMSYear(b *testing.B) {
	s := spec("Volume:GVLK", "win7-professional", 365, "day 30: kms down", "day 300: kms up")
	sc, err := s.Scenario()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Simulate(sc); err != nil {
			b.Fatal(err)
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
