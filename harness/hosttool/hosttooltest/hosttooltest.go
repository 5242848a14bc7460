// Package hosttooltest lets tests ask for a host tool: outside CI a missing tool skips the test
// with the command to install it; in CI (CI=true) it fails the test, because .ci/run must have
// installed everything.
package hosttooltest

import (
	"os"
	"strings"
	"testing"

	"github.com/oemact/oemact/harness/hosttool"
)

// InCI reports whether the tests run in CI, where nothing may be skipped for a missing tool.
func InCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v != "" && v != "0" && v != "false"
}

// Require returns the tool's path, or skips (fails in CI) the test when it is missing.
func Require(t testing.TB, name string) string {
	t.Helper()
	p, err := hosttool.Find(name)
	if err != nil {
		Unavailable(t, err.Error())
	}
	return p
}

// Unavailable skips the test with the reason, or fails it in CI.
func Unavailable(t testing.TB, reason string) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI=true and a test requirement is missing: %s", reason)
	}
	t.Skip(reason)
}
