package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/oemact/oemact/harness/hosttool"
)

// powerOffPackage is the power-off init's import path.
const powerOffPackage = "github.com/oemact/oemact/harness/bench/internal/poweroff"

// BuildPowerOff builds the power-off init (a static x86-64 Go program) into dir with the go
// command that runs this program, from the repository at repo, and returns its path.
func BuildPowerOff(ctx context.Context, repo, dir string) (string, error) {
	return build(ctx, repo, dir, "init", powerOffPackage)
}

// BuildAgent builds the static agent-only binary (cmd/oemact-agent) the way the Makefile's build
// target does into dir, and returns its path.
func BuildAgent(ctx context.Context, repo, dir string) (string, error) {
	return build(ctx, repo, dir, "oemact-agent", "./cmd/oemact-agent")
}

func build(ctx context.Context, repo, dir, name, pkg string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(dir, name)
	if err := hosttool.BuildStatic(ctx, repo, pkg, out); err != nil {
		return "", fmt.Errorf("bench: %w", err)
	}
	return out, nil
}
