package qemu

import (
	"bufio"
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/oemact/oemact/harness/internal/unixsock"
)

// qmpWatch follows QEMU's QMP monitor: QEMU answers qmp_capabilities only from its main loop,
// after every option has been applied and every device created, so an answer means QEMU started
// (a bad -device makes it exit after the greeting, before answering). SHUTDOWN events say why the
// guest stopped: guest-shutdown (power-off), guest-reset, guest-panic, host-signal.
type qmpWatch struct {
	ready     chan struct{}
	readyOnce sync.Once
	mu        sync.Mutex
	why       string
	panic     bool
}

func (w *qmpWatch) run(ctx context.Context, l *unixsock.Listener) {
	stop := context.AfterFunc(ctx, func() { l.SetDeadline(time.Now()) })
	defer stop()
	conn, err := l.Accept()
	if err != nil {
		return
	}
	defer conn.Close()
	stopConn := context.AfterFunc(ctx, func() { conn.Close() })
	defer stopConn()
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	if !sc.Scan() { // greeting
		return
	}
	if _, err := conn.Write([]byte(`{"execute":"qmp_capabilities"}` + "\n")); err != nil {
		return
	}
	for sc.Scan() {
		var m struct {
			Return *json.RawMessage `json:"return"`
			Event  string           `json:"event"`
			Data   struct {
				Reason string `json:"reason"`
			} `json:"data"`
		}
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			continue
		}
		switch {
		case m.Return != nil:
			w.readyOnce.Do(func() { close(w.ready) })
		case m.Event == "SHUTDOWN":
			w.mu.Lock()
			if w.why == "" {
				w.why = m.Data.Reason
			}
			w.mu.Unlock()
		case m.Event == "GUEST_PANICKED":
			w.mu.Lock()
			w.panic = true
			w.mu.Unlock()
		}
	}
}

func (w *qmpWatch) isReady() bool {
	select {
	case <-w.ready:
		return true
	default:
		return false
	}
}

func (w *qmpWatch) reason() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.why
}

func (w *qmpWatch) panicked() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.panic
}
