package kernel

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
)

func TestParseFragment(t *testing.T) {
	got, err := parseFragment([]byte("# a comment\n\nCONFIG_A=y\nCONFIG_B=\"x y\"\n# CONFIG_C is not set\nCONFIG_D=n\n"))
	require.NoError(t, err)
	assert.Equal(t, []option{{"CONFIG_A", "y"}, {"CONFIG_B", `"x y"`}, {"CONFIG_C", "n"}, {"CONFIG_D", "n"}}, got)

	for _, bad := range []string{"CONFIG_A\n", "A=y\n", "CONFIG_A=\n"} {
		_, err := parseFragment([]byte("CONFIG_OK=y\n" + bad))
		assert.ErrorContains(t, err, "line 2", bad)
	}

	// The fragment the harness builds with parses, and asks for what the agent needs.
	guest, err := parseFragment(GuestConfig)
	require.NoError(t, err)
	m := map[string]string{}
	for _, o := range guest {
		m[o.name] = o.value
	}
	for _, need := range []string{"CONFIG_PVH", "CONFIG_ACPI", "CONFIG_DMI_SYSFS", "CONFIG_VIRTIO_PCI", "CONFIG_VIRTIO_CONSOLE",
		"CONFIG_VIRTIO_BLK", "CONFIG_VIRTIO_NET", "CONFIG_TCG_TIS", "CONFIG_TCG_CRB", "CONFIG_SERIAL_8250_CONSOLE",
		"CONFIG_DEVTMPFS", "CONFIG_BLK_DEV_INITRD", "CONFIG_FUTEX", "CONFIG_EPOLL"} {
		assert.Equal(t, "y", m[need], need)
	}
	assert.Equal(t, "n", m["CONFIG_MODULES"])
}

func TestUnmetOptions(t *testing.T) {
	want := []option{{"CONFIG_A", "y"}, {"CONFIG_B", "n"}, {"CONFIG_C", "n"}, {"CONFIG_D", "y"}, {"CONFIG_E", "17"}, {"CONFIG_F", "y"}}
	config := "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_D=m\nCONFIG_E=17\n"
	// C is not offered at all (off), D became a module, F is missing.
	assert.Equal(t, []string{"CONFIG_D=y (got m)", "CONFIG_F=y (got absent)"}, unmetOptions(want, []byte(config)))
	assert.Empty(t, unmetOptions(want[:3], []byte(config)))
}

