package runner_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/engine/inproc"
	"github.com/oemact/oemact/harness/internal/harnesstest"
	"github.com/oemact/oemact/harness/qemu"
	"github.com/oemact/oemact/harness/runner"
	"github.com/oemact/oemact/harness/scenario"
)

// imageScenarios loads the fixture scenarios that boot the Debian test image.
func imageScenarios(t *testing.T) []*scenario.Scenario {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(harnesstest.RepoRoot(), "fixtures", "images", "scenarios", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var out []*scenario.Scenario
	for _, f := range files {
		sc, err := scenario.Load(f)
		require.NoError(t, err)
		require.True(t, sc.BootsImage(), f)
		out = append(out, sc)
	}
	return out
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	h := sha256.New()
	_, err = io.Copy(h, f)
	require.NoError(t, err)
	return hex.EncodeToString(h.Sum(nil))
}

// TestImageScenarios runs the fixture image scenarios (fixtures/images/scenarios) in QEMU: the
// Debian test image boots from its own boot loader under SeaBIOS and OVMF with a profile's SLIC,
// MSDM and SMBIOS, its guest agent shows that the OS saw them byte for byte, and after a board
// swap and a reboot the OS sees the new board's marker. An image boot takes about 40 s under TCG
// here, so they run here, once, and not in the default matrix's tests. The image file is never
// written, and nothing (QEMU, an overlay, a socket, a temporary file) is left behind.
func TestImageScenarios(t *testing.T) {
	o := options(t)
	im := harnesstest.GuestImageFixture(t)
	o.KeepArtifacts = false
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	before := sha256File(t, harnesstest.FixtureImage())
	scs := imageScenarios(t)

	r, err := runner.Execute(context.Background(), scs, o)
	require.NoError(t, err)
	for _, sc := range r.Scenarios {
		for _, st := range sc.Steps {
			if b := st.Boot; b != nil {
				t.Logf("%s %s: %s, boot to guest agent %s, step %s%s", sc.Name, st.Description, st.Outcome, b.BootToAgent.Round(time.Millisecond),
					st.Duration.Round(time.Millisecond), map[bool]string{true: " (no reboot)"}[b.Resumed])
			}
			if st.Outcome == runner.Passed {
				continue
			}
			t.Errorf("%s step %d (%s, line %d): %s %s", sc.Name, st.Index, st.Description, st.Line, st.Outcome, st.Error)
			for _, c := range st.Checks {
				if !c.OK {
					t.Errorf("    %s: want %s, got %s (%s)", c.Name, c.Want, c.Got, c.Why)
				}
			}
			if st.Boot != nil {
				logSerialTail(t, st.Boot.SerialLog)
			}
		}
	}
	require.Equal(t, 0, r.ExitCode())
	t.Logf("%d scenarios, %d boots and %d probes without a reboot in %s (%s)", len(r.Scenarios), r.Boots, r.Resumed, r.Duration.Round(time.Millisecond), r.Accel)
	assert.Equal(t, 3, r.Boots)
	assert.Equal(t, 1, r.Resumed, "the probe after a probe, with no change between, reads the OS still running")

	for _, sc := range r.Scenarios {
		for _, st := range sc.Steps {
			if st.Kind != string(scenario.Probe) {
				continue
			}
			require.NotNil(t, st.Probe, "%s %s", sc.Name, st.Description)
			assert.Equal(t, "Debian GNU/Linux 12 (bookworm)", st.Probe.OS)
			assert.Equal(t, im.KernelRelease, st.Probe.KernelRelease, "the image's own kernel booted")
			assert.Equal(t, st.Boot.Resumed, st.Boot.BootToAgent == 0, "%s %s: the boot to the agent is a boot's", sc.Name, st.Description)
			assert.Equal(t, "the OS sees the synthesized tables", st.Checks[0].Name)
		}
	}
	assert.Equal(t, before, sha256File(t, harnesstest.FixtureImage()), "the image is never written")
	harnesstest.NoProcessIn(t, o.Artifacts)
	assert.Empty(t, harnesstest.Files(t, tmp), "temporary files outside the artifacts folder")
	assert.Empty(t, topLevel(harnesstest.Files(t, o.Artifacts)), "passed scenarios leave nothing")

	// With the default matrix, the image scenarios use every step kind and expectation, but for the
	// Windows licence's: no Windows image can be made or shipped here.
	exempt := map[string]string{}
	for k, v := range notYetCovered {
		exempt[k] = v
	}
	for _, k := range []string{"LicenseStatus", "Channel", "PartialKey", "RemainingGrace"} {
		exempt[k] = "needs a Windows image; TestProbeChecksWindows checks it on published slmgr output"
	}
	covered(t, append(scenarios(t, matrixNames(t)...), scs...), exempt)
}

// matrixNames are the default matrix's scenario files.
func matrixNames(t *testing.T) []string {
	files, err := filepath.Glob(filepath.Join(harnesstest.RepoRoot(), "fixtures", "scenarios", "*.yaml"))
	require.NoError(t, err)
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	return names
}

func logSerialTail(t *testing.T, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Logf("no serial log: %v", err)
		return
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	t.Logf("last lines of %s:\n%s", path, strings.Join(lines[max(0, len(lines)-30):], "\n"))
}

// blankImageScenario writes a scenario whose machine boots a disk with nothing bootable on it.
func blankImageScenario(t *testing.T) *scenario.Scenario {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "blank.img"), make([]byte, 1<<20), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "p.yaml"), []byte(
		"name: blank\nacpi: {oem_id: TSTOEM, oem_table_id: TSTBOARD}\nvm:\n  boot: disk\n  disks: [{file: blank.img}]\n"), 0o644))
	path := filepath.Join(dir, "s.yaml")
	require.NoError(t, os.WriteFile(path, []byte("name: blank-disk\nmachines:\n  os:\n    profile: p.yaml\nsteps:\n  - probe: os\n  - probe: os\n"), 0o644))
	sc, err := scenario.Load(path)
	require.NoError(t, err)
	return sc
}

