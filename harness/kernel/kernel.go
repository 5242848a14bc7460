// Package kernel provides the guest kernel: one compiled from Debian's kernel source with every
// driver the guest agent needs built in (Build: the fastest boot), Debian's cloud kernel package
// fetched with apt-get download into a cache folder and cut down to vmlinuz and the virtio
// modules the agent loads (Fetch), or a kernel the user names with --kernel / OEMACT_KERNEL.
//
// It does not install anything on the host and needs no root. Booting is the qemu package's job.
package kernel

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Defaults, from notes/qemu.md: the cloud kernel boots in about 2 s under TCG (LZ4; the generic
// kernel is XZ and costs 3 s more), has ACPI, DMI sysfs, TPM and the 8250 console built in, and
// builds the virtio drivers as modules.
const (
	DefaultPackage = "linux-image-cloud-amd64"
	// EnvKernel overrides the kernel (a vmlinuz file, a folder this package made, or a folder
	// where a kernel .deb was unpacked).
	EnvKernel = "OEMACT_KERNEL"
	// EnvCache is the cache folder (default $XDG_CACHE_HOME/oemact, else ~/.cache/oemact).
	EnvCache = "OEMACT_CACHE"
)

// DefaultModules are the modules the guest agent needs, without their dependencies: the virtio
// PCI transport, disks (state disk, serials), the serial port of the host channel, and NICs (MACs).
var DefaultModules = []string{"virtio_pci", "virtio_blk", "virtio_console", "virtio_net"}

// Kernel is a guest kernel ready to boot.
type Kernel struct {
	Vmlinuz string `json:"vmlinuz"`
	// Vmlinux is the uncompressed kernel with a PVH entry point, unpacked from Vmlinuz when the
	// kernel was fetched (see Uncompress); "" when there is none. QEMU boots it straight, without
	// the bzImage's decompressor.
	Vmlinux string   `json:"vmlinux,omitempty"`
	Modules []Module `json:"modules"`           // in load order, dependencies first
	Release string   `json:"release,omitempty"` // uname -r, e.g. 6.1.0-56-cloud-amd64
	Package string   `json:"package,omitempty"` // Debian package, e.g. linux-image-6.1.0-56-cloud-amd64
	Version string   `json:"version,omitempty"` // Debian package version, e.g. 6.1.192-2
	// Source says where it came from: "cache", "--kernel" or "OEMACT_KERNEL".
	Source string `json:"source"`
	Dir    string `json:"dir,omitempty"`
	// Built is true for a kernel 'oemact kernel build' compiled: its drivers are built in and
	// Config is its .config.
	Built  bool   `json:"built,omitempty"`
	Config string `json:"config,omitempty"`
	// Note explains a limitation, such as a kernel given with no modules next to it.
	Note string `json:"note,omitempty"`
}

// Module is one kernel module file.
type Module struct {
	Name    string   `json:"name"`
	Path    string   `json:"path"`
	Depends []string `json:"depends,omitempty"`
	SHA256  string   `json:"sha256,omitempty"`
}

// CacheDir returns the cache folder: $OEMACT_CACHE, else $XDG_CACHE_HOME/oemact, else
// ~/.cache/oemact (made absolute). It is the user's, not the working directory's: a second
// checkout, or a CI job restoring ~/.cache, finds the guest kernel already built.
func CacheDir() (string, error) {
	if d := os.Getenv(EnvCache); d != "" {
		return filepath.Abs(d)
	}
	d, err := os.UserCacheDir() // $XDG_CACHE_HOME, else $HOME/.cache
	if err != nil {
		return "", fmt.Errorf("no cache folder: %w; set %s", err, EnvCache)
	}
	return filepath.Abs(filepath.Join(d, "oemact"))
}

// cacheDirOr returns dir, or CacheDir() when dir is "".
func cacheDirOr(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	return CacheDir()
}

// logger returns a printf that writes a line to w, or does nothing when w is nil.
func logger(w io.Writer) func(format string, args ...any) {
	return func(format string, args ...any) {
		if w != nil {
			fmt.Fprintf(w, format+"\n", args...)
		}
	}
}

// manifest is what Fetch writes next to the files it keeps: manifest.json.
type manifest struct {
	Format    int          `json:"format"`
	Meta      string       `json:"meta_package"`
	Package   string       `json:"package"`
	Version   string       `json:"version"`
	Release   string       `json:"release"`
	DebSHA256 string       `json:"deb_sha256"`
	Vmlinuz   manifestFile `json:"vmlinuz"`
	// Vmlinux is the kernel unpacked from vmlinuz (optional: caches made before it have none, and
	// get one the next time they are located).
	Vmlinux *manifestFile  `json:"vmlinux,omitempty"`
	Modules []manifestFile `json:"modules"`
	// VmlinuxNote says why there is no Vmlinux, so that it is not tried again.
	VmlinuxNote string `json:"vmlinux_note,omitempty"`
	// ConfigSHA256 is set on kernels Build compiled: the hash of the builder's version and the
	// configuration fragment; the folder holds the full .config as "config".
	ConfigSHA256 string `json:"config_sha256,omitempty"`
}

type manifestFile struct {
	Name    string   `json:"name,omitempty"`
	File    string   `json:"file"`
	Size    int64    `json:"size"`
	SHA256  string   `json:"sha256"`
	Depends []string `json:"depends,omitempty"`
}

const manifestName = "manifest.json"
const manifestFormat = 1

// NotFoundError says no kernel is available and how to get one.
type NotFoundError struct {
	Msg    string
	absent bool // no pointer file at all (as opposed to a damaged cache)
}

func (e *NotFoundError) Error() string { return e.Msg }

// Locate returns the kernel to boot without fetching: override (the --kernel flag) if set, else
// $OEMACT_KERNEL, else the last kernel Fetch put in cacheDir ("" means CacheDir()). Cached files
// are checked against their manifest.
func Locate(cacheDir, override string) (*Kernel, error) {
	if override != "" {
		return FromPath(override, "--kernel")
	}
	if p := os.Getenv(EnvKernel); p != "" {
		return FromPath(p, EnvKernel)
	}
	return Cached(cacheDir)
}

// Cached returns the kernel the cache holds ("" means CacheDir()), checked against its manifest:
// the last one Build made if any (every driver built in: the fastest boot), else the last one
// Fetch made (Debian's cloud kernel).
func Cached(cacheDir string) (*Kernel, error) {
	k, err := cachedPointer(cacheDir, builtPointer)
	var nf *NotFoundError
	if errors.As(err, &nf) && nf.absent {
		k, err = cachedPointer(cacheDir, latestPointer)
		if errors.As(err, &nf) && nf.absent {
			return nil, &NotFoundError{Msg: strings.Replace(nf.Msg, "run 'oemact kernel fetch'", "run 'oemact kernel build' or 'oemact kernel fetch'", 1), absent: true}
		}
	}
	return k, err
}

// CachedCloud returns the last kernel Fetch put in cacheDir: Debian's cloud kernel.
func CachedCloud(cacheDir string) (*Kernel, error) { return cachedPointer(cacheDir, latestPointer) }

// cachedPointer returns the kernel the pointer file names.
func cachedPointer(cacheDir, pointer string) (*Kernel, error) {
	cacheDir, err := cacheDirOr(cacheDir)
	if err != nil {
		return nil, err
	}
	fix := "run 'oemact kernel fetch' (or 'make kernel'), or set " + EnvKernel + " to a kernel"
	if pointer == builtPointer {
		fix = "run 'oemact kernel build' (or 'make kernel'), or set " + EnvKernel + " to a kernel"
	}
	ptr := filepath.Join(cacheDir, "kernel", pointer)
	b, err := os.ReadFile(ptr)
	if errors.Is(err, os.ErrNotExist) {
		return nil, &NotFoundError{Msg: fmt.Sprintf("no guest kernel in %s: %s", cacheDir, fix), absent: true}
	}
	if err != nil {
		return nil, err
	}
	name := strings.TrimSpace(string(b))
	if name == "" || strings.ContainsAny(name, "/\\") || strings.HasPrefix(name, ".") {
		return nil, &NotFoundError{Msg: fmt.Sprintf("%s names no kernel folder: %s", ptr, fix)}
	}
	dir := filepath.Join(cacheDir, "kernel", name)
	k, err := loadManifest(dir, true)
	if err != nil {
		return nil, &NotFoundError{Msg: fmt.Sprintf("guest kernel in %s is unusable (%v): %s", dir, err, fix)}
	}
	if k.Vmlinux == "" && k.Note == "" {
		// A cache made before kernels were unpacked: unpack it now, once.
		if uk, err := addVmlinux(filepath.Join(cacheDir, "kernel"), dir); err == nil {
			return uk, nil
		}
	}
	return k, nil
}

// addVmlinux unpacks a cached kernel's vmlinuz next to it and records the result (the file, or
// why there is none) in its manifest, under the cache's lock.
func addVmlinux(root, dir string) (*Kernel, error) {
	unlock, err := lock(filepath.Join(root, fetchLock))
	if err != nil {
		return nil, err
	}
	defer unlock()
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if m.Vmlinux == nil && m.VmlinuxNote == "" { // else another process did it meanwhile
		if err := unpackVmlinux(&m, dir); err != nil {
			return nil, err
		}
		if err := writeManifest(dir, m); err != nil {
			return nil, err
		}
	}
	return loadManifest(dir, true)
}

// unpackVmlinux writes dir/vmlinux from dir/vmlinuz and records it in m; a kernel that cannot be
// unpacked is recorded in m.VmlinuxNote instead (not an error: the bzImage still boots).
func unpackVmlinux(m *manifest, dir string) error {
	bz, err := os.ReadFile(filepath.Join(dir, m.Vmlinuz.File))
	if err != nil {
		return err
	}
	out, err := Uncompress(bz)
	if err != nil {
		m.VmlinuxNote = "booting the compressed kernel: " + err.Error()
		return nil
	}
	tmp, err := os.CreateTemp(dir, ".vmlinux-")
	if err != nil {
		return err
	}
	_, err = tmp.Write(out)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, "vmlinux"))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	sum := sha256.Sum256(out)
	m.Vmlinux = &manifestFile{File: "vmlinux", Size: int64(len(out)), SHA256: hex.EncodeToString(sum[:])}
	return nil
}

