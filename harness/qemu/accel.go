package qemu

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// ProbeTimeout bounds the KVM canary boot: 5 s. With working KVM the canary (the kernel alone,
// panicking at once for want of a root file system, then reset) is done in about a second; on the
// machines notes/qemu.md describes, /dev/kvm exists but hangs the guest while burning a CPU in the
// kernel, so a short bound limits that cost. Set OEMACT_KVM_PROBE_TIMEOUT (a Go duration) to change it.
const ProbeTimeout = 5 * time.Second

// EnvAccel forces the accelerator ("tcg" or "kvm") and skips the probe.
const EnvAccel = "OEMACT_ACCEL"

// AccelChoice is the accelerator to use and why.
type AccelChoice struct {
	Accel  Accel
	Reason string
}

var (
	chooseMu sync.Mutex
	chosen   *AccelChoice
)

// ChooseAccel returns the accelerator for this process: $OEMACT_ACCEL when set, else KVM when a
// canary boot of kernel under KVM ends within ProbeTimeout, else TCG. The first verdict is kept
// for the life of the process. dir is the artifacts folder the canary runs in (in a kvm-probe
// subfolder, removed afterwards).
func ChooseAccel(ctx context.Context, kernel, dir string) AccelChoice {
	chooseMu.Lock()
	defer chooseMu.Unlock()
	if chosen != nil {
		return *chosen
	}
	c := chooseAccel(ctx, kernel, dir)
	if ctx.Err() == nil { // a canceled probe proves nothing; try again next time
		chosen = &c
	}
	return c
}

func chooseAccel(ctx context.Context, kernel, dir string) AccelChoice {
	if c, ok := envAccel(); ok {
		return c
	}
	timeout := ProbeTimeout
	if v := os.Getenv("OEMACT_KVM_PROBE_TIMEOUT"); v != "" {
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			timeout = d
		}
	}
	return ProbeKVM(ctx, kernel, filepath.Join(dir, "kvm-probe"), timeout)
}

// envAccel is the accelerator $OEMACT_ACCEL forces, and whether it is set. A value that is
// neither tcg nor kvm gives TCG, with a reason that says so.
func envAccel() (AccelChoice, bool) {
	switch v := Accel(os.Getenv(EnvAccel)); v {
	case TCG, KVM:
		return AccelChoice{v, EnvAccel + "=" + string(v)}, true
	case "":
		return AccelChoice{}, false
	default:
		return AccelChoice{TCG, fmt.Sprintf("%s=%q is neither tcg nor kvm; using tcg", EnvAccel, v)}, true
	}
}

// ProbeKVM boots kernel under KVM with no initrd and panic=-1: a working KVM panics (no root file
// system) and resets within a second or two. It returns KVM if QEMU ended that way within timeout,
// else TCG with the reason. QEMU does not fall back by itself: accel=kvm:tcg starts fine on a
// nested KVM that then hangs the guest. The probe's files are removed.
func ProbeKVM(ctx context.Context, kernel, dir string, timeout time.Duration) AccelChoice {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return AccelChoice{TCG, fmt.Sprintf("KVM unavailable (%v)", err)}
	}
	f.Close()
	defer os.RemoveAll(dir)
	start := time.Now()
	res, err := Run(ctx, Config{Kernel: kernel, Append: "console=ttyS0 panic=-1", Accel: KVM, MemoryMB: 128},
		Options{Dir: dir, Timeout: timeout})
	if res == nil {
		return AccelChoice{TCG, fmt.Sprintf("KVM canary could not run (%v)", err)}
	}
	took := time.Since(start).Round(10 * time.Millisecond)
	switch res.Outcome {
	case GuestPanic, GuestReset, PowerOff:
		return AccelChoice{KVM, fmt.Sprintf("KVM canary boot finished in %s", took)}
	case Timeout:
		return AccelChoice{TCG, fmt.Sprintf("KVM canary boot did not finish in %s (a nested KVM that hangs guests?)", timeout)}
	default:
		return AccelChoice{TCG, fmt.Sprintf("KVM canary boot failed (%s: %s)", res.Outcome, firstLines(res.Stderr, 1))}
	}
}
