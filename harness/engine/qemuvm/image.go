package qemuvm

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/oemact/oemact/harness/engine"
	"github.com/oemact/oemact/harness/guestprobe"
	"github.com/oemact/oemact/harness/qemu"
	"github.com/oemact/oemact/harness/swtpm"
)

// DefaultAgentTimeout bounds QEMU's start to an OS's guest agent's first answer when the
// machine's options set none.
const DefaultAgentTimeout = guestprobe.DefaultAgentTimeout

// DefaultProbeTimeout bounds one probe when the machine's options set no Timeout.
const DefaultProbeTimeout = 2 * time.Minute

// maxMachineLife bounds QEMU for an OS kept running across probes if nobody stops it; each probe
// has its own bound.
const maxMachineLife = 24 * time.Hour

// Probe implements engine.Machine: it boots hw's OS image through the firmware and the image's own
// boot loader on a throw-away overlay in the boot's folder (the image file is never written),
// waits for the OS's guest agent and runs probe.
func (m *machine) Probe(ctx context.Context, hw engine.Hardware, probe engine.ProbeFunc, keep bool) (*engine.Result, error) {
	hw = hw.WithDefaults()
	if err := hw.Check(); err != nil {
		return nil, err
	}
	if !hw.BootsImage() {
		return nil, fmt.Errorf("qemu engine: %s boots the guest kernel, not an OS image: a probe needs vm.boot disk or cdrom", m.boot.Name)
	}
	start := time.Now()
	m.boot.Boots++ // one count and one folder sequence for every boot of the machine
	dir := m.boot.BootDir(m.boot.Boots)
	cfg, err := m.config(hw, filepath.Join(dir, "tables"))
	if err != nil {
		return nil, err
	}
	var tp *swtpm.Process
	if hw.TPM {
		if tp, err = swtpm.Start(m.tpmDir(), swtpm.Options{SocketDir: dir}); err != nil {
			return nil, err
		}
		cfg.TPM = tp.QEMU("")
	}
	o := guestprobe.Options{QEMU: qemu.Options{Dir: dir, CanaryKernel: m.e.Kernel.Vmlinuz}, AgentTimeout: m.agentTimeout}
	if keep {
		o.QEMU.Timeout = maxMachineLife
	}
	g, err := guestprobe.Start(ctx, cfg, o)
	if err != nil {
		stopTPM(tp, &err)
		var ae *guestprobe.AgentError
		if errors.As(err, &ae) && ae.QEMU != nil {
			return &engine.Result{Wall: time.Since(start), Accel: string(ae.QEMU.Accel), Command: ae.QEMU.Command,
				Log: ae.QEMU.Serial, Outcome: ae.QEMU.Outcome.String()}, err
		}
		return nil, err
	}
	r := &runningOS{g: g, tp: tp, timeout: m.probeTimeout}
	return r.probe(ctx, probe, keep, start, g.BootToAgent)
}

// runningOS is an OS image's machine whose guest agent answers.
type runningOS struct {
	g       *guestprobe.Guest
	tp      *swtpm.Process
	timeout time.Duration
}

// Probe implements engine.RunningOS.
func (r *runningOS) Probe(ctx context.Context, probe engine.ProbeFunc, keep bool) (*engine.Result, error) {
	return r.probe(ctx, probe, keep, time.Now(), 0)
}

// Stop implements engine.RunningOS: the guest powers off through its agent (QEMU is stopped if
// it does not).
func (r *runningOS) Stop() error {
	_, _, err := r.g.PowerOff()
	stopTPM(r.tp, &err)
	r.tp = nil
	return err
}

// probe runs one probe; unless keep (and the probe worked), the guest then powers off.
func (r *runningOS) probe(ctx context.Context, probe engine.ProbeFunc, keep bool, start time.Time, toAgent time.Duration) (*engine.Result, error) {
	pctx, cancel := context.WithTimeout(ctx, r.timeout)
	_, err := r.g.Probe(pctx, probe)
	cancel()
	l := r.g.Launched()
	out := &engine.Result{Accel: string(l.Accel), Command: l.Command, Log: l.Serial, BootToAgent: toAgent}
	if keep && err == nil {
		out.Outcome, out.RunningOS, out.Wall = "running", r, time.Since(start)
		return out, nil
	}
	q, _, serr := r.g.PowerOff()
	stopTPM(r.tp, &serr)
	r.tp = nil
	if q != nil {
		out.Outcome = q.Outcome.String()
	}
	out.Wall = time.Since(start)
	if err != nil {
		return out, err
	}
	return out, serr
}

// stopTPM stops a boot's swtpm, keeping the first error.
func stopTPM(tp *swtpm.Process, err *error) {
	if tp == nil {
		return
	}
	if serr := tp.Stop(); serr != nil && *err == nil {
		*err = serr
	}
}

var _ engine.RunningOS = (*runningOS)(nil)
