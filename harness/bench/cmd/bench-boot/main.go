// Command bench-boot measures how long oemact's harness takes to reach a verdict under QEMU, beside
// a plain QEMU boot and the floor of the harness's own machine (see harness/bench/README.md).
//
//	go run ./harness/bench/cmd/bench-boot [-runs 10] [-matrix] [-j N|auto] [-agent bin/oemact-agent]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/oemact/oemact/harness/bench"
	"github.com/oemact/oemact/harness/kernel"
	"github.com/oemact/oemact/harness/qemu"
	"github.com/oemact/oemact/harness/runner"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, "; ") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	os.Exit(run())
}

func run() int {
	var (
		o       bench.Options
		kinds   string
		jobs    string
		jsonOut string
		keep    bool
		tries   list
		qemus   list
	)
	fs := flag.NewFlagSet("bench-boot", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `usage: bench-boot [flags]

Boots, alternating in one run, (n) a plain q35 + SeaBIOS boot with an init that powers off at
once, (a) the harness's own machine for the default profile with that init, and (b) a runner
boot of the default profile to a verdict; prints medians, min/max and the ratios (b)/(n) and
(b)/(a). With -matrix, also runs the default matrix once and prints its wall time and boots
per minute.

flags:
`)
		fs.PrintDefaults()
	}
	fs.IntVar(&o.Runs, "runs", bench.DefaultRuns, "boots of each kind")
	fs.StringVar(&kinds, "kinds", "n,a,b", "kinds to measure, comma-separated: n, a, b")
	fs.Var(&tries, "try-append", "also boot the floor with these kernel command line `words` added (repeatable)")
	fs.Var(&qemus, "try-qemu", "also boot the floor with these QEMU `arguments` added (repeatable)")
	fs.BoolVar(&o.Matrix, "matrix", false, "also run the default matrix (fixtures/scenarios) once")
	fs.StringVar(&jobs, "j", "1", "scenarios at once for -matrix: a number or auto (the CPUs this process may use)")
	fs.StringVar(&o.Agent, "agent", "", "the static binary booted as /init: bin/oemact-agent, or bin/oemact (default: build oemact-agent into the work folder)")
	fs.StringVar(&o.Dir, "dir", "", "work folder (default: a temporary folder, removed unless -keep)")
	fs.BoolVar(&keep, "keep", false, "keep the work folder")
	fs.StringVar(&jsonOut, "json", "", "also write the report as JSON to `file`")
	accel := fs.String("accel", os.Getenv(qemu.EnvAccel), "tcg or kvm (default: probe as the harness does)")
	kern := fs.String("kernel", "", "guest kernel (default: the cached one, as oemact run)")
	naiveKern := fs.String("naive-kernel", "", "the naive boot's kernel (default: Debian's cloud kernel from oemact kernel fetch)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "bench-boot: unexpected arguments %q\n", fs.Args())
		return 2
	}
	o.Accel = qemu.Accel(*accel)
	o.TryAppend, o.TryQEMU = tries, qemus
	for _, k := range strings.Split(kinds, ",") {
		if k = strings.TrimSpace(k); k != "" {
			o.Kinds = append(o.Kinds, bench.Kind(k))
		}
	}
	if jobs == "auto" {
		o.Jobs = runner.AutoJobs()
	} else if n, err := strconv.Atoi(jobs); err == nil && n > 0 {
		o.Jobs = n
	} else {
		fmt.Fprintf(os.Stderr, "bench-boot: -j %q: want a positive number or auto\n", jobs)
		return 2
	}
	repo, err := repoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-boot:", err)
		return 2
	}
	o.Repo = repo
	if o.Kernel, err = kernel.Locate("", *kern); err != nil {
		fmt.Fprintln(os.Stderr, "bench-boot:", err)
		return 2
	}
	// The naive boot is Debian's cloud kernel, as people script it by hand.
	if *naiveKern != "" {
		o.NaiveKernel, err = kernel.FromPath(*naiveKern, "-naive-kernel")
	} else {
		o.NaiveKernel, err = kernel.CachedCloud("")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-boot: the naive boot's kernel:", err)
		return 2
	}
	if o.Dir == "" {
		if o.Dir, err = os.MkdirTemp("", "oemact-bench-"); err != nil {
			fmt.Fprintln(os.Stderr, "bench-boot:", err)
			return 2
		}
		if !keep {
			defer os.RemoveAll(o.Dir)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if o.Agent == "" {
		fmt.Fprintln(os.Stderr, "building the static oemact binary")
		if o.Agent, err = bench.BuildAgent(ctx, repo, filepath.Join(o.Dir, "bin")); err != nil {
			fmt.Fprintln(os.Stderr, "bench-boot:", err)
			return 2
		}
	}
	o.Log = os.Stderr
	rep, err := bench.Run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-boot:", err)
		return 2
	}
	rep.Print(os.Stdout)
	if jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(jsonOut, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "bench-boot:", err)
			return 2
		}
	}
	if rep.Matrix != nil && rep.Matrix.Passed != rep.Matrix.Scenarios {
		return 1
	}
	return 0
}

// repoRoot finds the repository from the working folder: the nearest folder with a go.mod for
// github.com/oemact/oemact.
func repoRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/oemact/oemact\n") {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", errors.New("run it inside the oemact repository (no go.mod for github.com/oemact/oemact above the working folder)")
		}
		d = parent
	}
}
