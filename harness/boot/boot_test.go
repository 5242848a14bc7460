package boot

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/harness/channel"
	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
	"github.com/oemact/oemact/harness/internal/harnesstest"
	"github.com/oemact/oemact/harness/kernel"
	"github.com/oemact/oemact/harness/qemu"
	"github.com/oemact/oemact/harness/statedisk"
	"github.com/oemact/oemact/smbios"
)

var fixtureDir = filepath.Join(harnesstest.RepoRoot(), "fixtures", "acpi", "dell-inspiron-14-3462")

// type1 is a System Information structure (SMBIOS 2.4+ layout, 27 bytes).
func type1() []byte {
	f := []byte{1, 2, 3, 4} // manufacturer, product, version, serial: string numbers
	f = append(f, 0x62, 0x1a, 0x3f, 0x7d, 0x0e, 0x5c, 0x7e, 0x4b, 0x9a, 0x51, 0x2f, 0x8e, 0x6c, 0x4d, 0x0b, 0x17)
	f = append(f, 6, 5, 6) // wake-up type power switch, SKU string 5, family string 6
	return harnesstest.SMBIOSStructure(1, 0x0100, f, "TSTOEM Computers (TEST)", "TestStation 7100", "Rev A", "TST7100-000417", "TS7100-W7P", "TestStation")
}

// type11 is an OEM Strings structure.
func type11() []byte {
	return harnesstest.SMBIOSStructure(11, 0x0B00, []byte{1}, "TSTOEM TEST platform - not a real machine")
}

// structures decodes an SMBIOS table into its structures' bytes, with the handle zeroed (QEMU
// may renumber handles).
func structures(t testing.TB, table []byte) [][]byte {
	tab, err := smbios.DecodeTable(table)
	require.NoError(t, err)
	var out [][]byte
	for _, st := range tab.Structures {
		b, err := st.MarshalBinary()
		require.NoError(t, err)
		out = append(out, withoutHandle(b))
	}
	return out
}

// printedID is an ACPI ID as the kernel prints it (%-8.8s): up to the first NUL, padded with spaces.
func printedID(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\x00")
	return s + strings.Repeat(" ", len(b)-len(s))
}

func withoutHandle(s []byte) []byte {
	s = append([]byte(nil), s...)
	binary.LittleEndian.PutUint16(s[2:], 0)
	return s
}

// The static oemact binary for the guests, built once into a folder TestMain removes (made before
// any test points TMPDIR at the folder it checks).
var (
	binDir    string
	buildOnce sync.Once
	oemactBin string
	oemactErr error
)

func TestMain(m *testing.M) {
	var err error
	if binDir, err = os.MkdirTemp("", "oemact-boot-test-"); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(binDir)
	os.Exit(code)
}

func agentBinary(t testing.TB) string {
	buildOnce.Do(func() { oemactBin, oemactErr = harnesstest.BuildOemact(binDir) })
	require.NoError(t, oemactErr)
	return oemactBin
}

type env struct {
	kernel *kernel.Kernel
	agent  string
	dir    string // artifacts
	inputs string // tables, disks
}

