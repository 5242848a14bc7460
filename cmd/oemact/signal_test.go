package main

import (
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The long verbs (guest-image build, kernel build and fetch, serve) stop on SIGTERM, the signal
// CI cancels a job with, as on SIGINT.
func TestSignalContextEndsOnSIGTERM(t *testing.T) {
	// Caught here too, so that the test process survives the signal whatever signalContext does.
	caught := make(chan os.Signal, 1)
	signal.Notify(caught, syscall.SIGTERM)
	defer signal.Stop(caught)
	ctx, stop := signalContext()
	defer stop()
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGTERM))
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("SIGTERM did not end the context")
	}
	<-caught
}
