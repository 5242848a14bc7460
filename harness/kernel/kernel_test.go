package kernel

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
)

// fakeModules is a small module graph shaped like the cloud kernel's virtio modules: virtio_net is
// built in here, to check that built-in modules are skipped.
var fakeModules = map[string]string{
	"virtio_ring":    "",
	"virtio":         "virtio_ring",
	"virtio_pci":     "virtio_ring,virtio",
	"virtio_blk":     "virtio,virtio_ring",
	"virtio_console": "virtio,virtio_ring",
	"unrelated":      "",
}

// buildModule compiles a relocatable ELF whose .modinfo section holds name= and depends=, which
// is all oemact reads from a .ko.
func buildModule(t *testing.T, gcc, dir, name, depends string) string {
	t.Helper()
	src := filepath.Join(dir, name+".c")
	c := fmt.Sprintf(`static const char n[] __attribute__((section(".modinfo"), used, aligned(1))) = "name=%s";
static const char d[] __attribute__((section(".modinfo"), used, aligned(1))) = "depends=%s";
static const char v[] __attribute__((section(".modinfo"), used, aligned(1))) = "vermagic=9.9.9-test SMP";
`, name, depends)
	require.NoError(t, os.WriteFile(src, []byte(c), 0o644))
	out := filepath.Join(dir, strings.ReplaceAll(name, "_", "-")+".ko") // file names may use dashes
	b, err := exec.Command(gcc, "-c", "-o", out, src).CombinedOutput()
	require.NoError(t, err, "%s", b)
	require.NoError(t, os.Remove(src))
	return out
}

