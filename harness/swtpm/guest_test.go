package swtpm_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/boot"
	"github.com/oemact/oemact/harness/hosttool"
	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
	"github.com/oemact/oemact/harness/internal/harnesstest"
	"github.com/oemact/oemact/harness/kernel"
	"github.com/oemact/oemact/harness/qemu"
	"github.com/oemact/oemact/harness/swtpm"
	"github.com/oemact/oemact/oemact/tpm"
)

// The guests' /init programs, built once per test process (static, as the Makefile builds oemact)
// into a folder TestMain removes.
var (
	binDir             string
	buildOnce          sync.Once
	agentBin, probeBin string
	agentErr, probeErr error
	probePackage       = "./harness/swtpm/internal/tpmprobe"
)

func TestMain(m *testing.M) {
	var err error
	if binDir, err = os.MkdirTemp("", "oemact-swtpm-test-"); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(binDir)
	os.Exit(code)
}

func binaries(t testing.TB) (agent, probe string) {
	t.Helper()
	buildOnce.Do(func() {
		agentBin, agentErr = harnesstest.BuildAgent(binDir)
		probeBin = filepath.Join(binDir, "tpmprobe")
		probeErr = hosttool.BuildStatic(context.Background(), harnesstest.RepoRoot(), probePackage, probeBin)
	})
	require.NoError(t, agentErr)
	require.NoError(t, probeErr)
	return agentBin, probeBin
}

// probeResult mirrors tpmprobe's Result.
type probeResult struct {
	Device   bool               `json:"device"`
	Status   *tpm.Status        `json:"status"`
	Firmware []tpm.PCRValue     `json:"firmware"`
	EventLog []string           `json:"event_log"`
	Ms       map[string]float64 `json:"ms"`
	Error    string             `json:"error"`
	Record   string             `json:"record"`
}

func probeOf(t testing.TB, res *boot.Result) probeResult {
	t.Helper()
	require.NotNil(t, res.Report)
	require.Equal(t, "tpmprobe", res.Report.StateStatus)
	var p probeResult
	require.NoError(t, json.Unmarshal(res.Report.State, &p))
	require.Empty(t, p.Error)
	return p
}

// system is a type 1 structure (SMBIOS 2.4+ layout) with this manufacturer, product and serial.
func system(manufacturer, product, serial string) []byte {
	f := []byte{1, 2, 3, 4}
	f = append(f, 0x62, 0x1a, 0x3f, 0x7d, 0x0e, 0x5c, 0x7e, 0x4b, 0x9a, 0x51, 0x2f, 0x8e, 0x6c, 0x4d, 0x0b, 0x17)
	f = append(f, 6, 5, 6)
	return harnesstest.SMBIOSStructure(1, 0x0100, f, manufacturer, product, "Rev A", serial, "SKU-TEST", "TestStation")
}

// guestEnv is what booting needs.
type guestEnv struct {
	kernel       *kernel.Kernel
	agent, probe string
	dir          string // artifacts
	inputs       string
}

func setupGuest(t testing.TB) guestEnv {
	harnesstest.QEMU(t)
	hosttooltest.Require(t, "swtpm")
	k := harnesstest.Kernel(t)
	agent, probe := binaries(t)
	t.Setenv(qemu.EnvAccel, string(qemu.TCG)) // KVM is probed in package qemu; these boots measure TCG
	e := guestEnv{kernel: k, agent: agent, probe: probe, dir: t.TempDir(), inputs: t.TempDir()}
	t.Cleanup(func() {
		harnesstest.NoProcessIn(t, e.dir)
		noProcessNaming(t, e.dir)
	})
	return e
}

func (e guestEnv) file(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(e.inputs, name)
	require.NoError(t, os.WriteFile(p, b, 0o644))
	return p
}

func fixture(board, table string) string {
	return filepath.Join(harnesstest.RepoRoot(), "fixtures", "acpi", board, table)
}

// tpmMachine is a test machine whose TPM lives in Dir/tpm across its boots.
type tpmMachine struct {
	*boot.Machine
	model string // tpm-tis or tpm-crb; "" for no TPM
}

