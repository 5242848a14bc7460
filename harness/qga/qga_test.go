package qga

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestSyncSkipsWhatCameBefore(t *testing.T) {
	a, c := newFakeAgent(t)
	first := true
	a.set(func() {
		a.before = func(cmd string, _, id json.RawMessage, w *bufio.Writer) bool {
			if cmd == "guest-sync-delimited" && first {
				first = false
				// Leftovers of an earlier conversation: a line that is not JSON, an answer to an old
				// request, the start of an answer cut short by a reset.
				w.WriteString("garbage\n")
				w.WriteString(`{"return": {}, "id": 17}` + "\n")
				w.WriteString(`{"return": {"count": 3, "buf-b6`)
			}
			return false
		}
	})
	require.NoError(t, c.Sync(ctxFor(t, 5*time.Second)))
	require.NoError(t, c.Ping(ctxFor(t, 5*time.Second)))
	assert.Equal(t, []string{"guest-sync-delimited", "guest-ping"}, a.commands())
}

func TestSyncAsksAgainUntilTheAgentAnswers(t *testing.T) {
	a, c := newFakeAgent(t)
	c.SyncRetry = 20 * time.Millisecond
	dropped := 0
	a.set(func() {
		a.before = func(cmd string, _, id json.RawMessage, w *bufio.Writer) bool {
			if cmd == "guest-sync-delimited" && dropped < 3 {
				dropped++
				return true // not started yet: the request is lost
			}
			return false
		}
	})
	require.NoError(t, c.Ready(ctxFor(t, 5*time.Second)))
	assert.Equal(t, []string{"guest-sync-delimited", "guest-sync-delimited", "guest-sync-delimited", "guest-sync-delimited", "guest-ping"}, a.commands())
}

func TestSyncTakesOnlyTheLatestAnswer(t *testing.T) {
	a, c := newFakeAgent(t)
	c.SyncRetry = 20 * time.Millisecond
	var held []json.RawMessage
	a.set(func() {
		a.before = func(cmd string, args, _ json.RawMessage, w *bufio.Writer) bool {
			if cmd != "guest-sync-delimited" {
				return false
			}
			// A slow agent: the first two requests are answered late, just before the third.
			if len(held) < 2 {
				held = append(held, args)
				return true
			}
			for _, args := range held {
				id, _ := a.sync(args)
				fmt.Fprintf(w, "\xff{\"return\": %d}\n", id)
			}
			return false
		}
	})
	require.NoError(t, c.Sync(ctxFor(t, 5*time.Second)))
	// The three answers were sent at once: had Sync stopped at an earlier one, the later ones
	// would be waiting to be read.
	c.conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, err := c.r.Peek(1)
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded, "nothing left to read after the sync")
	c.conn.SetReadDeadline(time.Time{})
	require.NoError(t, c.Ping(ctxFor(t, time.Second)))
	assert.Equal(t, []string{"guest-sync-delimited", "guest-sync-delimited", "guest-sync-delimited", "guest-ping"}, a.commands())
}

func TestSyncTimesOut(t *testing.T) {
	a, c := newFakeAgent(t)
	a.set(func() { a.silent = true })
	c.SyncRetry = 50 * time.Millisecond
	err := c.Sync(ctxFor(t, 300*time.Millisecond))
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "guest-sync-delimited", e.Command)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	var te *TimeoutError
	require.ErrorAs(t, err, &te)
	assert.GreaterOrEqual(t, te.After, 300*time.Millisecond)
	assert.Contains(t, err.Error(), "guest agent guest-sync-delimited: no answer within")
	assert.Contains(t, err.Error(), "is qemu-guest-agent running in the guest, on the virtio-serial port org.qemu.guest_agent.0?")
	assert.Greater(t, len(a.commands()), 2, "asked again while waiting")
}

func TestTimeoutWithoutDeadline(t *testing.T) {
	a, c := newFakeAgent(t)
	a.set(func() { a.silent = true })
	c.Timeout = 100 * time.Millisecond
	err := c.Ping(context.Background())
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "guest agent guest-ping: no answer within")
}