// fakeSourceDeb is a linux-source package whose "kernel" is a Makefile: tinyconfig writes a
// .config, olddefconfig drops CONFIG_DROPPED when asked to, vmlinux and bzImage write a small
// ELF with a PVH note and a kernel.release.
func fakeSourceDeb(t *testing.T) string {
	dpkgDeb := hosttooltest.Require(t, "dpkg-deb")
	tar := hosttooltest.Require(t, "tar")
	src := filepath.Join(t.TempDir(), "linux-source-9.9")
	require.NoError(t, os.MkdirAll(src, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(src, "pvh.elf"), linkedPVHELF(t), 0o644))
	mk := `tinyconfig:
	mkdir -p $(O)
	printf 'CONFIG_64BIT=y\n# CONFIG_SMP is not set\n' > $(O)/.config
olddefconfig:
	if [ -n "$$FAKE_DROP" ]; then sed -i "/^$$FAKE_DROP=/d" $(O)/.config; fi
vmlinux:
	cp pvh.elf $(O)/vmlinux
bzImage: vmlinux
	mkdir -p $(O)/arch/x86/boot $(O)/include/config
	printf 'bz' > $(O)/arch/x86/boot/bzImage
	printf '9.9.0-oemact\n' > $(O)/include/config/kernel.release
`
	require.NoError(t, os.WriteFile(filepath.Join(src, "Makefile"), []byte(mk), 0o644))
	tree := t.TempDir()
	usrSrc := filepath.Join(tree, "usr", "src")
	require.NoError(t, os.MkdirAll(usrSrc, 0o755))
	b, err := exec.Command(tar, "-C", filepath.Dir(src), "-cJf", filepath.Join(usrSrc, "linux-source-9.9.tar.xz"), "linux-source-9.9").CombinedOutput()
	require.NoError(t, err, "%s", b)
	require.NoError(t, os.MkdirAll(filepath.Join(tree, "DEBIAN"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(tree, "DEBIAN", "control"), []byte(
		"Package: linux-source-9.9\nVersion: 9.9-1\nArchitecture: all\nMaintainer: test <t@example.invalid>\nDescription: fake kernel source\n"), 0o644))
	deb := filepath.Join(t.TempDir(), "s.deb")
	b, err = exec.Command(dpkgDeb, "--root-owner-group", "-b", tree, deb).CombinedOutput()
	require.NoError(t, err, "%s", b)
	return deb
}

// linkedPVHELF links a small x86-64 executable with a PVH entry point note and section headers
// (strip refuses an ELF without sections, such as pvhELF).
func linkedPVHELF(t *testing.T) []byte {
	gcc := hosttooltest.Require(t, "gcc")
	dir := t.TempDir()
	c := fmt.Sprintf(`struct note { unsigned namesz, descsz, type; char name[4]; unsigned desc; };
__attribute__((section(".note.Xen"), used, aligned(4))) static const struct note pvh = {4, 4, %d, "Xen", 0x1000000};
void _start(void) { for (;;) ; }
`, xenElfNotePhys32Entry)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pvh.c"), []byte(c), 0o644))
	out := filepath.Join(dir, "pvh.elf")
	b, err := exec.Command(gcc, "-nostdlib", "-static", "-o", out, filepath.Join(dir, "pvh.c")).CombinedOutput()
	require.NoError(t, err, "%s", b)
	elf, err := os.ReadFile(out)
	require.NoError(t, err)
	require.NoError(t, checkPVH(elf))
	return elf
}

func installFakeSourceApt(t *testing.T, deb, sha string) {
	bin := t.TempDir()
	aptCache := fmt.Sprintf(`#!/bin/sh
case "$1" in
depends) echo "$2"; echo "  Depends: linux-source-9.9";;
show) printf 'Package: linux-source-9.9\nVersion: 9.9-1\nSHA256: %s\n\n';;
*) exit 100;;
esac
`, sha)
	aptGet := fmt.Sprintf(`#!/bin/sh
[ "$1" = download ] && [ "$2" = linux-source-9.9=9.9-1 ] || exit 100
cp %q ./linux-source-9.9_9.9-1_all.deb
`, deb)
	require.NoError(t, os.WriteFile(filepath.Join(bin, "apt-cache"), []byte(aptCache), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(bin, "apt-get"), []byte(aptGet), 0o755))
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
}

func TestBuildWithFakeSource(t *testing.T) {
	if missing := BuildToolsMissing(); len(missing) > 0 {
		hosttooltest.Unavailable(t, "kernel build tools missing: "+strings.Join(missing, ", "))
	}
	deb := fakeSourceDeb(t)
	t.Setenv(EnvKernel, "")
	frag := []byte("CONFIG_64BIT=y\n# CONFIG_SMP is not set\nCONFIG_DROPPED=y\nCONFIG_MODULES=n\n")

	t.Run("an option the source does not take", func(t *testing.T) {
		installFakeSourceApt(t, deb, debSHA(t, deb))
		t.Setenv("FAKE_DROP", "CONFIG_DROPPED")
		cache := t.TempDir()
		_, err := Build(context.Background(), BuildOptions{CacheDir: cache, Config: frag, Jobs: 1})
		assert.ErrorContains(t, err, "does not take these options of the guest configuration")
		assert.ErrorContains(t, err, "CONFIG_DROPPED=y (got absent)")
		_, err = cachedPointer(cache, builtPointer)
		assert.Error(t, err, "nothing is recorded as built")
	})

	t.Run("a damaged download", func(t *testing.T) {
		installFakeSourceApt(t, deb, strings.Repeat("0", 64))
		_, err := Build(context.Background(), BuildOptions{CacheDir: t.TempDir(), Config: frag, Jobs: 1})
		assert.ErrorContains(t, err, "the download is damaged")
	})

	t.Run("built, cached and preferred", func(t *testing.T) {
		installFakeSourceApt(t, deb, debSHA(t, deb))
		cache := t.TempDir()
		var log strings.Builder
		k, err := Build(context.Background(), BuildOptions{CacheDir: cache, Config: frag, Jobs: 1, Log: &log})
		require.NoError(t, err, log.String())
		assert.True(t, k.Built)
		assert.Equal(t, "9.9.0-oemact", k.Release)
		assert.Equal(t, "linux-source-9.9", k.Package)
		assert.Equal(t, "9.9-1", k.Version)
		assert.Empty(t, k.Modules)
		require.NoError(t, checkPVHFile(k.Vmlinux))
		cfg, err := os.ReadFile(k.Config)
		require.NoError(t, err)
		assert.Contains(t, string(cfg), "CONFIG_DROPPED=y")

		// Built again: from the cache, no download.
		log.Reset()
		k2, err := Build(context.Background(), BuildOptions{CacheDir: cache, Config: frag, Jobs: 1, Log: &log})
		require.NoError(t, err)
		assert.Equal(t, k.Vmlinux, k2.Vmlinux)
		assert.Contains(t, log.String(), "is built in")
		assert.NotContains(t, log.String(), "downloading")

		// Another fragment is another kernel.
		k3, err := Build(context.Background(), BuildOptions{CacheDir: cache, Config: append(frag, "CONFIG_X=y\n"...), Jobs: 1})
		require.NoError(t, err)
		assert.NotEqual(t, k.Dir, k3.Dir)

		// The harness boots the built kernel over a fetched one; CachedCloud still finds that.
		fetched := filepath.Join(cache, "kernel", "cloud")
		require.NoError(t, os.MkdirAll(fetched, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(fetched, "vmlinuz"), []byte("cloud"), 0o644))
		vz, err := keep(filepath.Join(fetched, "vmlinuz"), t.TempDir(), "vmlinuz")
		require.NoError(t, err)
		require.NoError(t, writeManifest(fetched, manifest{Format: manifestFormat, Package: "linux-image-9.9.9-test", Vmlinuz: vz, VmlinuxNote: "test"}))
		require.NoError(t, setLatest(filepath.Join(cache, "kernel"), "cloud"))
		got, err := Cached(cache)
		require.NoError(t, err)
		assert.Equal(t, k3.Dir, got.Dir)
		cloud, err := CachedCloud(cache)
		require.NoError(t, err)
		assert.Equal(t, "linux-image-9.9.9-test", cloud.Package)
		assert.False(t, cloud.Built)

		// A damaged built kernel is an error, not a silent fall back to the cloud kernel.
		require.NoError(t, os.WriteFile(k3.Vmlinux, []byte("changed"), 0o644))
		_, err = Cached(cache)
		assert.ErrorContains(t, err, "changed since it was fetched")
	})
}

func checkPVHFile(p string) error {
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	return checkPVH(b)
}

// TestCachedBuiltKernel checks the kernel 'make kernel' built, when there is one ('make test'
// builds it first): every option of the fragment holds in its .config, the vmlinux boots
// through PVH, and it needs no modules.
func TestCachedBuiltKernel(t *testing.T) {
	k, err := cachedPointer(userCache(t), builtPointer)
	if err != nil {
		hosttooltest.Unavailable(t, err.Error())
	}
	assert.True(t, k.Built)
	assert.Empty(t, k.Modules)
	want, err := parseFragment(GuestConfig)
	require.NoError(t, err)
	cfg, err := os.ReadFile(k.Config)
	require.NoError(t, err)
	if bad := unmetOptions(want, cfg); len(bad) > 0 {
		t.Errorf("the cached kernel was built from another fragment (run 'make kernel'): %v", bad)
	}
	require.NoError(t, checkPVHFile(k.Vmlinux))
	assert.True(t, strings.HasSuffix(k.Release, "-oemact"), k.Release)
	// The bzImage (booted with a TPM, see boot.usePVH) holds the same kernel, stripped.
	bz, err := os.ReadFile(k.Vmlinuz)
	require.NoError(t, err)
	out, err := Uncompress(bz)
	require.NoError(t, err)
	require.NoError(t, checkPVH(out))
}