// fakeDeb builds a kernel package shaped like Debian's.
func fakeDeb(t *testing.T) string {
	gcc := hosttooltest.Require(t, "gcc")
	dpkgDeb := hosttooltest.Require(t, "dpkg-deb")
	tree := t.TempDir()
	modDir := filepath.Join(tree, "lib", "modules", "9.9.9-test")
	kdir := filepath.Join(modDir, "kernel", "drivers", "virtio")
	require.NoError(t, os.MkdirAll(kdir, 0o755))
	for n, d := range fakeModules {
		buildModule(t, gcc, kdir, n, d)
	}
	require.NoError(t, os.WriteFile(filepath.Join(modDir, "modules.builtin"), []byte("kernel/drivers/net/virtio_net.ko\n"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(tree, "boot"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(tree, "boot", "vmlinuz-9.9.9-test"), []byte("not really a kernel"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(tree, "boot", "System.map-9.9.9-test"), []byte("map"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(tree, "DEBIAN"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(tree, "DEBIAN", "control"), []byte(
		"Package: linux-image-9.9.9-test\nVersion: 9.9.9-1\nArchitecture: amd64\nMaintainer: test <t@example.invalid>\nDescription: fake kernel\n"), 0o644))
	deb := filepath.Join(t.TempDir(), "k.deb")
	b, err := exec.Command(dpkgDeb, "--root-owner-group", "-b", tree, deb).CombinedOutput()
	require.NoError(t, err, "%s", b)
	return deb
}

// fakeApt puts apt-cache and apt-get scripts first in PATH. apt-get download copies deb and counts
// its calls in the returned file; fail makes it fail like apt does without network.
type fakeApt struct {
	calls string
}

func installFakeApt(t *testing.T, deb, sha string, fail bool) fakeApt {
	bin := t.TempDir()
	calls := filepath.Join(t.TempDir(), "calls")
	aptCache := fmt.Sprintf(`#!/bin/sh
case "$1" in
depends) echo "$2"; echo "  PreDepends: <something>"; echo "  Depends: linux-image-9.9.9-test";;
show) printf 'Package: linux-image-9.9.9-test\nVersion: 9.9.9-1\nSHA256: %s\n\n';;
*) exit 100;;
esac
`, sha)
	aptGet := fmt.Sprintf(`#!/bin/sh
echo "$@" >> %q
if [ %q = true ]; then
  echo "E: Failed to fetch http://deb.debian.org/debian/pool/x.deb  Temporary failure resolving 'deb.debian.org'" >&2
  exit 100
fi
[ "$1" = download ] && [ "$2" = linux-image-9.9.9-test=9.9.9-1 ] || exit 100
cp %q ./linux-image-9.9.9-test_9.9.9-1_amd64.deb
`, calls, fmt.Sprint(fail), deb)
	require.NoError(t, os.WriteFile(filepath.Join(bin, "apt-cache"), []byte(aptCache), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(bin, "apt-get"), []byte(aptGet), 0o755))
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return fakeApt{calls: calls}
}

func (f fakeApt) count(t *testing.T) int {
	b, err := os.ReadFile(f.calls)
	if os.IsNotExist(err) {
		return 0
	}
	require.NoError(t, err)
	return strings.Count(string(b), "\n")
}

func debSHA(t *testing.T, deb string) string {
	_, sum, err := hashFile(deb)
	require.NoError(t, err)
	return sum
}

func TestFetchWithFakeApt(t *testing.T) {
	deb := fakeDeb(t)
	apt := installFakeApt(t, deb, debSHA(t, deb), false)
	t.Setenv(EnvKernel, "")
	cache := t.TempDir()
	var log strings.Builder
	k, err := Fetch(context.Background(), FetchOptions{CacheDir: cache, Log: &log})
	require.NoError(t, err, log.String())
	assert.Equal(t, "linux-image-9.9.9-test", k.Package)
	assert.Equal(t, "9.9.9-1", k.Version)
	assert.Equal(t, "9.9.9-test", k.Release)
	assert.Equal(t, "cache", k.Source)
	var names []string
	for _, m := range k.Modules {
		names = append(names, m.Name)
		assert.FileExists(t, m.Path)
		assert.Len(t, m.SHA256, 64)
	}
	// virtio_net is built in; unrelated is not needed; dependencies come first.
	assert.Equal(t, []string{"virtio_ring", "virtio", "virtio_pci", "virtio_blk", "virtio_console"}, names)
	b, err := os.ReadFile(k.Vmlinuz)
	require.NoError(t, err)
	assert.Equal(t, "not really a kernel", string(b))
	assert.Contains(t, log.String(), "kept vmlinuz")

	// Only the kept files remain: no .deb, no unpacked tree, no System.map.
	var files []string
	require.NoError(t, filepath.WalkDir(cache, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(cache, p)
			files = append(files, rel)
		}
		return err
	}))
	assert.ElementsMatch(t, []string{
		"kernel/.lock", "kernel/latest",
		"kernel/linux-image-9.9.9-test_9.9.9-1/manifest.json",
		"kernel/linux-image-9.9.9-test_9.9.9-1/vmlinuz",
		"kernel/linux-image-9.9.9-test_9.9.9-1/modules/virtio_ring.ko",
		"kernel/linux-image-9.9.9-test_9.9.9-1/modules/virtio.ko",
		"kernel/linux-image-9.9.9-test_9.9.9-1/modules/virtio_pci.ko",
		"kernel/linux-image-9.9.9-test_9.9.9-1/modules/virtio_blk.ko",
		"kernel/linux-image-9.9.9-test_9.9.9-1/modules/virtio_console.ko",
	}, files)

	// Idempotent: a second fetch downloads nothing; concurrent fetches download nothing either.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = Fetch(context.Background(), FetchOptions{CacheDir: cache})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, 1, apt.count(t))

	// Locate finds the cached kernel without apt.
	l, err := Locate(cache, "")
	require.NoError(t, err)
	assert.Equal(t, k, l)

	// A damaged cache is noticed, and Fetch repairs it.
	require.NoError(t, os.WriteFile(k.Modules[2].Path, []byte("tampered"), 0o644))
	_, err = Locate(cache, "")
	assert.ErrorContains(t, err, "changed since it was fetched")
	_, err = Fetch(context.Background(), FetchOptions{CacheDir: cache})
	require.NoError(t, err)
	assert.Equal(t, 2, apt.count(t))
	_, err = Locate(cache, "")
	require.NoError(t, err)

	// Without apt, Fetch falls back to the cached kernel and says so.
	t.Setenv("PATH", t.TempDir())
	log.Reset()
	k2, err := Fetch(context.Background(), FetchOptions{CacheDir: cache, Log: &log})
	require.NoError(t, err)
	assert.Equal(t, k.Vmlinuz, k2.Vmlinuz)
	assert.Contains(t, log.String(), "apt-cache not found: install the apt package")
}

func TestFetchConcurrentFirstDownload(t *testing.T) {
	deb := fakeDeb(t)
	apt := installFakeApt(t, deb, debSHA(t, deb), false)
	cache := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = Fetch(context.Background(), FetchOptions{CacheDir: cache})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, 1, apt.count(t), "the lock makes the others wait and reuse the download")
}

func TestFetchErrors(t *testing.T) {
	deb := fakeDeb(t)

	t.Run("damaged download", func(t *testing.T) {
		installFakeApt(t, deb, strings.Repeat("ab", 32), false)
		_, err := Fetch(context.Background(), FetchOptions{CacheDir: t.TempDir()})
		assert.ErrorContains(t, err, "the download is damaged")
	})
	t.Run("no network", func(t *testing.T) {
		installFakeApt(t, deb, debSHA(t, deb), true)
		cache := t.TempDir()
		_, err := Fetch(context.Background(), FetchOptions{CacheDir: cache})
		assert.ErrorContains(t, err, "Temporary failure resolving")
		assert.ErrorContains(t, err, "check the network")
		assert.ErrorContains(t, err, EnvKernel)
		entries, _ := os.ReadDir(filepath.Join(cache, "kernel"))
		for _, e := range entries {
			assert.False(t, strings.HasPrefix(e.Name(), ".fetch-"), "work folder %s left behind", e.Name())
		}
	})
	t.Run("no apt", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		_, err := Fetch(context.Background(), FetchOptions{CacheDir: t.TempDir()})
		assert.ErrorContains(t, err, "apt-cache not found: install the apt package (apt-get install apt)")
	})
	t.Run("module missing", func(t *testing.T) {
		installFakeApt(t, deb, debSHA(t, deb), false)
		_, err := Fetch(context.Background(), FetchOptions{CacheDir: t.TempDir(), Modules: []string{"virtio_scsi"}})
		assert.ErrorContains(t, err, "kernel module virtio_scsi is neither in the package nor built into the kernel")
	})
}

func TestLocateOverrides(t *testing.T) {
	cache := t.TempDir()
	t.Setenv(EnvKernel, "")
	_, err := Locate(cache, "")
	var nf *NotFoundError
	require.ErrorAs(t, err, &nf)
	assert.Contains(t, err.Error(), "run 'oemact kernel build' or 'oemact kernel fetch' (or 'make kernel'), or set OEMACT_KERNEL")

	bare := filepath.Join(t.TempDir(), "bzImage")
	require.NoError(t, os.WriteFile(bare, []byte("k"), 0o644))
	t.Setenv(EnvKernel, bare)
	k, err := Locate(cache, "")
	require.NoError(t, err)
	assert.Equal(t, bare, k.Vmlinuz)
	assert.Equal(t, EnvKernel, k.Source)
	assert.Empty(t, k.Modules)
	assert.Contains(t, k.Note, "built in")

	k, err = Locate(cache, filepath.Join(cache, "nope"))
	assert.Nil(t, k)
	assert.ErrorContains(t, err, "(from --kernel)")
}

func TestLocateUnpackedPackage(t *testing.T) {
	deb := fakeDeb(t)
	tree := t.TempDir()
	b, err := exec.Command(hosttooltest.Require(t, "dpkg-deb"), "-x", deb, tree).CombinedOutput()
	require.NoError(t, err, "%s", b)
	for _, p := range []string{tree, filepath.Join(tree, "boot", "vmlinuz-9.9.9-test")} {
		k, err := Locate(t.TempDir(), p)
		require.NoError(t, err, p)
		assert.Equal(t, "9.9.9-test", k.Release)
		require.Len(t, k.Modules, 5, p)
		assert.Equal(t, "virtio_console", k.Modules[4].Name)
	}
}

func TestLoadOrder(t *testing.T) {
	index := map[string][]string{"a": {"b", "c"}, "b": {"c"}, "c": nil, "x": {"y"}, "y": {"x"}, "m": {"gone"}}
	got, err := LoadOrder(index, nil, []string{"a"})
	require.NoError(t, err)
	assert.Equal(t, []string{"c", "b", "a"}, got)
	_, err = LoadOrder(index, nil, []string{"x"})
	assert.ErrorContains(t, err, "cycle: x -> y -> x")
	_, err = LoadOrder(index, nil, []string{"m"})
	assert.ErrorContains(t, err, "kernel module m needs gone")
	_, err = LoadOrder(index, map[string]bool{"gone": true, "z": true}, []string{"m", "z", "a-b"})
	assert.ErrorContains(t, err, "a_b is neither", "dashes fold to underscores")
	got, err = LoadOrder(index, map[string]bool{"gone": true, "z": true}, []string{"m", "z"})
	require.NoError(t, err)
	assert.Equal(t, []string{"m"}, got)
}

// TestCachedCloudKernel checks the real kernel the harness boots, when it has been fetched
// ('make kernel'; 'make test' does it first).
func TestCachedCloudKernel(t *testing.T) {
	k, err := CachedCloud(userCache(t))
	if err != nil {
		hosttooltest.Unavailable(t, err.Error())
	}
	var names []string
	for _, m := range k.Modules {
		names = append(names, m.Name)
		mi, err := ReadModInfo(m.Path)
		require.NoError(t, err)
		assert.Equal(t, m.Name, mi.Name)
		if k.Release != "" {
			assert.True(t, strings.HasPrefix(mi.Vermagic, k.Release+" "), "%s vermagic %q", m.Name, mi.Vermagic)
		}
	}
	// The set notes/qemu.md measured for the cloud kernel; the order is derived from depends=.
	assert.ElementsMatch(t, []string{"virtio_ring", "virtio", "virtio_pci_modern_dev", "virtio_pci_legacy_dev",
		"virtio_pci", "virtio_blk", "virtio_console", "failover", "net_failover", "virtio_net"}, names)
	pos := map[string]int{}
	for i, n := range names {
		pos[n] = i
	}
	for _, m := range k.Modules {
		for _, d := range m.Depends {
			assert.Less(t, pos[d], pos[m.Name], "%s loads before %s, which needs it", d, m.Name)
		}
	}
}

// userCache is the cache oemact and the Makefile use (CacheDir).
func userCache(t *testing.T) string {
	d, err := CacheDir()
	require.NoError(t, err)
	return d
}
