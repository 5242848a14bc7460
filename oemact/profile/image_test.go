package profile

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostTool finds a program the test needs; without it the test skips, except in CI (CI=true),
// where .ci/install-deps installs it and a missing tool is a failure.
func hostTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found: install the %s package", name, pkg)
	}
	t.Skipf("%s not found: install the %s package", name, pkg)
	return ""
}

// qemuImg makes a 4 MiB image of a format with qemu-img, QEMU's own tool.
func qemuImg(t *testing.T, dir, name, format string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	out, err := exec.Command(hostTool(t, "qemu-img", "qemu-utils"), "create", "-q", "-f", format, p, "4M").CombinedOutput()
	require.NoError(t, err, string(out))
	return p
}

func imageProfile(dir, vm string) string {
	return "name: img\nacpi: {oem_id: TSTOEM, oem_table_id: TSTBOARD}\nvm:\n" + vm
}

// Every format QEMU reads is told by its content, whatever the file is called; the path resolves
// against the profile's folder, and the file is one of the profile's files.
func TestImageFormats(t *testing.T) {
	dir := t.TempDir()
	for _, format := range []string{"raw", "qcow2", "vmdk", "vhdx"} {
		qemuImg(t, dir, "os-"+format+".img", format)
	}
	for _, format := range []string{"raw", "qcow2", "vmdk", "vhdx"} {
		t.Run(format, func(t *testing.T) {
			body := imageProfile(dir, "  boot: disk\n  disks:\n    - {serial: BLANK0}\n    - {serial: OSDISK01, file: os-"+format+".img}\n")
			path := filepath.Join(dir, "p-"+format+".yaml")
			require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
			p, err := Load(path)
			require.NoError(t, err)
			im := p.VM.BootImage()
			require.NotNil(t, im)
			assert.Equal(t, format, im.Format)
			assert.Equal(t, filepath.Join(dir, "os-"+format+".img"), im.Path)
			assert.Equal(t, "OSDISK01", im.Serial)
			assert.True(t, p.VM.BootsImage())
			assert.Contains(t, p.Files(), File{"vm.disks.1.file", "os-" + format + ".img", im.Path})
			c, err := p.Clone()
			require.NoError(t, err)
			assert.Equal(t, p.VM, c.VM, "a clone keeps what Parse read of the image")
		})
	}
}