func TestCanceledThenUsable(t *testing.T) {
	a, c := newFakeAgent(t)
	drop := true
	a.set(func() {
		a.before = func(cmd string, _, id json.RawMessage, w *bufio.Writer) bool { d := drop; drop = false; return d }
	})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	err := c.Ping(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
	// The next command has its own deadline, and skips nothing it should not.
	require.NoError(t, c.Ping(ctxFor(t, 5*time.Second)))
}

// cancelingConn cancels a command's context just as the client sets its read deadline, and lets
// the deadline through only once the cancellation has stopped the connection: the order in which
// a cancellation that comes while the client is between two reads lands.
type cancelingConn struct {
	net.Conn
	cancel  func()
	stopped chan struct{}
	once    sync.Once
}

func (c *cancelingConn) SetDeadline(t time.Time) error {
	err := c.Conn.SetDeadline(t)
	if !t.IsZero() && t.Before(time.Now()) {
		close(c.stopped)
	}
	return err
}

func (c *cancelingConn) SetReadDeadline(t time.Time) error {
	if t.After(time.Now()) {
		c.once.Do(func() { c.cancel(); <-c.stopped })
	}
	return c.Conn.SetReadDeadline(t)
}

// A command whose context is canceled while the agent is slow to answer returns at once, not at
// its own deadline, even when it sets that deadline after the cancellation stopped the connection.
func TestCanceledWhileSettingDeadline(t *testing.T) {
	for name, do := range map[string]func(*Client, context.Context) error{
		"ping": (*Client).Ping,
		"sync": (*Client).Sync,
	} {
		t.Run(name, func(t *testing.T) {
			a, c := newFakeAgent(t)
			a.set(func() { a.silent = true })
			c.Timeout = 5 * time.Second
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			c.conn = &cancelingConn{Conn: c.conn, cancel: cancel, stopped: make(chan struct{})}
			start := time.Now()
			err := do(c, ctx)
			assert.ErrorIs(t, err, context.Canceled)
			assert.Less(t, time.Since(start), time.Second, "returned at once, not at the command's deadline")
		})
	}
}

func TestAnswersToOtherRequestsAreSkipped(t *testing.T) {
	a, c := newFakeAgent(t)
	a.set(func() {
		a.before = func(cmd string, _, id json.RawMessage, w *bufio.Writer) bool {
			w.WriteString(`{"return": 1000, "id": 3}` + "\n")
			w.WriteString(`{"error": {"class": "GenericError", "desc": "JSON parse error"}}` + "\n")
			w.WriteString("\n")
			return false
		}
	})
	a.set(func() { a.files["/f"] = []byte("hello") })
	b, err := c.ReadFile(ctxFor(t, 5*time.Second), "/f", 100)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(b))
}

func TestAgentErrors(t *testing.T) {
	a, c := newFakeAgent(t)
	_, err := c.ReadFile(ctxFor(t, 5*time.Second), "/sys/firmware/acpi/tables/SLIC", 1024)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "guest-file-open", e.Command)
	assert.Equal(t, "GenericError", e.Class)
	assert.EqualError(t, err, "guest agent guest-file-open /sys/firmware/acpi/tables/SLIC: the agent answered GenericError: "+
		"failed to open file '/sys/firmware/acpi/tables/SLIC' (mode: 'r'): No such file or directory")
	assert.Nil(t, e.Unwrap())

	err = c.call(ctxFor(t, 5*time.Second), "guest-frobnicate", "", nil, nil, 0)
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "CommandNotFound", e.Class)
	assert.Equal(t, []string{"guest-file-open", "guest-frobnicate"}, a.commands())
}

