package guestimage_test

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
	"github.com/oemact/oemact/harness/internal/harnesstest"
)

// TestBuiltImage checks the cached image ('make guest-image' builds it) with the tools that read
// such disks: sfdisk, mtools and fsck.vfat for the ESP, e2fsck and debugfs for the root.
func TestBuiltImage(t *testing.T) {
	im := harnesstest.GuestImage(t)
	pt := sfdiskTable(t, im.Path)
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

func sfdiskTable(t *testing.T, path string) map[string]any {
	t.Helper()
	out, err := exec.Command(hosttooltest.Require(t, "sfdisk"), "--json", path).Output()
	require.NoError(t, err)
	var v struct {
		PartitionTable map[string]any `json:"partitiontable"`
	}
	require.NoError(t, json.Unmarshal(out, &v))
	return v.PartitionTable
}
