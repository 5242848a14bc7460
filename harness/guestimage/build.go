package guestimage

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Boot loader files from Debian packages.
const (
	syslinuxMBR = "/usr/lib/syslinux/mbr/mbr.bin" // syslinux-common
	grubEFIDir  = "/usr/lib/grub/x86_64-efi"      // grub-efi-amd64-bin
)

// builder makes one image in a work folder.
type builder struct {
	o     Options
	work  string
	key   string
	logf  func(string, ...any)
	start time.Time
	out   string // the folder holding the finished image and its manifest
}

// ids are the identifiers the image carries, derived from the recipe's hash so that a rebuild of
// the same recipe boots the same way.
type ids struct {
	rootUUID  string // ext4 file system UUID
	espSerial uint32 // FAT volume serial
	diskSig   uint32 // MBR disk signature
}

func idsFor(key string) ids {
	h := sha256.Sum256([]byte("oemact guest image " + key))
	u := h[:16]
	u[6] = u[6]&0x0F | 0x40 // version 4 layout, variant 10
	u[8] = u[8]&0x3F | 0x80
	return ids{
		rootUUID:  fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]),
		espSerial: binary.BigEndian.Uint32(h[16:20]),
		diskSig:   binary.BigEndian.Uint32(h[20:24]),
	}
}

// espLabel is how GRUB's search and Linux show a FAT volume serial.
func espLabel(serial uint32) string { return fmt.Sprintf("%04X-%04X", serial>>16, serial&0xFFFF) }

func (b *builder) build(ctx context.Context) (*Image, error) {
	r := *b.o.Recipe
	for _, need := range []struct{ path, pkg string }{{syslinuxMBR, "syslinux-common"}, {grubEFIDir, "grub-efi-amd64-bin"}} {
		if _, err := os.Stat(need.path); err != nil {
			return nil, fmt.Errorf("%s not found: install the %s package (apt-get install %s)", need.path, need.pkg, need.pkg)
		}
	}
	rootDir := filepath.Join(b.work, "root")
	if err := b.bootstrap(ctx, rootDir); err != nil {
		return nil, err
	}
	id := idsFor(b.key)
	release, vmlinuz, initrd, err := prepareRoot(rootDir, r, id)
	if err != nil {
		return nil, err
	}
	b.logf("making the boot partition: syslinux (BIOS) and GRUB (UEFI), kernel %s", release)
	esp, err := b.espImage(ctx, vmlinuz, initrd, r, id)
	if err != nil {
		return nil, err
	}
	used, err := treeSize(rootDir)
	if err != nil {
		return nil, err
	}
	// ext4 metadata (inode tables, journal) and the spare room the guest writes into.
	espPart, rootPart, size := layout(used + used/4 + int64(r.RootSpareMB)<<20 + 64<<20)
	code, err := os.ReadFile(syslinuxMBR)
	if err != nil {
		return nil, err
	}
	mbr, err := encodeMBR(code, id.diskSig, []partition{espPart, rootPart})
	if err != nil {
		return nil, err
	}
	b.out = filepath.Join(b.work, "out")
	if err := os.Mkdir(b.out, 0o755); err != nil {
		return nil, err
	}
	disk := filepath.Join(b.out, imageName)
	if err := writeDisk(disk, mbr, espPart, esp, size); err != nil {
		return nil, fmt.Errorf("writing %s: %w", disk, err)
	}
	b.logf("making the root file system (%d MB of files) in place with mkfs.ext4 -d", used>>20)
	// The file system is written straight into its partition of the image (offset=): no loop
	// device and no copy.
	rootOff := int64(rootPart.Start) * sector
	if err := run(ctx, b.work, nil, "mkfs.ext4", "-q", "-F", "-t", "ext4", "-d", rootDir, "-U", id.rootUUID, "-L", "oemact-root",
		"-E", fmt.Sprintf("offset=%d", rootOff), disk, fmt.Sprintf("%dk", int64(rootPart.Count)*sector/1024)); err != nil {
		return nil, err
	}
	st, err := os.Stat(disk)
	if err != nil {
		return nil, err
	}
	if st.Size() != size {
		return nil, fmt.Errorf("mkfs.ext4 left %s at %d bytes, not %d", disk, st.Size(), size)
	}
	im := &Image{Format: "raw", Key: b.key, Recipe: r, Sources: b.o.Sources, KernelRelease: release, RootUUID: id.rootUUID,
		Size: size, Built: time.Now().UTC(), BuildSeconds: time.Since(b.start).Seconds()}
	j, _ := json.MarshalIndent(im, "", "  ")
	return im, os.WriteFile(filepath.Join(b.out, manifestName), append(j, '\n'), 0o644)
}

// bootstrap runs mmdebstrap into rootDir. The initramfs settings go in before the packages are
// installed (an essential hook), so that the kernel's initramfs is made with them.
func (b *builder) bootstrap(ctx context.Context, rootDir string) error {
	r := b.o.Recipe
	hooks := filepath.Join(b.work, "hooks")
	files := map[string]string{
		"etc/initramfs-tools/conf.d/oemact": "# Only what finds the root file system: a small initramfs is quick to unpack.\nMODULES=list\n",
		"etc/initramfs-tools/hooks/oemact-modules": "#!/bin/sh\ncase \"$1\" in prereqs) exit 0 ;; esac\n" +
			". /usr/share/initramfs-tools/hook-functions\nmanual_add_modules " + strings.Join(r.Modules, " ") + "\n",
	}
	for name, content := range files {
		p := filepath.Join(hooks, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			return err
		}
	}
	args := []string{"--variant=minbase", "--include=" + strings.Join(r.Include, ",")}
	for _, x := range r.DpkgExclude {
		args = append(args, "--dpkgopt=path-exclude="+x)
	}
	args = append(args, "--essential-hook=sync-in "+hooks+" /", r.Suite, rootDir, b.o.Sources)
	b.logf("mmdebstrap %s (%s, from %s)", r.Suite, strings.Join(r.Include, ", "), b.o.Sources)
	// mmdebstrap's temporary files go in the work folder, not /tmp.
	if err := run(ctx, b.work, []string{"TMPDIR=" + b.work}, "mmdebstrap", args...); err != nil {
		return err
	}
	b.logf("mmdebstrap done after %.0f s", time.Since(b.start).Seconds())
	return nil
}