func setup(t testing.TB) env {
	harnesstest.QEMU(t)
	k := harnesstest.Kernel(t)
	bin := agentBinary(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Setenv(qemu.EnvAccel, string(qemu.TCG)) // the boots below measure TCG; KVM is probed in package qemu
	e := env{kernel: k, agent: bin, dir: filepath.Join(t.TempDir(), "artifacts"), inputs: t.TempDir()}
	t.Cleanup(func() {
		harnesstest.NoProcessIn(t, e.dir)
		assert.Empty(t, harnesstest.Files(t, tmp), "files left in TMPDIR")
	})
	return e
}

func (e env) machine(t testing.TB) qemu.Config {
	t1 := filepath.Join(e.inputs, "type1.bin")
	t11 := filepath.Join(e.inputs, "type11.bin")
	require.NoError(t, os.WriteFile(t1, type1(), 0o644))
	require.NoError(t, os.WriteFile(t11, type11(), 0o644))
	disk := filepath.Join(e.inputs, "disk0.img")
	require.NoError(t, os.WriteFile(disk, nil, 0o644))
	require.NoError(t, os.Truncate(disk, 8<<20))
	return qemu.Config{
		Machine: qemu.Q35, Firmware: qemu.SeaBIOS, MemoryMB: 256, CPUs: 1,
		ACPITables:  []string{filepath.Join(fixtureDir, "SLIC"), filepath.Join(fixtureDir, "MSDM")},
		SMBIOSFiles: []string{t1, t11},
		NICs:        []qemu.NIC{{MAC: "52:54:00:4f:45:01"}},
		Disks:       []qemu.Disk{{Path: disk, Serial: "TSTDISK0417"}},
	}
}

func table(r *channel.Report, name string) []byte {
	for _, b := range r.ACPITables {
		if b.Name == name {
			return b.Data
		}
	}
	return nil
}

// TestBootEndToEnd boots the static oemact as the guest's /init twice on q35 + SeaBIOS under TCG,
// with a real Dell SLIC and MSDM, hand-made SMBIOS structures, a NIC, a disk and a state disk:
// with the kernel the harness boots (built, every driver built in) and with Debian's cloud kernel
// (the agent loads the virtio modules from the initramfs).
func TestBootEndToEnd(t *testing.T) {
	e := setup(t)
	kernels := []*kernel.Kernel{e.kernel}
	if e.kernel.Built {
		kernels = append(kernels, harnesstest.CloudKernel(t))
	}
	for _, k := range kernels {
		name := "cloud"
		if k.Built {
			name = "built"
		}
		t.Run(name, func(t *testing.T) {
			e := e
			e.kernel = k
			e.dir = filepath.Join(e.dir, name)
			bootEndToEnd(t, e)
		})
	}
}

func bootEndToEnd(t *testing.T, e env) {
	m := e.machine(t)
	state := filepath.Join(e.dir, "state.img")
	slic, err := os.ReadFile(filepath.Join(fixtureDir, "SLIC"))
	require.NoError(t, err)
	msdm, err := os.ReadFile(filepath.Join(fixtureDir, "MSDM"))
	require.NoError(t, err)

	var prevState json.RawMessage
	for boot := 1; boot <= 2; boot++ {
		newState := json.RawMessage(`{"boot":` + string(rune('0'+boot)) + `,"license_status":2,"grace_days_left":30}`)
		var seen []channel.Type
		res, err := Boot(context.Background(), Spec{
			Machine: m, Kernel: e.kernel, Agent: e.agent, StateDisk: state,
			Dir: filepath.Join(e.dir, "boot"+string(rune('0'+boot))), InitramfsDir: e.dir,
			Handler: rawOnly(func(ctx context.Context, msg *channel.Message) (channel.Type, any, error) {
				seen = append(seen, msg.Type)
				return channel.TypeReply, channel.Reply{State: newState}, nil
			}),
		})
		require.NoError(t, err)
		require.NotNil(t, res.Report)
		r := res.Report
		assert.Equal(t, []channel.Type{channel.TypeReport}, seen)
		assert.Equal(t, qemu.PowerOff, res.QEMU.Outcome)
		assert.Equal(t, qemu.TCG, res.QEMU.Accel)
		assert.Empty(t, r.Notes, "the agent met no problem")

		// The markers arrive byte for byte.
		assert.Equal(t, slic, table(r, "SLIC"), "SLIC")
		assert.Equal(t, msdm, table(r, "MSDM"), "MSDM")
		assert.NotNil(t, table(r, "FACP"))
		assert.NotNil(t, table(r, "DSDT"))

		// The SMBIOS structures are in the table, and the entry point is there.
		require.NotEmpty(t, r.SMBIOSEntryPoint)
		assert.Equal(t, "_SM_", string(r.SMBIOSEntryPoint[:4]))
		structs := structures(t, r.SMBIOSTable)
		assert.Contains(t, structs, withoutHandle(type1()), "type 1 as given")
		assert.Contains(t, structs, withoutHandle(type11()), "type 11 as given")

		// The RSDT header from the kernel log: QEMU copies the SLIC's OEM IDs into it.
		var rsdt *firmware.LogHeader
		for _, tl := range logHeaders(t, r.KernelLog) {
			if tl.Signature == "RSDT" {
				rsdt = &tl
			}
		}
		require.NotNil(t, rsdt, "kernel log lines: %q", r.KernelLog)
		assert.Equal(t, printedID(slic[10:16]), rsdt.OEMID)
		assert.Equal(t, printedID(slic[16:24]), rsdt.OEMTableID)

		// The hardware the command line describes.
		assert.Contains(t, r.Devices.NICs, channel.NIC{Name: "eth0", MAC: "52:54:00:4f:45:01"}, "%+v", r.Devices.NICs)
		serials := map[string]uint64{}
		for _, d := range r.Devices.Disks {
			serials[d.Serial] = d.SizeBytes
		}
		assert.Equal(t, uint64(8<<20), serials["TSTDISK0417"])
		assert.Equal(t, uint64(statedisk.DefaultSize), serials[statedisk.Serial])
		assert.Equal(t, 1, r.Devices.CPUs)
		assert.InDelta(t, 256*1024-32*1024, float64(r.Devices.MemTotalKB), 32*1024, "MemTotal is -m minus about 32 MB")
		assert.Contains(t, r.Agent.Cmdline, "oemact.state=1")
		assert.Equal(t, e.kernel.Release, r.Agent.KernelRelease)

		// State: blank on the first boot, what the host sent on the boot before after that.
		if boot == 1 {
			assert.Equal(t, "blank", r.StateStatus)
			assert.Nil(t, r.State)
		} else {
			assert.Equal(t, "ok", r.StateStatus)
			assert.JSONEq(t, string(prevState), string(r.State))
		}
		saved, err := statedisk.Read(state)
		require.NoError(t, err)
		assert.JSONEq(t, string(newState), string(saved), "the agent saved the host's state before powering off")
		prevState = newState

		var steps []string
		for _, tm := range r.Timings {
			steps = append(steps, tm.Step+"="+time.Duration(tm.Ms*float64(time.Millisecond)).Round(time.Millisecond).String())
		}
		t.Logf("boot %d: qemu %s (report after %s, initramfs %s); agent steps %s",
			boot, res.Timings.QEMU.Round(time.Millisecond), res.Timings.Report.Round(time.Millisecond),
			res.Timings.Initramfs.Round(time.Millisecond), strings.Join(steps, " "))
	}

	// Only the artifacts the boots made, in the artifacts folder: the cached initramfs (reused by
	// the second boot), the state disk, and per boot the serial log and QEMU's stderr.
	files := harnesstest.Files(t, e.dir)
	sort.Strings(files)
	var cpio []string
	for _, f := range files {
		if strings.HasPrefix(f, "initramfs-") {
			cpio = append(cpio, f)
		}
	}
	assert.Len(t, cpio, 1, "one cached initramfs for both boots: %v", files)
	assert.ElementsMatch(t, append(cpio, "boot1/", "boot1/serial.log", "boot1/qemu.stderr",
		"boot2/", "boot2/serial.log", "boot2/qemu.stderr", "state.img"), files)
}

func TestBootAgentReportsError(t *testing.T) {
	e := setup(t)
	// A state larger than the 1 MiB state disk: the agent cannot save it and must say so.
	big := json.RawMessage(`{"pad":"` + strings.Repeat("x", statedisk.DefaultSize) + `"}`)
	var gotError channel.Error
	res, err := Boot(context.Background(), Spec{
		Kernel: e.kernel, Agent: e.agent, StateDisk: filepath.Join(e.dir, "state.img"), Dir: e.dir,
		Machine: qemu.Config{MemoryMB: 256},
		Handler: rawOnly(func(ctx context.Context, msg *channel.Message) (channel.Type, any, error) {
			if msg.Type == channel.TypeError {
				gotError, _ = channel.PayloadOf[channel.Error](msg)
				return channel.TypeAck, nil, nil
			}
			return channel.TypeReply, channel.Reply{State: big}, nil
		}),
	})
	require.Error(t, err)
	var ge *GuestError
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, "state-write", ge.Stage)
	assert.Contains(t, ge.Message, "give the machine a larger state disk")
	assert.Equal(t, "state-write", gotError.Stage, "the handler saw the error too")
	assert.Equal(t, qemu.PowerOff, res.QEMU.Outcome, "the agent still powered off")
	assert.Contains(t, err.Error(), "reproduce: cd ")
	_, serr := statedisk.Read(filepath.Join(e.dir, "state.img"))
	assert.ErrorIs(t, serr, statedisk.ErrEmpty, "nothing half-written")
}

