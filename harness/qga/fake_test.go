package qga

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
)

// fakeAgent answers the guest agent's protocol as qemu-ga 7.2 documents it (qga/qapi-schema.json)
// and as it was seen to behave: answers are one JSON object and a newline, carry the request's
// id, guest-sync-delimited's answer starts with 0xFF, and a byte it cannot parse (the 0xFF a
// client sends before a sync) draws a GenericError answer without an id.
type fakeAgent struct {
	t    *testing.T
	conn net.Conn
	mu   sync.Mutex
	// handlers answer commands: the return value, or an error class and description.
	handlers map[string]func(args json.RawMessage) (any, *agentError)
	// before, when set, may write raw bytes ahead of an answer and tell the agent to drop it.
	before func(cmd string, args, id json.RawMessage, w *bufio.Writer) (drop bool)
	// silent drops every command: an agent that is not running.
	silent  bool
	files   map[string][]byte
	handles map[int64]*bytes.Reader
	next    int64
	seen    []string
}

func newFakeAgent(t *testing.T) (*fakeAgent, *Client) {
	host, guest := socketPair(t)
	a := &fakeAgent{t: t, conn: guest, files: map[string][]byte{}, handles: map[int64]*bytes.Reader{}, next: 1000}
	a.handlers = map[string]func(json.RawMessage) (any, *agentError){
		"guest-ping":           func(json.RawMessage) (any, *agentError) { return struct{}{}, nil },
		"guest-sync-delimited": a.sync,
		"guest-sync":           a.sync,
		"guest-file-open":      a.open,
		"guest-file-read":      a.read,
		"guest-file-close":     a.close,
		"guest-exec":           func(json.RawMessage) (any, *agentError) { return map[string]int{"pid": 4242}, nil },
		"guest-exec-status":    func(json.RawMessage) (any, *agentError) { return map[string]any{"exited": true, "exitcode": 0}, nil },
	}
	done := make(chan struct{})
	go func() { defer close(done); a.serve() }()
	c := NewClient(host)
	t.Cleanup(func() { c.Close(); guest.Close(); <-done })
	return a, c
}

func (a *fakeAgent) commands() []string {
	return a.with(func() any { return append([]string(nil), a.seen...) }).([]string)
}

// with runs f under the agent's lock: the tests change its behaviour between commands while it
// serves them in its own goroutine.
func (a *fakeAgent) with(f func() any) any {
	a.mu.Lock()
	defer a.mu.Unlock()
	return f()
}

// set changes the agent under its lock.
func (a *fakeAgent) set(f func()) { a.with(func() any { f(); return nil }) }

// serve reads the requests the client writes, one a line.
func (a *fakeAgent) serve() {
	r := bufio.NewReader(a.conn)
	w := bufio.NewWriter(a.conn)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return
		}
		silent := a.with(func() any { return a.silent }).(bool)
		for len(line) > 0 && line[0] == 0xFF {
			line = line[1:]
			if !silent {
				w.WriteString(`{"error": {"class": "GenericError", "desc": "JSON parse error, stray '\uFFFD'"}}` + "\n")
			}
		}
		var req struct {
			Execute   string          `json:"execute"`
			Arguments json.RawMessage `json:"arguments"`
			ID        json.RawMessage `json:"id"`
		}
		if err := json.Unmarshal(line, &req); err != nil {
			a.t.Errorf("fake agent: the client sent %q: %v", line, err)
			return
		}
		a.mu.Lock()
		a.seen = append(a.seen, req.Execute)
		if !a.silent && (a.before == nil || !a.before(req.Execute, req.Arguments, req.ID, w)) {
			a.answer(w, req.Execute, req.Arguments, req.ID)
		}
		a.mu.Unlock()
		if w.Flush() != nil {
			return
		}
	}
}

func (a *fakeAgent) answer(w *bufio.Writer, cmd string, args, id json.RawMessage) {
	h, ok := a.handlers[cmd]
	resp := map[string]any{}
	if id != nil {
		resp["id"] = id
	}
	if !ok {
		resp["error"] = agentError{Class: "CommandNotFound", Desc: "The command " + cmd + " has not been found"}
	} else if ret, aerr := h(args); aerr != nil {
		resp["error"] = aerr
	} else if ret == nil {
		return // a command without an answer on success (guest-shutdown)
	} else {
		resp["return"] = ret
	}
	b, _ := json.Marshal(resp)
	if cmd == "guest-sync-delimited" {
		w.WriteByte(0xFF)
	}
	w.Write(b)
	w.WriteByte('\n')
}

func (a *fakeAgent) sync(args json.RawMessage) (any, *agentError) {
	var in struct {
		ID *int64 `json:"id"`
	}
	if json.Unmarshal(args, &in) != nil || in.ID == nil {
		return nil, &agentError{"GenericError", "Parameter 'id' is missing"}
	}
	return *in.ID, nil
}

func (a *fakeAgent) open(args json.RawMessage) (any, *agentError) {
	var in struct{ Path, Mode string }
	json.Unmarshal(args, &in)
	b, ok := a.files[in.Path]
	if !ok {
		return nil, &agentError{"GenericError", fmt.Sprintf("failed to open file '%s' (mode: '%s'): No such file or directory", in.Path, in.Mode)}
	}
	a.next++
	a.handles[a.next] = bytes.NewReader(b)
	return a.next, nil
}

func (a *fakeAgent) read(args json.RawMessage) (any, *agentError) {
	var in struct{ Handle, Count int64 }
	json.Unmarshal(args, &in)
	f, ok := a.handles[in.Handle]
	if !ok {
		return nil, &agentError{"GenericError", fmt.Sprintf("handle '%d' has not been found", in.Handle)}
	}
	buf := make([]byte, in.Count)
	n, _ := f.Read(buf)
	return map[string]any{"count": n, "buf-b64": base64.StdEncoding.EncodeToString(buf[:n]), "eof": f.Len() == 0 && n == 0}, nil
}

func (a *fakeAgent) close(args json.RawMessage) (any, *agentError) {
	var in struct{ Handle int64 }
	json.Unmarshal(args, &in)
	if _, ok := a.handles[in.Handle]; !ok {
		return nil, &agentError{"GenericError", fmt.Sprintf("handle '%d' has not been found", in.Handle)}
	}
	delete(a.handles, in.Handle)
	return struct{}{}, nil
}

// socketPair returns the two ends of a unix stream socket pair: buffered like the socket QEMU
// connects to, unlike net.Pipe.
func socketPair(t *testing.T) (net.Conn, net.Conn) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	var conns [2]net.Conn
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "socketpair")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	return conns[0], conns[1]
}
