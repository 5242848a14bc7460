// Package harnesstest gives the harness's tests what booting needs: QEMU, the cached guest kernel
// and a static oemact binary, skipping (failing in CI) with the fix when one is missing.
package harnesstest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/oemact/oemact/harness/guestimage"
	"github.com/oemact/oemact/harness/hosttool"
	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
	"github.com/oemact/oemact/harness/kernel"
	"github.com/oemact/oemact/smbios"
)

// RepoRoot is the repository's top folder, found from this file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// CacheDir is the cache oemact and the Makefile use: $OEMACT_CACHE, else $XDG_CACHE_HOME/oemact,
// else ~/.cache/oemact ("" when there is none: the tests that need a kernel then say so).
func CacheDir() string {
	d, err := kernel.CacheDir()
	if err != nil {
		return ""
	}
	return d
}

// QEMU returns qemu-system-x86_64's path. Under -short (make test-short) tests that boot QEMU
// are skipped: that loop is for quick checks; make test and CI run them.
func QEMU(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: this test boots QEMU")
	}
	return hosttooltest.Require(t, "qemu-system-x86_64")
}

// Kernel returns the guest kernel the harness boots ('make kernel' builds or fetches it; 'make
// test' does so first).
func Kernel(t testing.TB) *kernel.Kernel {
	t.Helper()
	k, err := kernel.Locate(CacheDir(), "")
	if err != nil {
		hosttooltest.Unavailable(t, err.Error())
	}
	return k
}

// SMBIOSStructure encodes one raw SMBIOS structure, the form QEMU's -smbios file= takes, with the
// smbios package's encoder. Test data is fixed, so a structure the encoder refuses panics.
func SMBIOSStructure(typ uint8, handle uint16, formatted []byte, strs ...string) []byte {
	b, err := (&smbios.Structure{Type: typ, Handle: handle, Formatted: formatted, Strings: strs}).MarshalBinary()
	if err != nil {
		panic(err)
	}
	return b
}

// CloudKernel returns Debian's cloud kernel ('make kernel' fetches it), whose virtio drivers are
// modules the agent loads.
func CloudKernel(t testing.TB) *kernel.Kernel {
	t.Helper()
	k, err := kernel.CachedCloud(CacheDir())
	if err != nil {
		hosttooltest.Unavailable(t, err.Error())
	}
	return k
}

// BuildOemact builds the static oemact binary (CGO_ENABLED=0, -ldflags=-s -w, as the Makefile does) into dir and
// returns its path. Packages call it once from TestMain: linking takes seconds on a loaded host.
func BuildOemact(dir string) (string, error) { return buildStatic(dir, "oemact", "./cmd/oemact") }

// BuildAgent builds the static agent-only binary (cmd/oemact-agent) into dir, as the Makefile
// does, and returns its path: what `make build` gives the harness to boot.
func BuildAgent(dir string) (string, error) {
	return buildStatic(dir, "oemact-agent", "./cmd/oemact-agent")
}

func buildStatic(dir, name, pkg string) (string, error) {
	out := filepath.Join(dir, name)
	if err := hosttool.BuildStatic(context.Background(), RepoRoot(), pkg, out); err != nil {
		return "", err
	}
	return out, nil
}

// NoProcessIn fails the test if a process still runs with dir (or a folder inside it) as its
// working directory: QEMU runs in the artifacts folder, so this finds any QEMU left behind.
func NoProcessIn(t testing.TB, dir string) {
	t.Helper()
	abs, _ := filepath.Abs(dir)
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if err != nil {
			continue
		}
		if cwd == abs || strings.HasPrefix(cwd, abs+"/") {
			cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			t.Errorf("process %s still runs in %s: %s", e.Name(), cwd, strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
}

// Files lists the files under dir, relative to it.
func Files(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && p != dir {
			rel, _ := filepath.Rel(dir, p)
			if d.IsDir() {
				rel += "/"
			}
			out = append(out, rel)
		}
		return nil
	})
	return out
}

// GuestImage returns the cached Debian test image ('make guest-image' builds it; 'make test'
// does so first).
func GuestImage(t testing.TB) *guestimage.Image {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: this test needs the Debian guest image")
	}
	im, err := guestimage.Locate(guestimage.Options{CacheDir: CacheDir()})
	if err != nil {
		hosttooltest.Unavailable(t, err.Error())
	}
	return im
}

// FixtureImage is where the fixture image profiles find the Debian test image
// (fixtures/images/debian.img), linked there by 'make guest-image'.
func FixtureImage() string { return filepath.Join(RepoRoot(), "fixtures", "images", "debian.img") }

// GuestImageFixture returns the cached Debian test image after checking that FixtureImage names
// it, so that the fixture image scenarios boot this very image ('make guest-image' links it;
// 'make test' does so first).
func GuestImageFixture(t testing.TB) *guestimage.Image {
	t.Helper()
	im := GuestImage(t)
	st, err := os.Stat(FixtureImage())
	if err == nil {
		var is os.FileInfo
		if is, err = os.Stat(im.Path); err == nil && !os.SameFile(st, is) {
			err = fmt.Errorf("it is not %s, the image built from the current recipe", im.Path)
		}
	}
	if err != nil {
		hosttooltest.Unavailable(t, fmt.Sprintf("%s: %v: run 'make guest-image' (or 'oemact guest-image path --link %s')", FixtureImage(), err, FixtureImage()))
	}
	return im
}
