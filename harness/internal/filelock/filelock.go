// Package filelock takes exclusive locks on files, so that processes sharing a cache (two runs,
// two builds) take turns.
package filelock

import (
	"fmt"
	"os"
	"syscall"
)

// Lock takes an exclusive flock on path, creating it, and waits for whoever holds it. what names
// the lock in errors ("kernel cache lock"). The returned function releases it.
func Lock(path, what string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
