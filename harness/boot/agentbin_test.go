package boot

import (
	"debug/buildinfo"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/internal/harnesstest"
)

func buildInfo(goVersion, revision, modified string, deps ...*debug.Module) *debug.BuildInfo {
	return &debug.BuildInfo{GoVersion: goVersion, Main: debug.Module{Path: "github.com/oemact/oemact", Version: "(devel)"},
		Deps: deps, Settings: []debug.BuildSetting{{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "amd64"},
			{Key: "vcs.revision", Value: revision}, {Key: "vcs.modified", Value: modified}}}
}

func TestSameBuild(t *testing.T) {
	yaml := &debug.Module{Path: "go.yaml.in/yaml/v3", Version: "v3.0.4", Sum: "h1:a"}
	base := buildInfo("go1.24.4", "abc", "false", yaml)
	for _, tc := range []struct {
		name  string
		other *debug.BuildInfo
		why   string
	}{
		{"the same build", buildInfo("go1.24.4", "abc", "false"), ""},
		{"the same build, with a dependency in common", buildInfo("go1.24.4", "abc", "false", yaml), ""},
		{"another revision", buildInfo("go1.24.4", "abd", "false"), `vcs.revision "abd", not "abc"`},
		{"a modified tree", buildInfo("go1.24.4", "abc", "true"), `vcs.modified "true", not "false"`},
		{"another Go", buildInfo("go1.23.0", "abc", "false"), "Go go1.23.0, not go1.24.4"},
		{"another dependency version", buildInfo("go1.24.4", "abc", "false", &debug.Module{Path: yaml.Path, Version: "v3.0.3", Sum: "h1:b"}),
			"dependency go.yaml.in/yaml/v3 v3.0.3, not v3.0.4 h1:a"},
		{"no build information", nil, "no build information"},
	} {
		t.Run(tc.name, func(t *testing.T) { assert.Equal(t, tc.why, sameBuild(base, tc.other)) })
	}
}

// The harness boots the agent-only build beside oemact only when it is a static Go binary of the
// same build; otherwise oemact itself, and it says why.
func TestAgentBeside(t *testing.T) {
	if testing.Short() {
		t.Skip("builds oemact-agent")
	}
	dir := t.TempDir()
	exe := filepath.Join(dir, "oemact")
	require.NoError(t, os.WriteFile(exe, []byte("stands for oemact"), 0o755))

	got, why := agentBeside(exe, buildInfo("go1.24.4", "abc", "false"))
	assert.Equal(t, exe, got)
	assert.Equal(t, "no oemact-agent beside "+exe+": booting "+exe+" itself", why)

	script := filepath.Join(dir, AgentName)
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\nexit 0\n"), 0o755))
	got, why = agentBeside(exe, buildInfo("go1.24.4", "abc", "false"))
	assert.Equal(t, exe, got)
	assert.Contains(t, why, script+" is not a Go binary with build information")
	require.NoError(t, os.Remove(script))

	agent, err := harnesstest.BuildAgent(dir)
	require.NoError(t, err)
	self, err := buildinfo.ReadFile(agent)
	require.NoError(t, err)
	got, why = agentBeside(exe, self)
	assert.Equal(t, agent, got)
	assert.Equal(t, "the agent-only build beside "+exe, why)

	stale := *self
	stale.GoVersion = "go1.0"
	got, why = agentBeside(exe, &stale)
	assert.Equal(t, exe, got)
	assert.Equal(t, agent+" is from another build (Go "+self.GoVersion+", not go1.0): booting "+exe+" itself; run make build", why)
}
