package runner

import (
	"context"
	"sort"
	"sync"

	"github.com/oemact/oemact/harness/channel"
	"github.com/oemact/oemact/harness/scenario"
)

// proxyBatch gathers the installation IDs of a proxy activation's machines, as VAMT does, and
// sends them to the service in one batch once every machine has either asked or finished its
// round without asking (a machine with no network, or a key that is not a MAK, asks nothing).
// Items are in the step's order of machines, so which one gets a pool's last activation does not
// depend on which guest was faster.
type proxyBatch struct {
	sr   *scenarioRun
	ctx  context.Context // the step's: the batch's request ends with it
	from string          // the proxy's address
	n    int

	mu      sync.Mutex
	asked   map[int]channel.ActivateRequest
	done    map[int]bool
	sent    bool
	answers map[int]proxyAnswer
	ready   chan struct{}
}

type proxyAnswer struct {
	ans channel.Activation
	err error
}

func newProxyBatch(ctx context.Context, sr *scenarioRun, s *scenario.Step, n int) *proxyBatch {
	from := s.IP
	if from == "" {
		from = s.Machine.IP
	}
	return &proxyBatch{sr: sr, ctx: ctx, from: from, n: n, asked: map[int]channel.ActivateRequest{}, done: map[int]bool{},
		answers: map[int]proxyAnswer{}, ready: make(chan struct{})}
}

// ask adds machine j's request and waits for the batch's answer to it.
func (b *proxyBatch) ask(ctx context.Context, j int, req channel.ActivateRequest) (channel.Activation, error) {
	b.mu.Lock()
	b.asked[j] = req
	b.mu.Unlock()
	b.maybeSend()
	select {
	case <-b.ready:
	case <-ctx.Done():
		return channel.Activation{}, ctx.Err()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	a := b.answers[j]
	return a.ans, a.err
}

// finished says machine j's round is over (whether or not it asked).
func (b *proxyBatch) finished(j int) {
	b.mu.Lock()
	b.done[j] = true
	b.mu.Unlock()
	b.maybeSend()
}

// maybeSend sends the batch once every machine has asked or finished.
func (b *proxyBatch) maybeSend() {
	b.mu.Lock()
	count := len(b.asked)
	for j := range b.done {
		if _, asked := b.asked[j]; !asked {
			count++
		}
	}
	if b.sent || count < b.n {
		b.mu.Unlock()
		return
	}
	b.sent = true
	order := make([]int, 0, len(b.asked))
	for j := range b.asked {
		order = append(order, j)
	}
	sort.Ints(order)
	reqs := make([]channel.ActivateRequest, len(order))
	for i, j := range order {
		reqs[i] = b.asked[j]
	}
	b.mu.Unlock()

	var out []channel.Activation
	var err error
	if len(reqs) > 0 {
		out, err = b.sr.host.WithContext(b.ctx).ProxyBatch(b.from, reqs)
	}
	b.mu.Lock()
	for i, j := range order {
		if err != nil {
			b.answers[j] = proxyAnswer{err: err}
		} else {
			b.answers[j] = proxyAnswer{ans: out[i]}
		}
	}
	b.mu.Unlock()
	close(b.ready)
}
