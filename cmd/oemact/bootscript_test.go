package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/oemact/oemact/harness/hosttool"
	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
	"github.com/oemact/oemact/harness/kernel"
)

// scriptCondition answers the scripts' own conditions: [qemu] holds when QEMU and a guest kernel
// are there. In CI (CI=true) a missing one is an error, so the script fails instead of skipping.
func scriptCondition(cond string) (bool, error) {
	if cond != "qemu" {
		return false, fmt.Errorf("unknown condition %q", cond)
	}
	missing := func(err error) (bool, error) {
		if hosttooltest.InCI() {
			return false, fmt.Errorf("CI=true and a test requirement is missing: %v", err)
		}
		return false, nil
	}
	if _, err := hosttool.Find("qemu-system-x86_64"); err != nil {
		return missing(err)
	}
	cache, err := kernel.CacheDir()
	if err == nil {
		_, err = kernel.Locate(cache, "")
	}
	if err != nil {
		return missing(err)
	}
	return true, nil
}

// bootBuild is the static oemact that scripts which boot QEMU run, with the oemact-agent that
// `oemact run` finds beside it and boots as the guest's /init (a static build, not this test
// binary). They are built once per test run.
type bootBuild struct {
	dir  string
	once sync.Once
	err  error
}

// bootEnvVars pass from the test's environment to a script that boots QEMU.
var bootEnvVars = []string{"OEMACT_ACCEL", "OEMACT_QEMU", "OEMACT_KERNEL", "OEMACT_SWTPM", "OEMACT_OVMF", "CI"}

// env is the script command boot-env: the static oemact first on PATH, the cache the kernel is in
// as OEMACT_CACHE (a script's HOME is not the user's), and QEMU's settings as the test has them.
func (b *bootBuild) env(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: boot-env")
	}
	b.once.Do(func() { b.err = b.build() })
	if b.err != nil {
		ts.Fatalf("%v", b.err)
	}
	ts.Setenv("PATH", b.dir+string(filepath.ListSeparator)+ts.Getenv("PATH"))
	cache, err := kernel.CacheDir()
	if err != nil {
		ts.Fatalf("%v", err)
	}
	ts.Setenv("OEMACT_CACHE", cache)
	for _, v := range bootEnvVars {
		if val, ok := os.LookupEnv(v); ok {
			ts.Setenv(v, val)
		}
	}
}

// build makes the static oemact and oemact-agent side by side, as the Makefile does
// (CGO_ENABLED=0): `oemact run` then boots the agent-only build, as it does for a user.
func (b *bootBuild) build() error {
	for name, pkg := range map[string]string{"oemact": ".", "oemact-agent": "../oemact-agent"} {
		if err := hosttool.BuildStatic(context.Background(), ".", pkg, filepath.Join(b.dir, name)); err != nil {
			return err
		}
	}
	return nil
}
