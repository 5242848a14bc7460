// Package qga is a client for the QEMU guest agent (qemu-ga, on Linux and Windows guests): its
// JSON commands over the virtio-serial port org.qemu.guest_agent.0, which QEMU hands to the host
// as a unix socket. Every answer is bounded in size and time.
//
// It speaks the protocol only: which files to read or programs to run is the caller's business.
package qga

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"sync"
	"time"
)

// PortName is the virtio-serial port qemu-ga opens in the guest.
const PortName = "org.qemu.guest_agent.0"

// Defaults for the Client's bounds.
const (
	// DefaultTimeout bounds a command when its context has no deadline.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxResponse bounds one answer (a JSON line) when the command sets no other bound.
	DefaultMaxResponse = 1 << 20
	// SyncRetry is how often Sync asks again while the agent is silent: the agent may start
	// after the request was sent, or a request may have been lost with a previous agent.
	SyncRetry = time.Second
	// maxStray bounds the lines skipped while waiting for one answer: parse errors, answers to
	// commands that timed out earlier.
	maxStray = 1000
)

// Client talks to one guest agent. Its methods may be called from several goroutines; commands
// are sent one at a time.
type Client struct {
	conn net.Conn
	r    *bufio.Reader
	mu   sync.Mutex
	// Timeout bounds a command whose context has no deadline; default DefaultTimeout.
	Timeout time.Duration
	// MaxResponse bounds one answer; default DefaultMaxResponse. ReadFile and Run size their
	// own bound from their arguments.
	MaxResponse int
	// SyncRetry is how often Sync asks again while the agent is silent; default SyncRetry.
	SyncRetry time.Duration
	next      int64
	skipping  bool // the previous answer was cut at its bound: skip to the end of its line
}

// NewClient returns a client on conn (the unix socket QEMU connects to, or any stream).
func NewClient(conn net.Conn) *Client {
	// Ids start at a random point so that answers meant for an earlier client (a previous run on
	// the same guest, whose agent answers late) never match.
	return &Client{conn: conn, r: bufio.NewReaderSize(conn, 64<<10), next: rand.Int64N(1 << 40)}
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Error is a command that failed: the agent refused it (Class and Desc are its answer), or the
// exchange failed (Err: a timeout, a closed connection, an answer too long or malformed).
type Error struct {
	Command string // e.g. guest-file-open
	Target  string // what the command was about (a path, a handle, a pid), or ""
	Class   string // the agent's error class, e.g. GenericError, CommandNotFound
	Desc    string // the agent's description
	Err     error
}

func (e *Error) Error() string {
	s := "guest agent " + e.Command
	if e.Target != "" {
		s += " " + e.Target
	}
	if e.Class != "" || e.Desc != "" {
		return s + ": the agent answered " + e.Class + ": " + e.Desc
	}
	return s + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// TimeoutError is an agent that did not answer in time. errors.Is(err,
// context.DeadlineExceeded) holds for it.
type TimeoutError struct {
	After time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("no answer within %s: is qemu-guest-agent running in the guest, on the virtio-serial port %s?",
		e.After.Round(time.Millisecond), PortName)
}

func (e *TimeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// TooLongError is an answer longer than the bound the command allowed.
type TooLongError struct {
	Max int
}

func (e *TooLongError) Error() string {
	return fmt.Sprintf("the answer is longer than %d bytes, the bound for this command", e.Max)
}

// request is one command on the wire. qemu-ga echoes "id" in its answer.
type request struct {
	Execute   string `json:"execute"`
	Arguments any    `json:"arguments,omitempty"`
	ID        int64  `json:"id"`
}

type agentError struct {
	Class string `json:"class"`
	Desc  string `json:"desc"`
}

type response struct {
	Return json.RawMessage `json:"return"`
	Error  *agentError     `json:"error"`
	ID     json.RawMessage `json:"id"`
}

// exchange holds the deadline of one command and stops the connection's I/O when its context
// ends.
type exchange struct {
	start    time.Time
	deadline time.Time
	ctx      context.Context
	release  func()
}

func (c *Client) begin(ctx context.Context) *exchange {
	x := &exchange{start: time.Now(), ctx: ctx}
	if d, ok := ctx.Deadline(); ok {
		x.deadline = d
	} else {
		t := c.Timeout
		if t <= 0 {
			t = DefaultTimeout
		}
		x.deadline = x.start.Add(t)
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		c.conn.SetDeadline(time.Unix(1, 0))
		close(fired)
	})
	// When the context ended while the command ran, wait for its deadline change to land before
	// the next command sets its own.
	x.release = func() {
		if !stop() {
			<-fired
		}
		c.conn.SetDeadline(time.Time{})
	}
	return x
}

// stopped is the error to return when the exchange's context has ended. Check it after each
// deadline the exchange sets: that deadline may have replaced the past one with which begin
// stopped the connection's I/O.
func (x *exchange) stopped() error {
	if x.ctx.Err() != nil {
		return x.ioErr(os.ErrDeadlineExceeded)
	}
	return nil
}

// ioErr turns an I/O error of the exchange into the error to report.
func (x *exchange) ioErr(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		if cerr := x.ctx.Err(); cerr != nil && !errors.Is(cerr, context.DeadlineExceeded) {
			return cerr
		}
		return &TimeoutError{After: time.Since(x.start)}
	}
	return err
}

func (c *Client) send(x *exchange, prefix []byte, r request) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	b = append(append(prefix, b...), '\n')
	c.conn.SetWriteDeadline(x.deadline)
	if err := x.stopped(); err != nil {
		return &sendError{err}
	}
	if _, err := c.conn.Write(b); err != nil {
		return &sendError{x.ioErr(err)}
	}
	return nil
}