func TestReadFileInChunks(t *testing.T) {
	a, c := newFakeAgent(t)
	data := make([]byte, 2*ReadChunk+1234)
	rand.Read(data)
	a.set(func() { a.files["/big"] = data })
	got, err := c.ReadFile(ctxFor(t, 10*time.Second), "/big", len(data))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(data, got))
	assert.Equal(t, []string{"guest-file-open", "guest-file-read", "guest-file-read", "guest-file-read", "guest-file-read", "guest-file-close"}, a.commands())
	assert.Zero(t, a.with(func() any { return len(a.handles) }), "closed")

	// Empty files (sysfs tables that are not there read as empty on some kernels).
	a.set(func() { a.files["/empty"] = nil })
	got, err = c.ReadFile(ctxFor(t, 10*time.Second), "/empty", 10)
	require.NoError(t, err)
	assert.Empty(t, got)
}

func TestReadFileBound(t *testing.T) {
	a, c := newFakeAgent(t)
	a.set(func() { a.files["/f"] = bytes.Repeat([]byte{'x'}, 101) })
	_, err := c.ReadFile(ctxFor(t, 5*time.Second), "/f", 100)
	assert.EqualError(t, err, "guest agent guest-file-read /f: the file is longer than 100 bytes, the bound for it")
	assert.Zero(t, a.with(func() any { return len(a.handles) }), "closed after the error")
	got, err := c.ReadFile(ctxFor(t, 5*time.Second), "/f", 101)
	require.NoError(t, err)
	assert.Len(t, got, 101)
	assert.Equal(t, []string{"guest-file-open", "guest-file-read", "guest-file-close", "guest-file-open", "guest-file-read", "guest-file-read", "guest-file-close"}, a.commands())
}

func TestReadBadAnswers(t *testing.T) {
	cases := map[string]struct{ ret, want string }{
		"no count":    {`{"buf-b64": "", "eof": true}`, "the answer has no count"},
		"not base64":  {`{"count": 3, "buf-b64": "!!!!", "eof": false}`, "buf-b64 is not base64"},
		"count lies":  {`{"count": 2, "buf-b64": "YWJj", "eof": false}`, "the answer says 2 bytes but carries 3"},
		"over asked":  {`{"count": 6, "buf-b64": "YWJjZGVm", "eof": false}`, "asked for 5 bytes, got 6"},
		"not object":  {`"abc"`, "unexpected answer \"abc\""},
		"count wrong": {`{"count": "x"}`, "unexpected answer"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			a, c := newFakeAgent(t)
			a.set(func() {
				a.before = func(cmd string, _, id json.RawMessage, w *bufio.Writer) bool {
					fmt.Fprintf(w, `{"return": %s, "id": %s}`+"\n", tc.ret, id)
					return true
				}
			})
			_, _, err := c.Read(ctxFor(t, 5*time.Second), 1000, 5)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, "guest-file-read", e.Command)
			assert.Contains(t, err.Error(), "guest agent guest-file-read handle 1000: "+tc.want)
		})
	}
	_, c := newFakeAgent(t)
	_, _, err := c.Read(ctxFor(t, 5*time.Second), 1000, ReadChunk+1)
	assert.ErrorContains(t, err, "count 65537: want 1 to 65536")
}

func TestAnswerTooLongThenInStep(t *testing.T) {
	a, c := newFakeAgent(t)
	a.set(func() { a.files["/f"] = []byte("abc") })
	a.set(func() {
		a.before = func(cmd string, _, id json.RawMessage, w *bufio.Writer) bool {
			if cmd != "guest-file-read" {
				return false
			}
			huge := base64.StdEncoding.EncodeToString(make([]byte, 200<<10))
			fmt.Fprintf(w, `{"return": {"count": %d, "buf-b64": "%s", "eof": true}, "id": %s}`+"\n", 200<<10, huge, id)
			return true
		}
	})
	_, err := c.ReadFile(ctxFor(t, 5*time.Second), "/f", 10)
	var tl *TooLongError
	require.ErrorAs(t, err, &tl)
	assert.Equal(t, chunkResponse(11), tl.Max)
	assert.Contains(t, err.Error(), "guest agent guest-file-read /f: the answer is longer than")
	// The rest of the long line is skipped; the next answer is read whole.
	a.set(func() { a.before = nil })
	require.NoError(t, c.Ping(ctxFor(t, 5*time.Second)))
}

