package agent

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/channel"
	"github.com/oemact/oemact/oemact/licence"
)

// A machine kept running waits for its next round as long as the host takes to offer it: the
// report's write deadline must not outlive the report, or the next round's requests to the host
// (a KMS client's, here) fail with an i/o timeout.
func TestSessionNextRoundAfterLongPause(t *testing.T) {
	defer func(w time.Duration) { sendWait = w }(sendWait)
	sendWait = 50 * time.Millisecond

	root, _ := fakeGuest(t)
	now := time.Date(2010, 1, 1, 9, 0, 0, 0, time.UTC)
	var kms atomic.Int32
	handler := func(plan channel.Plan) channel.Handler {
		return func(ctx context.Context, m *channel.Message) (channel.Type, any, error) {
			switch m.Type {
			case channel.TypeHello:
				return channel.TypePlan, plan, nil
			case channel.TypeKMS:
				kms.Add(1)
				return channel.TypeKMSAnswer, licence.KMSAnswer{Message: "the KMS host is down"}, nil
			}
			return channel.DefaultHandler(ctx, m)
		}
	}
	// Windows 7 Enterprise installs its KMS client key and asks a KMS host at every boot of a
	// stateless machine.
	plan := channel.Plan{Evaluate: true, Now: now, Edition: "win7-enterprise", Logon: true, Stateless: true, Resume: true}

	host, guest := net.Pipe()
	rounds, first := channel.NewRounds(handler(plan), true, time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- channel.Serve(ctx, host, rounds.Handle, channel.Options{}) }()
	sess := &Session{Conn: channel.NewConn(guest, channel.Guest, channel.Options{}), RW: guest,
		Platform: Platform{Root: root}}
	ran := make(chan error, 1)
	go func() { ran <- sess.Run() }()

	select {
	case <-first.Reported():
	case err := <-ran:
		t.Fatalf("the agent ended in its first round: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("no report in the first round")
	}
	require.Nil(t, rounds.Result(first).GuestError)
	require.EqualValues(t, 1, kms.Load(), "the first round asks the KMS host")

	time.Sleep(4 * sendWait) // the runner takes its time to get to the machine's next step
	plan.Now, plan.Resume = now.Add(time.Hour), false
	second := rounds.NewRound(handler(plan), false, time.Now())
	require.NoError(t, rounds.Offer(second))
	select {
	case err := <-ran:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("the agent did not end after its second round")
	}
	res := rounds.Result(second)
	assert.Nil(t, res.GuestError)
	assert.NoError(t, res.HostErr)
	require.NotNil(t, res.Report)
	require.NotNil(t, res.Report.Evaluation)
	assert.EqualValues(t, 2, kms.Load(), "the second round asks the KMS host again")

	guest.Close()
	assert.NoError(t, <-served)
}