// prepareRoot finishes the root file system: host name, fstab, and a check that the guest agent
// will start. It returns the kernel release and the kernel and initramfs files.
func prepareRoot(rootDir string, r Recipe, id ids) (release, vmlinuz, initrd string, err error) {
	write := map[string]string{
		"etc/hostname": r.Hostname + "\n",
		"etc/fstab":    "UUID=" + id.rootUUID + " / ext4 rw,noatime 0 0\n",
	}
	for name, content := range write {
		if err := os.WriteFile(filepath.Join(rootDir, name), []byte(content), 0o644); err != nil {
			return "", "", "", err
		}
	}
	rule := "usr/lib/udev/rules.d/60-qemu-guest-agent.rules"
	if b, err := os.ReadFile(filepath.Join(rootDir, rule)); err != nil || !strings.Contains(string(b), "org.qemu.guest_agent.0") {
		return "", "", "", fmt.Errorf("the image has no /%s starting qemu-guest-agent on its port (%v): is qemu-guest-agent in the recipe?", rule, err)
	}
	if vmlinuz, err = inRoot(rootDir, "vmlinuz"); err != nil {
		return "", "", "", err
	}
	if initrd, err = inRoot(rootDir, "initrd.img"); err != nil {
		return "", "", "", err
	}
	release = strings.TrimPrefix(filepath.Base(vmlinuz), "vmlinuz-")
	return release, vmlinuz, initrd, nil
}

// inRoot resolves the symbolic link /name of the root file system inside it (its target is the
// guest's path, not the host's).
func inRoot(rootDir, name string) (string, error) {
	target, err := os.Readlink(filepath.Join(rootDir, name))
	if err != nil {
		return "", fmt.Errorf("the image has no /%s (is a linux-image package in the recipe?): %w", name, err)
	}
	p := filepath.Join(rootDir, filepath.Clean("/"+target))
	if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
		return "", fmt.Errorf("/%s points to %s, which is not a file in the image", name, target)
	}
	return p, nil
}

// espImage makes the FAT32 EFI system partition's image: the kernel and initramfs, syslinux for
// BIOS (its boot sector, with ldlinux.sys installed by the mtools installer: no mount), and a
// standalone GRUB as the UEFI removable-media loader \EFI\BOOT\BOOTX64.EFI.
func (b *builder) espImage(ctx context.Context, vmlinuz, initrd string, r Recipe, id ids) (string, error) {
	cmdline := strings.ReplaceAll(r.Cmdline, "ROOT", id.rootUUID)
	syslinuxCfg := filepath.Join(b.work, "syslinux.cfg")
	grubCfg := filepath.Join(b.work, "grub.cfg")
	efi := filepath.Join(b.work, "BOOTX64.EFI")
	esp := filepath.Join(b.work, "esp.img")
	for p, content := range map[string]string{
		syslinuxCfg: "DEFAULT linux\nPROMPT 0\nTIMEOUT 0\nLABEL linux\n  LINUX /vmlinuz\n  INITRD /initrd.img\n  APPEND " + cmdline + "\n",
		// gfxpayload=text: there is no display (QEMU runs with -display none and no VGA).
		grubCfg: "set timeout=0\nset gfxpayload=text\nsearch --no-floppy --fs-uuid --set=root " + espLabel(id.espSerial) + "\n" +
			"linux /vmlinuz " + cmdline + "\ninitrd /initrd.img\nboot\n",
	} {
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return "", err
		}
	}
	steps := [][]string{
		{"grub-mkstandalone", "-O", "x86_64-efi", "-d", grubEFIDir, "-o", efi, "--modules=part_msdos fat",
			"--install-modules=linux normal search search_fs_uuid part_msdos fat boot echo configfile",
			"--locales=", "--fonts=", "--themes=", "boot/grub/grub.cfg=" + grubCfg},
		{"mkfs.vfat", "-C", esp, fmt.Sprint(espBytes / 1024), "-F", "32", "-h", fmt.Sprint(alignBytes / sector),
			"-n", "OEMACT-ESP", "-i", fmt.Sprintf("%08X", id.espSerial)},
		{"mmd", "-i", esp, "::/syslinux", "::/EFI", "::/EFI/BOOT"},
		{"mcopy", "-i", esp, vmlinuz, "::/vmlinuz"},
		{"mcopy", "-i", esp, initrd, "::/initrd.img"},
		{"mcopy", "-i", esp, syslinuxCfg, "::/syslinux/syslinux.cfg"},
		{"mcopy", "-i", esp, efi, "::/EFI/BOOT/BOOTX64.EFI"},
		{"syslinux", "--install", "--directory", "/syslinux", esp},
	}
	for _, s := range steps {
		if err := run(ctx, b.work, []string{"MTOOLS_SKIP_CHECK=1"}, s[0], s[1:]...); err != nil {
			return "", err
		}
	}
	return esp, nil
}

// treeSize is the space the files under dir take in 4 KiB blocks.
func treeSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		n += roundUp(info.Size(), 4096) + 256 // the inode
		return nil
	})
	return n, err
}
