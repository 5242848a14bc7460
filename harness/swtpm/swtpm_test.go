package swtpm_test

import (
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/oemact/oemact/harness/hosttool"
	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
	"github.com/oemact/oemact/harness/qemu"
	"github.com/oemact/oemact/harness/swtpm"
	"github.com/oemact/oemact/oemact/tpm"
)

// noProcessNaming fails the test if any process's command line mentions dir: after Stop, nothing
// swtpm started may be left.
func noProcessNaming(t testing.TB, dir string) {
	t.Helper()
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(b), dir) {
			t.Errorf("process %s still runs with %s on its command line: %s", e.Name(), dir, strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
}

func ekDigest(t *testing.T, p *swtpm.Process) string {
	t.Helper()
	c, err := tpm.Open(p.Server)
	require.NoError(t, err)
	defer c.Close()
	ek, err := c.EKDigest()
	require.NoError(t, err)
	return ek
}

// TestStateAcrossBootsAndWipe: the EK is the same across swtpm runs on one state folder, a wipe
// gives a new TPM, and each Stop leaves no process and no socket.
func TestStateAcrossBootsAndWipe(t *testing.T) {
	hosttooltest.Require(t, "swtpm")
	dir := filepath.Join(t.TempDir(), "tpm")
	assert.False(t, swtpm.HasState(dir))

	var eks []string
	for i := 0; i < 3; i++ {
		if i == 2 {
			require.NoError(t, swtpm.Wipe(dir))
			assert.False(t, swtpm.HasState(dir))
		}
		p, err := swtpm.Start(dir, swtpm.Options{Server: true})
		require.NoError(t, err)
		assert.Equal(t, []int{p.Pid()}, swtpm.Running(dir))
		eks = append(eks, ekDigest(t, p))
		require.NoError(t, p.Stop())
		require.NoError(t, p.Stop(), "Stop twice is fine")
		assert.True(t, swtpm.HasState(dir), "the state is on disk")
		assert.Empty(t, swtpm.Running(dir))
		noProcessNaming(t, dir)
		_, err = os.Stat(p.Ctrl)
		assert.ErrorIs(t, err, os.ErrNotExist, "the control socket is removed")
		_, err = os.Stat(p.Server)
		assert.ErrorIs(t, err, os.ErrNotExist, "the data socket is removed")
	}
	assert.Equal(t, eks[0], eks[1], "same state, same EK")
	assert.NotEqual(t, eks[1], eks[2], "wiped: a new TPM")
}

func TestOneProcessPerState(t *testing.T) {
	hosttooltest.Require(t, "swtpm")
	dir := t.TempDir()
	p, err := swtpm.Start(dir, swtpm.Options{Server: true})
	require.NoError(t, err)
	defer p.Stop()
	_, err = swtpm.Start(dir, swtpm.Options{})
	assert.ErrorContains(t, err, "is in use by swtpm (pid "+strconv.Itoa(p.Pid())+")")
	assert.ErrorContains(t, swtpm.Wipe(dir), "stop it first")
	require.NoError(t, p.Stop())
	assert.NoError(t, swtpm.Wipe(dir))
}

// TestQEMUModeEndsWithItsClient: without Server, swtpm serves QEMU's control connection only and
// ends when QEMU closes it (--terminate). The client here does what QEMU's tpm-emulator backend
// does: it passes one end of a socket pair as the data channel (CMD_SET_DATAFD), initialises the
// TPM (CMD_INIT), then goes away.
func TestQEMUModeEndsWithItsClient(t *testing.T) {
	hosttooltest.Require(t, "swtpm")
	dir := t.TempDir()
	p, err := swtpm.Start(dir, swtpm.Options{})
	require.NoError(t, err)
	defer p.Stop()
	assert.Empty(t, p.Server)
	assert.Equal(t, &qemu.TPM{Socket: filepath.Join(dir, swtpm.CtrlSocket), Model: "tpm-crb"}, p.QEMU("tpm-crb"))

	conn, err := net.Dial("unix", p.Ctrl)
	require.NoError(t, err)
	c := conn.(*net.UnixConn)
	c.SetDeadline(time.Now().Add(5 * time.Second))
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	require.NoError(t, err)
	// The commands and results are big-endian 32-bit words (swtpm's ptm_* structures).
	_, _, err = c.WriteMsgUnix([]byte{0, 0, 0, 16}, unix.UnixRights(pair[1]), nil) // CMD_SET_DATAFD
	require.NoError(t, err)
	unix.Close(pair[1])
	res := make([]byte, 4)
	_, err = io.ReadFull(c, res)
	require.NoError(t, err)
	assert.Equal(t, []byte{0, 0, 0, 0}, res, "CMD_SET_DATAFD: TPM_SUCCESS")
	_, err = c.Write([]byte{0, 0, 0, 2, 0, 0, 0, 0}) // CMD_INIT, no flags
	require.NoError(t, err)
	_, err = io.ReadFull(c, res)
	require.NoError(t, err)
	assert.Equal(t, []byte{0, 0, 0, 0}, res, "CMD_INIT: TPM_SUCCESS")
	unix.Close(pair[0])
	c.Close()
	select {
	case <-p.Exited():
	case <-time.After(5 * time.Second):
		t.Fatal("swtpm still runs after its control client went away")
	}
	assert.NoError(t, p.Stop(), "a swtpm that ended by itself is not an error")
	assert.True(t, swtpm.HasState(dir), "CMD_INIT manufactured the TPM")
	noProcessNaming(t, dir)
}

// TestStopEndsTheProcess: Stop ends a swtpm that nobody connected to.
func TestStopEndsTheProcess(t *testing.T) {
	hosttooltest.Require(t, "swtpm")
	dir := t.TempDir()
	p, err := swtpm.Start(dir, swtpm.Options{})
	require.NoError(t, err)
	require.NoError(t, p.Stop())
	select {
	case <-p.Exited():
	default:
		t.Fatal("Stop returned before swtpm ended")
	}
	noProcessNaming(t, dir)
}

// TestLongSocketFolder: the sockets bind however long their folder's path (QEMU is given a path
// relative to its artifacts folder).
func TestLongSocketFolder(t *testing.T) {
	hosttooltest.Require(t, "swtpm")
	long := filepath.Join(t.TempDir(), strings.Repeat("a", 60), strings.Repeat("b", 60))
	p, err := swtpm.Start(filepath.Join(t.TempDir(), "state"), swtpm.Options{SocketDir: long})
	require.NoError(t, err)
	defer p.Stop()
	assert.Greater(t, len(p.Ctrl), 107)
	st, err := os.Stat(p.Ctrl)
	require.NoError(t, err)
	assert.NotZero(t, st.Mode()&os.ModeSocket)
}

func TestStartErrors(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("OEMACT_SWTPM", "")
	_, err := swtpm.Start(t.TempDir(), swtpm.Options{})
	var nf *hosttool.NotFoundError
	require.True(t, errors.As(err, &nf), "%v", err)
	assert.EqualError(t, err, "swtpm not found: install the swtpm package (apt-get install swtpm) or set OEMACT_SWTPM to its path")

	bad := filepath.Join(t.TempDir(), "swtpm")
	require.NoError(t, os.WriteFile(bad, []byte("#!/bin/sh\necho 'swtpm: no such option' >&2\nexit 1\n"), 0o755))
	dir := t.TempDir()
	_, err = swtpm.Start(dir, swtpm.Options{Server: true, Swtpm: bad})
	assert.ErrorContains(t, err, "swtpm exited at start (exit status 1): swtpm: no such option")
	noProcessNaming(t, dir)
	_, err = os.Stat(filepath.Join(dir, swtpm.ServerSocket))
	assert.ErrorIs(t, err, os.ErrNotExist, "no socket left behind")
}
