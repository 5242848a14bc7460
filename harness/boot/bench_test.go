package boot

import (
	"context"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/oemact/oemact/harness/channel"
	"github.com/oemact/oemact/harness/qemu"
)

// BenchmarkBootTCG boots the end-to-end machine (q35, SeaBIOS, SLIC and MSDM, SMBIOS structures,
// a NIC, a disk, a state disk, a channel exchange that saves state) under TCG, one boot per
// iteration. It reports the median wall time from QEMU's start to its exit (s/boot-median) and
// to the agent's report (s/report-median). Run it with -benchtime=5x: each boot takes seconds.
func BenchmarkBootTCG(b *testing.B) {
	benchBoot(b, qemu.Q35, qemu.SeaBIOS)
}

// BenchmarkBootOVMF is the same machine with UEFI firmware.
func BenchmarkBootOVMF(b *testing.B) {
	benchBoot(b, qemu.Q35, qemu.OVMF)
}

func benchBoot(b *testing.B, m qemu.Machine, fw qemu.Firmware) {
	e := setup(b)
	cfg := e.machine(b)
	cfg.Machine, cfg.Firmware = m, fw
	state := filepath.Join(e.dir, "state.img")
	var boots, reports []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := Boot(context.Background(), Spec{
			Machine: cfg, Kernel: e.kernel, Agent: e.agent, StateDisk: state, Dir: filepath.Join(e.dir, "bench"), InitramfsDir: e.dir,
			Handler: func(ctx context.Context, msg *channel.Message) (channel.Type, any, error) {
				return channel.TypeReply, channel.Reply{State: []byte(`{"n":1}`)}, nil
			},
		})
		if err != nil {
			b.Fatal(err)
		}
		boots = append(boots, res.Timings.QEMU)
		reports = append(reports, res.Timings.Report)
	}
	b.StopTimer()
	b.ReportMetric(median(boots).Seconds(), "s/boot-median")
	b.ReportMetric(median(reports).Seconds(), "s/report-median")
	b.Logf("%d boots: %v", len(boots), boots)
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
