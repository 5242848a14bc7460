package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/firmware/finding"
	"github.com/oemact/oemact/harness/runner"
)

// A probe step's reports say how long the OS took to answer and what it saw.
func TestProbeStepReported(t *testing.T) {
	st := &runner.Step{Index: 0, Kind: "probe", Machine: "os", Description: "probe os: cat /sys/class/dmi/id/board_name", Outcome: runner.Passed,
		Boot:   &runner.Boot{Wall: 25 * time.Second, Accel: "tcg", Outcome: "power-off", BootToAgent: 22100 * time.Millisecond},
		Checks: []runner.Check{{Name: "the OS sees the synthesized tables", Want: "same", Got: "same", OK: true}},
		Probe: &runner.Probe{OS: "Debian GNU/Linux 12 (bookworm)", KernelRelease: "6.1.0-57-cloud-amd64", Source: "linux sysfs",
			Tables: []string{"FACP 276 bytes", "SLIC 374 bytes"}, SMBIOS: 12,
			Findings: finding.List{{Code: "slic-no-root-table", Severity: finding.Info, Message: "no RSDT or XSDT in this set"}},
			Exec:     &runner.Exec{Command: []string{"cat", "/sys/class/dmi/id/board_name"}, Stdout: "TSTBOARD-71\n"}}}
	sc := &runner.Scenario{Name: "debian-image-seabios", File: "01-debian-seabios.yaml", Outcome: runner.Passed, Steps: []*runner.Step{st}}
	r := &runner.Run{Started: time.Now(), Engine: "qemu", Accel: "tcg", Boots: 1, Scenarios: []*runner.Scenario{sc}}

	out := stepOutput(sc, st)
	assert.Contains(t, out, "boot: 25s, tcg, power-off; the OS's guest agent answered 22.1s after QEMU's start\n")
	assert.Contains(t, out, "os: Debian GNU/Linux 12 (bookworm), kernel 6.1.0-57-cloud-amd64; read from linux sysfs: FACP 276 bytes, SLIC 374 bytes; SMBIOS 12 structures\n")
	assert.Contains(t, out, "finding: info slic-no-root-table: no RSDT or XSDT in this set\n")
	assert.Contains(t, out, "exec cat /sys/class/dmi/id/board_name: exit status 0\nTSTBOARD-71\n")

	var html bytes.Buffer
	require.NoError(t, WriteHTML(&html, r))
	assert.Contains(t, html.String(), "boot 25s, tcg, power-off, guest agent after 22.1s")

	var b bytes.Buffer
	p := NewProgress(&b, false)
	p.ScenarioStarted(sc, 1)
	p.StepDone(sc, st)
	assert.True(t, strings.Contains(b.String(), "(guest agent after 22.1s)"), b.String())
}
