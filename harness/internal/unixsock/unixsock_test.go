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

func TestListenShortAndLong(t *testing.T) {
	base := t.TempDir()
	long := filepath.Join(base, strings.Repeat("d", 60), strings.Repeat("e", 60))
	require.NoError(t, os.MkdirAll(long, 0o755))
	for name, dir := range map[string]string{"short": base, "long": long} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, "chan.sock")
			l, err := Listen(path)
			require.NoError(t, err)
			st, err := os.Stat(path)
			require.NoError(t, err, "the socket file is at the path asked for")
			assert.Equal(t, os.ModeSocket, st.Mode().Type())

			// A client in the folder connects by the relative name, as QEMU does.
			done := make(chan error, 1)
			go func() {
				c, err := l.Accept()
				if err == nil {
					_, err = c.Write([]byte("hi"))
					c.Close()
				}
				done <- err
			}()
			wd, err := os.Getwd()
			require.NoError(t, err)
			require.NoError(t, os.Chdir(dir))
			c, err := net.Dial("unix", "chan.sock")
			require.NoError(t, os.Chdir(wd))
			require.NoError(t, err)
			buf := make([]byte, 2)
			_, err = c.Read(buf)
			require.NoError(t, err)
			assert.Equal(t, "hi", string(buf))
			c.Close()
			require.NoError(t, <-done)

			require.NoError(t, l.Close())
			_, err = os.Stat(path)
			assert.ErrorIs(t, err, os.ErrNotExist, "Close removes the socket file")
		})
	}
}
