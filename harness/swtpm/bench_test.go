package swtpm_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/oemact/oemact/harness/qemu"
)

// BenchmarkBootTPM measures what a TPM adds to a boot, alternating boots without and with one on
// the same machine (q35 + SeaBIOS, tpm-crb, TCG), so that a changing host load hits both alike.
// Each iteration is two boots. Run it with -benchtime=5x or more.
//
//   - agent: the guest agent, which does not use the TPM: the device's own cost (swtpm's start
//     and stop, SeaBIOS's TPM setup and measurements, the kernel driver's probe).
//   - binding: the TPM probe, which does what the agent's TPM binding does (EK, measure, unseal,
//     seal): the whole cost. Its baseline boot does nothing with the TPM.
//
// Metrics: medians of the wall time from starting swtpm (or QEMU) to having reaped both
// (s/boot-notpm, s/boot-tpm, their difference s/tpm-extra), and for binding the guest's own step
// times (ms/guest-*).
func BenchmarkBootTPM(b *testing.B) {
	for _, c := range []struct {
		name  string
		probe bool
	}{{"agent", false}, {"binding", true}} {
		b.Run(c.name, func(b *testing.B) {
			e := setupGuest(b)
			init := e.agent
			if c.probe {
				init = e.probe
			}
			without := e.machine(b, c.name+"-notpm", qemu.Q35, "", init)
			with := e.machine(b, c.name+"-tpm", qemu.Q35, "tpm-crb", init)
			var off, on []time.Duration
			guest := map[string][]float64{}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_, w := without.bootOnce(b)
				off = append(off, w)
				res, w := with.bootOnce(b)
				on = append(on, w)
				if c.probe {
					for k, v := range probeOf(b, res).Ms {
						guest[k] = append(guest[k], v)
					}
				}
			}
			b.StopTimer()
			mOff, mOn := median(off), median(on)
			b.ReportMetric(mOff.Seconds(), "s/boot-notpm")
			b.ReportMetric(mOn.Seconds(), "s/boot-tpm")
			b.ReportMetric((mOn - mOff).Seconds(), "s/tpm-extra")
			var steps []string
			for k, v := range guest {
				m := medianF(v)
				b.ReportMetric(m, "ms/guest-"+k)
				steps = append(steps, fmt.Sprintf("%s %.0f ms", k, m))
			}
			sort.Strings(steps)
			b.Logf("%d boots each; without TPM %v; with %v; guest medians: %s", len(off), round(off), round(on), strings.Join(steps, ", "))
		})
	}
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func medianF(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func round(d []time.Duration) []time.Duration {
	out := make([]time.Duration, len(d))
	for i, x := range d {
		out[i] = x.Round(10 * time.Millisecond)
	}
	return out
}
