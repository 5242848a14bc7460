package channel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/oemact/oemact/harness/internal/unixsock"
)

// Listener is the host end before QEMU starts: a unix socket QEMU connects to as a client
// (-chardev socket,id=ID,path=SOCK without server=on).
type Listener struct {
	l *unixsock.Listener
}

// Listen listens at path (any length: see the qemu package for how QEMU is given it).
func Listen(path string) (*Listener, error) {
	l, err := unixsock.Listen(path)
	if err != nil {
		return nil, fmt.Errorf("channel: %w", err)
	}
	return &Listener{l: l}, nil
}

// Path is the socket file.
func (l *Listener) Path() string { return l.l.Path }

// Close stops listening and removes the socket file. Accepted connections stay open.
func (l *Listener) Close() error { return l.l.Close() }

// Accept waits for QEMU to connect, or for ctx to end.
func (l *Listener) Accept(ctx context.Context) (net.Conn, error) {
	l.l.SetDeadline(time.Time{}) // clear what an earlier, cancelled Accept set
	stop := context.AfterFunc(ctx, func() { l.l.SetDeadline(time.Now()) })
	defer stop()
	c, err := l.l.Accept()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("channel: accepting on %s: %w", l.l.Path, err)
	}
	return c, nil
}

// Handler answers one request from the guest: the response's type and payload, or an error that
// is sent back as a TypeError response (and returned by Serve when it is a *FatalError).
type Handler func(ctx context.Context, m *Message) (Type, any, error)

// FatalError from a handler is reported to the guest and then ends Serve with that error.
type FatalError struct{ Err error }

func (e *FatalError) Error() string { return e.Err.Error() }
func (e *FatalError) Unwrap() error { return e.Err }

// Serve reads requests from the guest on conn and answers each with h, until the guest closes the
// stream (nil), ctx ends (ctx.Err()), a handler returns a *FatalError, or the guest breaks the
// protocol (the *ProtocolError). It closes conn when it returns.
func Serve(ctx context.Context, conn io.ReadWriteCloser, h Handler, o Options) error {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c := NewConn(conn, Host, o)
	for {
		m, err := c.Recv()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrClosed) {
				return nil
			}
			return err
		}
		if m.Re != 0 {
			return &ProtocolError{From: Guest, Line: c.line, Msg: fmt.Sprintf("%s %d answers request %d, which the host never sent", m.Type, m.ID, m.Re)}
		}
		t, payload, herr := h(ctx, m)
		if herr != nil {
			if err := c.Reply(m, TypeError, Error{Message: herr.Error()}); err != nil {
				return err
			}
			var fatal *FatalError
			if errors.As(herr, &fatal) {
				return herr
			}
			continue
		}
		if err := c.Reply(m, t, payload); err != nil {
			return err
		}
	}
}