// sendError is a request that could not be written.
type sendError struct{ err error }

func (e *sendError) Error() string { return "sending: " + e.err.Error() }
func (e *sendError) Unwrap() error { return e.err }

// readLine reads one answer line, at most max bytes. An answer cut at the bound leaves the
// client skipping the rest of its line before the next one.
func (c *Client) readLine(x *exchange, max int) ([]byte, error) {
	c.conn.SetReadDeadline(x.deadline)
	if err := x.stopped(); err != nil {
		return nil, err
	}
	var line []byte
	for {
		frag, err := c.r.ReadSlice('\n')
		if c.skipping {
			if err == nil {
				c.skipping = false
			} else if !errors.Is(err, bufio.ErrBufferFull) {
				return nil, x.ioErr(err)
			}
			continue
		}
		if len(line)+len(frag) > max {
			c.skipping = err != nil
			return nil, &TooLongError{Max: max}
		}
		line = append(line, frag...)
		switch {
		case err == nil:
			return line, nil
		case !errors.Is(err, bufio.ErrBufferFull):
			return nil, x.ioErr(err)
		}
	}
}

// parse reads an answer line. A guest-sync-delimited answer starts with 0xFF; bytes before the
// last 0xFF are the remains of an earlier, broken answer.
func parse(line []byte) (*response, bool) {
	if i := bytes.LastIndexByte(line, 0xFF); i >= 0 {
		line = line[i+1:]
	}
	var r response
	if err := json.Unmarshal(line, &r); err != nil || (r.Return == nil && r.Error == nil) {
		return nil, false
	}
	return &r, true
}

// call sends a command and waits for the answer carrying its id, skipping other lines (answers
// to commands that timed out, the agent's complaints about bytes it could not parse). The
// answer's return value goes into out when out is not nil.
func (c *Client) call(ctx context.Context, cmd, target string, args, out any, max int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if max <= 0 {
		max = c.MaxResponse
		if max <= 0 {
			max = DefaultMaxResponse
		}
	}
	x := c.begin(ctx)
	defer x.release()
	fail := func(err error) error { return &Error{Command: cmd, Target: target, Err: err} }
	c.next++
	id := c.next
	if err := c.send(x, nil, request{Execute: cmd, Arguments: args, ID: id}); err != nil {
		return fail(err)
	}
	want := strconv.FormatInt(id, 10)
	for range maxStray {
		line, err := c.readLine(x, max)
		if err != nil {
			return fail(err)
		}
		r, ok := parse(line)
		if !ok || string(r.ID) != want {
			continue
		}
		if r.Error != nil {
			return &Error{Command: cmd, Target: target, Class: r.Error.Class, Desc: r.Error.Desc}
		}
		if out != nil {
			if err := json.Unmarshal(r.Return, out); err != nil {
				return fail(fmt.Errorf("unexpected answer %s: %w", clip(r.Return), err))
			}
		}
		return nil
	}
	return fail(fmt.Errorf("no answer among %d lines", maxStray))
}

// clip shortens an answer quoted in an error.
func clip(b []byte) string {
	if len(b) > 120 {
		return string(b[:120]) + "..."
	}
	return string(b)
}

