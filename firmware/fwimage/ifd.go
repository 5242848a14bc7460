package fwimage

// Intel flash descriptor (Intel PCH datasheets, "SPI flash descriptor"; coreboot's ifdtool): the
// signature 0x0FF0A55A at offset 0x10, FLMAP0 at 0x14 giving the region section's base (FRBA),
// and one FLREG per region: base = bits 0-14 << 12, limit = bits 16-30 << 12 | 0xFFF.

const (
	ifdSignature = 0x0FF0A55A
	ifdSigOff    = 0x10
	ifdSize      = 0x1000 // the descriptor region's size; the region section lies within it
	// ifdUnusedBase is the base field of a region that is not used (base 0x7FFF, limit 0).
	ifdUnusedBase = 0x7FFF
)

// regionNames are the flash regions by FLREG index, named as ifdtool and UEFITool name them.
var regionNames = []string{"Descriptor", "BIOS", "ME", "GbE", "PDR", "DevExp1", "BIOS2", "Microcode", "EC", "DevExp2"}

func isFlashDescriptor(b []byte) bool {
	return len(b) >= ifdSize && le.Uint32(b[ifdSigOff:]) == ifdSignature
}

// flash walks an image with an Intel flash descriptor: a node per region in use, the BIOS
// regions walked for volumes and coreboot structures.
func (w *walker) flash(d *data) {
	b := d.b
	frba := int64((le.Uint32(b[ifdSigOff+4:])>>16)&0xFF) << 4
	if frba == 0 || frba+int64(4*len(regionNames)) > ifdSize {
		w.fail(d, ifdSigOff+4, nil, ErrOutside, "the flash descriptor's region section base 0x%x is not inside the 4 KiB descriptor", frba)
		w.region(d, 0, int64(len(b)), nil, 0)
		return
	}
	for i, name := range regionNames {
		reg := le.Uint32(b[frba+int64(4*i):])
		baseField, limitField := reg&0x7FFF, (reg>>16)&0x7FFF
		if baseField == ifdUnusedBase || baseField > limitField || i > 0 && reg == 0 {
			continue
		}
		base, limit := int64(baseField)<<12, int64(limitField)<<12|0xFFF
		n := &Node{Kind: NodeRegion, Name: name + " region", Type: uint32(i), Size: limit + 1 - base}
		if base >= int64(len(b)) {
			w.fail(d, frba+int64(4*i), nil, ErrOutside, "FLREG%d (%s region) 0x%08X starts at 0x%x, past the image's %d bytes", i, name, reg, base, len(b))
			continue
		}
		if !w.add(d, nil, n, base, 0) {
			return
		}
		if limit >= int64(len(b)) {
			w.fail(d, base, n, ErrOutside, "FLREG%d (%s region) 0x%08X ends at 0x%x, past the image's %d bytes: walked to the end of the file", i, name, reg, limit, len(b))
			n.Size = int64(len(b)) - base
		}
		if name == "BIOS" || name == "BIOS2" {
			w.region(d, base, base+n.Size, n, 1)
		}
	}
}

// region walks the coreboot structures and the firmware volumes in d.b[lo:hi].
func (w *walker) region(d *data, lo, hi int64, parent *Node, depth int) {
	w.coreboot(d, lo, hi, parent, depth)
	w.volumes(d, lo, hi, parent, depth)
}
