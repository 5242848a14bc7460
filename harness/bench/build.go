package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/oemact/oemact/harness/hosttool"
)

// powerOffPackage is the power-off init's import path.
const powerOffPackage = "github.com/oemact/oemact/harness/bench/internal/poweroff"

// BuildPowerOff builds the power-off init (a static x86-64 Go program) into dir with the go
// command that runs this program, from the repository at repo, and returns its path.
func BuildPowerOff(ctx context.Context, repo, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(dir, "init")
	cmd := exec.CommandContext(ctx, goCommand(), "build", "-trimpath", "-ldflags=-s -w", "-o", out, powerOffPackage)
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("bench: building the power-off init: %v\n%s", err, b)
	}
	return out, nil
}

// BuildAgent builds the static agent-only binary (cmd/oemact-agent) the way the Makefile's build
// target does into dir, and returns its path.
func BuildAgent(ctx context.Context, repo, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(dir, "oemact-agent")
	cmd := exec.CommandContext(ctx, goCommand(), "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./cmd/oemact-agent")
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("bench: building oemact-agent: %v\n%s", err, b)
	}
	return out, nil
}

func goCommand() string {
	gobin, err := hosttool.GoCommand()
	if err != nil {
		return "go" // exec reports it missing, with its name
	}
	return gobin
}