// A CD-ROM is an ISO 9660 image (here made by xorriso) on the AHCI/IDE controller.
func TestImageCDROM(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	require.NoError(t, os.MkdirAll(src, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(src, "README"), []byte("TEST"), 0o644))
	out, err := exec.Command(hostTool(t, "xorriso", "xorriso"), "-as", "mkisofs", "-quiet", "-o", filepath.Join(dir, "os.iso"), src).CombinedOutput()
	require.NoError(t, err, string(out))
	p, err := Parse([]byte(imageProfile(dir, "  boot: cdrom\n  disks: [{file: os.iso, interface: ide}]\n")), filepath.Join(dir, "p.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "raw", p.VM.BootImage().Format)
	assert.Equal(t, "ide", p.VM.BootImage().Interface)
}

func TestImageErrors(t *testing.T) {
	dir := t.TempDir()
	qemuImg(t, dir, "os.qcow2", "qcow2")
	qemuImg(t, dir, "os.vhd", "vpc")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "empty.img"), nil, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "raw.img"), make([]byte, 64<<10), 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "folder"), 0o755))
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
	for _, tc := range []struct{ name, vm, want string }{
		{"boot word", "  boot: network\n", `p.yaml:4: vm.boot: "network": want kernel`},
		{"image on a kernel boot", "  disks: [{file: os.qcow2}]\n", "p.yaml:4: vm.disks.0.file: a disk image boots with vm.boot: disk or cdrom"},
		{"no image", "  boot: disk\n  disks: [{serial: D0}]\n", "p.yaml:4: vm.boot: disk boots an OS image: give one disk a file"},
		{"two images", "  boot: disk\n  disks:\n    - {file: os.qcow2}\n    - {file: raw.img}\n", "p.yaml:7: vm.disks.1.file: disk 0 already holds the image to boot"},
		{"size of an image", "  boot: disk\n  disks: [{file: os.qcow2, size_mb: 8}]\n", "vm.disks.0.size_mb: a disk image has its own size"},
		{"interface", "  boot: disk\n  disks: [{file: os.qcow2, interface: scsi}]\n", `vm.disks.0.interface: "scsi": want virtio or ide`},
		{"blank disk interface", "  disks: [{serial: D0, interface: ide}]\n", "vm.disks.0.interface: only a disk with an image"},
		{"blank disk serial", "  boot: disk\n  disks: [{file: os.qcow2}, {size_mb: 8}]\n", `vm.disks.1.serial: "": want 1 to 20`},
		{"image serial", "  boot: disk\n  disks: [{file: os.qcow2, serial: \"a b\"}]\n", `vm.disks.0.serial: "a b"`},
		{"cdrom on virtio", "  boot: cdrom\n  disks: [{file: os.qcow2, interface: virtio}]\n", "vm.disks.0.interface: a CD-ROM sits on the AHCI/IDE controller"},
		{"cdrom of a qcow2", "  boot: cdrom\n  disks: [{file: os.qcow2}]\n", "vm.disks.0.file: os.qcow2: a qcow2 disk image; a CD-ROM is an ISO 9660 or UDF image"},
		{"cdrom of no ISO", "  boot: cdrom\n  disks: [{file: raw.img}]\n", "vm.disks.0.file: raw.img: no ISO 9660 or UDF volume descriptor at offset 0x8001"},
		{"VHD", "  boot: disk\n  disks: [{file: os.vhd}]\n", "vm.disks.0.file: os.vhd: a VHD (Virtual PC) image, which is not supported: convert it"},
		{"missing", "  boot: disk\n  disks: [{file: nope.img}]\n", "p.yaml:5: vm.disks.0.file: nope.img: no such file or directory"},
		{"empty", "  boot: disk\n  disks: [{file: empty.img}]\n", "vm.disks.0.file: empty.img: the file is empty: not a disk image"},
		{"folder", "  boot: disk\n  disks: [{file: folder}]\n", "is a folder"},
		{"fifo", "  boot: disk\n  disks: [{file: fifo}]\n", "is a named pipe"},
	} {
		_, err := Parse([]byte(imageProfile(dir, tc.vm)), filepath.Join(dir, "p.yaml"))
		require.Error(t, err, tc.name)
		assert.Contains(t, strings.ReplaceAll(err.Error(), dir+"/", ""), tc.want, tc.name)
	}
}

func TestDetectImageFormat(t *testing.T) {
	for head, want := range map[string]string{
		"QFI\xfb\x00\x00\x00\x03": "qcow2", "KDMV\x01": "vmdk", "# Disk DescriptorFile\ncreateType=": "vmdk",
		"vhdxfile": "vhdx", "\xeb\x63\x90": "raw", "": "raw", "QFI": "raw",
	} {
		got, err := DetectImageFormat([]byte(head))
		require.NoError(t, err, "%q", head)
		assert.Equal(t, want, got, "%q", head)
	}
	_, err := DetectImageFormat([]byte("conectix"))
	assert.ErrorContains(t, err, "VHD")
}

// Any file's first bytes give a format of the list or an error, never a panic; a CD-ROM's check
// reads past the end of a short file without harm.
func FuzzImageFormat(f *testing.F) {
	for _, seed := range []string{"QFI\xfb\x00\x00\x00\x03", "KDMV\x01\x00\x00\x00", "# Disk DescriptorFile\n", "vhdxfile", "conectix", "", "\x00"} {
		f.Add([]byte(seed), false)
	}
	iso := make([]byte, volumeDescOff+volumeDescSize)
	copy(iso[volumeDescOff:], "CD001")
	f.Add(iso, true)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte, cdrom bool) {
		path := filepath.Join(dir, "img")
		require.NoError(t, os.WriteFile(path, b, 0o644))
		format, err := imageFormat(path, cdrom)
		if err != nil {
			return
		}
		assert.Contains(t, []string{FormatRaw, FormatQCOW2, FormatVMDK, FormatVHDX}, format)
		if cdrom {
			assert.Equal(t, FormatRaw, format)
		}
	})
}
