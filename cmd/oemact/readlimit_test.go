package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runAsCLI makes the test binary run as the oemact CLI (see TestMain).
const runAsCLI = "OEMACT_TEST_RUN_AS_CLI"

// cli runs the CLI in a child process with a deadline (a hang fails, it does not stall the
// test) and returns its exit code, stderr and peak resident memory in bytes.
func cli(t *testing.T, dir string, args ...string) (int, string, int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), runAsCLI+"=1", "CI=")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	require.NoError(t, ctx.Err(), "oemact %s did not finish: %s", strings.Join(args, " "), stderr.String())
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		require.NoError(t, err)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return cmd.ProcessState.ExitCode(), stderr.String(), ru.Maxrss << 10
}

// Every verb that reads a file, given /dev/zero or a named pipe with no writer where the file
// goes, exits 2 at once with a message naming the path, in bounded memory.
func TestVerbsRefuseDevicesAndPipes(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	out := filepath.Join(dir, "out")
	prof := filepath.Join("..", "..", "fixtures", "profiles", "tstoem-desktop.yaml")
	prof, err := filepath.Abs(prof)
	require.NoError(t, err)
	inv := filepath.Join(dir, "inv.json")
	require.NoError(t, os.WriteFile(inv, []byte(`{"components":[]}`), 0o644))
	verbs := [][]string{
		{"inspect", "--tpm", "none", "F"},
		{"inspect", "--tpm", "none", "--smbios", "F"},
		{"inspect", "--tpm", "none", "--dmesg", "F", prof},
		{"verify", "--edition", "win7-professional", "F"},
		{"verify", "--edition", "win7-professional", "--cert", "F", prof},
		{"verify", "--edition", "win7-professional", "--catalog", "F", prof},
		{"verify", "--edition", "win7-professional", "--authority", "F", prof},
		{"synth", "-o", out, "F"},
		{"run", "F"},
		{"cert", "show", "F"},
		{"cert", "verify", "--authority", "F", prof},
		{"hwid", "diff", "F", inv},
		{"hwid", "diff", inv, "F"},
		{"serve", "--listen", "127.0.0.1:0", "--db", filepath.Join(dir, "s.db"), "--catalog", "F"},
		{"serve", "--listen", "127.0.0.1:0", "--db", filepath.Join(dir, "s.db"), "--geo", "F"},
		{"serve", "--listen", "127.0.0.1:0", "--db", filepath.Join(dir, "s.db"), "--admin-token-file", "F"},
		{"capture", "-o", out, "--acpi", "F", "--smbios", "F"},
		{"simulate", "F"},
		{"report", "merge", "-o", out, "F"},
	}
	for _, path := range []string{"/dev/zero", fifo} {
		for _, v := range verbs {
			args := make([]string, len(v))
			for i, a := range v {
				if a == "F" {
					args[i] = path
				} else {
					args[i] = a
				}
			}
			name := strings.Join(args, " ")
			code, stderr, rss := cli(t, dir, args...)
			assert.Equal(t, exitUsage, code, "%s: %s", name, stderr)
			assert.Contains(t, stderr, path, name)
			assert.Contains(t, stderr, "not a regular file", name)
			assert.Less(t, rss, int64(256<<20), "%s: peak memory %d MiB", name, rss>>20)
		}
	}
}

// A file over its limit is refused with a message naming it and the limit, without being read:
// a 1 GiB file given as a table, a YAML file over 1 MiB.
func TestVerbsRefuseFilesOverTheirLimit(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.bin")
	require.NoError(t, os.WriteFile(big, nil, 0o644))
	require.NoError(t, os.Truncate(big, 1<<30))
	yml := filepath.Join(dir, "big.yaml")
	require.NoError(t, os.WriteFile(yml, bytes.Repeat([]byte("# padding\n"), 1<<20/10+1), 0o644))
	for _, tc := range []struct {
		args  []string
		limit string
	}{
		{[]string{"inspect", "--tpm", "none", big}, "16 MiB"},
		{[]string{"inspect", "--tpm", "none", "--smbios", big}, "16 MiB"},
		{[]string{"synth", "-o", filepath.Join(dir, "out"), yml}, "1 MiB"},
		{[]string{"run", yml}, "1 MiB"},
		{[]string{"report", "merge", "-o", filepath.Join(dir, "merged"), big}, "256 MiB"},
		{[]string{"serve", "--listen", "127.0.0.1:0", "--db", filepath.Join(dir, "s.db"), "--catalog", yml}, "1 MiB"},
	} {
		name := strings.Join(tc.args, " ")
		code, stderr, rss := cli(t, dir, tc.args...)
		assert.Equal(t, exitUsage, code, "%s: %s", name, stderr)
		assert.Contains(t, stderr, "larger than "+tc.limit, name)
		assert.Less(t, rss, int64(256<<20), "%s: peak memory %d MiB", name, rss>>20)
	}
}
