package qga

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/internal/qgatest"
)

// realAgent starts Debian's qemu-ga on the host, listening on a unix socket instead of the
// virtio-serial port, and returns a client on it and the agent's folder.
func realAgent(t *testing.T) (*Client, string) {
	conn, dir := qgatest.Start(t)
	c := NewClient(conn)
	require.NoError(t, c.Ready(ctxFor(t, 10*time.Second)))
	return c, dir
}

func TestRealAgentFiles(t *testing.T) {
	c, dir := realAgent(t)
	ctx := ctxFor(t, 30*time.Second)
	data := make([]byte, 2*ReadChunk+777)
	rand.Read(data)
	path := filepath.Join(dir, "data.bin")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	got, err := c.ReadFile(ctx, path, len(data))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(data, got), "read back %d bytes of %d", len(got), len(data))

	_, err = c.ReadFile(ctx, path, len(data)-1)
	assert.EqualError(t, err, "guest agent guest-file-read "+path+": the file is longer than "+
		strconv.Itoa(len(data)-1)+" bytes, the bound for it")

	missing := filepath.Join(dir, "SLIC")
	_, err = c.ReadFile(ctx, missing, 100)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "GenericError", e.Class)
	assert.Contains(t, err.Error(), "guest agent guest-file-open "+missing+": the agent answered GenericError: failed to open file")
	assert.Contains(t, err.Error(), "No such file or directory")

	err = c.CloseFile(ctx, 999999)
	assert.ErrorContains(t, err, "guest agent guest-file-close handle 999999: the agent answered GenericError: ")

	// /proc files have no size and end at the first empty read, like sysfs tables.
	got, err = c.ReadFile(ctx, "/proc/self/status", 1<<20)
	require.NoError(t, err)
	assert.Contains(t, string(got), "Name:\tqemu-ga")
}

func TestRealAgentExec(t *testing.T) {
	c, _ := realAgent(t)
	ctx := ctxFor(t, 30*time.Second)
	st, err := c.Run(ctx, Command{Path: "/bin/sh", Args: []string{"-c", "printf out; printf err >&2; exit 3"}}, 100)
	require.NoError(t, err)
	assert.Equal(t, &ExecStatus{Exited: true, ExitCode: 3, Stdout: []byte("out"), Stderr: []byte("err")}, st)

	st, err = c.Run(ctx, Command{Path: "cat", Input: []byte("line one\nline two\n")}, 100)
	require.NoError(t, err)
	assert.Equal(t, "line one\nline two\n", string(st.Stdout))
	assert.Zero(t, st.ExitCode)

	st, err = c.Run(ctx, Command{Path: "/bin/sh", Args: []string{"-c", "kill -9 $$"}}, 100)
	require.NoError(t, err)
	assert.Equal(t, 9, st.Signal)

	_, err = c.Run(ctx, Command{Path: "head", Args: []string{"-c", "2000", "/dev/zero"}}, 1000)
	assert.ErrorContains(t, err, "guest agent guest-exec-status pid ")
	assert.ErrorContains(t, err, "(head -c 2000 /dev/zero): out-data holds 2000 bytes, more than the bound of 1000")

	_, err = c.Run(ctx, Command{Path: "/nonexistent/slmgr"}, 100)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "guest-exec", e.Command)
	assert.Contains(t, err.Error(), "guest agent guest-exec /nonexistent/slmgr: the agent answered GenericError: ")
}

func TestRealAgentRefusals(t *testing.T) {
	c, _ := realAgent(t)
	ctx := ctxFor(t, 30*time.Second)
	// A refused shutdown is answered, unlike one that works.
	err := c.Shutdown(ctx, "powerdown")
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "CommandNotFound", e.Class)
	assert.EqualError(t, err, "guest agent guest-shutdown powerdown: the agent answered CommandNotFound: Command guest-shutdown has been disabled")

	err = c.call(ctx, "guest-no-such-command", "", nil, nil, 0)
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "CommandNotFound", e.Class)
	// The conversation goes on.
	require.NoError(t, c.Sync(ctx))
	require.NoError(t, c.Ping(ctx))
}

// Debian's qemu-ga names the host's OS as it would a guest's: its os-release ID and uname's release.
func TestRealAgentOSInfo(t *testing.T) {
	c, _ := realAgent(t)
	info, err := c.OSInfo(ctxFor(t, 30*time.Second))
	require.NoError(t, err)
	osRelease, err := os.ReadFile("/etc/os-release")
	require.NoError(t, err)
	require.NotEmpty(t, info.ID)
	assert.Regexp(t, `(?m)^ID="?`+regexp.QuoteMeta(info.ID)+`"?$`, string(osRelease))
	assert.False(t, info.Windows())
	var uts syscall.Utsname
	require.NoError(t, syscall.Uname(&uts))
	release := make([]byte, 0, len(uts.Release))
	for _, b := range uts.Release {
		if b == 0 {
			break
		}
		release = append(release, byte(b))
	}
	assert.Equal(t, string(release), info.KernelRelease)
	assert.Equal(t, "x86_64", info.Machine)
}
