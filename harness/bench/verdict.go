package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/oemact/oemact/harness/runner"
	"github.com/oemact/oemact/harness/scenario"
)

// verdictScenario is the verdict boot: the default profile's OEM machine at its first boot, with
// its OEM:SLP key, checked like the matrix's first scenario. PROFILE is replaced by the profile's
// path.
const verdictScenario = `name: bench-verdict
description: One boot of the default profile to a verdict (the boot benchmark's kind b).
machines:
  pc:
    profile: PROFILE
    edition: win7-professional
    key: oem-slp/TSTOEM/win7-professional
steps:
  - boot: pc
    expect:
      status: Licensed
      oa: valid
      no_findings: [slic-signature, slic-version-release, slic-marker-rsdt-mismatch]
`

type verdict struct {
	o   Options
	sc  *scenario.Scenario
	dir string
}

// verdictBoot is one verdict boot.
type verdictBoot struct {
	wall    time.Duration
	command string // the QEMU command, as the runner printed it
	dir     string // the boot's artifacts folder
	guest   *GuestTimes
}

func newVerdict(o Options, dir string) (*verdict, error) {
	prof := filepath.Join(o.Repo, DefaultProfile)
	if _, err := os.Stat(prof); err != nil {
		return nil, fmt.Errorf("bench: the default profile: %w", err)
	}
	sc, err := scenario.Parse([]byte(replaceAll(verdictScenario, "PROFILE", prof)), filepath.Join(dir, "bench-verdict.yaml"))
	if err != nil {
		return nil, fmt.Errorf("bench: the verdict scenario: %w", err)
	}
	return &verdict{o: o, sc: sc, dir: dir}, nil
}

// boot runs the verdict scenario once. Every run shares one artifacts folder, so the initramfs
// archive is built once and then found in the cache, as for the boots of a matrix.
func (v *verdict) boot(ctx context.Context) (*verdictBoot, error) {
	r, err := runner.Execute(ctx, []*scenario.Scenario{v.sc}, runner.Options{Kernel: v.o.Kernel, Agent: v.o.Agent,
		Artifacts: v.dir, KeepArtifacts: true, Timeout: v.o.Timeout, Accel: v.o.Accel})
	if err != nil {
		return nil, fmt.Errorf("bench: verdict boot: %w", err)
	}
	sc := r.Scenarios[0]
	if sc.Outcome != runner.Passed {
		return nil, fmt.Errorf("bench: the verdict boot did not pass: %s%s", sc.Outcome, firstProblem(sc))
	}
	var st *runner.Step
	for _, s := range sc.Steps {
		if s.Boot != nil {
			st = s
		}
	}
	if st == nil {
		return nil, fmt.Errorf("bench: the verdict scenario booted nothing")
	}
	b := &verdictBoot{wall: r.Duration, command: st.Boot.Command, dir: filepath.Dir(st.Boot.SerialLog)}
	if g, err := ReadGuestTimes(st.Boot.SerialLog); err == nil {
		b.guest = g
	}
	return b, nil
}
