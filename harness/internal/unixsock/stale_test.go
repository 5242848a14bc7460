package unixsock

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// leaveStale leaves what a process killed with SIGKILL leaves: a socket file nobody listens on.
func leaveStale(t *testing.T, path string) {
	t.Helper()
	l, err := Listen(path)
	require.NoError(t, err)
	require.NoError(t, l.UnixListener.Close()) // the listener goes, its file stays
	st, err := os.Lstat(path)
	require.NoError(t, err)
	require.Equal(t, os.ModeSocket, st.Mode().Type())
}

// A socket left by a crashed run is replaced; a live socket or a file that is not a socket is not.
func TestStaleSocketReplaced(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{filepath.Join(dir, "channel.sock"), filepath.Join(dir, strings.Repeat("d", 100), "qmp.sock")} {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		leaveStale(t, path)
		l, err := Listen(path)
		require.NoError(t, err, "a stale socket blocks the next run")
		if len(path) <= maxPath { // a longer path cannot be dialled by its name
			c, err := net.Dial("unix", path)
			require.NoError(t, err, "the new listener answers at the path")
			c.Close()
		}
		require.NoError(t, l.Close())

		live, err := Listen(path)
		require.NoError(t, err)
		_, err = Listen(path)
		assert.ErrorContains(t, err, "in use", "a live socket is never taken over")
		require.NoError(t, live.Close())
	}
	plain := filepath.Join(dir, "plain.sock")
	require.NoError(t, os.WriteFile(plain, []byte("keep"), 0o644))
	_, err := Listen(plain)
	assert.Error(t, err)
	b, err := os.ReadFile(plain)
	require.NoError(t, err)
	assert.Equal(t, "keep", string(b))
}
