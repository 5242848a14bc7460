package bench

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/initramfs"
	"github.com/oemact/oemact/harness/internal/harnesstest"
	"github.com/oemact/oemact/harness/qemu"
)

// Commands the runner prints split back into the words QEMU ran with.
func TestSplitCommandRoundTrip(t *testing.T) {
	for _, args := range [][]string{
		{"-machine", "q35,x-oem-id=TSTOEM", "-append", "console=ttyS0 panic=-1 quiet oemact.port=a"},
		{"-acpitable", "file=/tmp/it's here/SLIC.bin", "-smbios", "file=a,,b"},
		{"-append", "", "-name", `back\slash "double"`},
	} {
		cmd := qemu.CommandLine("/tmp/some dir", "/usr/bin/qemu-system-x86_64", args)
		got, err := SplitCommand(cmd)
		require.NoError(t, err, cmd)
		assert.Equal(t, append([]string{"/usr/bin/qemu-system-x86_64"}, args...), got, cmd)
	}
	_, err := SplitCommand("qemu -append 'unterminated")
	assert.Error(t, err)
}

func TestSummarize(t *testing.T) {
	s := Summarize([]time.Duration{3, 1, 2})
	assert.Equal(t, Stats{N: 3, Median: 2, Min: 1, Max: 3}, s)
	s = Summarize([]time.Duration{4, 1, 2, 3})
	assert.Equal(t, Stats{N: 4, Median: 2, Min: 1, Max: 4}, s, "the mean of the middle two, in whole nanoseconds")
	assert.Equal(t, Stats{}, Summarize(nil))

	r := &Report{Stats: map[Kind]Stats{Naive: {N: 1, Median: 4 * time.Second}, Verdict: {N: 1, Median: time.Second}}}
	assert.InDelta(t, 0.25, r.Ratio(Verdict, Naive), 1e-9)
	assert.Zero(t, r.Ratio(Verdict, Floor), "no floor measured")
}

func TestReadGuestTimes(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "serial.log")
	require.NoError(t, os.WriteFile(p, []byte("oemact-agent: oemact agent (devel)\n"+
		"oemact-agent: init started 1.234s after the kernel\n"+
		"oemact-agent: done in 312ms (modules=250.1ms channel=0.4ms evaluate=12ms)\n"+
		"[    1.600000] reboot: Power down\n"), 0o644))
	g, err := ReadGuestTimes(p)
	require.NoError(t, err)
	assert.Equal(t, 1234*time.Millisecond, g.Init)
	assert.Equal(t, 312*time.Millisecond, g.Agent)
	assert.Equal(t, []StepTime{{"modules", 250100 * time.Microsecond}, {"channel", 400 * time.Microsecond}, {"evaluate", 12 * time.Millisecond}}, g.Steps)

	assert.Equal(t, 1600*time.Millisecond, g.PowerOff)

	require.NoError(t, os.WriteFile(p, []byte("oemact-agent: done in 312ms ()\n"), 0o644))
	_, err = ReadGuestTimes(p)
	assert.ErrorContains(t, err, "no agent timing lines")

	// The power-off init's line, and the kernel's.
	require.NoError(t, os.WriteFile(p, []byte("poweroff: init started 612ms after the kernel\n[    0.650125] reboot: Power down\n"), 0o644))
	g, err = ReadPowerOffTimes(p)
	require.NoError(t, err)
	assert.Equal(t, 612*time.Millisecond, g.Init)
	assert.Equal(t, 650125*time.Microsecond, g.PowerOff)
	assert.Zero(t, g.Agent)
	_, err = ReadGuestTimes(p)
	assert.ErrorContains(t, err, "no agent timing lines", "the power-off init is not the agent")
	require.NoError(t, os.WriteFile(p, []byte("[    0.650125] reboot: Power down\n"), 0o644))
	_, err = ReadPowerOffTimes(p)
	assert.ErrorContains(t, err, "no \"poweroff: init started\" line")
}

