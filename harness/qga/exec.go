package qga

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultMaxOutput bounds each captured stream of a command Run when the caller gives no bound.
const DefaultMaxOutput = 1 << 20

// Command is a program for guest-exec to start.
type Command struct {
	Path  string   // the program: a path, or a name the guest looks up in its PATH
	Args  []string // arguments, without the program name
	Env   []string // NAME=value, replacing the agent's environment when set
	Input []byte   // written to the program's standard input
	// Capture keeps standard output and error for guest-exec-status (capture-output).
	Capture bool
}

// String is the command as a shell would show it, for errors.
func (c Command) String() string {
	return strings.Join(append([]string{c.Path}, c.Args...), " ")
}

// ExecStatus is what guest-exec-status said about a program.
type ExecStatus struct {
	Exited   bool
	ExitCode int
	Signal   int // the signal that ended it, on Linux guests
	Stdout   []byte
	Stderr   []byte
	// StdoutTruncated and StderrTruncated: the agent kept only the start of the stream (qemu-ga
	// keeps 16 MiB).
	StdoutTruncated, StderrTruncated bool
}

// Exec starts a program in the guest (guest-exec) and returns its pid.
func (c *Client) Exec(ctx context.Context, cmd Command) (int64, error) {
	args := map[string]any{"path": cmd.Path, "capture-output": cmd.Capture}
	if len(cmd.Args) > 0 {
		args["arg"] = cmd.Args
	}
	if len(cmd.Env) > 0 {
		args["env"] = cmd.Env
	}
	if len(cmd.Input) > 0 {
		args["input-data"] = base64.StdEncoding.EncodeToString(cmd.Input)
	}
	var out struct {
		PID *int64 `json:"pid"`
	}
	if err := c.call(ctx, "guest-exec", cmd.String(), args, &out, 0); err != nil {
		return 0, err
	}
	if out.PID == nil {
		return 0, &Error{Command: "guest-exec", Target: cmd.String(), Err: fmt.Errorf("the answer has no pid")}
	}
	return *out.PID, nil
}

// Status asks guest-exec-status about a program Exec started. Each captured stream may hold at
// most maxOutput bytes (0: DefaultMaxOutput); a longer one is an error. The agent forgets a
// program once it has reported it as exited.
func (c *Client) Status(ctx context.Context, pid int64, maxOutput int) (*ExecStatus, error) {
	if maxOutput <= 0 {
		maxOutput = DefaultMaxOutput
	}
	target := "pid " + strconv.FormatInt(pid, 10)
	var out struct {
		Exited       *bool  `json:"exited"`
		ExitCode     int    `json:"exitcode"`
		Signal       int    `json:"signal"`
		OutData      string `json:"out-data"`
		ErrData      string `json:"err-data"`
		OutTruncated bool   `json:"out-truncated"`
		ErrTruncated bool   `json:"err-truncated"`
	}
	bound := 2*base64.StdEncoding.EncodedLen(maxOutput) + 1024
	if err := c.call(ctx, "guest-exec-status", target, map[string]int64{"pid": pid}, &out, bound); err != nil {
		return nil, err
	}
	bad := func(format string, args ...any) error {
		return &Error{Command: "guest-exec-status", Target: target, Err: fmt.Errorf(format, args...)}
	}
	if out.Exited == nil {
		return nil, bad("the answer has no exited field")
	}
	st := &ExecStatus{Exited: *out.Exited, ExitCode: out.ExitCode, Signal: out.Signal,
		StdoutTruncated: out.OutTruncated, StderrTruncated: out.ErrTruncated}
	var err error
	for _, s := range []struct {
		name string
		in   string
		out  *[]byte
	}{{"out-data", out.OutData, &st.Stdout}, {"err-data", out.ErrData, &st.Stderr}} {
		if *s.out, err = base64.StdEncoding.DecodeString(s.in); err != nil {
			return nil, bad("%s is not base64: %v", s.name, err)
		}
		if len(*s.out) > maxOutput {
			return nil, bad("%s holds %d bytes, more than the bound of %d", s.name, len(*s.out), maxOutput)
		}
	}
	return st, nil
}

// Run starts a program with its output captured and polls guest-exec-status until it exits or
// ctx ends (an error naming the command; the program may still run in the guest then).
func (c *Client) Run(ctx context.Context, cmd Command, maxOutput int) (*ExecStatus, error) {
	cmd.Capture = true
	pid, err := c.Exec(ctx, cmd)
	if err != nil {
		return nil, err
	}
	// Short programs end within milliseconds; a slow guest (TCG) needs longer, so the poll
	// interval grows up to a quarter second.
	wait := 10 * time.Millisecond
	for {
		st, err := c.Status(ctx, pid, maxOutput)
		if err != nil {
			if e, ok := err.(*Error); ok {
				e.Target = fmt.Sprintf("pid %d (%s)", pid, cmd)
			}
			return nil, err
		}
		if st.Exited {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return nil, &Error{Command: "guest-exec-status", Target: fmt.Sprintf("pid %d (%s)", pid, cmd),
				Err: fmt.Errorf("the program had not exited when the wait ended: %w", ctx.Err())}
		case <-time.After(wait):
		}
		wait = min(2*wait, 250*time.Millisecond)
	}
}
