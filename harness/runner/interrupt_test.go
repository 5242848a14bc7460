package runner_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/oemact/oemact/harness/runner"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// SIGINT ends the run's context, and the run's exit code is 130, not the 2 of an error.
func TestInterruptExitCode(t *testing.T) {
	for sig, want := range map[syscall.Signal]int{syscall.SIGINT: 130, syscall.SIGTERM: 143} {
		ctx, in, stop := runner.NotifyInterrupt(context.Background())
		assert.Equal(t, 2, in.ExitCode(2), "no signal yet")
		require.NoError(t, syscall.Kill(syscall.Getpid(), sig))
		select {
		case <-ctx.Done():
		case <-time.After(30 * time.Second):
			t.Fatalf("%v did not end the context", sig)
		}
		assert.Equal(t, sig, in.Signal())
		assert.Equal(t, want, in.ExitCode(2))
		stop()
	}
}