func (e guestEnv) machine(t testing.TB, name string, m qemu.Machine, model, init string) *tpmMachine {
	disk := e.file(t, name+"-disk0.img", nil)
	require.NoError(t, os.Truncate(disk, 4<<20))
	return &tpmMachine{model: model, Machine: &boot.Machine{
		Name: name, Kernel: e.kernel, Agent: init, Dir: filepath.Join(e.dir, name), InitramfsDir: e.dir,
		Config: qemu.Config{
			Machine: m, Firmware: qemu.SeaBIOS, MemoryMB: 256,
			ACPITables:  []string{fixture("dell-inspiron-14-3462", "SLIC"), fixture("dell-inspiron-14-3462", "MSDM")},
			SMBIOSFiles: []string{e.file(t, name+"-type1.bin", system("TSTOEM Computers (TEST)", "TestStation 7100", "TST7100-000417"))},
			Disks:       []qemu.Disk{{Path: disk, Serial: "TSTDISK0417"}},
		},
	}}
}

// bootOnce boots the machine with its swtpm, which must end by itself when QEMU exits. It returns
// the boot and the wall time from starting swtpm to having reaped it.
func (m *tpmMachine) bootOnce(t testing.TB) (*boot.Result, time.Duration) {
	t.Helper()
	start := time.Now()
	cfg := m.Config
	var p *swtpm.Process
	if m.model != "" {
		var err error
		p, err = swtpm.Start(filepath.Join(m.Dir, "tpm"), swtpm.Options{})
		require.NoError(t, err)
		defer p.Stop()
		m.Config.TPM = p.QEMU(m.model)
	}
	res, err := m.Boot(context.Background(), nil)
	m.Config = cfg
	require.NoError(t, err)
	if p != nil {
		select {
		case <-p.Exited():
		case <-time.After(5 * time.Second):
			t.Errorf("swtpm still runs 5 s after QEMU exited")
		}
		require.NoError(t, p.Stop())
		assert.Empty(t, swtpm.Running(p.Dir))
	}
	return res, time.Since(start)
}

// TestGuestTPMBinding boots one machine again and again with the TPM binding in the guest (the
// probe standing in for the agent) and checks the scenarios end to end: the same firmware
// unseals at every boot, a disk swap keeps the seal, a new SMBIOS system serial breaks it, and a
// board swap (new SLIC, MSDM and SMBIOS, and the TPM on the board) breaks it.
func TestGuestTPMBinding(t *testing.T) {
	e := setupGuest(t)
	m := e.machine(t, "pc1", qemu.Q35, "tpm-crb", e.probe)
	var ek string
	steps := []struct {
		name    string
		change  func()
		unseal  string
		changed []string
	}{
		{"first boot", nil, tpm.None, nil},
		{"same firmware, boot 2", nil, tpm.Unsealed, nil},
		{"same firmware, boot 3", nil, tpm.Unsealed, nil},
		{"same firmware, boot 4", nil, tpm.Unsealed, nil},
		{"disk swap", func() {
			d := e.file(t, "pc1-disk1.img", nil)
			require.NoError(t, os.Truncate(d, 8<<20))
			m.Config.Disks = []qemu.Disk{{Path: d, Serial: "NEWDISK0001"}}
		}, tpm.Unsealed, nil},
		{"new system serial", func() {
			m.Config.SMBIOSFiles = []string{e.file(t, "pc1-type1b.bin", system("TSTOEM Computers (TEST)", "TestStation 7100", "TST7100-000418"))}
		}, tpm.Changed, []string{"smbios/identity"}},
		{"same again after resealing", nil, tpm.Unsealed, nil},
		{"new SLIC alone", func() {
			m.Config.ACPITables = []string{fixture("lenovo-thinkcentre-m800", "SLIC"), fixture("dell-inspiron-14-3462", "MSDM")}
		}, tpm.Changed, []string{"acpi/SLIC"}},
		{"board swap", func() {
			m.Config.ACPITables = []string{fixture("hp-elitebook-840-g7", "SLIC"), fixture("hp-elitebook-840-g7", "MSDM")}
			m.Config.SMBIOSFiles = []string{e.file(t, "pc1-type1c.bin", system("OTHOEM (TEST)", "Other Board", "OTH-0001"))}
			require.NoError(t, swtpm.Wipe(filepath.Join(m.Dir, "tpm"))) // the TPM is on the board
		}, tpm.Changed, []string{"tpm"}},
	}
	for i, s := range steps {
		if s.change != nil {
			s.change()
		}
		res, wall := m.bootOnce(t)
		p := probeOf(t, res)
		require.True(t, p.Device, "%s: the guest has %s", s.name, tpm.DefaultPath)
		st := p.Status
		require.NotNil(t, st)
		assert.Equal(t, s.unseal, st.Unseal, "%s: %s", s.name, st.Detail)
		assert.Equal(t, s.changed, st.Changed, s.name)
		assert.Equal(t, tpm.DefaultPCR, st.PCR)
		assert.Equal(t, tpm.Replay(st.Items), st.PCRValue)
		if i == 0 {
			ek = st.EKDigest
			assert.Len(t, ek, 64)
		}
		if s.name == "board swap" {
			assert.NotEqual(t, ek, st.EKDigest, "a new TPM, a new EK")
		} else {
			assert.Equal(t, ek, st.EKDigest, "%s: the same TPM across boots", s.name)
		}
		if st.Unseal == tpm.Unsealed {
			assert.Contains(t, p.Record, "sealed_at_boot_with")
		}
		t.Logf("boot %d (%s): %s; wall %s, qemu %s; guest ms %v", i+1, s.name, st, wall.Round(time.Millisecond),
			res.Timings.QEMU.Round(time.Millisecond), p.Ms)
	}
}

