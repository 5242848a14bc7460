package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	// The test binary runs as the CLI when a test starts it as a child process (to measure it).
	if os.Getenv(runAsCLI) == "1" {
		os.Exit(run(stdio{os.Stdin, os.Stdout, os.Stderr}, os.Args[1:]))
	}
	testscript.Main(m, map[string]func(){
		"oemact": func() { os.Exit(run(stdio{os.Stdin, os.Stdout, os.Stderr}, os.Args[1:])) },
	})
}

// TestScripts runs the CLI scripts in testdata/script. Each script can use the fixtures folder
// through $FIXTURES. A script that boots QEMU starts with
//
//	[short] skip 'boots QEMU'
//	[!qemu] skip 'needs QEMU and a guest kernel'
//	boot-env
//
// ([!qemu] fails instead of skipping in CI); boot-env puts a static oemact first on PATH, the
// one `oemact run` boots as the guest's /init, and passes the cache and QEMU settings on.
func TestScripts(t *testing.T) {
	fixtures, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	boot := &bootBuild{dir: t.TempDir()}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("FIXTURES", fixtures+"/../../fixtures")
			return nil
		},
		Condition: scriptCondition,
		Cmds:      map[string]func(ts *testscript.TestScript, neg bool, args []string){"boot-env": boot.env},
	})
}