// writeManifest replaces dir's manifest.json atomically.
func writeManifest(dir string, m manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".manifest-")
	if err != nil {
		return err
	}
	_, err = tmp.Write(append(b, '\n'))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, manifestName))
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// loadManifest reads a folder Fetch made. With verify, every file's size and SHA-256 are checked.
func loadManifest(dir string, verify bool) (*Kernel, error) {
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, manifestName), err)
	}
	if m.Format != manifestFormat {
		return nil, fmt.Errorf("%s: format %d, want %d", filepath.Join(dir, manifestName), m.Format, manifestFormat)
	}
	check := func(f manifestFile) (string, error) {
		if f.File == "" || filepath.IsAbs(f.File) || strings.Contains(f.File, "..") {
			return "", fmt.Errorf("manifest names a bad file %q", f.File)
		}
		p := filepath.Join(dir, f.File)
		if !verify {
			return p, nil
		}
		size, sum, err := hashFile(p)
		if err != nil {
			return "", err
		}
		if size != f.Size || sum != f.SHA256 {
			return "", fmt.Errorf("%s changed since it was fetched (sha256 %s, manifest says %s)", p, sum, f.SHA256)
		}
		return p, nil
	}
	k := &Kernel{Release: m.Release, Package: m.Package, Version: m.Version, Source: "cache", Dir: dir, Note: m.VmlinuxNote}
	if m.ConfigSHA256 != "" {
		k.Built = true
		k.Config = filepath.Join(dir, "config")
	}
	if k.Vmlinuz, err = check(m.Vmlinuz); err != nil {
		return nil, err
	}
	if m.Vmlinux != nil {
		if k.Vmlinux, err = check(*m.Vmlinux); err != nil {
			return nil, err
		}
	}
	for _, mf := range m.Modules {
		p, err := check(mf)
		if err != nil {
			return nil, err
		}
		k.Modules = append(k.Modules, Module{Name: mf.Name, Path: p, Depends: mf.Depends, SHA256: mf.SHA256})
	}
	return k, nil
}

