package inproc_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/harness/channel"
	"github.com/oemact/oemact/harness/engine"
	"github.com/oemact/oemact/harness/engine/inproc"
	"github.com/oemact/oemact/harness/engine/qemuvm"
	"github.com/oemact/oemact/harness/internal/harnesstest"
	"github.com/oemact/oemact/harness/qemu"
	"github.com/oemact/oemact/oemact/profile"
)

// seen is what a guest showed the agent, reduced to what the activation model reads.
type seen struct {
	Markers   map[string]string // name -> SHA-256
	Roots     []string          // the RSDT/XSDT and FADT headers from the kernel log
	Identity  map[string]string
	Findings  []string
	Inventory []string
	Dockable  bool
	Devices   channel.Devices
}

func observe(t *testing.T, m engine.Machine, hw engine.Hardware) seen {
	t.Helper()
	var rep *channel.Report
	h := func(ctx context.Context, msg *channel.Message) (channel.Type, any, error) {
		switch msg.Type {
		case channel.TypeHello:
			return channel.TypePlan, channel.Plan{Evaluate: true, Now: time.Date(2010, 1, 1, 9, 0, 0, 0, time.UTC),
				Edition: "win7-professional", Stateless: true}, nil
		case channel.TypeReport:
			r, err := channel.PayloadOf[channel.Report](msg)
			rep = &r
			return channel.TypeReply, channel.Reply{}, err
		}
		return channel.DefaultHandler(ctx, msg)
	}
	_, err := m.Boot(context.Background(), hw, h, false)
	require.NoError(t, err)
	require.NotNil(t, rep)
	ev := rep.Evaluation
	s := seen{Markers: map[string]string{}, Identity: ev.Identity, Dockable: ev.Inventory.Dockable, Devices: rep.Devices}
	for _, b := range rep.ACPITables {
		if firmware.IsMarker(b.Name) {
			sum := sha256.Sum256(b.Data)
			s.Markers[b.Name] = hex.EncodeToString(sum[:])
		}
	}
	hs, err := firmware.ParseKernelLog(strings.NewReader(strings.Join(rep.KernelLog, "\n")))
	require.NoError(t, err)
	for _, h := range hs {
		if h.Signature == "RSDT" || h.Signature == "XSDT" || h.Signature == "FACP" {
			s.Roots = append(s.Roots, fmt.Sprintf("%s %q %q", h.Signature, h.OEMID, h.OEMTableID))
		}
	}
	for _, f := range ev.Findings {
		s.Findings = append(s.Findings, f.Code+" "+f.Severity.String())
	}
	for _, c := range ev.Inventory.Components {
		s.Inventory = append(s.Inventory, string(c.Class)+"="+c.Value)
	}
	sort.Strings(s.Inventory)
	s.Devices.MemTotalKB = 0 // the model reads it as a range, which Inventory holds
	return s
}

// The in-process engine shows the guest what QEMU shows: the same marker tables byte for byte,
// the same root table IDs, SMBIOS identity, findings, hardware inventory and devices, for every
// fixture profile and for each chipset and firmware.
func TestInProcessShowsWhatQEMUShows(t *testing.T) {
	harnesstest.QEMU(t)
	k := harnesstest.Kernel(t)
	agent, err := harnesstest.BuildAgent(t.TempDir())
	require.NoError(t, err)
	vm := &qemuvm.Engine{Kernel: k, Agent: agent, Accel: qemu.TCG, InitramfsDir: t.TempDir()}
	profiles, err := filepath.Glob(filepath.Join(harnesstest.RepoRoot(), "fixtures", "profiles", "*.yaml"))
	require.NoError(t, err)
	type run struct{ profile, chipset, firmware string }
	var runs []run
	for _, p := range profiles {
		runs = append(runs, run{p, "", ""})
	}
	desktop := filepath.Join(harnesstest.RepoRoot(), "fixtures", "profiles", "tstoem-desktop.yaml")
	runs = append(runs, run{desktop, engine.PC, engine.SeaBIOS}, run{desktop, engine.Q35, engine.OVMF}, run{desktop, engine.PC, engine.OVMF})
	for _, r := range runs {
		name := strings.TrimSuffix(filepath.Base(r.profile), ".yaml") + "/" + r.chipset + "/" + r.firmware
		t.Run(name, func(t *testing.T) {
			p, err := profile.Load(r.profile)
			require.NoError(t, err)
			tables, err := p.Synthesize()
			require.NoError(t, err)
			hw := engine.FromProfile(tables, p.VM, false)
			if r.chipset != "" {
				hw.Chipset, hw.Firmware = r.chipset, r.firmware
			}
			opts := engine.MachineOptions{Timeout: 2 * time.Minute}
			qm, err := vm.Machine("pc", t.TempDir(), opts)
			require.NoError(t, err)
			im, err := inproc.Engine{}.Machine("pc", t.TempDir(), opts)
			require.NoError(t, err)
			want := observe(t, qm, hw)
			got := observe(t, im, hw)
			assert.Empty(t, cmp.Diff(want, got), "QEMU (-) and in-process (+) differ")
		})
	}
}
