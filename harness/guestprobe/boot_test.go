package guestprobe

import (
	"bytes"
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

	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/harness/internal/harnesstest"
	"github.com/oemact/oemact/harness/qemu"
	"github.com/oemact/oemact/harness/qga"
	"github.com/oemact/oemact/oemact/profile"
)

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

// machineFor is the QEMU machine for a profile's tables booting the image, as the runner builds
// it: the markers as -acpitable files, one SMBIOS structure per -smbios file.
func machineFor(t *testing.T, p *profile.Profile, tables *profile.Tables, fw qemu.Firmware, image, dir string) qemu.Config {
	t.Helper()
	files, err := tables.Write(dir)
	require.NoError(t, err)
	c := qemu.Config{Machine: qemu.Machine(p.VM.Machine), Firmware: fw, MemoryMB: p.VM.MemoryMB, CPUs: p.VM.CPUs,
		OEMID: p.ACPI.OEMID, OEMTableID: p.ACPI.OEMTableID, Sockets: len(p.SMBIOS.Processors),
		Boot: qemu.BootDisk, Image: &qemu.Image{Path: image, Format: "raw"},
		ACPITables: []string{files.SLIC, files.MSDM}, SMBIOSFiles: files.SMBIOS}
	if tables.SMBIOS.EntryPoint.Kind.String() == "_SM3_" {
		c.SMBIOSEntryPoint = "64"
	}
	return c
}

// TestDebianImageSeesTheTables boots the Debian test image from its own boot loader under
// SeaBIOS and under OVMF, with the TEST desktop profile's SLIC, an MSDM and its SMBIOS
// structures, and reads back through the guest agent what Linux saw: the markers byte for byte,
// every given SMBIOS structure byte for byte (except type 0 under OVMF, which writes its own),
// all decoded with the firmware and smbios packages. The image is not written, and nothing is
// left behind.
func TestDebianImageSeesTheTables(t *testing.T) {
	harnesstest.QEMU(t)
	im := harnesstest.GuestImage(t)
	p, err := profile.Load(filepath.Join(harnesstest.RepoRoot(), "fixtures", "profiles", "tstoem-desktop.yaml"))
	require.NoError(t, err)
	p.Markers.MSDM = &profile.MSDM{KeyLabel: "oem-dm/win8-pro"}
	tables, err := p.Synthesize()
	require.NoError(t, err)
	require.NotNil(t, tables.MSDM)
	before := sha256File(t, im.Path)

	for _, fw := range []qemu.Firmware{qemu.SeaBIOS, qemu.OVMF} {
		t.Run(string(fw), func(t *testing.T) {
			dir := t.TempDir()
			art := filepath.Join(dir, "artifacts")
			c := machineFor(t, p, tables, fw, im.Path, filepath.Join(dir, "tables"))
			var seen *Tables
			var uname string
			res, err := Run(context.Background(), c, Options{QEMU: qemu.Options{Dir: art}}, func(ctx context.Context, cl *qga.Client) error {
				var err error
				if seen, err = ReadLinux(ctx, cl); err != nil {
					return err
				}
				st, err := cl.Run(ctx, qga.Command{Path: "uname", Args: []string{"-r"}}, 1024)
				if err == nil {
					uname = strings.TrimSpace(string(st.Stdout))
				}
				return err
			})
			if err != nil {
				logSerialTail(t, filepath.Join(art, qemu.SerialLogName))
			}
			require.NoError(t, err)
			t.Logf("%s: boot to agent %s, probe %s, power-off %s (QEMU ran %s, %s)", fw, res.BootToAgent.Round(time.Millisecond),
				res.Probe.Round(time.Millisecond), res.PowerOff.Round(time.Millisecond), res.QEMU.Elapsed.Round(time.Millisecond), res.QEMU.Accel)
			assert.Equal(t, qemu.PowerOff, res.QEMU.Outcome)
			assert.Equal(t, im.KernelRelease, uname, "the image's own kernel booted")

			given := Given{ACPI: map[string][]byte{"SLIC": tables.SLIC, "MSDM": tables.MSDM}, SMBIOS: tables.SMBIOS.QEMUStructures()}
			if fw == qemu.OVMF {
				given.FirmwareTypes = []uint8{0}
			}
			assert.Empty(t, Compare(given, seen))

			// The same decoders the host uses read the OS's copies.
			slic, err := firmware.DecodeSLIC(seen.ACPI["SLIC"])
			require.NoError(t, err)
			assert.NoError(t, slic.VerifyMarker(), "the marker the OS saw verifies with the key in its table")
			msdm, err := firmware.DecodeMSDM(seen.ACPI["MSDM"])
			require.NoError(t, err)
			assert.True(t, msdm.Key() == tables.MSDMKey.Reveal(), "the OS saw the MSDM's TEST key")
			info, err := seen.SMBIOS()
			require.NoError(t, err)
			want, got := tables.SMBIOS.IdentityValues(), info.IdentityValues()
			for k, v := range want {
				if fw == qemu.OVMF && strings.HasPrefix(k, "bios.") {
					continue // OVMF's own type 0
				}
				assert.Equal(t, v, got[k], k)
			}

			assert.ElementsMatch(t, []string{qemu.SerialLogName, qemu.StderrName}, harnesstest.Files(t, art),
				"no overlay and no socket left")
			harnesstest.NoProcessIn(t, art)
		})
	}
	assert.Equal(t, before, sha256File(t, im.Path), "the image is never written")
}

