package kernel

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/oemact/oemact/harness/hosttool"
	"github.com/oemact/oemact/harness/internal/filelock"
)

// FetchOptions tune Fetch. The zero value fetches DefaultPackage into CacheDir().
type FetchOptions struct {
	CacheDir string   // default CacheDir()
	Package  string   // the meta package naming the kernel; default DefaultPackage
	Modules  []string // modules to keep (with their dependencies); default DefaultModules
	Log      io.Writer
}

// Fetch makes sure the cache holds the kernel apt currently names for the meta package, and
// returns it. It resolves the versioned package (apt-cache depends), and when that version is not
// cached yet, downloads it (apt-get download, no root), unpacks it (dpkg-deb -x), keeps vmlinuz and
// the modules the agent needs, writes manifest.json and deletes the rest. Concurrent callers wait
// on a lock in the cache. When apt is not there but a kernel is cached, that kernel is returned.
func Fetch(ctx context.Context, o FetchOptions) (*Kernel, error) {
	var err error
	if o.CacheDir, err = cacheDirOr(o.CacheDir); err != nil {
		return nil, err
	}
	if o.Package == "" {
		o.Package = DefaultPackage
	}
	if len(o.Modules) == 0 {
		o.Modules = DefaultModules
	}
	logf := logger(o.Log)
	root := filepath.Join(o.CacheDir, "kernel")

	pkg, version, sha, err := resolve(ctx, o.Package)
	if err != nil {
		var nf *hosttool.NotFoundError
		if errors.As(err, &nf) {
			if k, lerr := Cached(o.CacheDir); lerr == nil {
				logf("warning: %v; using the cached %s %s", err, k.Package, k.Version)
				return k, nil
			}
		}
		return nil, err
	}
	name := pkg + "_" + strings.NewReplacer(":", "_", "/", "_").Replace(version)
	dir := filepath.Join(root, name)
	if k, err := loadManifest(dir, true); err == nil {
		logf("%s %s is cached in %s", pkg, version, dir)
		return k, setLatest(root, name)
	}

	other, work, done, err := lockCache(root, fetchLock, dir, ".fetch-")
	if err != nil {
		return nil, err
	}
	if other != nil { // another process fetched it meanwhile
		return other, setLatest(root, name)
	}
	defer done()

	tree := filepath.Join(work, "root")
	debSum, err := downloadDeb(ctx, work, tree, pkg, version, sha, logf)
	if err != nil {
		return nil, err
	}
	k, err := fromTree(tree, o.Modules)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", pkg, version, err)
	}

	stage, err := os.MkdirTemp(root, ".stage-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(stage)
	m := manifest{Format: manifestFormat, Meta: o.Package, Package: pkg, Version: version, Release: k.Release, DebSHA256: debSum}
	if m.Vmlinuz, err = keep(k.Vmlinuz, stage, "vmlinuz"); err != nil {
		return nil, err
	}
	if err := unpackVmlinux(&m, stage); err != nil {
		return nil, err
	}
	if m.VmlinuxNote != "" {
		logf("%s", m.VmlinuxNote)
	}
	if err := os.Mkdir(filepath.Join(stage, "modules"), 0o755); err != nil {
		return nil, err
	}
	var modBytes int64
	for _, mod := range k.Modules {
		f, err := keep(mod.Path, stage, filepath.Join("modules", mod.Name+".ko"))
		if err != nil {
			return nil, err
		}
		f.Name, f.Depends = mod.Name, mod.Depends
		m.Modules = append(m.Modules, f)
		modBytes += f.Size
	}
	if err := writeManifest(stage, m); err != nil {
		return nil, err
	}
	if err := os.RemoveAll(dir); err != nil { // a damaged earlier copy
		return nil, err
	}
	if err := os.Rename(stage, dir); err != nil {
		return nil, fmt.Errorf("kernel cache: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	unpacked := ""
	if m.Vmlinux != nil {
		unpacked = fmt.Sprintf(", vmlinux unpacked from it (%d KB),", m.Vmlinux.Size>>10)
	}
	logf("kept vmlinuz (%d KB)%s and %d modules (%d KB) in %s", m.Vmlinuz.Size>>10, unpacked, len(m.Modules), modBytes>>10, dir)
	if err := setLatest(root, name); err != nil {
		return nil, err
	}
	return loadManifest(dir, true)
}

// downloadDeb downloads pkg=version into work (apt-get download, no root), checks it against
// the SHA-256 apt's index gives (sha, when known), unpacks it into tree (dpkg-deb -x), deletes
// the .deb and returns its SHA-256.
func downloadDeb(ctx context.Context, work, tree, pkg, version, sha string, logf func(string, ...any)) (string, error) {
	logf("downloading %s %s (apt-get download)", pkg, version)
	if _, err := runTool(ctx, work, "apt-get", "download", pkg+"="+version); err != nil {
		return "", fmt.Errorf("%w\ncheck the network and apt's sources (apt-get update, as root), or set %s to a kernel", err, EnvKernel)
	}
	debs, _ := filepath.Glob(filepath.Join(work, "*.deb"))
	if len(debs) != 1 {
		return "", fmt.Errorf("apt-get download %s left %d .deb files in %s, want 1", pkg, len(debs), work)
	}
	_, debSum, err := hashFile(debs[0])
	if err != nil {
		return "", err
	}
	if sha != "" && !strings.EqualFold(sha, debSum) {
		return "", fmt.Errorf("%s: SHA-256 %s, apt's index says %s: the download is damaged; run apt-get update and retry", filepath.Base(debs[0]), debSum, sha)
	}
	logf("unpacking %s (dpkg-deb -x)", filepath.Base(debs[0]))
	if _, err := runTool(ctx, work, "dpkg-deb", "-x", debs[0], tree); err != nil {
		return "", err
	}
	return debSum, os.Remove(debs[0])
}

// resolve asks apt which versioned package the meta package depends on, and that package's
// candidate version and SHA-256.
func resolve(ctx context.Context, meta string) (pkg, version, sha string, err error) {
	return resolvePackage(ctx, meta, "linux-image-")
}

// resolvePackage asks apt which package starting with prefix the meta package depends on, and
// that package's candidate version and SHA-256.
func resolvePackage(ctx context.Context, meta, prefix string) (pkg, version, sha string, err error) {
	out, err := runTool(ctx, "", "apt-cache", "depends", meta)
	if err != nil {
		return "", "", "", fmt.Errorf("%w\nrun apt-get update (as root) so apt knows Debian's kernel packages", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		v = strings.TrimSpace(v)
		if ok && k == "Depends" && strings.HasPrefix(v, prefix) && !strings.HasPrefix(v, "<") {
			pkg = v
			break
		}
	}
	if pkg == "" {
		return "", "", "", fmt.Errorf("apt-cache depends %s names no %s package: run apt-get update (as root), or set %s to a kernel", meta, prefix+"*", EnvKernel)
	}
	out, err = runTool(ctx, "", "apt-cache", "show", "--no-all-versions", pkg)
	if err != nil {
		return "", "", "", err
	}
	sc = bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch k {
		case "Version":
			version = strings.TrimSpace(v)
		case "SHA256":
			sha = strings.TrimSpace(v)
		}
	}
	if version == "" {
		return "", "", "", fmt.Errorf("apt-cache show %s gives no version: run apt-get update (as root)", pkg)
	}
	return pkg, version, sha, nil
}

var commandContext = exec.CommandContext

// runTool runs a host tool and returns its stdout; errors carry the command and its stderr.
func runTool(ctx context.Context, dir, tool string, args ...string) ([]byte, error) {
	path, err := hosttool.Find(tool)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// apt prints translated messages; the errors shown to users quote them as they are.
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 2000 {
			msg = "..." + msg[len(msg)-2000:]
		}
		return nil, fmt.Errorf("%s %s failed (%v): %s", tool, strings.Join(args, " "), err, msg)
	}
	return stdout.Bytes(), nil
}

func keep(src, stage, rel string) (manifestFile, error) {
	dst := filepath.Join(stage, rel)
	in, err := os.Open(src)
	if err != nil {
		return manifestFile{}, err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return manifestFile{}, err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return manifestFile{}, err
	}
	size, sum, err := hashFile(dst)
	return manifestFile{File: rel, Size: size, SHA256: sum}, err
}

func setLatest(root, name string) error { return setPointer(root, latestPointer, name) }

// Pointer files in the kernel cache: the last kernel Fetch made, and the last Build made.
const (
	latestPointer = "latest"
	builtPointer  = "built"
)

// setPointer atomically writes the pointer file root/pointer naming the folder name.
func setPointer(root, pointer, name string) error {
	f, err := os.CreateTemp(root, "."+pointer+"-")
	if err != nil {
		return err
	}
	_, err = f.WriteString(name + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(root, pointer))
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// Locks in the cache's kernel folder. Fetches and cache repairs take fetchLock for seconds; a
// build takes buildLock for its minutes, so that two builds never run at once while fetches and
// runs go on (a build installs its result with renames, which need no lock).
const (
	fetchLock = ".lock"
	buildLock = ".build.lock"
)

// lockCache takes a lock of the cache (waiting for whoever holds it), then looks for dir's kernel
// again: another process may have made it meanwhile (k is then set and the lock released).
// Otherwise it makes a work folder (named prefix...) under root; done removes it and releases the
// lock.
func lockCache(root, lockName, dir, prefix string) (k *Kernel, work string, done func(), err error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, "", nil, fmt.Errorf("kernel cache: %w", err)
	}
	unlock, err := lock(filepath.Join(root, lockName))
	if err != nil {
		return nil, "", nil, err
	}
	if k, err := loadManifest(dir, true); err == nil {
		unlock()
		return k, "", nil, nil
	}
	if work, err = os.MkdirTemp(root, prefix); err != nil {
		unlock()
		return nil, "", nil, fmt.Errorf("kernel cache: %w", err)
	}
	return nil, work, func() { os.RemoveAll(work); unlock() }, nil
}

// lock takes an exclusive flock on path, waiting for others.
func lock(path string) (func(), error) { return filelock.Lock(path, "kernel cache lock") }
