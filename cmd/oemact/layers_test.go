package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/hosttool"
)

const module = "github.com/oemact/oemact/"

// The house's layers: the formats know no licensing, VMs or YAML; the model runs without the
// harness; the guest's agent-only build carries none of the host's service, database, VM
// launcher, reports or flag parser. A package that breaks a layer shows up here by name.
func TestLayers(t *testing.T) {
	for _, tc := range []struct {
		pkgs      []string
		forbidden []string
	}{
		{[]string{"./firmware/...", "./smbios/..."}, []string{module + "oemact/", module + "harness/", "yaml"}},
		{[]string{"./oemact/..."}, []string{module + "harness/"}},
		{[]string{"./cmd/oemact-agent"}, []string{"modernc.org/", "net/http", "spf13/pflag", module + "harness/qemu",
			module + "harness/runner", module + "harness/report", module + "oemact/service/store"}},
	} {
		for _, dep := range deps(t, tc.pkgs...) {
			for _, f := range tc.forbidden {
				assert.NotContains(t, dep, f, "%s depends on %s", strings.Join(tc.pkgs, " "), dep)
			}
		}
	}
}

func deps(t *testing.T, pkgs ...string) []string {
	t.Helper()
	gobin, err := hosttool.GoCommand()
	require.NoError(t, err)
	cmd := exec.Command(gobin, append([]string{"list", "-deps"}, pkgs...)...)
	_, file, _, _ := runtime.Caller(0)
	cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
	out, err := cmd.Output()
	require.NoError(t, err)
	return strings.Fields(string(out))
}
