// Package guestimage builds the Debian disk image the harness boots to test what an engineer's
// own OS image goes through: the image's boot loader under SeaBIOS and OVMF, an OS reading the
// firmware tables, and the QEMU guest agent answering. It is made from Debian packages with
// mmdebstrap and assembled without mounting anything or using loop devices, then cached by the
// hash of its recipe.
//
// It builds that one image; booting it is the qemu package's job, probing it the probe's.
package guestimage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/oemact/oemact/harness/hosttool"
	"github.com/oemact/oemact/harness/internal/filelock"
	"github.com/oemact/oemact/harness/kernel"
)

// recipeVersion changes whenever the build changes in a way the recipe's fields do not show.
const recipeVersion = 1

// Recipe is everything the image is made of. Its hash (with the apt sources file's content)
// names the cache folder. The packages are whatever the mirror serves when it is built.
type Recipe struct {
	Version int      `json:"version"`
	Suite   string   `json:"suite"`
	Include []string `json:"include"`
	// DpkgExclude are paths dpkg does not unpack (documentation the image never reads).
	DpkgExclude []string `json:"dpkg_exclude"`
	// Modules go into the initramfs (MODULES=list): what finds the root file system. The cloud
	// kernel builds ext4 in and virtio as modules.
	Modules []string `json:"initramfs_modules"`
	// Cmdline is the kernel command line; ROOT stands for the root file system's UUID.
	Cmdline  string `json:"cmdline"`
	Hostname string `json:"hostname"`
	// RootSpareMB is free space in the root file system beyond what the packages take.
	RootSpareMB int `json:"root_spare_mb"`
}

// DefaultRecipe is the test image: a minimal Debian 12 with systemd, udev (which starts
// qemu-guest-agent when its virtio-serial port appears: Debian's unit is started by a udev
// rule), dbus (for guest-shutdown, which runs shutdown(8) through logind), and the cloud kernel.
// It boots from a virtio disk: the cloud kernel has no AHCI driver. no_timer_check keeps the
// kernel from panicking at its IO-APIC timer check when TCG falls behind on a loaded host (seen:
// "IO-APIC + timer doesn't work!" in one SeaBIOS boot of a test run at a load average of 15; see
// harness/boot.BaseAppend).
func DefaultRecipe() Recipe {
	return Recipe{
		Version:     recipeVersion,
		Suite:       "bookworm",
		Include:     []string{"systemd-sysv", "udev", "dbus", "qemu-guest-agent", "initramfs-tools", "linux-image-cloud-amd64"},
		DpkgExclude: []string{"/usr/share/doc/*", "/usr/share/man/*", "/usr/share/locale/*", "/usr/share/info/*"},
		Modules:     []string{"virtio_pci", "virtio_blk"},
		Cmdline:     "root=UUID=ROOT rw console=ttyS0 panic=-1 no_timer_check",
		Hostname:    "oemact-guest",
		RootSpareMB: 256,
	}
}

// Image is a built image in the cache.
type Image struct {
	Path   string `json:"path,omitempty"` // the raw disk image
	Format string `json:"format"`         // raw
	Dir    string `json:"dir,omitempty"`
	Key    string `json:"key"` // the recipe's hash
	Recipe Recipe `json:"recipe"`
	// Sources is the apt sources file the packages came from.
	Sources       string    `json:"sources"`
	KernelRelease string    `json:"kernel_release"`
	RootUUID      string    `json:"root_uuid"`
	Size          int64     `json:"size"`
	Built         time.Time `json:"built"`
	// BuildSeconds is how long the build took, mmdebstrap included.
	BuildSeconds float64 `json:"build_seconds"`
}

const (
	imageName    = "debian.img"
	manifestName = "manifest.json"
	folder       = "guestimage"
)

// Options tune Build.
type Options struct {
	CacheDir string // default kernel.CacheDir()
	// Sources is the apt sources file mmdebstrap uses as its mirror; default this machine's
	// (DefaultSources).
	Sources string
	Recipe  *Recipe // default DefaultRecipe()
	Log     io.Writer
}

// DefaultSources returns this machine's apt sources file: the first
// /etc/apt/sources.list.d/*.sources, else /etc/apt/sources.list. mmdebstrap pastes a file given
// as its mirror into the image's sources, so the image uses the mirror this machine uses.
func DefaultSources() (string, error) {
	return findSources("/etc/apt")
}