func TestRun(t *testing.T) {
	a, c := newFakeAgent(t)
	var execArgs map[string]any
	a.set(func() {
		a.handlers["guest-exec"] = func(args json.RawMessage) (any, *agentError) {
			json.Unmarshal(args, &execArgs)
			return map[string]int{"pid": 77}, nil
		}
	})
	polls := 0
	a.set(func() {
		a.handlers["guest-exec-status"] = func(args json.RawMessage) (any, *agentError) {
			var in struct{ PID int }
			json.Unmarshal(args, &in)
			if in.PID != 77 {
				return nil, &agentError{"GenericError", "Invalid parameter 'pid'"}
			}
			polls++
			if polls < 3 {
				return map[string]any{"exited": false}, nil
			}
			return map[string]any{"exited": true, "exitcode": 3, "out-data": base64.StdEncoding.EncodeToString([]byte("out\n")),
				"err-data": base64.StdEncoding.EncodeToString([]byte("err\n")), "err-truncated": true}, nil
		}
	})
	st, err := c.Run(ctxFor(t, 5*time.Second), Command{Path: "/bin/sh", Args: []string{"-c", "echo out; echo err >&2; exit 3"}, Input: []byte("in")}, 100)
	require.NoError(t, err)
	assert.Equal(t, &ExecStatus{Exited: true, ExitCode: 3, Stdout: []byte("out\n"), Stderr: []byte("err\n"), StderrTruncated: true}, st)
	assert.Equal(t, 3, polls)
	assert.Equal(t, map[string]any{"path": "/bin/sh", "arg": []any{"-c", "echo out; echo err >&2; exit 3"}, "capture-output": true,
		"input-data": base64.StdEncoding.EncodeToString([]byte("in"))}, execArgs)
}

func TestRunBoundsAndErrors(t *testing.T) {
	a, c := newFakeAgent(t)
	a.set(func() {
		a.handlers["guest-exec-status"] = func(json.RawMessage) (any, *agentError) {
			return map[string]any{"exited": true, "out-data": base64.StdEncoding.EncodeToString(make([]byte, 101))}, nil
		}
	})
	_, err := c.Run(ctxFor(t, 5*time.Second), Command{Path: "cscript"}, 100)
	assert.EqualError(t, err, "guest agent guest-exec-status pid 4242 (cscript): out-data holds 101 bytes, more than the bound of 100")

	a.set(func() {
		a.handlers["guest-exec-status"] = func(json.RawMessage) (any, *agentError) { return map[string]any{"exitcode": 1}, nil }
	})
	_, err = c.Run(ctxFor(t, 5*time.Second), Command{Path: "cscript"}, 100)
	assert.ErrorContains(t, err, "guest-exec-status pid 4242 (cscript): the answer has no exited field")

	a.set(func() {
		a.handlers["guest-exec-status"] = func(json.RawMessage) (any, *agentError) { return map[string]any{"exited": false}, nil }
	})
	_, err = c.Run(ctxFor(t, 200*time.Millisecond), Command{Path: "sleep", Args: []string{"9"}}, 100)
	assert.ErrorContains(t, err, "guest-exec-status pid 4242 (sleep 9): ")
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	a.set(func() {
		a.handlers["guest-exec"] = func(json.RawMessage) (any, *agentError) {
			return nil, &agentError{"GenericError", "Guest agent command failed, error was 'Failed to execute child process “nope” (No such file or directory)'"}
		}
	})
	_, err = c.Run(ctxFor(t, 5*time.Second), Command{Path: "nope", Args: []string{"a"}}, 100)
	assert.ErrorContains(t, err, "guest agent guest-exec nope a: the agent answered GenericError: Guest agent command failed")

	a.set(func() {
		a.handlers["guest-exec"] = func(json.RawMessage) (any, *agentError) { return map[string]int{}, nil }
	})
	_, err = c.Exec(ctxFor(t, 5*time.Second), Command{Path: "x"})
	assert.ErrorContains(t, err, "guest agent guest-exec x: the answer has no pid")
}

