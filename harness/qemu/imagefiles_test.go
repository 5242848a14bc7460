package qemu

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
)

// Images made by qemu-img that reach other files: a backing chain across folders, a qcow2 with an
// external data file, a VMDK split into extent files. ImageFiles lists every one, as QEMU would
// open them.
func TestImageFiles(t *testing.T) {
	tool := hosttooltest.Require(t, "qemu-img")
	dir := t.TempDir()
	img := func(args ...string) {
		t.Helper()
		cmd := exec.Command(tool, append([]string{"create", "-q"}, args...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
	}
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	img("-f", "raw", "base.raw", "4M")
	img("-f", "qcow2", "-b", "../base.raw", "-F", "raw", "sub/mid.qcow2")
	img("-f", "qcow2", "-b", "mid.qcow2", "-F", "qcow2", "sub/top.qcow2")
	img("-f", "qcow2", "-o", "data_file=data.raw", "dq.qcow2", "4M")
	img("-f", "vmdk", "-o", "subformat=twoGbMaxExtentFlat", "split.vmdk", "4M")
	img("-f", "vhdx", "plain.vhdx", "4M")
	p := func(name string) string { return filepath.Join(dir, name) }
	for _, tc := range []struct {
		image, format string
		want          []string
	}{
		{"sub/top.qcow2", "qcow2", []string{p("sub/top.qcow2"), p("sub/mid.qcow2"), p("base.raw")}},
		{"dq.qcow2", "qcow2", []string{p("dq.qcow2"), p("data.raw")}},
		{"split.vmdk", "vmdk", []string{p("split.vmdk"), p("split-f001.vmdk")}},
		{"plain.vhdx", "vhdx", []string{p("plain.vhdx")}},
		{"base.raw", "raw", []string{p("base.raw")}},
	} {
		got, err := ImageFiles(context.Background(), p(tc.image), tc.format)
		require.NoError(t, err, tc.image)
		assert.Equal(t, tc.want, got, tc.image)
	}
	_, err := ImageFiles(context.Background(), p("base.raw"), "qcow2")
	assert.ErrorContains(t, err, "qemu-img info "+p("base.raw"))

	// A backing file that is not a local file is refused.
	img("-f", "qcow2", "-u", "-b", "nbd://example.invalid/disk", "-F", "raw", "net.qcow2", "4M")
	_, err = ImageFiles(context.Background(), p("net.qcow2"), "qcow2")
	assert.ErrorContains(t, err, `references "nbd://example.invalid/disk", which is not a local file`)
}
