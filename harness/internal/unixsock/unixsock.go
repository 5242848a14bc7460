// Package unixsock listens on unix sockets whose path may be longer than the 107 bytes sun_path
// holds, which artifact folders deep in a checkout easily exceed.
package unixsock

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// maxPath is sun_path's size on Linux (108) minus the terminating NUL.
const maxPath = 107

// Listener is a unix socket listener whose Close removes the socket file.
type Listener struct {
	*net.UnixListener
	Path string // the socket file, absolute
}

// Close stops listening and removes the socket file.
func (l *Listener) Close() error {
	err := l.UnixListener.Close()
	if rerr := os.Remove(l.Path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
		err = rerr
	}
	return err
}

// Listen listens on a unix socket at path. When path is too long for sun_path, it binds through
// /proc/self/fd/N/NAME, where N is an open descriptor of the socket's folder: the socket file still
// appears at path. Clients given a path relative to the folder (QEMU run with the folder as its
// working directory) then connect whatever the folder's length.
func Listen(path string) (*Listener, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	bind := abs
	if len(abs) > maxPath {
		dir, err := os.Open(filepath.Dir(abs))
		if err != nil {
			return nil, fmt.Errorf("listening on %s: %w", abs, err)
		}
		defer dir.Close()
		bind = fmt.Sprintf("/proc/self/fd/%d/%s", dir.Fd(), filepath.Base(abs))
		if len(bind) > maxPath {
			return nil, fmt.Errorf("listening on %s: the socket name %q is too long for a unix socket", abs, filepath.Base(abs))
		}
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: bind, Net: "unix"})
	if errors.Is(err, syscall.EADDRINUSE) {
		// A run killed before its cleanup leaves its sockets behind: one nothing accepts on is
		// removed and bound again; a live one, or a file that is not a socket, stays.
		if rerr := removeStale(abs, bind); rerr != nil {
			return nil, fmt.Errorf("listening on %s: %w", abs, rerr)
		}
		l, err = net.ListenUnix("unix", &net.UnixAddr{Name: bind, Net: "unix"})
	}
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", abs, err)
	}
	// Go would unlink the bind path, which for the /proc alias no longer resolves once the folder's
	// descriptor is closed: Listener.Close removes the real path instead.
	l.SetUnlinkOnClose(false)
	return &Listener{UnixListener: l, Path: abs}, nil
}

// removeStale removes the socket file at path (reached as bind) when nothing accepts on it.
func removeStale(path, bind string) error {
	st, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if st.Mode().Type() != os.ModeSocket {
		return fmt.Errorf("%s exists and is not a socket", path)
	}
	c, err := net.DialTimeout("unix", bind, time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("%s is in use: another process listens on it", path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return err
	}
	return os.Remove(path)
}