// The floor's archive is the harness's with only /init changed: the agent stays in it (as
// /oemact), so the kernel unpacks as much.
func TestSwapInit(t *testing.T) {
	dir := t.TempDir()
	agent := filepath.Join(dir, "agent")
	powerOff := filepath.Join(dir, "poweroff")
	mod := filepath.Join(dir, "virtio.ko")
	require.NoError(t, os.WriteFile(agent, []byte("agent bytes"), 0o755))
	require.NoError(t, os.WriteFile(powerOff, []byte("power-off bytes"), 0o755))
	require.NoError(t, os.WriteFile(mod, []byte("module bytes"), 0o644))
	var buf bytes.Buffer
	w := initramfs.NewWriter(&buf)
	require.NoError(t, w.Dir("dev", 0o755))
	require.NoError(t, w.CharDev("dev/console", 0o600, 5, 1))
	require.NoError(t, w.File("init", 0o755, []byte("agent bytes")))
	require.NoError(t, w.File("lib/modules/virtio.ko", 0o644, []byte("module bytes")))
	require.NoError(t, w.Symlink("bin", "lib"))
	require.NoError(t, w.Close())
	src := filepath.Join(dir, "src.cpio")
	require.NoError(t, os.WriteFile(src, buf.Bytes(), 0o644))

	out, err := swapInit(src, powerOff, dir)
	require.NoError(t, err)
	f, err := os.Open(out)
	require.NoError(t, err)
	defer f.Close()
	got := map[string]string{}
	r := initramfs.NewReader(f)
	for {
		h, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		b, err := io.ReadAll(r)
		require.NoError(t, err)
		got[h.Name] = string(b)
	}
	assert.Equal(t, map[string]string{"dev": "", "dev/console": "", "init": "power-off bytes", "oemact": "agent bytes",
		"lib": "", "lib/modules": "", "lib/modules/virtio.ko": "module bytes", "bin": "lib"}, got)

	require.NoError(t, os.WriteFile(src, []byte("not an archive"), 0o644))
	_, err = swapInit(src, powerOff, dir)
	assert.ErrorContains(t, err, "malformed newc archive")
}

// One boot of each kind, end to end (each takes seconds under TCG).
func TestRunOneOfEach(t *testing.T) {
	harnesstest.QEMU(t)
	k := harnesstest.Kernel(t)
	repo := harnesstest.RepoRoot()
	dir := t.TempDir()
	agent, err := BuildAgent(context.Background(), repo, filepath.Join(dir, "bin"))
	require.NoError(t, err)
	var log strings.Builder
	rep, err := Run(context.Background(), Options{Repo: repo, Kernel: k, Agent: agent, Dir: filepath.Join(dir, "work"),
		Runs: 1, Accel: qemu.TCG, TryAppend: []string{"loglevel=3"}, TryQEMU: []string{"-machine smbus=off"}, Log: &log})
	require.NoError(t, err, log.String())
	for _, kind := range []Kind{Naive, Floor, Verdict, "a+loglevel=3", "a+qemu:-machine smbus=off"} {
		assert.Equal(t, 1, rep.Stats[kind].N, kind)
		assert.Positive(t, rep.Stats[kind].Median, kind)
		assert.Contains(t, rep.Command[kind], "qemu-system-x86_64", kind)
	}
	assert.Contains(t, rep.Command["a+loglevel=3"], "loglevel=3")
	assert.Contains(t, rep.Command["a+qemu:-machine smbus=off"], "-machine smbus=off")
	assert.Contains(t, rep.Command[Floor], "floor-initramfs.cpio")
	assert.NotContains(t, rep.Command[Naive], "-nodefaults")
	require.NotEmpty(t, rep.Steps, "the agent's steps from the serial log")
	assert.Contains(t, rep.Steps, "evaluate")
	var out strings.Builder
	rep.Print(&out)
	assert.Contains(t, out.String(), "(b)/(n)")
	assert.Contains(t, out.String(), "(b)/(a)")
	// Every boot's console says when /init started and when the kernel powered off.
	for _, s := range rep.Samples {
		require.NotNil(t, s.Guest, s.Kind)
		// Not ordered against each other: /init's start comes from /proc/uptime (the boot time
		// clock), the power-off from the log's time stamps (the scheduler clock); they differ by
		// a few milliseconds.
		assert.Positive(t, s.Guest.Init, s.Kind)
		assert.Less(t, s.Guest.Init, s.Wall, s.Kind)
		assert.Positive(t, s.Guest.PowerOff, s.Kind)
		assert.Less(t, s.Guest.PowerOff, s.Wall, s.Kind)
	}
	assert.Contains(t, out.String(), "guest side, kernel clock")
}