// logSerialTail shows the end of the guest's console: why a boot failed is there, and the
// artifacts folder goes with the test.
func logSerialTail(t *testing.T, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Logf("no serial log: %v", err)
		return
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	t.Logf("last lines of %s:\n%s", path, strings.Join(lines[max(0, len(lines)-40):], "\n"))
}

// TestAgentThatNeverAnswers boots a disk with nothing bootable on it: the firmware waits for a
// boot loader and no agent ever answers. That is an *AgentError at the timeout, QEMU is stopped
// and nothing is left.
func TestAgentThatNeverAnswers(t *testing.T) {
	harnesstest.QEMU(t)
	img := filepath.Join(t.TempDir(), "blank.img")
	require.NoError(t, os.WriteFile(img, bytes.Repeat([]byte{0}, 1<<20), 0o644))
	art := filepath.Join(t.TempDir(), "artifacts")
	called := false
	start := time.Now()
	res, err := Run(context.Background(), qemu.Config{Boot: qemu.BootDisk, Image: &qemu.Image{Path: img}},
		Options{QEMU: qemu.Options{Dir: art}, AgentTimeout: 4 * time.Second},
		func(context.Context, *qga.Client) error { called = true; return nil })
	took := time.Since(start)
	assert.Nil(t, res)
	var ae *AgentError
	require.ErrorAs(t, err, &ae)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "the guest agent did not answer within 4.")
	assert.Contains(t, err.Error(), "guest agent guest-sync-delimited: no answer within")
	assert.Contains(t, err.Error(), "reproduce: cd ")
	require.NotNil(t, ae.QEMU)
	assert.Equal(t, qemu.Canceled, ae.QEMU.Outcome, "QEMU was stopped")
	assert.False(t, called)
	assert.GreaterOrEqual(t, took, 4*time.Second)
	assert.ElementsMatch(t, []string{qemu.SerialLogName, qemu.StderrName}, harnesstest.Files(t, art))
	harnesstest.NoProcessIn(t, art)
}

func TestQEMUEndsBeforeTheAgent(t *testing.T) {
	harnesstest.QEMU(t)
	img := filepath.Join(t.TempDir(), "blank.img")
	require.NoError(t, os.WriteFile(img, make([]byte, 1<<20), 0o644))
	art := filepath.Join(t.TempDir(), "artifacts")
	_, err := Run(context.Background(), qemu.Config{Boot: qemu.BootDisk, Image: &qemu.Image{Path: img}, Extra: []string{"-no-such-option"}},
		Options{QEMU: qemu.Options{Dir: art}, AgentTimeout: time.Minute},
		func(context.Context, *qga.Client) error { return nil })
	var ae *AgentError
	require.ErrorAs(t, err, &ae)
	assert.Contains(t, err.Error(), "QEMU ended first: QEMU failed to start: qemu-system-x86_64: -no-such-option: invalid option")
	assert.ElementsMatch(t, []string{qemu.SerialLogName, qemu.StderrName}, harnesstest.Files(t, art))
}
