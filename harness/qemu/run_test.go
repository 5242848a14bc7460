package qemu

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/hosttool"
	"github.com/oemact/oemact/harness/internal/harnesstest"
)

// These tests boot the guest kernel alone (no initramfs): with no root file system it panics about
// 2 s into the boot under TCG. That gives a real guest panic, and a real hang when panic=-1 is
// left out (the kernel then halts forever).

type runEnv struct {
	kernel string
	dir    string
}

func setup(t *testing.T) runEnv {
	harnesstest.QEMU(t)
	k := harnesstest.Kernel(t)
	// Nothing may be written to TMPDIR: check it stays empty.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dir := filepath.Join(t.TempDir(), "artifacts")
	t.Cleanup(func() {
		harnesstest.NoProcessIn(t, dir)
		assert.Empty(t, harnesstest.Files(t, tmp), "files left in TMPDIR")
	})
	return runEnv{kernel: k.Vmlinuz, dir: dir}
}

// checkArtifacts asserts the artifacts folder holds only the serial log and QEMU's stderr.
func checkArtifacts(t *testing.T, dir string) {
	t.Helper()
	assert.ElementsMatch(t, []string{SerialLogName, StderrName}, harnesstest.Files(t, dir))
}

func TestRunGuestPanic(t *testing.T) {
	e := setup(t)
	res, err := Run(context.Background(), Config{Kernel: e.kernel, Append: "console=ttyS0 panic=-1", Accel: TCG}, Options{Dir: e.dir})
	require.NotNil(t, res)
	var qe *Error
	require.ErrorAs(t, err, &qe)
	assert.Equal(t, GuestPanic, res.Outcome, "%+v", res)
	assert.Contains(t, res.Panic, "VFS: Unable to mount root fs")
	assert.Equal(t, "guest-reset", res.Reason)
	assert.Equal(t, TCG, res.Accel)
	assert.Positive(t, res.Ready)
	assert.Zero(t, res.Exit)
	assert.Contains(t, err.Error(), "the guest kernel panicked: Kernel panic - not syncing: VFS")
	assert.Contains(t, err.Error(), "reproduce: cd "+e.dir+" && ")
	assert.True(t, strings.HasPrefix(res.Command, "cd "+Quote(e.dir)+" && "+Quote(res.Argv[0])+" -nodefaults"), res.Command)
	serial, rerr := os.ReadFile(res.Serial)
	require.NoError(t, rerr)
	assert.Contains(t, string(serial), "Linux version")
	checkArtifacts(t, e.dir)
	t.Logf("kernel-only boot to panic: ready after %s, %s in all", res.Ready, res.Elapsed)
}

func TestRunGuestHangIsKilled(t *testing.T) {
	e := setup(t)
	// Without panic=-1 the panicking kernel halts and never exits: a hung guest.
	res, err := Run(context.Background(), Config{Kernel: e.kernel, Append: "console=ttyS0", Accel: TCG},
		Options{Dir: e.dir, Timeout: 8 * time.Second})
	require.NotNil(t, res)
	require.Error(t, err)
	assert.Equal(t, Timeout, res.Outcome)
	assert.Contains(t, err.Error(), "still running after")
	// On an idle host the guest reached its panic and halted; on a loaded one it may still be
	// booting at the deadline. Either way it was running, and was killed.
	t.Logf("guest panic line before the kill: %q", res.Panic)
	assert.Equal(t, "signal: killed", "signal: "+res.Signal)
	assert.GreaterOrEqual(t, res.Elapsed, 8*time.Second)
	assert.ErrorIs(t, syscall.Kill(res.PID, 0), syscall.ESRCH, "QEMU is gone")
	checkArtifacts(t, e.dir)
}

func TestRunTinyTimeout(t *testing.T) {
	e := setup(t)
	res, err := Run(context.Background(), Config{Kernel: e.kernel, Append: "console=ttyS0 panic=-1", Accel: TCG},
		Options{Dir: e.dir, Timeout: 300 * time.Millisecond})
	require.Error(t, err)
	assert.Equal(t, Timeout, res.Outcome)
	checkArtifacts(t, e.dir)
}

func TestRunStartFailed(t *testing.T) {
	cases := map[string]struct {
		mod  func(*Config)
		want string
	}{
		"bad option":   {func(c *Config) { c.Extra = []string{"-no-such-option"} }, "-no-such-option: invalid option"},
		"bad device":   {func(c *Config) { c.Extra = []string{"-device", "no-such-device"} }, "'no-such-device' is not a valid device model name"},
		"missing file": {func(c *Config) { c.ACPITables = []string{"/nonexistent/SLIC"} }, "can't open file /nonexistent/SLIC"},
		"missing disk": {func(c *Config) { c.StateDisk = "/nonexistent/state.img" }, "/nonexistent/state.img"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := setup(t)
			c := Config{Kernel: e.kernel, Append: "console=ttyS0 panic=-1", Accel: TCG}
			tc.mod(&c)
			res, err := Run(context.Background(), c, Options{Dir: e.dir})
			require.NotNil(t, res)
			assert.Equal(t, StartFailed, res.Outcome)
			assert.Contains(t, res.Stderr, tc.want)
			assert.Contains(t, err.Error(), "QEMU failed to start: ")
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "reproduce: ")
			assert.NotZero(t, res.Exit)
			checkArtifacts(t, e.dir)
		})
	}
}

