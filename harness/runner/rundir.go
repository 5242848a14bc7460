package runner

import (
	"fmt"
	"os"
	"time"
)

// NewRunDir creates a run's own artifacts folder under parent, named by its start time (UTC,
// to the second) and a random suffix: the folder is created atomically under a name no other run
// has, so runs started in the same second never share one (one's cleanup would delete the other's
// artifacts, and one would read the other's service secret).
func NewRunDir(parent string, start time.Time) (string, error) {
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("run: %w", err)
	}
	dir, err := os.MkdirTemp(parent, start.UTC().Format("20060102-150405")+"-")
	if err != nil {
		return "", fmt.Errorf("run: %w", err)
	}
	// The folder is 0700 (MkdirTemp's mode): on a shared runner other users have no business in
	// a run's serial logs and service database.
	return dir, nil
}