// Sync waits until the agent answers guest-sync-delimited, asking again every c.SyncRetry, and
// leaves the stream in step: every earlier answer has been read and dropped. It first sends the
// byte 0xFF, on which qemu-ga drops a partly received request. Give ctx the time the guest may
// take to boot and start its agent; an agent that never answers is a *TimeoutError at ctx's
// deadline.
func (c *Client) Sync(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	x := c.begin(ctx)
	defer x.release()
	fail := func(err error) error { return &Error{Command: "guest-sync-delimited", Err: err} }
	var want string
	ask := func() error {
		// The sync id travels as an argument; it is an integer in qemu-ga's schema.
		c.next++
		want = strconv.FormatInt(c.next, 10)
		return c.send(x, []byte{0xFF}, request{Execute: "guest-sync-delimited", Arguments: map[string]int64{"id": c.next}, ID: c.next})
	}
	if err := ask(); err != nil {
		return fail(err)
	}
	every := c.SyncRetry
	if every <= 0 {
		every = SyncRetry
	}
	retry := time.Now().Add(every)
	for {
		c.conn.SetReadDeadline(minTime(retry, x.deadline))
		if err := x.stopped(); err != nil {
			return fail(err)
		}
		line, err := c.readAny()
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded) && time.Now().Before(x.deadline) && x.ctx.Err() == nil:
			if err := ask(); err != nil {
				return fail(err)
			}
			retry = time.Now().Add(every)
			continue
		case err != nil:
			return fail(x.ioErr(err))
		}
		// Only the latest request's answer counts: answers to earlier ones come before it.
		if r, ok := parse(line); ok && r.Error == nil && string(r.Return) == want {
			return nil
		}
	}
}

// readAny reads one line of any length for Sync, keeping at most DefaultMaxResponse bytes of it
// (a longer line is not the short answer Sync waits for).
func (c *Client) readAny() ([]byte, error) {
	var line []byte
	for {
		frag, err := c.r.ReadSlice('\n')
		if len(line) < DefaultMaxResponse {
			line = append(line, frag...)
		}
		if err == nil || !errors.Is(err, bufio.ErrBufferFull) {
			c.skipping = false
			return line, err
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Ping sends guest-ping.
func (c *Client) Ping(ctx context.Context) error {
	var out struct{}
	return c.call(ctx, "guest-ping", "", nil, &out, 0)
}

// Ready waits for the agent (Sync) and pings it.
func (c *Client) Ready(ctx context.Context) error {
	if err := c.Sync(ctx); err != nil {
		return err
	}
	return c.Ping(ctx)
}

// Shutdown asks the guest to power off (mode "powerdown"), halt or reboot. qemu-ga does not
// answer a shutdown that works; it answers one that fails. Shutdown therefore waits until ctx
// ends or the connection closes (QEMU exits when the guest has powered off) and returns the
// agent's error if one came; nil says only that none came: the caller confirms the power-off by
// QEMU's exit.
func (c *Client) Shutdown(ctx context.Context, mode string) error {
	err := c.call(ctx, "guest-shutdown", mode, map[string]string{"mode": mode}, nil, 0)
	var se *sendError
	if errors.As(err, &se) {
		return err
	}
	// No answer before ctx ended or the connection closed: the expected outcome.
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// OSInfo is what guest-get-osinfo says of the guest's operating system. qemu-ga fills the fields
// it can (on Linux from os-release and uname, on Windows from the registry); ID is "mswindows"
// on Windows and os-release's ID ("debian", "ubuntu"...) on Linux.
type OSInfo struct {
	KernelRelease string `json:"kernel-release,omitempty"`
	KernelVersion string `json:"kernel-version,omitempty"`
	Machine       string `json:"machine,omitempty"`
	ID            string `json:"id,omitempty"`
	Name          string `json:"name,omitempty"`
	PrettyName    string `json:"pretty-name,omitempty"`
	Version       string `json:"version,omitempty"`
	VersionID     string `json:"version-id,omitempty"`
	Variant       string `json:"variant,omitempty"`
	VariantID     string `json:"variant-id,omitempty"`
}

// Windows reports whether the guest runs Windows.
func (o *OSInfo) Windows() bool { return o.ID == "mswindows" }

// OSInfo sends guest-get-osinfo.
func (c *Client) OSInfo(ctx context.Context) (*OSInfo, error) {
	var out OSInfo
	if err := c.call(ctx, "guest-get-osinfo", "", nil, &out, 0); err != nil {
		return nil, err
	}
	return &out, nil
}
