package runner

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// Interrupt watches for SIGINT and SIGTERM while a run goes on: the first ends the run's context
// (the runner then stops the machines and cleans up), and the run ends with the signal's exit
// code, as a shell reports a command a signal stopped, not with an infrastructure error.
type Interrupt struct {
	mu  sync.Mutex
	sig syscall.Signal
}

// NotifyInterrupt returns a context that ends at the first SIGINT or SIGTERM, the Interrupt that
// says which came, and a function that stops watching.
func NotifyInterrupt(parent context.Context) (context.Context, *Interrupt, func()) {
	ctx, cancel := context.WithCancel(parent)
	in := &Interrupt{}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			in.mu.Lock()
			in.sig, _ = s.(syscall.Signal)
			in.mu.Unlock()
			cancel()
		case <-done:
		}
	}()
	var once sync.Once
	return ctx, in, func() {
		once.Do(func() {
			signal.Stop(ch)
			close(done)
			cancel()
		})
	}
}

// Signal is the signal that ended the run, or 0.
func (in *Interrupt) Signal() syscall.Signal {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.sig
}

// ExitCode is 128 plus the signal's number when a signal ended the run (130 for SIGINT, 143 for
// SIGTERM), else code.
func (in *Interrupt) ExitCode(code int) int {
	if s := in.Signal(); s != 0 {
		return 128 + int(s)
	}
	return code
}