// FromPath makes a Kernel from what a user names: a folder Fetch made (with manifest.json), a
// folder where a kernel .deb was unpacked (boot/vmlinuz-* and lib/modules/*), or a vmlinuz file,
// whose modules are looked for in ../lib/modules/RELEASE as dpkg-deb -x lays them out.
func FromPath(path, source string) (*Kernel, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, &NotFoundError{Msg: fmt.Sprintf("kernel %s (from %s): %v", path, source, err)}
	}
	if st.IsDir() {
		if _, err := os.Stat(filepath.Join(path, manifestName)); err == nil {
			k, err := loadManifest(path, true)
			if err != nil {
				return nil, err
			}
			k.Source = source
			return k, nil
		}
		k, err := fromTree(path, DefaultModules)
		if err != nil {
			return nil, fmt.Errorf("kernel %s (from %s): %w", path, source, err)
		}
		k.Source = source
		return k, nil
	}
	k := &Kernel{Vmlinuz: path, Source: source}
	if rel, ok := strings.CutPrefix(filepath.Base(path), "vmlinuz-"); ok {
		k.Release = rel
		modDir := filepath.Join(filepath.Dir(path), "..", "lib", "modules", rel)
		if _, err := os.Stat(modDir); err == nil {
			mods, err := modulesFor(modDir, DefaultModules)
			if err != nil {
				return nil, fmt.Errorf("kernel %s (from %s): %w", path, source, err)
			}
			k.Modules = mods
			return k, nil
		}
	}
	k.Note = "no modules found next to it (../lib/modules/RELEASE): the kernel must have " +
		strings.Join(DefaultModules, ", ") + " built in"
	return k, nil
}