func TestRunCrashed(t *testing.T) {
	e := setup(t)
	res, err := Run(context.Background(), Config{Kernel: e.kernel, Append: "console=ttyS0 panic=-1", Accel: TCG},
		Options{Dir: e.dir, Ready: func(pid int) { syscall.Kill(pid, syscall.SIGABRT) }})
	require.NotNil(t, res)
	assert.Equal(t, Crashed, res.Outcome)
	assert.Equal(t, "aborted", res.Signal)
	assert.Contains(t, err.Error(), "QEMU was killed by aborted")
	// QEMU may leave a core file when the host allows it; it would be in the artifacts folder.
	for _, f := range harnesstest.Files(t, e.dir) {
		assert.Contains(t, []string{SerialLogName, StderrName, "core"}, f)
	}
}

func TestRunCanceled(t *testing.T) {
	e := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := Run(ctx, Config{Kernel: e.kernel, Append: "console=ttyS0 panic=-1", Accel: TCG},
		Options{Dir: e.dir, Ready: func(int) { cancel() }})
	require.Error(t, err)
	assert.Equal(t, Canceled, res.Outcome)
	checkArtifacts(t, e.dir)
}

func TestRunWithoutQEMU(t *testing.T) {
	t.Setenv("OEMACT_QEMU", "")
	t.Setenv("PATH", t.TempDir())
	res, err := Run(context.Background(), Config{Kernel: "k", Accel: TCG}, Options{Dir: t.TempDir()})
	assert.Nil(t, res)
	assert.ErrorContains(t, err, "qemu-system-x86_64 not found: install the qemu-system-x86 package")
}

func TestRunLongArtifactsPath(t *testing.T) {
	e := setup(t)
	// Deeper than a unix socket path may be: QEMU reaches its QMP socket by a relative name.
	dir := filepath.Join(e.dir, strings.Repeat("d", 80), strings.Repeat("e", 80))
	res, err := Run(context.Background(), Config{Kernel: e.kernel, Append: "console=ttyS0 panic=-1", Accel: TCG}, Options{Dir: dir})
	require.NotNil(t, res, "%v", err)
	assert.Equal(t, GuestPanic, res.Outcome, "%v", err)
	assert.Equal(t, "guest-reset", res.Reason, "QMP worked")
}

func TestChooseAccelFromEnv(t *testing.T) {
	t.Setenv(EnvAccel, "tcg")
	assert.Equal(t, AccelChoice{TCG, "OEMACT_ACCEL=tcg"}, chooseAccel(context.Background(), "k", t.TempDir()))
	t.Setenv(EnvAccel, "kvm")
	assert.Equal(t, KVM, chooseAccel(context.Background(), "k", t.TempDir()).Accel)
	t.Setenv(EnvAccel, "hax")
	assert.Contains(t, chooseAccel(context.Background(), "k", t.TempDir()).Reason, "neither tcg nor kvm")
}

// A disk or CD-ROM boot probes KVM with Options.CanaryKernel; without one, $OEMACT_ACCEL alone
// chooses, and a value it does not know reads as it does for a kernel boot.
func TestChooseForImageBoot(t *testing.T) {
	dir := t.TempDir()
	var probed []string
	o := Options{Probe: func(ctx context.Context, kernel, dir string) AccelChoice {
		probed = append(probed, kernel)
		return AccelChoice{KVM, "probed"}
	}}
	disk := Config{Boot: BootDisk, Image: &Image{Path: "os.qcow2"}}

	t.Setenv(EnvAccel, "")
	a, why := chooseFor(context.Background(), disk, o, dir)
	assert.Equal(t, TCG, a)
	assert.Contains(t, why, "no kernel to probe KVM with for a disk boot")
	t.Setenv(EnvAccel, "kvm")
	a, why = chooseFor(context.Background(), disk, o, dir)
	assert.Equal(t, KVM, a)
	assert.Equal(t, "OEMACT_ACCEL=kvm", why)
	t.Setenv(EnvAccel, "hax")
	a, why = chooseFor(context.Background(), disk, o, dir)
	assert.Equal(t, TCG, a)
	assert.Equal(t, chooseAccel(context.Background(), "k", dir).Reason, why)
	assert.Empty(t, probed)

	o.CanaryKernel = "/boot/vmlinuz"
	a, why = chooseFor(context.Background(), disk, o, dir)
	assert.Equal(t, KVM, a)
	assert.Equal(t, "probed", why)
	a, _ = chooseFor(context.Background(), Config{Kernel: "k"}, o, dir)
	assert.Equal(t, KVM, a)
	assert.Equal(t, []string{"/boot/vmlinuz", filepath.Join(dir, "k")}, probed)
}

