package boot

import (
	"debug/buildinfo"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"

	"github.com/oemact/oemact/harness/initramfs"
)

// AgentName is the agent-only build (cmd/oemact-agent) that `make build` puts beside oemact. It
// runs the same agent code as oemact run as PID 1, at a third of the size: the guest kernel
// unpacks and starts it about 40-60 ms sooner per boot under TCG (harness/bench/README.md).
const AgentName = "oemact-agent"

// DefaultAgent is the binary a machine boots as /init when the caller names none: AgentName in
// the folder of this executable when it was built from the same source as this executable, else
// this executable itself. The second value says which and why, for logs. The answer is found
// once per process (it reads two binaries' build information).
func DefaultAgent() (path, why string, err error) {
	c, err := defaultAgent()
	return c.path, c.why, err
}

type agentChoice struct{ path, why string }

var defaultAgent = sync.OnceValues(func() (agentChoice, error) {
	exe, err := os.Executable()
	if err != nil {
		return agentChoice{}, fmt.Errorf("finding the oemact binary: %w", err)
	}
	self, _ := debug.ReadBuildInfo()
	path, why := agentBeside(exe, self)
	return agentChoice{path, why}, nil
})

// agentBeside returns AgentName beside exe when its Go build information says it is built from
// the same source as self (see sameBuild) and statically linked, else exe.
func agentBeside(exe string, self *debug.BuildInfo) (string, string) {
	cand := filepath.Join(filepath.Dir(exe), AgentName)
	if _, err := os.Stat(cand); err != nil {
		return exe, "no " + AgentName + " beside " + exe + ": booting " + exe + " itself"
	}
	other, err := buildinfo.ReadFile(cand)
	if err != nil {
		return exe, fmt.Sprintf("%s is not a Go binary with build information (%v): booting %s itself", cand, err, exe)
	}
	if why := sameBuild(self, other); why != "" {
		return exe, fmt.Sprintf("%s is from another build (%s): booting %s itself; run make build", cand, why, exe)
	}
	if err := initramfs.CheckStatic(cand); err != nil {
		return exe, fmt.Sprintf("%v: booting %s itself", err, exe)
	}
	return cand, "the agent-only build beside " + exe
}

// sameBuild says why a and b are not built from the same source ("" when they are): the same Go,
// main module and dependencies, and the same version-control revision and modified flag. Two
// builds of one modified working tree at different times pass; `make build` builds both at once.
func sameBuild(a, b *debug.BuildInfo) string {
	switch {
	case a == nil || b == nil:
		return "no build information"
	case a.GoVersion != b.GoVersion:
		return "Go " + b.GoVersion + ", not " + a.GoVersion
	case a.Main.Path != b.Main.Path || a.Main.Version != b.Main.Version || a.Main.Sum != b.Main.Sum:
		return fmt.Sprintf("module %s %s, not %s %s", b.Main.Path, b.Main.Version, a.Main.Path, a.Main.Version)
	}
	for _, k := range []string{"vcs.revision", "vcs.modified", "GOOS", "GOARCH"} {
		if va, vb := setting(a, k), setting(b, k); va != vb {
			return fmt.Sprintf("%s %q, not %q", k, vb, va)
		}
	}
	deps := map[string]string{}
	for _, d := range a.Deps {
		deps[d.Path] = d.Version + " " + d.Sum
	}
	for _, d := range b.Deps {
		if v, ok := deps[d.Path]; ok && v != d.Version+" "+d.Sum {
			return fmt.Sprintf("dependency %s %s, not %s", d.Path, d.Version, v)
		}
	}
	return ""
}

func setting(bi *debug.BuildInfo, key string) string {
	for _, s := range bi.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}
