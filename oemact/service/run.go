package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultListen is serve's default address: loopback only.
const DefaultListen = "127.0.0.1:8688"

// UnixPrefix marks a unix socket address: "unix:/run/oemact.sock". The client takes the same
// form as its base URL.
const UnixPrefix = "unix:"

// Run opens the service, listens on addr (HOST:PORT, or unix:PATH), writes "listening on
// http://HOST:PORT" (or "listening on unix:PATH") as one line to out (so a script can read the
// port when addr asks for port 0), serves until ctx ends, then shuts down gracefully: requests in
// flight finish and their decisions commit, queued decisions commit, and the database closes.
func Run(ctx context.Context, cfg Config, addr string, out io.Writer) error {
	ln, shown, err := Listen(addr)
	if err != nil {
		return err
	}
	srv, err := Open(ctx, cfg)
	if err != nil {
		ln.Close()
		return err
	}
	fmt.Fprintf(out, "listening on %s\n", shown)
	if f, ok := out.(interface{ Sync() error }); ok {
		f.Sync()
	}
	serr := srv.Serve(ctx, ln)
	cerr := srv.Close()
	if serr != nil {
		return serr
	}
	return cerr
}

// Listen listens on a TCP address or, for "unix:PATH", on a unix socket that only this user may
// connect to (mode 0600). A socket file left by a crashed service (nothing accepts on it) is
// replaced; a socket something listens on, or a file that is not a socket, is an error. It returns
// the address as the client takes it.
func Listen(addr string) (net.Listener, string, error) {
	path, ok := strings.CutPrefix(addr, UnixPrefix)
	if !ok {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, "", fmt.Errorf("listen on %s: %w", addr, err)
		}
		return ln, "http://" + ln.Addr().String(), nil
	}
	if path == "" {
		return nil, "", errors.New("listen on unix: no socket path (unix:/path/to/oemact.sock)")
	}
	path, err := filepath.Abs(path)
	if err != nil {
		return nil, "", err
	}
	if err := removeStaleSocket(path); err != nil {
		return nil, "", err
	}
	ln, err := listenPrivate(path)
	if err != nil {
		return nil, "", fmt.Errorf("listen on %s%s: %w", UnixPrefix, path, err)
	}
	return ln, UnixPrefix + path, nil
}

// umaskMu serialises the umask change of listenPrivate within this process.
var umaskMu sync.Mutex

// listenPrivate creates the socket with mode 0600 from the start: a chmod after bind would leave a
// moment in which other users could connect. The umask is process-wide; files other goroutines
// create in that moment get no more than 0600 either, never more than they asked for.
func listenPrivate(path string) (net.Listener, error) {
	umaskMu.Lock()
	old := syscall.Umask(0o177)
	ln, err := net.Listen("unix", path)
	syscall.Umask(old)
	umaskMu.Unlock()
	return ln, err
}

// removeStaleSocket removes a socket file at path that nothing accepts connections on.
func removeStaleSocket(path string) error {
	st, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.Mode().Type() != os.ModeSocket {
		return fmt.Errorf("listen on %s%s: the file exists and is not a socket; choose another path", UnixPrefix, path)
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("listen on %s%s: another process listens on it; stop it or choose another path", UnixPrefix, path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("listen on %s%s: %w", UnixPrefix, path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing the stale socket %s: %w", path, err)
	}
	return nil
}