// A guest agent that never answers (the firmware finds nothing to boot) is an infrastructure
// error at the agent timeout: the step says so, the scenario stops, QEMU is gone and the boot's
// folder keeps its logs but no overlay or socket.
func TestImageAgentNeverAnswers(t *testing.T) {
	o := options(t)
	o.AgentTimeout = 3 * time.Second
	start := time.Now()
	r, err := runner.Execute(context.Background(), []*scenario.Scenario{blankImageScenario(t)}, o)
	require.NoError(t, err)
	took := time.Since(start)
	sc := r.Scenarios[0]
	assert.Equal(t, runner.Error, sc.Outcome)
	assert.Equal(t, 2, r.ExitCode())
	st := sc.Steps[0]
	assert.Equal(t, runner.Error, st.Outcome)
	assert.Contains(t, st.Error, "the guest agent did not answer within 3.")
	require.NotNil(t, st.Boot, "the step says how QEMU ran")
	assert.Equal(t, "canceled", st.Boot.Outcome)
	assert.Contains(t, st.Boot.Command, "qemu-img create -q -f qcow2 -b ")
	assert.Equal(t, runner.Skipped, sc.Steps[1].Outcome)
	assert.GreaterOrEqual(t, took, 3*time.Second)
	harnesstest.NoProcessIn(t, o.Artifacts)
	files := harnesstest.Files(t, sc.Artifacts)
	assert.Contains(t, files, "os/boot-1/"+qemu.SerialLogName)
	for _, f := range files {
		assert.NotContains(t, f, qemu.OverlayName, "no overlay left")
		assert.False(t, strings.HasSuffix(f, ".sock"), "no socket left: %s", f)
	}
}

// The in-process engine refuses an image boot with an error that says why.
func TestImageInProcess(t *testing.T) {
	r, err := runner.Execute(context.Background(), []*scenario.Scenario{blankImageScenario(t)}, runner.Options{Engine: inproc.Engine{}, Artifacts: t.TempDir()})
	require.NoError(t, err)
	st := r.Scenarios[0].Steps[0]
	assert.Equal(t, runner.Error, st.Outcome)
	assert.Equal(t, "the in-process engine cannot boot an OS image (vm.boot: disk): it runs no firmware and no OS; run it with the QEMU engine (oemact run)", st.Error)
	assert.Equal(t, 2, r.ExitCode())
}