// TestProbeKVM runs the canary. Which verdict is right depends on the host (on the machines
// notes/qemu.md describes, KVM hangs guests and the probe must choose TCG); what must hold
// everywhere is a reasoned verdict within the bound, and no files or processes left.
func TestProbeKVM(t *testing.T) {
	e := setup(t)
	start := time.Now()
	c := ProbeKVM(context.Background(), e.kernel, e.dir, 5*time.Second)
	t.Logf("verdict: %s (%s), in %s", c.Accel, c.Reason, time.Since(start).Round(time.Millisecond))
	assert.NotEmpty(t, c.Reason)
	if _, err := os.Stat("/dev/kvm"); errors.Is(err, os.ErrNotExist) {
		assert.Equal(t, TCG, c.Accel)
		assert.Contains(t, c.Reason, "KVM unavailable")
	}
	if c.Accel == TCG && !strings.Contains(c.Reason, "unavailable") {
		assert.Contains(t, c.Reason, "canary")
	}
	_, err := os.Stat(e.dir)
	assert.ErrorIs(t, err, os.ErrNotExist, "the probe removes its folder")
}

// sha256File is the image's digest, to show that a run never writes it.
func sha256File(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestRunBootImage boots images with nothing bootable on them: the firmware finds no boot loader
// and waits, so each run ends at its timeout. What it shows: QEMU accepts the drive arguments on
// both machines and controllers, a disk runs on an overlay that is gone afterwards, and the
// image is not written.
func TestRunBootImage(t *testing.T) {
	cases := map[string]Config{
		"q35 virtio disk": {Machine: Q35, Boot: BootDisk, Image: &Image{}},
		"pc ide disk":     {Machine: PC, Boot: BootDisk, Image: &Image{Interface: "ide"}},
		"q35 cdrom":       {Machine: Q35, Boot: BootCDROM, Image: &Image{}},
		"pc cdrom":        {Machine: PC, Boot: BootCDROM, Image: &Image{}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			e := setup(t)
			img := filepath.Join(t.TempDir(), "engineer's image.img")
			require.NoError(t, os.WriteFile(img, bytes.Repeat([]byte("oemact"), 200000), 0o444))
			before := sha256File(t, img)
			c.Image.Path, c.Accel = img, TCG
			res, err := Run(context.Background(), c, Options{Dir: e.dir, Timeout: 3 * time.Second})
			require.NotNil(t, res, "%v", err)
			assert.Equal(t, Timeout, res.Outcome, "%v\n%s", err, res.Stderr)
			assert.Equal(t, before, sha256File(t, img))
			checkArtifacts(t, e.dir)
			if c.Boot == BootDisk {
				qemuImg, err := hosttool.Find("qemu-img")
				require.NoError(t, err)
				assert.Contains(t, res.Command, " && "+Quote(qemuImg)+
					" create -q -f qcow2 -b "+Quote(img)+" -F raw boot-overlay.qcow2 && ")
				assert.True(t, strings.HasSuffix(res.Command, "; rm -f boot-overlay.qcow2"), res.Command)
				assert.Contains(t, res.Argv, "file=boot-overlay.qcow2,format=qcow2,if=none,id=boot")
			} else {
				assert.NotContains(t, res.Command, "qemu-img")
			}
		})
	}
}

func TestRunBootImageErrors(t *testing.T) {
	e := setup(t)
	_, err := Run(context.Background(), Config{Boot: BootDisk, Image: &Image{Path: "/nonexistent/disk.img"}, Accel: TCG}, Options{Dir: e.dir})
	assert.EqualError(t, err, "qemu: boot image: stat /nonexistent/disk.img: no such file or directory")

	img := filepath.Join(t.TempDir(), "disk.img")
	require.NoError(t, os.WriteFile(img, make([]byte, 1<<20), 0o644))
	_, err = Run(context.Background(), Config{Boot: BootDisk, Image: &Image{Path: img, Format: "qcow2"}, Accel: TCG}, Options{Dir: e.dir})
	assert.ErrorContains(t, err, "qemu: making the overlay for boot image "+img+": qemu-img create -q -f qcow2 -b "+img+" -F qcow2 boot-overlay.qcow2: exit status 1: ")
	assert.ErrorContains(t, err, "Image is not in qcow2 format")
	assert.Empty(t, harnesstest.Files(t, e.dir), "no overlay left")
}
