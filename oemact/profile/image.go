package profile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/oemact/oemact/firmware/fileio"
)

// What a machine boots (vm.boot).
const (
	// BootKernel is the harness's own guest kernel with oemact as its init (the default).
	BootKernel = "kernel"
	// BootDisk boots the image of the disk that names a file, through the firmware and the
	// image's own boot loader.
	BootDisk = "disk"
	// BootCDROM boots it as a CD-ROM (an ISO 9660 or UDF image).
	BootCDROM = "cdrom"
)

// Disk image formats, as QEMU names them.
const (
	FormatRaw   = "raw"
	FormatQCOW2 = "qcow2"
	FormatVMDK  = "vmdk"
	FormatVHDX  = "vhdx"
)

// Disk interfaces an image disk may sit on.
const (
	InterfaceVirtio = "virtio"
	// InterfaceIDE is the AHCI controller on q35 (IDE on pc): for an OS without virtio drivers,
	// such as a stock Windows image.
	InterfaceIDE = "ide"
)

// imageHeadSize is what DetectImageFormat needs: the first 512 bytes, and for a CD-ROM the
// volume descriptor at 32 KiB (ISO 9660 and UDF put their first one in sector 16).
const (
	imageHeadSize  = 512
	volumeDescOff  = 16*2048 + 1
	volumeDescSize = 5
)

// DetectImageFormat says which disk image format the first bytes of a file show: qcow2 ("QFI\xfb"),
// a VMDK hosted sparse extent ("KDMV") or descriptor ("# Disk DescriptorFile"), VHDX
// ("vhdxfile"), else raw. A dynamic VHD ("conectix", Virtual PC) is an error: convert it with
// qemu-img convert -O vhdx.
func DetectImageFormat(head []byte) (string, error) {
	switch {
	case bytes.HasPrefix(head, []byte("QFI\xfb")):
		return FormatQCOW2, nil
	case bytes.HasPrefix(head, []byte("KDMV")), bytes.HasPrefix(head, []byte("# Disk DescriptorFile")):
		return FormatVMDK, nil
	case bytes.HasPrefix(head, []byte("vhdxfile")):
		return FormatVHDX, nil
	case bytes.HasPrefix(head, []byte("conectix")):
		return "", errors.New("a VHD (Virtual PC) image, which is not supported: convert it with 'qemu-img convert -O vhdx' (or -O qcow2)")
	}
	return FormatRaw, nil
}

// imageFormat reads the first bytes of a disk image, refusing what is not a regular file, and
// returns its format; for a CD-ROM it also checks the volume descriptor of ISO 9660 ("CD001") or
// UDF ("BEA01").
func imageFormat(path string, cdrom bool) (string, error) {
	f, _, err := fileio.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, imageHeadSize)
	n, err := f.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("reading it: %w", err)
	}
	if n == 0 {
		return "", errors.New("the file is empty: not a disk image")
	}
	format, err := DetectImageFormat(head[:n])
	if err != nil || !cdrom {
		return format, err
	}
	if format != FormatRaw {
		return "", fmt.Errorf("a %s disk image; a CD-ROM is an ISO 9660 or UDF image (vm.boot: disk boots a disk image)", format)
	}
	vd := make([]byte, volumeDescSize)
	if _, err := f.ReadAt(vd, volumeDescOff); err != nil && err != io.EOF {
		return "", fmt.Errorf("reading it: %w", err)
	}
	if !bytes.Equal(vd, []byte("CD001")) && !bytes.Equal(vd, []byte("BEA01")) {
		return "", fmt.Errorf("no ISO 9660 or UDF volume descriptor at offset %#x: not a CD-ROM image", volumeDescOff)
	}
	return FormatRaw, nil
}

// BootImage returns the disk whose image the machine boots (vm.boot disk or cdrom), or nil for a
// kernel boot.
func (v *VM) BootImage() *Disk {
	if !v.BootsImage() {
		return nil
	}
	for i := range v.Disks {
		if v.Disks[i].File != "" {
			return &v.Disks[i]
		}
	}
	return nil
}

// BootsImage reports whether the machine boots an OS image instead of the harness's kernel.
func (v *VM) BootsImage() bool { return v.Boot == BootDisk || v.Boot == BootCDROM }

// validateDisks checks the disks and the boot: a blank disk needs a serial and may have a size;
// an image disk (file:) is booted with vm.boot disk or cdrom, exactly one per machine, and its
// format is read from its content.
func (p *Profile) validateDisks() error {
	v := &p.VM
	switch v.Boot {
	case "", BootKernel, BootDisk, BootCDROM:
	default:
		return p.errAt("vm.boot", "%q: want kernel (the harness's own kernel and agent), disk or cdrom (an OS image's own boot loader)", v.Boot)
	}
	image := -1
	for i := range v.Disks {
		d := &v.Disks[i]
		field := fmt.Sprintf("vm.disks.%d", i)
		if d.File == "" {
			if !serialRe().MatchString(d.Serial) {
				return p.errAt(field+".serial", "%q: want 1 to 20 of A-Z a-z 0-9 . _ - (virtio-blk serials hold 20 bytes)", d.Serial)
			}
			if d.SizeMB != 0 && (d.SizeMB < 1 || d.SizeMB > 1<<20) {
				return p.errAt(field+".size_mb", "%d: want 1 to 1048576", d.SizeMB)
			}
			if d.Interface != "" {
				return p.errAt(field+".interface", "only a disk with an image (file:) chooses its interface; blank disks are virtio")
			}
			continue
		}
		if err := p.validateImageDisk(field, d, image); err != nil {
			return err
		}
		image = i
	}
	if v.BootsImage() && image < 0 {
		return p.errAt("vm.boot", "%s boots an OS image: give one disk a file (vm.disks: [{file: IMAGE}])", v.Boot)
	}
	return nil
}

func (p *Profile) validateImageDisk(field string, d *Disk, earlier int) error {
	v := &p.VM
	switch {
	case !v.BootsImage():
		return p.errAt(field+".file", "a disk image boots with vm.boot: disk or cdrom; the harness's own kernel (vm.boot: kernel, the default) takes blank disks only")
	case earlier >= 0:
		return p.errAt(field+".file", "disk %d already holds the image to boot; a machine boots one image", earlier)
	case d.Serial != "" && !serialRe().MatchString(d.Serial):
		return p.errAt(field+".serial", "%q: want 1 to 20 of A-Z a-z 0-9 . _ - (disk serials hold 20 bytes)", d.Serial)
	case d.SizeMB != 0:
		return p.errAt(field+".size_mb", "a disk image has its own size; size_mb is for blank disks")
	}
	switch d.Interface {
	case "", InterfaceVirtio, InterfaceIDE:
	default:
		return p.errAt(field+".interface", "%q: want virtio or ide (AHCI on q35, for an OS without virtio drivers)", d.Interface)
	}
	if v.Boot == BootCDROM && d.Interface == InterfaceVirtio {
		return p.errAt(field+".interface", "a CD-ROM sits on the AHCI/IDE controller, not virtio")
	}
	d.Path = p.Resolve(d.File)
	format, err := imageFormat(d.Path, v.Boot == BootCDROM)
	if err != nil {
		return p.errAt(field+".file", "%s: %s", d.File, plainFileError(err))
	}
	d.Format = format
	return nil
}

// plainFileError says what went wrong with a file; an open's error without the path it repeats.
func plainFileError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
