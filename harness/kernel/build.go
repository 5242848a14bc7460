package kernel

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/oemact/oemact/harness/hosttool"
)

// GuestConfig is the configuration fragment of the kernel Build makes: Linux's tinyconfig plus
// the options the guest agent needs, all built in (no modules).
//
//go:embed guest.config
var GuestConfig []byte

// DefaultSourcePackage is the Debian meta package naming the kernel source Build compiles.
const DefaultSourcePackage = "linux-source"

// builderVersion changes when Build's steps change what it makes from the same source and
// fragment, so that older builds are not reused.
const builderVersion = 2

// BuildOptions tune Build. The zero value builds DefaultSourcePackage with GuestConfig into
// CacheDir(), with one make job per CPU.
type BuildOptions struct {
	CacheDir string
	Source   string // the meta package naming the source package; default DefaultSourcePackage
	Config   []byte // the configuration fragment; default GuestConfig
	Jobs     int    // make -j; default runtime.NumCPU()
	Log      io.Writer
}

// buildTools are the host programs a kernel build runs, with the package that has each.
var buildTools = []hosttool.Tool{
	{Name: "make", Package: "make"},
	{Name: "gcc", Package: "gcc"},
	{Name: "flex", Package: "flex"},
	{Name: "bison", Package: "bison"},
	{Name: "bc", Package: "bc"},
	{Name: "tar", Package: "tar"},
	{Name: "xz", Package: "xz-utils"},
	{Name: "perl", Package: "perl"},
	{Name: "strip", Package: "binutils"},
}

// BuildToolsMissing lists what a kernel build needs and the host lacks, as Debian packages
// (libelf-dev for objtool's headers); empty when everything is there.
func BuildToolsMissing() []string {
	var missing []string
	for _, t := range buildTools {
		if _, err := hosttool.Find(t.Name); err != nil {
			missing = append(missing, t.Package)
		}
	}
	if _, err := os.Stat("/usr/include/gelf.h"); err != nil {
		missing = append(missing, "libelf-dev")
	}
	return missing
}

// Build makes sure the cache holds the guest kernel compiled from the Debian kernel source apt
// currently names, with the configuration fragment, and returns it. It resolves the versioned
// source package (apt-cache depends), and when that version and fragment are not built yet,
// downloads it (apt-get download, no root), unpacks it, configures it (make tinyconfig, then the
// fragment, then make olddefconfig; every option of the fragment must hold in the result), runs
// make vmlinux bzImage, keeps both with the .config and writes manifest.json. The built kernel is
// then the one Cached returns. It takes minutes (6.6 on two cores); concurrent builds wait on the
// cache's build lock, while fetches and runs go on (see StartBuild).
func Build(ctx context.Context, o BuildOptions) (*Kernel, error) {
	var err error
	if o.CacheDir, err = cacheDirOr(o.CacheDir); err != nil {
		return nil, err
	}
	if o.Source == "" {
		o.Source = DefaultSourcePackage
	}
	if o.Config == nil {
		o.Config = GuestConfig
	}
	want, err := parseFragment(o.Config)
	if err != nil {
		return nil, err
	}
	if o.Jobs <= 0 {
		o.Jobs = runtime.NumCPU()
	}
	logf := logger(o.Log)
	root := filepath.Join(o.CacheDir, "kernel")

	pkg, version, sha, err := resolvePackage(ctx, o.Source, "linux-source-")
	if err != nil {
		var nf *hosttool.NotFoundError
		if errors.As(err, &nf) {
			if k, lerr := cachedPointer(o.CacheDir, builtPointer); lerr == nil {
				logf("warning: %v; using the kernel built before (%s)", err, k.Release)
				return k, nil
			}
		}
		return nil, err
	}
	sum := sha256.New()
	fmt.Fprintf(sum, "oemact kernel build %d\n", builderVersion)
	sum.Write(o.Config)
	configHash := hex.EncodeToString(sum.Sum(nil))
	name := pkg + "_" + strings.NewReplacer(":", "_", "/", "_").Replace(version) + "_oemact-" + configHash[:12]
	dir := filepath.Join(root, name)
	if k, err := loadManifest(dir, true); err == nil {
		logf("%s %s is built in %s", pkg, version, dir)
		return k, setPointer(root, builtPointer, name)
	}
	if missing := BuildToolsMissing(); len(missing) > 0 {
		return nil, fmt.Errorf("building the guest kernel needs %s: apt-get install %s (as root), or use Debian's cloud kernel with 'oemact kernel fetch'",
			strings.Join(missing, ", "), strings.Join(missing, " "))
	}

	other, work, done, err := lockCache(root, buildLock, dir, ".build-")
	if err != nil {
		return nil, err
	}
	if other != nil { // another process built it meanwhile
		return other, setPointer(root, builtPointer, name)
	}
	defer done()

	start := time.Now()
	src, debSum, err := unpackSource(ctx, work, pkg, version, sha, logf)
	if err != nil {
		return nil, err
	}
	out := filepath.Join(work, "out")
	logPath := filepath.Join(root, name+".build.log")
	rel, err := compile(ctx, src, out, logPath, o, want, pkg+" "+version, logf)
	if err != nil {
		return nil, err
	}
	m := manifest{Format: manifestFormat, Meta: o.Source, Package: pkg, Version: version,
		Release: rel, DebSHA256: debSum, ConfigSHA256: configHash}
	if err := install(ctx, root, dir, out, &m); err != nil {
		return nil, err
	}
	logf("built %s in %s: vmlinuz (%d KB) and vmlinux (%d KB) in %s", m.Release, time.Since(start).Round(time.Second),
		m.Vmlinuz.Size>>10, m.Vmlinux.Size>>10, dir)
	if err := setPointer(root, builtPointer, name); err != nil {
		return nil, err
	}
	return loadManifest(dir, true)
}