func findSources(etc string) (string, error) {
	if m, _ := filepath.Glob(filepath.Join(etc, "sources.list.d", "*.sources")); len(m) > 0 {
		return m[0], nil
	}
	p := filepath.Join(etc, "sources.list")
	if st, err := os.Stat(p); err == nil && st.Size() > 0 {
		return p, nil
	}
	return "", fmt.Errorf("no apt sources file (%s or %s): configure apt, or give the sources file to use",
		filepath.Join(etc, "sources.list.d", "*.sources"), p)
}

// key is the hash of the recipe and the sources file's content.
func key(r Recipe, sources []byte) string {
	j, _ := json.Marshal(r)
	h := sha256.New()
	h.Write(j)
	h.Write([]byte{0})
	h.Write(sources)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Locate returns the image Build would make with o, if it is in the cache; a *NotBuiltError
// otherwise.
func Locate(o Options) (*Image, error) {
	o, sources, err := o.resolve()
	if err != nil {
		return nil, err
	}
	return load(filepath.Join(o.CacheDir, folder, key(*o.Recipe, sources)))
}

// NotBuiltError says the image is not in the cache and how to build it.
type NotBuiltError struct{ Dir string }

func (e *NotBuiltError) Error() string {
	return "the Debian guest image is not built in " + e.Dir + ": run 'make guest-image' (or 'oemact guest-image build', as root)"
}

func (o Options) resolve() (Options, []byte, error) {
	var err error
	if o.CacheDir == "" {
		if o.CacheDir, err = kernel.CacheDir(); err != nil {
			return o, nil, err
		}
	}
	if o.Sources == "" {
		if o.Sources, err = DefaultSources(); err != nil {
			return o, nil, err
		}
	}
	if o.Recipe == nil {
		r := DefaultRecipe()
		o.Recipe = &r
	}
	sources, err := os.ReadFile(o.Sources)
	if err != nil {
		return o, nil, fmt.Errorf("apt sources: %w", err)
	}
	return o, sources, nil
}

func load(dir string) (*Image, error) {
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, &NotBuiltError{Dir: dir}
	}
	if err != nil {
		return nil, err
	}
	var im Image
	if err := json.Unmarshal(b, &im); err != nil {
		return nil, fmt.Errorf("%s: %w (delete the folder to build the image again)", filepath.Join(dir, manifestName), err)
	}
	im.Dir = dir
	im.Path = filepath.Join(dir, imageName)
	st, err := os.Stat(im.Path)
	if err != nil || st.Size() != im.Size {
		return nil, fmt.Errorf("%s is missing or not the %d bytes its manifest says: delete %s to build it again", im.Path, im.Size, dir)
	}
	return &im, nil
}

// Build returns the cached image for the recipe and sources, building it first when it is not
// there. Building needs root (mmdebstrap unpacks packages as their owners, with device files)
// and takes about a minute and a half; concurrent builders wait on a lock in the cache.
func Build(ctx context.Context, o Options) (*Image, error) {
	o, sources, err := o.resolve()
	if err != nil {
		return nil, err
	}
	logf := func(format string, args ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, format+"\n", args...)
		}
	}
	root := filepath.Join(o.CacheDir, folder)
	k := key(*o.Recipe, sources)
	dir := filepath.Join(root, k)
	if im, err := load(dir); err == nil {
		logf("the guest image is cached: %s", im.Path)
		return im, nil
	}
	if os.Geteuid() != 0 {
		return nil, errors.New("building the guest image needs root: mmdebstrap unpacks Debian packages with their owners and device files (run 'make guest-image' as root)")
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("guest image cache: %w", err)
	}
	unlock, err := lock(filepath.Join(root, ".lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()
	if im, err := load(dir); err == nil { // built meanwhile
		return im, nil
	}
	work, err := os.MkdirTemp(root, ".build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	b := &builder{o: o, work: work, key: k, logf: logf, start: time.Now()}
	im, err := b.build(ctx)
	if err != nil {
		return nil, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.Rename(b.out, dir); err != nil {
		return nil, fmt.Errorf("guest image cache: %w", err)
	}
	logf("built %s (%d MB) in %.0f s", filepath.Join(dir, imageName), im.Size>>20, im.BuildSeconds)
	return load(dir)
}

// lock takes an exclusive flock on path, waiting for others.
func lock(path string) (func(), error) { return filelock.Lock(path, "guest image cache lock") }

// run runs a host tool in dir; the error carries the command and the end of its output.
func run(ctx context.Context, dir string, env []string, tool string, args ...string) error {
	path, err := hosttool.Find(tool)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String())
		if len(msg) > 3000 {
			msg = "..." + msg[len(msg)-3000:]
		}
		return fmt.Errorf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, msg)
	}
	return nil
}