func TestBootHostRefusesReport(t *testing.T) {
	e := setup(t)
	res, err := Boot(context.Background(), Spec{
		Kernel: e.kernel, Agent: e.agent, Dir: e.dir,
		Handler: rawOnly(func(ctx context.Context, msg *channel.Message) (channel.Type, any, error) {
			return "", nil, errors.New("no scenario step expects a report now")
		}),
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the host's handler failed on report: no scenario step expects a report now")
	assert.Equal(t, qemu.PowerOff, res.QEMU.Outcome)
	serial, _ := os.ReadFile(res.QEMU.Serial)
	assert.Contains(t, string(serial), "the peer refused report: no scenario step expects a report now")
}

// TestBootWithoutChannelDriver boots a kernel whose initramfs lacks virtio_console: the agent
// cannot reach the host, so it must power off by itself (no hang), and the boot fails as "no report".
func TestBootWithoutChannelDriver(t *testing.T) {
	e := setup(t)
	k := *harnesstest.CloudKernel(t) // a kernel with modules
	k.Modules = nil
	for _, m := range e.kernel.Modules {
		if m.Name != "virtio_console" {
			k.Modules = append(k.Modules, m)
		}
	}
	res, err := Boot(context.Background(), Spec{Kernel: &k, Agent: e.agent, Dir: e.dir})
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrNoReport)
	assert.Equal(t, qemu.PowerOff, res.QEMU.Outcome)
	assert.Zero(t, res.Messages)
	serial, _ := os.ReadFile(res.QEMU.Serial)
	assert.Contains(t, string(serial), "is virtio_console loaded")
	assert.Contains(t, err.Error(), "serial log: "+res.QEMU.Serial)
}

func TestBootTimeout(t *testing.T) {
	e := setup(t)
	res, err := Boot(context.Background(), Spec{Kernel: e.kernel, Agent: e.agent, Dir: e.dir, Timeout: 700 * time.Millisecond})
	require.Error(t, err)
	var qe *qemu.Error
	require.ErrorAs(t, err, &qe)
	assert.Equal(t, qemu.Timeout, res.QEMU.Outcome)
	assert.Nil(t, res.Report)
	_, statErr := os.Stat(filepath.Join(e.dir, ChannelSocket))
	assert.ErrorIs(t, statErr, os.ErrNotExist, "the channel socket is removed")
}

func TestBootSetupErrors(t *testing.T) {
	_, err := Boot(context.Background(), Spec{Dir: t.TempDir()})
	assert.ErrorContains(t, err, "no kernel")
	_, err = Boot(context.Background(), Spec{Kernel: &kernel.Kernel{Vmlinuz: "k"}, Agent: "/bin/sh", Dir: t.TempDir()})
	assert.ErrorContains(t, err, "dynamically linked")
}

// TestMachineFirmwares boots the same markers on pc + SeaBIOS and on q35 + OVMF through a Machine:
// the SLIC and MSDM arrive byte for byte with either firmware, and the root table the kernel
// logs (RSDT with SeaBIOS, XSDT with OVMF) carries the SLIC's OEM IDs (notes/qemu.md).
func TestMachineFirmwares(t *testing.T) {
	e := setup(t)
	slic, err := os.ReadFile(filepath.Join(fixtureDir, "SLIC"))
	require.NoError(t, err)
	for _, c := range []struct {
		machine qemu.Machine
		fw      qemu.Firmware
		root    string
	}{{qemu.PC, qemu.SeaBIOS, "RSDT"}, {qemu.Q35, qemu.OVMF, "XSDT"}} {
		t.Run(string(c.machine)+"-"+string(c.fw), func(t *testing.T) {
			if c.fw == qemu.OVMF {
				if _, err := qemu.FindOVMF(); err != nil {
					hosttooltest.Unavailable(t, err.Error())
				}
			}
			cfg := e.machine(t)
			cfg.Machine, cfg.Firmware = c.machine, c.fw
			m := &Machine{Name: "m", Config: cfg, Kernel: e.kernel, Agent: e.agent,
				Dir: filepath.Join(e.dir, string(c.machine)+"-"+string(c.fw)), InitramfsDir: e.dir}
			res, err := m.Boot(context.Background(), nil)
			require.NoError(t, err)
			assert.Equal(t, 1, m.Boots)
			assert.Equal(t, m.BootDir(1), res.QEMU.Dir)
			assert.Equal(t, slic, table(res.Report, "SLIC"))
			assert.NotNil(t, table(res.Report, "MSDM"))
			var root *firmware.LogHeader
			for _, tl := range logHeaders(t, res.Report.KernelLog) {
				if tl.Signature == c.root {
					root = &tl
				}
			}
			require.NotNil(t, root, "%s in %q", c.root, res.Report.KernelLog)
			assert.Equal(t, printedID(slic[10:16]), root.OEMID)
			assert.Equal(t, printedID(slic[16:24]), root.OEMTableID)
			assert.Equal(t, "blank", res.Report.StateStatus)
			t.Logf("%s + %s: qemu %s", c.machine, c.fw, res.Timings.QEMU.Round(time.Millisecond))
		})
	}
}

// TestBootAgentWatchdog stalls the host's answer past the agent's watchdog (3 s from the agent's
// start, well inside the host's timeout): the agent must power the machine off by itself rather
// than wait to be killed.
func TestBootAgentWatchdog(t *testing.T) {
	e := setup(t)
	res, err := Boot(context.Background(), Spec{
		Kernel: e.kernel, Agent: e.agent, Dir: e.dir, Timeout: 2 * qemu.DefaultTimeout,
		Append: "oemact.timeout=3", // the last word wins over the one Boot derives from Timeout
		Handler: rawOnly(func(ctx context.Context, msg *channel.Message) (channel.Type, any, error) {
			<-ctx.Done() // a host that never answers
			return "", nil, ctx.Err()
		}),
	})
	require.Error(t, err)
	assert.Equal(t, qemu.PowerOff, res.QEMU.Outcome, "the agent powered off before the host's timeout: %v", err)
	serial, _ := os.ReadFile(res.QEMU.Serial)
	assert.Contains(t, string(serial), "watchdog: still running after 3s; powering off")
	assert.Contains(t, err.Error(), "the host's handler failed on report")
}

// rawOnly answers the agent's hello with an empty plan (raw report only, as DefaultHandler does)
// and hands every other message to h: these tests are about the report and its errors.
func rawOnly(h channel.Handler) channel.Handler {
	return func(ctx context.Context, msg *channel.Message) (channel.Type, any, error) {
		if msg.Type == channel.TypeHello {
			return DefaultHandler(ctx, msg)
		}
		return h(ctx, msg)
	}
}

// resumePlan answers hello with a raw-report plan that keeps the machine running (or not), and a
// report with an empty reply.
func resumePlan(resume bool, reports *[]*channel.Report) channel.Handler {
	return func(ctx context.Context, msg *channel.Message) (channel.Type, any, error) {
		switch msg.Type {
		case channel.TypeHello:
			return channel.TypePlan, channel.Plan{Resume: resume}, nil
		case channel.TypeReport:
			r, err := channel.PayloadOf[channel.Report](msg)
			*reports = append(*reports, &r)
			return channel.TypeReply, channel.Reply{}, err
		}
		return DefaultHandler(ctx, msg)
	}
}

// A machine kept running takes its next steps without a reboot: the same QEMU process, the same
// tables, a round number per step; the last round powers it off.
func TestBootResume(t *testing.T) {
	e := setup(t)
	var reports []*channel.Report
	ctx := context.Background()
	res, err := Boot(ctx, Spec{Machine: e.machine(t), Kernel: e.kernel, Agent: e.agent, Dir: e.dir,
		Handler: resumePlan(true, &reports), Resume: true})
	require.NoError(t, err)
	require.NotNil(t, res.Running, "the machine runs on after its report")
	assert.Equal(t, 1, res.Round)
	require.NotNil(t, res.Report)
	require.NotNil(t, res.QEMU)
	pid := res.QEMU.PID
	assert.Positive(t, pid)
	assert.Contains(t, res.QEMU.Command, "qemu-system-x86_64")
	live := res.Running

	res, err = live.Next(ctx, resumePlan(true, &reports), true)
	require.NoError(t, err)
	assert.Equal(t, 2, res.Round)
	require.NotNil(t, res.Running)
	assert.Equal(t, pid, res.QEMU.PID, "the same QEMU process")

	res, err = res.Running.Next(ctx, resumePlan(false, &reports), false)
	require.NoError(t, err)
	assert.Equal(t, 3, res.Round)
	assert.Nil(t, res.Running, "the last round powers the machine off")
	assert.Equal(t, qemu.PowerOff, res.QEMU.Outcome)
	assert.Equal(t, pid, res.QEMU.PID)
	assert.Positive(t, res.Timings.QEMU)

	require.Len(t, reports, 3)
	for i, r := range reports[1:] {
		assert.Equal(t, table(reports[0], "SLIC"), table(r, "SLIC"), "round %d sees the tables the machine booted with", i+2)
		assert.Equal(t, reports[0].SMBIOSTable, r.SMBIOSTable, "round %d", i+2)
	}
	serial, err := os.ReadFile(res.QEMU.Serial)
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(serial), "init started"), "one boot")
	assert.Contains(t, string(serial), "round 3: resumed without a reboot")

	_, err = live.Next(ctx, resumePlan(false, &reports), false)
	assert.ErrorContains(t, err, "no longer running")
	assert.NoError(t, live.Stop(), "stopping a machine that powered off is a no-op")
}