// option is one line of a configuration fragment: CONFIG_NAME and its value ("n" for off).
type option struct{ name, value string }

// parseFragment reads a Kconfig fragment: CONFIG_X=value lines, "# CONFIG_X is not set", comments
// and blank lines.
func parseFragment(b []byte) ([]option, error) {
	var out []option
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "# "); ok {
			if name, ok := strings.CutSuffix(rest, " is not set"); ok && strings.HasPrefix(name, "CONFIG_") {
				out = append(out, option{name, "n"})
			}
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok || !strings.HasPrefix(name, "CONFIG_") || value == "" {
			return nil, fmt.Errorf("kernel configuration fragment, line %d: want CONFIG_NAME=value, got %q", n, line)
		}
		out = append(out, option{name, value})
	}
	return out, sc.Err()
}

// unmetOptions returns the options of want that the final .config does not have as asked.
func unmetOptions(want []option, config []byte) []string {
	got := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(config))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "# "); ok {
			if name, ok := strings.CutSuffix(rest, " is not set"); ok {
				got[name] = "n"
			}
			continue
		}
		if name, value, ok := strings.Cut(line, "="); ok {
			got[name] = value
		}
	}
	var bad []string
	for _, o := range want {
		v, ok := got[o.name]
		if !ok && o.value == "n" {
			continue // not offered at all: off
		}
		if v != o.value {
			if !ok {
				v = "absent"
			}
			bad = append(bad, fmt.Sprintf("%s=%s (got %s)", o.name, o.value, v))
		}
	}
	return bad
}

