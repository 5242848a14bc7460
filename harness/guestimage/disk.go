package guestimage

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// The disk's layout: an MBR, a FAT32 EFI system partition holding both boot loaders, the kernel
// and the initramfs, then the ext4 root file system. Partitions start on 1 MiB boundaries.
const (
	sector     = 512
	alignBytes = 1 << 20
	espBytes   = 64 << 20
	// espType is the MBR type OVMF looks for to find an EFI system partition; linuxType is a
	// Linux file system.
	espType   = 0xEF
	linuxType = 0x83
	// mbrCode is the boot code area of an MBR: syslinux's mbr.bin fits it.
	mbrCode = 440
)

// partition is one MBR partition table entry.
type partition struct {
	Active bool
	Type   byte
	Start  uint32 // first sector (LBA)
	Count  uint32 // sectors
}

// encodeMBR returns sector 0: the boot code (at most 440 bytes), the disk signature, the
// partition entries and 0x55AA. CHS fields hold the "use LBA" marker (1023/254/63): every
// firmware and boot loader here reads LBA.
func encodeMBR(code []byte, signature uint32, parts []partition) ([]byte, error) {
	if len(code) > mbrCode {
		return nil, fmt.Errorf("MBR boot code is %d bytes; the MBR holds %d", len(code), mbrCode)
	}
	if len(parts) > 4 {
		return nil, fmt.Errorf("%d partitions; an MBR holds 4", len(parts))
	}
	b := make([]byte, sector)
	copy(b, code)
	binary.LittleEndian.PutUint32(b[440:], signature)
	for i, p := range parts {
		e := b[446+16*i : 446+16*(i+1)]
		if p.Active {
			e[0] = 0x80
		}
		copy(e[1:4], []byte{0xFE, 0xFF, 0xFF})
		e[4] = p.Type
		copy(e[5:8], []byte{0xFE, 0xFF, 0xFF})
		binary.LittleEndian.PutUint32(e[8:], p.Start)
		binary.LittleEndian.PutUint32(e[12:], p.Count)
	}
	b[510], b[511] = 0x55, 0xAA
	return b, nil
}

// layout places the ESP and a root file system of rootBytes on the disk.
func layout(rootBytes int64) (esp, root partition, size int64) {
	rootBytes = roundUp(rootBytes, alignBytes)
	esp = partition{Active: true, Type: espType, Start: alignBytes / sector, Count: espBytes / sector}
	root = partition{Type: linuxType, Start: esp.Start + esp.Count, Count: uint32(rootBytes / sector)}
	return esp, root, int64(root.Start+root.Count) * sector
}

func roundUp(n, to int64) int64 { return (n + to - 1) / to * to }

// writeDisk creates the disk image file: MBR, and the ESP image copied to its partition. The
// root partition is left as a hole for mkfs.ext4 to fill.
func writeDisk(path string, mbr []byte, esp partition, espImage string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return err
	}
	if _, err := f.WriteAt(mbr, 0); err != nil {
		return err
	}
	in, err := os.Open(espImage)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	if st.Size() != int64(esp.Count)*sector {
		return fmt.Errorf("%s is %d bytes; its partition holds %d", espImage, st.Size(), int64(esp.Count)*sector)
	}
	if _, err := io.Copy(io.NewOffsetWriter(f, int64(esp.Start)*sector), in); err != nil {
		return err
	}
	return f.Close()
}