// Stop powers a machine kept running off through its agent.
func TestBootResumeStop(t *testing.T) {
	e := setup(t)
	var reports []*channel.Report
	res, err := Boot(context.Background(), Spec{Kernel: e.kernel, Agent: e.agent, Dir: e.dir,
		Handler: resumePlan(true, &reports), Resume: true})
	require.NoError(t, err)
	require.NotNil(t, res.Running)
	require.NoError(t, res.Running.Stop())
	serial, err := os.ReadFile(res.QEMU.Serial)
	require.NoError(t, err)
	assert.Contains(t, string(serial), "the host has no more steps for this machine")
	assert.Contains(t, string(serial), "reboot: Power down")
}

// A round of a machine kept running has its own timeout on the host: a step that does not end
// kills the machine with an error naming the round. (The agent's own watchdog, which normally
// fires 5 s earlier and reports itself, is set later here.)
func TestBootResumeRoundTimeout(t *testing.T) {
	e := setup(t)
	var reports []*channel.Report
	res, err := Boot(context.Background(), Spec{Kernel: e.kernel, Agent: e.agent, Dir: e.dir,
		Handler: resumePlan(true, &reports), Resume: true, Timeout: 20 * time.Second, Append: "oemact.timeout=120"})
	require.NoError(t, err)
	require.NotNil(t, res.Running)
	hang := func(ctx context.Context, msg *channel.Message) (channel.Type, any, error) {
		if msg.Type == channel.TypeReport {
			<-ctx.Done() // the host never answers the report
			return "", nil, ctx.Err()
		}
		return resumePlan(true, &reports)(ctx, msg)
	}
	start := time.Now()
	res, err = res.Running.Next(context.Background(), hang, true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "timeout: the step did not finish within 20s (round 2 of a machine kept running)")
	assert.Contains(t, err.Error(), "reproduce: cd ")
	assert.GreaterOrEqual(t, time.Since(start), 20*time.Second)
	assert.Nil(t, res.Running)
	assert.Equal(t, qemu.Timeout, res.QEMU.Outcome, "killed, not powered off")
}

// The agent's watchdog bounds each round, not the wait between rounds: a machine kept running
// may wait longer than its timeout for its next step (other machines boot meanwhile).
func TestBootResumeWaitsLongerThanItsWatchdog(t *testing.T) {
	e := setup(t)
	var reports []*channel.Report
	res, err := Boot(context.Background(), Spec{Kernel: e.kernel, Agent: e.agent, Dir: e.dir,
		Handler: resumePlan(true, &reports), Resume: true, Timeout: 10 * time.Second}) // the agent's: 5 s
	require.NoError(t, err)
	require.NotNil(t, res.Running)
	time.Sleep(7 * time.Second)
	res, err = res.Running.Next(context.Background(), resumePlan(false, &reports), false)
	require.NoError(t, err)
	assert.Equal(t, qemu.PowerOff, res.QEMU.Outcome)
	assert.Len(t, reports, 2)
}

// logHeaders parses the kernel log lines a report carries.
func logHeaders(t *testing.T, lines []string) []firmware.LogHeader {
	t.Helper()
	hs, err := firmware.ParseKernelLog(strings.NewReader(strings.Join(lines, "\n")))
	require.NoError(t, err)
	return hs
}