// fromTree finds the kernel and modules in a folder where a kernel package was unpacked.
func fromTree(root string, roots []string) (*Kernel, error) {
	found, _ := filepath.Glob(filepath.Join(root, "boot", "vmlinuz-*"))
	if len(found) != 1 {
		return nil, fmt.Errorf("want exactly one boot/vmlinuz-* in the unpacked package, found %d", len(found))
	}
	rel := strings.TrimPrefix(filepath.Base(found[0]), "vmlinuz-")
	k := &Kernel{Vmlinuz: found[0], Release: rel, Dir: root}
	var modDir string
	for _, d := range []string{filepath.Join(root, "lib", "modules", rel), filepath.Join(root, "usr", "lib", "modules", rel)} {
		if _, err := os.Stat(d); err == nil {
			modDir = d
			break
		}
	}
	if modDir == "" {
		return nil, fmt.Errorf("no lib/modules/%s in the unpacked package", rel)
	}
	mods, err := modulesFor(modDir, roots)
	if err != nil {
		return nil, err
	}
	k.Modules = mods
	return k, nil
}

// modulesFor indexes the .ko files under modDir, reads modules.builtin, and returns the modules
// roots need in load order.
func modulesFor(modDir string, roots []string) ([]Module, error) {
	paths := map[string]string{}
	index := map[string][]string{}
	var compressed []string
	err := filepath.WalkDir(modDir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		switch {
		case d.IsDir():
			return nil
		case strings.HasSuffix(name, ".ko"):
		case strings.Contains(name, ".ko."):
			compressed = append(compressed, name)
			return nil
		default:
			return nil
		}
		// Reading every module's modinfo costs a second on a full tree; the file name gives the
		// module name (dashes folded), and only the needed ones are opened below.
		paths[modName(strings.TrimSuffix(name, ".ko"))] = p
		return nil
	})
	if err != nil {
		return nil, err
	}
	builtin := map[string]bool{}
	if b, err := os.ReadFile(filepath.Join(modDir, "modules.builtin")); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				builtin[modName(strings.TrimSuffix(filepath.Base(l), ".ko"))] = true
			}
		}
	}
	infos := map[string]ModInfo{}
	// Read modinfo lazily: walk the dependency graph from the roots.
	var load func(name string) error
	load = func(name string) error {
		if _, ok := infos[name]; ok {
			return nil
		}
		p, ok := paths[name]
		if !ok {
			return nil // LoadOrder reports it, or it is built in
		}
		mi, err := ReadModInfo(p)
		if err != nil {
			return err
		}
		infos[name] = mi
		index[name] = mi.Depends
		for _, d := range mi.Depends {
			if err := load(d); err != nil {
				return err
			}
		}
		return nil
	}
	for _, r := range roots {
		if err := load(modName(r)); err != nil {
			return nil, err
		}
	}
	order, err := LoadOrder(index, builtin, roots)
	if err != nil {
		if len(compressed) > 0 {
			sort.Strings(compressed)
			err = fmt.Errorf("%w (the package has compressed modules such as %s, which oemact does not unpack)", err, compressed[0])
		}
		return nil, err
	}
	mods := make([]Module, 0, len(order))
	for _, n := range order {
		mods = append(mods, Module{Name: n, Path: paths[n], Depends: infos[n].Depends})
	}
	return mods, nil
}

func hashFile(p string) (int64, string, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// Needed returns the kernel's modules that roots need, with their dependencies, in load order:
// the subset of Modules a machine with fewer devices loads. Roots the kernel has no module for
// (built in, or not there) are left out.
func (k *Kernel) Needed(roots ...string) []Module {
	byName := map[string]Module{}
	for _, m := range k.Modules {
		byName[m.Name] = m
	}
	want := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		n = modName(n)
		m, ok := byName[n]
		if !ok || want[n] {
			return
		}
		want[n] = true
		for _, d := range m.Depends {
			visit(d)
		}
	}
	for _, r := range roots {
		visit(r)
	}
	var out []Module
	for _, m := range k.Modules {
		if want[m.Name] {
			out = append(out, m)
		}
	}
	return out
}
