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
// through $FIXTURES.
func TestScripts(t *testing.T) {
	fixtures, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("FIXTURES", fixtures+"/../../fixtures")
			return nil
		},
	})
}
