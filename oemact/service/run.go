package service

import (
	"context"
	"fmt"
	"io"
	"net"
)

// DefaultListen is serve's default address: loopback only.
const DefaultListen = "127.0.0.1:8688"

// Run opens the service, listens on addr, writes "listening on http://HOST:PORT" as one line to
// out (so a script can read the port when addr asks for port 0), serves until ctx ends, then
// shuts down gracefully: requests in flight finish and their decisions commit, queued decisions
// commit, and the database closes.
func Run(ctx context.Context, cfg Config, addr string, out io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv, err := Open(ctx, cfg)
	if err != nil {
		ln.Close()
		return err
	}
	fmt.Fprintf(out, "listening on http://%s\n", ln.Addr())
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