// TestGuestTPMDevices: QEMU's tpm-tis (pc) and tpm-crb (q35) both give the guest /dev/tpmrm0 with
// no module, the firmware's measurements stay in PCRs 0-7 (SeaBIOS: SMBIOS into PCR 1, option
// ROMs into 2, boot into 4, separators), and the real agent boots as before with a TPM present.
func TestGuestTPMDevices(t *testing.T) {
	e := setupGuest(t)
	for _, c := range []struct {
		machine qemu.Machine
		model   string
	}{{qemu.PC, "tpm-tis"}, {qemu.Q35, "tpm-crb"}} {
		t.Run(string(c.machine)+"-"+c.model, func(t *testing.T) {
			m := e.machine(t, string(c.machine)+"-probe", c.machine, c.model, e.probe)
			res, _ := m.bootOnce(t)
			p := probeOf(t, res)
			require.True(t, p.Device)
			require.NotNil(t, p.Status)
			assert.Equal(t, tpm.None, p.Status.Unseal)
			require.Len(t, p.Firmware, 8)
			assert.NotEqual(t, make(tpm.Digest, 32), p.Firmware[1].Value, "SeaBIOS measured the SMBIOS table into PCR 1")
			require.NotEmpty(t, p.EventLog)
			for _, ev := range p.EventLog {
				var pcr int
				fmt.Sscanf(ev, "PCR %d", &pcr)
				assert.LessOrEqual(t, pcr, 7, "firmware event %q", ev)
			}
			assert.Contains(t, p.EventLog, "PCR 1 EV_EVENT_TAG", "the SMBIOS measurement")
			t.Logf("%s %s firmware event log: %s", c.machine, c.model, strings.Join(p.EventLog, "; "))

			a := e.machine(t, string(c.machine)+"-agent", c.machine, c.model, e.agent)
			ares, _ := a.bootOnce(t)
			require.NotNil(t, ares.Report)
			assert.Empty(t, ares.Report.Notes)
			var names []string
			for _, b := range ares.Report.ACPITables {
				names = append(names, b.Name)
			}
			sort.Strings(names)
			assert.Contains(t, names, "TPM2", "QEMU describes the TPM in a TPM2 table")
			assert.Contains(t, names, "SLIC")
		})
	}
}
