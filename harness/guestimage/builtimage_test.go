package guestimage_test

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/guestimage"
	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
	"github.com/oemact/oemact/harness/internal/harnesstest"
)

// TestBuiltImage checks the cached image ('make guest-image' builds it) with the tools that read
// such disks: sfdisk, mtools and fsck.vfat for the ESP, e2fsck and debugfs for the root.
func TestBuiltImage(t *testing.T) {
	im := harnesstest.GuestImage(t)
	pt := guestimage.SfdiskTable(t, im.Path)
	parts := pt["partitions"].([]any)
	require.Len(t, parts, 2)
	esp, root := parts[0].(map[string]any), parts[1].(map[string]any)
	assert.Equal(t, "ef", esp["type"])
	assert.Equal(t, true, esp["bootable"])
	assert.Equal(t, "83", root["type"])
	espOff := int64(esp["start"].(float64)) * 512
	rootOff := int64(root["start"].(float64)) * 512

	tool := func(name string, args ...string) string {
		t.Helper()
		var stderr strings.Builder
		cmd := exec.Command(hosttooltest.Require(t, name), args...)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		require.NoError(t, err, "%s %s:\n%s%s", name, strings.Join(args, " "), out, stderr.String())
		return string(out)
	}
	// fsck.vfat reads a whole device or file, at no offset: it checks a copy of the partition.
	espFile := filepath.Join(t.TempDir(), "esp.img")
	copyPart(t, im.Path, espOff, int64(esp["size"].(float64))*512, espFile)
	tool("fsck.vfat", "-n", espFile)
	fat := fmt.Sprintf("%s@@%d", im.Path, espOff)
	list := tool("mdir", "-/", "-a", "-b", "-i", fat, "::/")
	for _, f := range []string{"::/vmlinuz", "::/initrd.img", "::/syslinux/syslinux.cfg", "::/syslinux/ldlinux.sys", "::/syslinux/ldlinux.c32", "::/EFI/BOOT/BOOTX64.EFI"} {
		assert.Contains(t, list, f+"\n")
	}
	cfg := tool("mtype", "-i", fat, "::/syslinux/syslinux.cfg")
	assert.Contains(t, cfg, "APPEND root=UUID="+im.RootUUID+" rw console=ttyS0 panic=-1 no_timer_check\n")

	ext := fmt.Sprintf("%s?offset=%d", im.Path, rootOff)
	tool("e2fsck", "-fn", ext)
	assert.Equal(t, "oemact-guest\n", tool("debugfs", "-R", "cat /etc/hostname", ext))
	assert.Contains(t, tool("debugfs", "-R", "cat /usr/lib/udev/rules.d/60-qemu-guest-agent.rules", ext), `ATTR{name}=="org.qemu.guest_agent.0"`)
	assert.Contains(t, tool("debugfs", "-R", "stat /usr/sbin/qemu-ga", ext), "Type: regular")
}

// copyPart copies size bytes at off in the disk image to a new file.
func copyPart(t *testing.T, disk string, off, size int64, out string) {
	t.Helper()
	in, err := os.Open(disk)
	require.NoError(t, err)
	defer in.Close()
	f, err := os.Create(out)
	require.NoError(t, err)
	n, err := io.Copy(f, io.NewSectionReader(in, off, size))
	require.NoError(t, err)
	require.Equal(t, size, n, "%s ends inside the partition", disk)
	require.NoError(t, f.Close())
}
