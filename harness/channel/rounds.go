package channel

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Rounds is the host's side of one agent's conversation across the rounds of a machine that is
// kept running between steps. Each round has its own handler; the agent's hello after a round's
// report waits until the caller offers the next round (Offer) or stops the machine (OfferStop),
// which answers it with Plan.PowerOff. Every engine that runs the agent serves its channel with
// Rounds.Handle.
type Rounds struct {
	next chan roundOffer

	mu  sync.Mutex
	cur *Round
	n   int
}

// Round is one boot, or one step of a machine kept running: what its agent said.
type Round struct {
	N       int
	Handler Handler
	Resume  bool
	Start   time.Time
	// reported is closed when the round's report is answered: a hello then belongs to the next.
	reported chan struct{}

	// Guarded by the Rounds' lock: read them through Result.
	report     *Report
	reportAt   time.Time
	guestError *Error
	hostErr    error
	messages   int
}

// RoundResult is what a round's agent said.
type RoundResult struct {
	Report *Report
	// ReportAt is when the report arrived.
	ReportAt time.Time
	// GuestError is the error the agent reported, if any.
	GuestError *Error
	// HostErr is the handler's failure, if any.
	HostErr  error
	Messages int
}

type roundOffer struct {
	round *Round
	stop  bool
}

// NewRounds starts a conversation whose first round h answers.
func NewRounds(h Handler, resume bool, start time.Time) (*Rounds, *Round) {
	rs := &Rounds{next: make(chan roundOffer, 1)}
	r := rs.NewRound(h, resume, start)
	rs.cur = r
	return rs, r
}

// NewRound makes the conversation's next round, to Offer.
func (rs *Rounds) NewRound(h Handler, resume bool, start time.Time) *Round {
	if h == nil {
		h = DefaultHandler
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.n++
	return &Round{N: rs.n, Handler: h, Resume: resume, Start: start, reported: make(chan struct{})}
}

// ErrRoundPending means a round was offered while another offer waits.
var ErrRoundPending = errors.New("the machine already has its next step")

// Offer hands the next round to the agent's pending (or coming) hello.
func (rs *Rounds) Offer(r *Round) error {
	select {
	case rs.next <- roundOffer{round: r}:
		return nil
	default:
		return ErrRoundPending
	}
}

// OfferStop answers the agent's pending hello with Plan.PowerOff.
func (rs *Rounds) OfferStop() {
	select {
	case rs.next <- roundOffer{stop: true}:
	default:
	}
}

// Reported is closed when the round's report has been answered.
func (r *Round) Reported() <-chan struct{} { return r.reported }

func (r *Round) answered() bool {
	select {
	case <-r.reported:
		return true
	default:
		return false
	}
}

// Result is what the round's agent said so far.
func (rs *Rounds) Result(r *Round) RoundResult {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return RoundResult{Report: r.report, ReportAt: r.reportAt, GuestError: r.guestError, HostErr: r.hostErr, Messages: r.messages}
}

// Handle takes the agent's messages for the current round; a hello after the round's report
// waits for the next round or the stop.
func (rs *Rounds) Handle(ctx context.Context, msg *Message) (Type, any, error) {
	rs.mu.Lock()
	r := rs.cur
	waitNext := msg.Type == TypeHello && r.answered()
	rs.mu.Unlock()
	if waitNext {
		var o roundOffer
		select {
		case o = <-rs.next:
		case <-ctx.Done():
			return "", nil, ctx.Err()
		}
		if o.stop {
			return TypePlan, Plan{PowerOff: true}, nil
		}
		rs.mu.Lock()
		rs.cur, r = o.round, o.round
		rs.mu.Unlock()
	}
	if err := rs.record(r, msg); err != nil {
		return "", nil, err
	}
	typ, payload, err := r.Handler(ctx, msg)
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if err != nil && r.hostErr == nil {
		r.hostErr = fmt.Errorf("the host's handler failed on %s: %w", msg.Type, err)
	}
	if msg.Type == TypeReport && err == nil && !r.answered() {
		close(r.reported)
	}
	return typ, payload, err
}

// record keeps the round's report and the agent's error.
func (rs *Rounds) record(r *Round, msg *Message) error {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	r.messages++
	switch msg.Type {
	case TypeReport:
		rep, err := PayloadOf[Report](msg)
		if err != nil {
			return &FatalError{Err: err}
		}
		r.report, r.reportAt = &rep, time.Now()
	case TypeError:
		e, err := PayloadOf[Error](msg)
		if err != nil {
			return &FatalError{Err: err}
		}
		r.guestError = &e
	}
	return nil
}

// DefaultHandler gives an empty plan (raw report only), accepts a report without sending state,
// and acknowledges an error.
func DefaultHandler(ctx context.Context, m *Message) (Type, any, error) {
	switch m.Type {
	case TypeHello:
		return TypePlan, Plan{}, nil
	case TypeReport:
		return TypeReply, Reply{}, nil
	case TypeError:
		return TypeAck, nil, nil
	}
	return "", nil, fmt.Errorf("the host does not handle %q", m.Type)
}