func appendFile(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	_, err = f.Write(append([]byte("\n"), b...))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// runLogged runs a program with its output appended to log; a failure quotes the log's end.
func runLogged(ctx context.Context, dir string, log *os.File, logPath, prog string, args ...string) error {
	cmd := commandContext(ctx, prog, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = log, log
	fmt.Fprintf(log, "$ %s %s\n", filepath.Base(prog), strings.Join(args, " "))
	if err := cmd.Run(); err != nil {
		tail := ""
		if b, rerr := os.ReadFile(logPath); rerr == nil {
			lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
			if len(lines) > 15 {
				lines = lines[len(lines)-15:]
			}
			tail = "\n  " + strings.Join(lines, "\n  ")
		}
		return fmt.Errorf("%s %s failed (%v); the end of %s:%s", filepath.Base(prog), strings.Join(args, " "), err, logPath, tail)
	}
	return nil
}

// unpackSource downloads the kernel source package into work and unpacks its tarball into
// work/src; it returns the source folder and the package's SHA-256.
func unpackSource(ctx context.Context, work, pkg, version, sha string, logf func(string, ...any)) (string, string, error) {
	deb := filepath.Join(work, "deb")
	debSum, err := downloadDeb(ctx, work, deb, pkg, version, sha, logf)
	if err != nil {
		return "", "", err
	}
	tarballs, _ := filepath.Glob(filepath.Join(deb, "usr", "src", "linux-source-*.tar.*"))
	if len(tarballs) != 1 {
		return "", "", fmt.Errorf("%s: want one usr/src/linux-source-*.tar.* in the package, found %d", pkg, len(tarballs))
	}
	src := filepath.Join(work, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		return "", "", err
	}
	if _, err := runTool(ctx, src, "tar", "--strip-components=1", "-xf", tarballs[0]); err != nil {
		return "", "", err
	}
	os.RemoveAll(deb)
	return src, debSum, nil
}

// compile configures (tinyconfig, then the guest fragment, every option of which must hold) and
// builds vmlinux and bzImage into out, logging into logPath; it returns the kernel release.
func compile(ctx context.Context, src, out, logPath string, o BuildOptions, want []option, what string, logf func(string, ...any)) (string, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return "", err
	}
	defer logFile.Close()
	makeIn := func(args ...string) error {
		p, err := hosttool.Find("make")
		if err != nil {
			return err
		}
		return runLogged(ctx, src, logFile, logPath, p, append([]string{"O=" + out}, args...)...)
	}
	logf("configuring: make tinyconfig, then %d options", len(want))
	if err := makeIn("tinyconfig"); err != nil {
		return "", err
	}
	cfgPath := filepath.Join(out, ".config")
	if err := appendFile(cfgPath, o.Config); err != nil {
		return "", err
	}
	if err := makeIn("olddefconfig"); err != nil {
		return "", err
	}
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		return "", err
	}
	if bad := unmetOptions(want, cfg); len(bad) > 0 {
		return "", fmt.Errorf("%s does not take these options of the guest configuration (dependencies missing or renamed): %s",
			what, strings.Join(bad, ", "))
	}
	logf("compiling (make -j%d vmlinux bzImage; minutes; log in %s)", o.Jobs, logPath)
	if err := makeIn("-j"+strconv.Itoa(o.Jobs), "vmlinux", "bzImage"); err != nil {
		return "", err
	}
	rel, err := os.ReadFile(filepath.Join(out, "include", "config", "kernel.release"))
	if err != nil {
		return "", fmt.Errorf("the kernel build left no kernel.release: %w", err)
	}
	return strings.TrimSpace(string(rel)), nil
}

// install puts the built kernel (bzImage, the stripped vmlinux, its config) and its manifest in
// dir, through a stage folder renamed into place.
func install(ctx context.Context, root, dir, out string, m *manifest) error {
	stage, err := os.MkdirTemp(root, ".stage-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	if m.Vmlinuz, err = keep(filepath.Join(out, "arch", "x86", "boot", "bzImage"), stage, "vmlinuz"); err != nil {
		return err
	}
	// QEMU reads the whole ELF, symbols included: stripped, the PVH boot is measurably quicker
	// (the boot benchmark's floor x 0.92 with 16 MB instead of 21).
	stripped := filepath.Join(out, "vmlinux.stripped")
	if _, err := runTool(ctx, out, "strip", "--strip-all", "-o", stripped, filepath.Join(out, "vmlinux")); err != nil {
		return err
	}
	f, err := keep(stripped, stage, "vmlinux")
	if err != nil {
		return err
	}
	vmlinux, err := os.ReadFile(filepath.Join(stage, "vmlinux"))
	if err != nil {
		return err
	}
	if err := checkPVH(vmlinux); err != nil {
		return fmt.Errorf("the built vmlinux: %w", err)
	}
	m.Vmlinux = &f
	if _, err := keep(filepath.Join(out, ".config"), stage, "config"); err != nil {
		return err
	}
	if err := writeManifest(stage, *m); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.Rename(stage, dir); err != nil {
		return fmt.Errorf("kernel cache: %w", err)
	}
	return os.Chmod(dir, 0o755)
}
