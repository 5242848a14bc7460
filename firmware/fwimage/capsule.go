package fwimage

// UEFI capsules (UEFI 2.10, 8.5.3: EFI_CAPSULE_HEADER) and the vendor variants UEFITool reads.
// The payload is walked like any region: the volumes in it, and the scan over all of it.

type capsuleFormat uint8

const (
	capsuleEFI     capsuleFormat = iota // CapsuleGuid, HeaderSize, Flags, CapsuleImageSize
	capsuleToshiba                      // CapsuleGuid, HeaderSize, FullSize, Flags
	capsuleAptio                        // EFI_CAPSULE_HEADER, then RomImageOffset u16: the payload starts there
)

var capsuleGUIDs = map[GUID]struct {
	name   string
	format capsuleFormat
}{
	MustGUID("3B6686BD-0D76-4030-B70E-B5519E2FC5A0"): {"EFI capsule", capsuleEFI},
	MustGUID("6DCBD5ED-E82D-4C44-BDA1-7194199AD92A"): {"FMP capsule", capsuleEFI},
	MustGUID("539182B9-ABB5-4391-B69A-E3A943F72FCC"): {"Intel capsule", capsuleEFI},
	MustGUID("E20BAFD3-9914-4F4F-9537-3129E090EB3C"): {"Lenovo capsule", capsuleEFI},
	MustGUID("25B5FE76-8243-4A5C-A9BD-7EE3246198B5"): {"Lenovo capsule", capsuleEFI},
	MustGUID("3BE07062-1D51-45D2-832B-F093257ED461"): {"Toshiba capsule", capsuleToshiba},
	MustGUID("4A3CA68B-7723-48FB-803D-578CC1FEC44D"): {"AMI Aptio signed capsule", capsuleAptio},
	MustGUID("14EEBB90-890A-43DB-AED1-5D3C4588A418"): {"AMI Aptio capsule", capsuleAptio},
}

type capsuleHeader struct {
	guid          GUID
	name          string
	hdrLen, total int64 // header size; the capsule's size, header included
	payload       int64 // where the payload starts
}

// capsuleAt reads a capsule header at the start of b when it has a known GUID and sizes that
// hold together; nil otherwise. The total may exceed len(b): the walk reports that.
func capsuleAt(b []byte) *capsuleHeader {
	if len(b) < 28 {
		return nil
	}
	g := guidAt(b)
	kind, ok := capsuleGUIDs[g]
	if !ok {
		return nil
	}
	h := &capsuleHeader{guid: g, name: kind.name, hdrLen: int64(le.Uint32(b[16:]))}
	h.total, h.payload = int64(le.Uint32(b[24:])), h.hdrLen
	switch kind.format {
	case capsuleToshiba:
		h.total = int64(le.Uint32(b[20:]))
	case capsuleAptio:
		if len(b) < 32 {
			return nil
		}
		h.payload = int64(le.Uint16(b[28:]))
	}
	if h.hdrLen < 28 || h.payload < h.hdrLen || h.total < h.payload {
		return nil
	}
	return h
}

func (w *walker) capsule(d *data) {
	h := capsuleAt(d.b)
	n := &Node{Kind: NodeCapsule, GUID: h.guid, Name: h.name + " " + h.guid.String(), Size: h.total, HeaderSize: h.payload}
	if !w.add(d, nil, n, 0, 0) {
		return
	}
	end := h.total
	if end > int64(len(d.b)) {
		w.fail(d, 0, n, ErrOutside, "the capsule header says the capsule is %d bytes, the file holds %d: the payload is walked to the end of the file", h.total, len(d.b))
		end = int64(len(d.b))
		n.Size = end
	}
	if h.payload > end {
		w.fail(d, 0, n, ErrOutside, "the payload offset 0x%x is past the end of the capsule", h.payload)
		return
	}
	w.region(d, h.payload, end, n, 1)
}