func TestShutdown(t *testing.T) {
	a, c := newFakeAgent(t)
	a.set(func() { a.handlers["guest-shutdown"] = func(json.RawMessage) (any, *agentError) { return nil, nil } })
	assert.NoError(t, c.Shutdown(ctxFor(t, 100*time.Millisecond), "powerdown"), "no answer is what a working shutdown gives")

	a.set(func() {
		a.handlers["guest-shutdown"] = func(json.RawMessage) (any, *agentError) {
			return nil, &agentError{"GenericError", "child process has failed to shutdown"}
		}
	})
	err := c.Shutdown(ctxFor(t, 5*time.Second), "powerdown")
	assert.EqualError(t, err, "guest agent guest-shutdown powerdown: the agent answered GenericError: child process has failed to shutdown")

	// The guest powered off: QEMU closed the connection.
	a.set(func() {
		a.handlers["guest-shutdown"] = func(json.RawMessage) (any, *agentError) { a.conn.Close(); return nil, nil }
	})
	assert.NoError(t, c.Shutdown(ctxFor(t, 5*time.Second), "powerdown"))
	// Nothing can be sent any more.
	err = c.Shutdown(ctxFor(t, 5*time.Second), "powerdown")
	assert.ErrorContains(t, err, "guest agent guest-shutdown powerdown: sending: ")
}

func TestErrorsWrap(t *testing.T) {
	e := &Error{Command: "guest-ping", Err: &TimeoutError{After: time.Second}}
	assert.True(t, errors.Is(e, context.DeadlineExceeded))
	assert.True(t, strings.HasPrefix(e.Error(), "guest agent guest-ping: no answer within 1s"))
}

// FuzzAnswers feeds whatever the guest side may send to every command: no panic, an error or an
// answer, within the deadline.
func FuzzAnswers(f *testing.F) {
	f.Add([]byte(`{"return": {}, "id": ID}` + "\n"))
	f.Add([]byte("\xff{\"return\": ID}\n"))
	f.Add([]byte(`{"return": {"count": 3, "buf-b64": "YWJj", "eof": true}, "id": ID}` + "\n"))
	f.Add([]byte(`{"return": {"exited": true, "exitcode": 2, "out-data": "eA==", "signal": 9}, "id": ID}` + "\n"))
	f.Add([]byte(`{"error": {"class": "GenericError", "desc": "x"}, "id": ID}` + "\n"))
	f.Add([]byte(`{"return": 1000, "id": ID}{"return": [1,2], "id": ID}` + "\n\xff\xff\n"))
	calls := []func(c *Client, ctx context.Context) error{
		func(c *Client, ctx context.Context) error { return c.Ping(ctx) },
		func(c *Client, ctx context.Context) error { return c.Sync(ctx) },
		func(c *Client, ctx context.Context) error { _, _, err := c.Read(ctx, 1000, 16); return err },
		func(c *Client, ctx context.Context) error { _, err := c.Status(ctx, 1, 16); return err },
		func(c *Client, ctx context.Context) error { _, err := c.Exec(ctx, Command{Path: "x"}); return err },
		func(c *Client, ctx context.Context) error { _, err := c.ReadFile(ctx, "/x", 64); return err },
	}
	f.Fuzz(func(t *testing.T, answer []byte) {
		for _, call := range calls {
			host, guest := socketPair(t)
			c := NewClient(host)
			c.MaxResponse = 4096
			done := make(chan struct{})
			// The agent answers every request with the input, then hangs up: each call ends at
			// once with an answer or an error.
			go func() {
				defer close(done)
				defer guest.Close()
				r := bufio.NewReader(guest)
				for {
					line, err := r.ReadBytes('\n')
					if err != nil {
						return
					}
					var req struct{ ID int64 } // Sync's argument is the same number
					json.Unmarshal(bytes.TrimLeft(line, "\xff"), &req)
					guest.Write(bytes.ReplaceAll(answer, []byte("ID"), []byte(fmt.Sprint(req.ID))))
					guest.(*net.UnixConn).CloseWrite()
				}
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			err := call(c, ctx)
			cancel()
			c.Close()
			<-done
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("the call waited for its deadline although the agent had hung up: %v", err)
			}
		}
	})
}
