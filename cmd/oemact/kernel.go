package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/oemact/oemact/harness/kernel"
)

func init() {
	register(&command{name: "kernel", summary: "build or fetch the guest kernel for the QEMU harness, or show which one is used", run: runKernel})
}

const kernelUsage = `build|fetch|path [flags]

  build   compile the guest kernel from Debian's kernel source (apt-get download, no root):
          tinyconfig plus every driver the guest agent needs, built in. Takes minutes once; the
          harness then boots it (about half the time of the cloud kernel under TCG)
  fetch   download Debian's cloud kernel (apt-get download, no root) into the cache and keep
          vmlinuz and the virtio modules the guest agent loads
  path    print the kernel the harness would boot (--kernel, OEMACT_KERNEL, else the cache:
          the built kernel if there is one, else the cloud kernel)

build --background starts the build as a process of its own and returns at once: until the
build is in the cache, runs boot the cloud kernel. Two builds never run at once.

The cache is $OEMACT_CACHE, else $XDG_CACHE_HOME/oemact, else ~/.cache/oemact.`

type kernelOptions struct {
	override, cache    *string
	asJSON, background *bool
	jobs               *int
}

// kernelFlags is the flag set that build, fetch and path share; sub "" is the usage of all three.
func kernelFlags(io stdio, sub string) (*flagSet, kernelOptions) {
	fs := newFlagSet(io, "kernel "+sub, "[--kernel PATH] [--cache DIR] [--json] [-j N]")
	if sub == "" {
		fs = newFlagSet(io, "kernel", kernelUsage)
	}
	return fs, kernelOptions{
		override: fs.String("kernel", "", "kernel to use: a vmlinuz file, a folder made by 'kernel fetch', or an unpacked kernel package (default $OEMACT_KERNEL)"),
		cache:    fs.String("cache", "", "cache folder (default $OEMACT_CACHE, $XDG_CACHE_HOME/oemact or ~/.cache/oemact)"),
		asJSON:   fs.Bool("json", false, "print the kernel as JSON"),
		jobs:     fs.IntP("jobs", "j", 0, "build: make jobs (default the number of CPUs)"),
		background: fs.Bool("background", false, "build: start the build as a process of its own and return at once "+
			"(log in the cache); runs boot the cloud kernel until it is done, and a build already running is left alone"),
	}
}

func runKernel(io stdio, args []string) int {
	if len(args) == 0 || (args[0] != "fetch" && args[0] != "path" && args[0] != "build") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			// The three share one flag set: show it once.
			fs, _ := kernelFlags(stdio{stdin: io.stdin, stdout: io.stdout, stderr: io.stdout}, "")
			fs.Usage()
			return exitOK
		}
		fmt.Fprintf(io.stderr, "usage: oemact kernel %s\n", kernelUsage)
		return exitUsage
	}
	sub := args[0]
	fs, f := kernelFlags(io, sub)
	override, cache, asJSON, jobs := f.override, f.cache, f.asJSON, f.jobs
	if code, done := parseFlags(fs, args[1:]); done {
		return code
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitUsage
	}

	if *f.background {
		if sub != "build" {
			return fail(io, "kernel "+sub, "--background is for build")
		}
		return startBuild(io, *cache, *jobs)
	}
	var k *kernel.Kernel
	var err error
	fetching := sub == "fetch" || sub == "build"
	if fetching && *override == "" && os.Getenv(kernel.EnvKernel) == "" {
		ctx, stop := signalContext()
		defer stop()
		if sub == "build" {
			k, err = kernel.Build(ctx, kernel.BuildOptions{CacheDir: *cache, Jobs: *jobs, Log: io.stderr})
		} else {
			k, err = kernel.Fetch(ctx, kernel.FetchOptions{CacheDir: *cache, Log: io.stderr})
		}
	} else {
		k, err = kernel.Locate(*cache, *override)
		if err == nil && fetching {
			fmt.Fprintf(io.stderr, "using the kernel from %s; nothing to fetch\n", k.Source)
		}
	}
	if err != nil {
		// Every failure here is the environment's (a missing kernel, tool or network): exit 2.
		fmt.Fprintf(io.stderr, "oemact kernel %s: %v\n", sub, err)
		return exitUsage
	}
	if *asJSON {
		if err := writeJSON(io.stdout, k); err != nil {
			return fail(io, "kernel "+sub, "%v", err)
		}
		return exitOK
	}
	fmt.Fprintln(io.stdout, k.Vmlinuz)
	if k.Note != "" {
		fmt.Fprintf(io.stderr, "note: %s\n", k.Note)
	}
	switch {
	case k.Built:
		fmt.Fprintf(io.stderr, "%s, built from %s %s with every driver built in, from %s\n", k.Release, k.Package, k.Version, k.Source)
	case k.Package != "":
		fmt.Fprintf(io.stderr, "%s %s (%s), %d modules, from %s\n", k.Package, k.Version, k.Release, len(k.Modules), k.Source)
	}
	return exitOK
}

// startBuild starts `oemact kernel build` of the cache in the background (kernel.StartBuild).
func startBuild(io stdio, cache string, jobs int) int {
	dir, err := cacheOrDefault(cache)
	if err != nil {
		return fail(io, "kernel build", "%v", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return fail(io, "kernel build", "finding the oemact binary: %v", err)
	}
	command := []string{exe, "kernel", "build", "--cache", dir}
	if jobs > 0 {
		command = append(command, "--jobs", strconv.Itoa(jobs))
	}
	bg, err := kernel.StartBuild(dir, command)
	if err != nil {
		return fail(io, "kernel build", "%v", err)
	}
	if bg.Started {
		fmt.Fprintf(io.stderr, "building the guest kernel in the background (process %d, log %s); runs boot Debian's cloud kernel until it is done\n", bg.PID, bg.Log)
	} else {
		fmt.Fprintf(io.stderr, "a guest kernel build is already running (log %s)\n", bg.Log)
	}
	return exitOK
}

// cacheOrDefault is the --cache folder made absolute, or the default cache.
func cacheOrDefault(cache string) (string, error) {
	if cache == "" {
		return kernel.CacheDir()
	}
	return filepath.Abs(cache)
}

func fail(io stdio, verb, format string, a ...any) int {
	fmt.Fprintf(io.stderr, "oemact "+verb+": "+format+"\n", a...)
	return exitUsage
}
