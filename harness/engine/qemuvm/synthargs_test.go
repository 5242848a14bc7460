package qemuvm_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/engine/qemuvm"
	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
	"github.com/oemact/oemact/harness/internal/harnesstest"
	"github.com/oemact/oemact/oemact/profile"
)

// qemu.args names its files absolutely: QEMU takes them from any folder, and it carries the
// profile's OEM IDs, both marker tables and every SMBIOS structure.
func TestSynthArgsWorkFromAnyFolder(t *testing.T) {
	qemu := hosttooltest.Require(t, "qemu-system-x86_64")
	p, err := profile.Load(filepath.Join(harnesstest.RepoRoot(), "fixtures", "profiles", "tstoem-oa3.yaml"))
	require.NoError(t, err)
	tables, err := p.Synthesize()
	require.NoError(t, err)
	synthDir := t.TempDir()
	t.Chdir(synthDir)
	files, err := tables.Write("out") // relative, as 'oemact synth -o out' names it
	require.NoError(t, err)
	path, args, err := qemuvm.WriteSynthArgs("out", tables, files)
	require.NoError(t, err)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
		if f, ok := strings.CutPrefix(l, "file="); ok {
			assert.True(t, filepath.IsAbs(f), "%s is not absolute", f)
		}
	}
	assert.Equal(t, args, lines)
	assert.Contains(t, lines, "q35,x-oem-id=TSTOEM,x-oem-table-id=TSTBOARD")
	assert.Contains(t, lines, "file="+filepath.Join(synthDir, "out", "SLIC.bin"))
	assert.Contains(t, lines, "file="+filepath.Join(synthDir, "out", "MSDM.bin"))
	assert.Equal(t, len(files.SMBIOS), strings.Count(string(b), "\n-smbios\n"))

	t.Chdir(t.TempDir()) // elsewhere: QEMU opens every -acpitable and -smbios file at start
	cmd := exec.Command(qemu, append(args, "-accel", "tcg", "-display", "none", "-nodefaults", "-S", "-monitor", "stdio")...)
	cmd.Stdin = strings.NewReader("quit\n")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, out.String())
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("QEMU did not quit: %s", out.String())
	}
	assert.NotContains(t, out.String(), "Could not", "QEMU read every file")
}
