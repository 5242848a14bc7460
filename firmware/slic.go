package firmware

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"math/big"
)

// SLIC layout (OEM Activation 2.x, DESIGN.md "Binary formats"): header, public key structure,
// Windows marker; 374 bytes in all.
const (
	SLICSize         = 374
	SLICKeyOffset    = 0x24
	SLICKeySize      = 156 // 0x9C
	SLICMarkerOffset = 0xC0
	SLICMarkerSize   = 182 // 0xB6

	// The marker signature covers marker bytes 8..53: Version through Reserved, 46 bytes.
	MarkerSignedOffset = 8
	MarkerSignedSize   = 46
	// MarkerSignatureOffset is where the 128-byte signature starts inside the marker.
	MarkerSignatureOffset = 54
)

// Values the SLIC structures hold in well-formed tables.
const (
	KeyStructType     uint32 = 0      // SLIC structure type 0: OEM public key
	KeyBlobType       uint8  = 0x06   // PUBLICKEYBLOB (Windows CryptoAPI)
	KeyBlobVersion    uint8  = 0x02   // CUR_BLOB_VERSION
	KeyAlgRSASign     uint32 = 0x2400 // CALG_RSA_SIGN
	KeyBits           uint32 = 1024
	KeyExponent       uint32 = 65537
	MarkerStructType  uint32 = 1          // SLIC structure type 1: Windows marker
	MarkerVersion20   uint32 = 0x00020000 // the marker structure's own version
	SLICVersion20     uint32 = 0x00020000 // OA 2.0: Windows Vista / Server 2008
	SLICVersion21     uint32 = 0x00020001 // OA 2.1: Windows 7 / Server 2008 R2
	InsydeMarkerVer   uint32 = 0x00002000 // marker version of Insyde's placeholder marker
	insydeMarkerOEMID        = "INSYDE"
	insydeMarkerTable        = "INSYDE00"
)

var (
	// KeyMagic is the RSA public key blob magic; byte-reversed ("1ASR") in some broken tables.
	KeyMagic = [4]byte{'R', 'S', 'A', '1'}
	// WindowsFlag is the 8-byte flag of a Windows marker.
	WindowsFlag = [8]byte{'W', 'I', 'N', 'D', 'O', 'W', 'S', ' '}
)

// SLICPublicKey is the OEM public key structure at 0x24: a CryptoAPI PUBLICKEYBLOB.
type SLICPublicKey struct {
	Type      uint32
	Length    uint32
	KeyType   uint8
	Version   uint8
	Reserved  uint16
	Algorithm uint32
	Magic     [4]byte
	BitLength uint32
	Exponent  uint32
	Modulus   [128]byte // little-endian, as CryptoAPI stores it
}

// WindowsMarker is the SLIC's Windows marker at 0xC0.
type WindowsMarker struct {
	Type        uint32
	Length      uint32
	Version     uint32
	OEMID       [6]byte
	OEMTableID  [8]byte
	WindowsFlag [8]byte
	SLICVersion uint32
	Reserved    [16]byte
	Signature   [128]byte // RSA PKCS#1 v1.5 over SHA-256 of bytes 8..53, big-endian as stored
}

// Offsets of the fields inside a whole SLIC table, for findings: from the key's and the marker's
// layouts.
var (
	OffKeyType        = SLICKeyOffset + keyLayout.offset("Key Type")
	OffKeyLength      = SLICKeyOffset + keyLayout.offset("Key Length")
	OffKeyBlobType    = SLICKeyOffset + keyLayout.offset("Key Blob Type")
	OffKeyBlobVersion = SLICKeyOffset + keyLayout.offset("Key Blob Version")
	OffKeyReserved    = SLICKeyOffset + keyLayout.offset("Key Reserved")
	OffKeyAlgorithm   = SLICKeyOffset + keyLayout.offset("Key Algorithm")
	OffKeyMagic       = SLICKeyOffset + keyLayout.offset("Key Magic")
	OffKeyBitLength   = SLICKeyOffset + keyLayout.offset("Key Bit Length")
	OffKeyExponent    = SLICKeyOffset + keyLayout.offset("Key Exponent")
	OffKeyModulus     = SLICKeyOffset + keyLayout.offset("Key Modulus")

	OffMarkerType        = SLICMarkerOffset + markerLayout.offset("Marker Type")
	OffMarkerLength      = SLICMarkerOffset + markerLayout.offset("Marker Length")
	OffMarkerVersion     = SLICMarkerOffset + markerLayout.offset("Marker Version")
	OffMarkerOEMID       = SLICMarkerOffset + markerLayout.offset("Marker Oem ID")
	OffMarkerOEMTableID  = SLICMarkerOffset + markerLayout.offset("Marker Oem Table ID")
	OffMarkerFlag        = SLICMarkerOffset + markerLayout.offset("Windows Flag")
	OffMarkerSLICVersion = SLICMarkerOffset + markerLayout.offset("SLIC Version")
	OffMarkerReserved    = SLICMarkerOffset + markerLayout.offset("Marker Reserved")
	OffMarkerSignature   = SLICMarkerOffset + markerLayout.offset("Marker Signature")
)

type pk = SLICPublicKey
type wm = WindowsMarker

var keyLayout = newLayout("SLIC public key", SLICKeySize,
	field[pk]{name: "Key Type", ref: func(k *pk) any { return &k.Type },
		note: func(k *pk) string { return want(k.Type == KeyStructType, "public key structure", "want 0") }},
	field[pk]{name: "Key Length", ref: func(k *pk) any { return &k.Length },
		note: func(k *pk) string { return want(k.Length == SLICKeySize, "156 bytes", "want 0000009C") }},
	field[pk]{name: "Key Blob Type", ref: func(k *pk) any { return &k.KeyType },
		note: func(k *pk) string { return want(k.KeyType == KeyBlobType, "PUBLICKEYBLOB", "want 06, PUBLICKEYBLOB") }},
	field[pk]{name: "Key Blob Version", ref: func(k *pk) any { return &k.Version },
		note: func(k *pk) string { return want(k.Version == KeyBlobVersion, "", "want 02") }},
	field[pk]{name: "Key Reserved", ref: func(k *pk) any { return &k.Reserved }},
	field[pk]{name: "Key Algorithm", ref: func(k *pk) any { return &k.Algorithm },
		note: func(k *pk) string {
			return want(k.Algorithm == KeyAlgRSASign, "CALG_RSA_SIGN", "want 00002400, CALG_RSA_SIGN")
		}},
	field[pk]{name: "Key Magic", ref: func(k *pk) any { return &k.Magic }, show: showChars,
		note: func(k *pk) string { return magicNote(k.Magic) }},
	field[pk]{name: "Key Bit Length", ref: func(k *pk) any { return &k.BitLength },
		note: func(k *pk) string { return fmt.Sprintf("%d bits", k.BitLength) }},
	field[pk]{name: "Key Exponent", ref: func(k *pk) any { return &k.Exponent },
		note: func(k *pk) string { return fmt.Sprintf("%d", k.Exponent) }},
	field[pk]{name: "Key Modulus", ref: func(k *pk) any { return &k.Modulus },
		note: func(k *pk) string { return modulusNote(k) }},
)

var markerLayout = newLayout("Windows marker", SLICMarkerSize,
	field[wm]{name: "Marker Type", ref: func(m *wm) any { return &m.Type },
		note: func(m *wm) string {
			return want(m.Type == MarkerStructType, "Windows marker", "want 1, Windows marker")
		}},
	field[wm]{name: "Marker Length", ref: func(m *wm) any { return &m.Length },
		note: func(m *wm) string { return want(m.Length == SLICMarkerSize, "182 bytes", "want 000000B6") }},
	field[wm]{name: "Marker Version", ref: func(m *wm) any { return &m.Version },
		note: func(m *wm) string { return markerVersionNote(m.Version) }},
	field[wm]{name: "Marker Oem ID", ref: func(m *wm) any { return &m.OEMID }, show: showChars},
	field[wm]{name: "Marker Oem Table ID", ref: func(m *wm) any { return &m.OEMTableID }, show: showChars},
	field[wm]{name: "Windows Flag", ref: func(m *wm) any { return &m.WindowsFlag }, show: showChars,
		note: func(m *wm) string { return want(m.WindowsFlag == WindowsFlag, "", `want "WINDOWS "`) }},
	field[wm]{name: "SLIC Version", ref: func(m *wm) any { return &m.SLICVersion },
		note: func(m *wm) string { return SLICVersionName(m.SLICVersion) }},
	field[wm]{name: "Marker Reserved", ref: func(m *wm) any { return &m.Reserved }},
	field[wm]{name: "Marker Signature", ref: func(m *wm) any { return &m.Signature },
		note: func(*wm) string { return "RSA PKCS#1 v1.5, SHA-256 over 0C8h-0F5h" }},
)

func want(ok bool, good, bad string) string {
	if ok {
		return good
	}
	return bad
}

func magicNote(m [4]byte) string {
	switch m {
	case KeyMagic:
		return "RSA public key"
	case [4]byte{'1', 'A', 'S', 'R'}:
		return `byte-reversed; want "RSA1"`
	}
	return `want "RSA1"`
}

func modulusNote(k *SLICPublicKey) string {
	n := k.modulus()
	return fmt.Sprintf("little-endian, %d-bit modulus", n.BitLen())
}

func markerVersionNote(v uint32) string {
	switch v {
	case MarkerVersion20:
		return "2.0"
	case InsydeMarkerVer:
		return "Insyde placeholder value; want 00020000"
	}
	return "want 00020000"
}

// SLICVersionName names a marker's SLIC version: "2.1 (Windows 7 / Server 2008 R2)".
func SLICVersionName(v uint32) string {
	s := fmt.Sprintf("%d.%d", v>>16, v&0xFFFF)
	switch v {
	case 0:
		return "0: unset, as in OA 2.0 markers made before the field was used"
	case SLICVersion20:
		return s + " (OA 2.0: Windows Vista / Server 2008)"
	case SLICVersion21:
		return s + " (OA 2.1: Windows 7 / Server 2008 R2)"
	}
	return s
}

// SLIC is a decoded SLIC table. A SLIC cut short keeps what was read: HasKey and HasMarker say
// whether the public key structure and the Windows marker were present.
type SLIC struct {
	Header    Header
	PublicKey SLICPublicKey
	Marker    WindowsMarker
	HasKey    bool
	HasMarker bool
}

// tableData returns the bytes a table covers, bounded by what b holds: b[:Length] when the length
// field is sane, else all of b with an error that names the length field.
func tableData(sig string, b []byte, h *Header) ([]byte, error) {
	switch {
	case h.Length < HeaderSize:
		return b, formatErr(sig, int(OffLength), ErrLength,
			"length field says %d bytes, less than the %d-byte header", h.Length, HeaderSize)
	case uint64(h.Length) > uint64(len(b)):
		return b, formatErr(sig, int(OffLength), ErrTruncated,
			"length field says %d bytes but only %d are present", h.Length, len(b))
	}
	return b[:h.Length], nil
}

// DecodeSLIC decodes a SLIC table. The length field is never trusted: fields are read only from
// bytes that are present. On error the returned SLIC (when not nil) holds the parts that were
// read, so a report can still show them.
func DecodeSLIC(b []byte) (*SLIC, error) {
	h, err := DecodeHeader(b)
	if err != nil {
		err.(*FormatError).Table = "SLIC"
		return nil, err
	}
	if h.Sig() != "SLIC" {
		return nil, formatErr("SLIC", 0, ErrSignature, "signature %s, want \"SLIC\"", QuoteID(h.Signature[:]))
	}
	s := &SLIC{Header: h}
	data, err := tableData("SLIC", b, &h)
	if len(data) >= SLICKeyOffset+SLICKeySize {
		keyLayout.decode(data[SLICKeyOffset:], &s.PublicKey)
		s.HasKey = true
	}
	if len(data) >= SLICSize {
		markerLayout.decode(data[SLICMarkerOffset:], &s.Marker)
		s.HasMarker = true
	}
	if err != nil {
		return s, err
	}
	if len(data) < SLICSize {
		return s, formatErr("SLIC", len(data), ErrTruncated,
			"the table ends after %d bytes; a SLIC needs %d (header, public key at 0x24, Windows marker at 0xC0)",
			len(data), SLICSize)
	}
	return s, nil
}

// Encode returns the table bytes: the header and whichever of the key and marker the SLIC holds
// (all 374 bytes for a complete SLIC). It sets Header.Signature, Length and Checksum first, so the
// bytes decode back to exactly s.
func (s *SLIC) Encode() []byte {
	n := HeaderSize
	if s.HasKey {
		n = SLICMarkerOffset
	}
	if s.HasMarker {
		n = SLICSize
	}
	b := make([]byte, n)
	s.Header.Signature = [4]byte{'S', 'L', 'I', 'C'}
	s.Header.Length = uint32(n)
	if s.HasKey || s.HasMarker {
		keyLayout.encode(b[SLICKeyOffset:], &s.PublicKey)
	}
	if s.HasMarker {
		markerLayout.encode(b[SLICMarkerOffset:], &s.Marker)
	}
	s.Header.Encode(b)
	s.Header.Checksum = WantChecksum(b)
	b[OffChecksum] = s.Header.Checksum
	return b
}

// MarkerBytes returns the 182 bytes of the Windows marker as they are stored.
func (m *WindowsMarker) MarkerBytes() [SLICMarkerSize]byte {
	var b [SLICMarkerSize]byte
	markerLayout.encode(b[:], m)
	return b
}

// SignedDigest returns the SHA-256 of marker bytes 8..53, the digest the signature covers.
func (m *WindowsMarker) SignedDigest() [sha256.Size]byte {
	b := m.MarkerBytes()
	return sha256.Sum256(b[MarkerSignedOffset : MarkerSignedOffset+MarkerSignedSize])
}

func (k *SLICPublicKey) modulus() *big.Int {
	var be [128]byte
	for i := range be {
		be[i] = k.Modulus[len(k.Modulus)-1-i]
	}
	return new(big.Int).SetBytes(be[:])
}

// ErrNoKey: the SLIC holds no usable public key (truncated, erased or zero modulus).
var ErrNoKey = errors.New("no usable public key")

// ErrMarkerSignature: the marker's signature does not verify with the table's key.
var ErrMarkerSignature = errors.New("marker signature does not verify")

// RSA returns the key as an *rsa.PublicKey: the modulus read little-endian, the exponent as stored.
// It fails only when there is nothing to use (zero modulus or exponent); whether crypto/rsa accepts
// the key (odd modulus, exponent range, size) is checked when verifying.
func (k *SLICPublicKey) RSA() (*rsa.PublicKey, error) {
	n := k.modulus()
	if n.Sign() == 0 {
		return nil, fmt.Errorf("%w: the modulus is zero", ErrNoKey)
	}
	if k.Exponent == 0 {
		return nil, fmt.Errorf("%w: the exponent is zero", ErrNoKey)
	}
	return &rsa.PublicKey{N: n, E: int(k.Exponent)}, nil
}

// Key returns the SLIC's public key (see SLICPublicKey.RSA).
func (s *SLIC) Key() (*rsa.PublicKey, error) {
	if !s.HasKey {
		return nil, fmt.Errorf("%w: the SLIC ends before its public key structure", ErrNoKey)
	}
	return s.PublicKey.RSA()
}

// VerifyMarker checks the Windows marker's signature exactly as measured on real firmware
// (DESIGN.md): RSA PKCS#1 v1.5 with SHA-256 over marker bytes 8..53 (Version through Reserved),
// with the table's own public key (modulus little-endian), the signature bytes in stored order.
// It returns nil when the signature verifies; otherwise an error wrapping ErrNoKey or
// ErrMarkerSignature (and crypto/rsa's reason).
func (s *SLIC) VerifyMarker() error {
	pub, err := s.Key()
	if err != nil {
		return err
	}
	if !s.HasMarker {
		return fmt.Errorf("%w: the SLIC ends before its Windows marker", ErrMarkerSignature)
	}
	digest := s.Marker.SignedDigest()
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], s.Marker.Signature[:]); err != nil {
		return fmt.Errorf("%w: %w", ErrMarkerSignature, err)
	}
	return nil
}

// SetKey stores pub in the public key structure with the values a well-formed SLIC holds. pub must
// be an RSA-1024 key whose exponent fits in 32 bits.
func (s *SLIC) SetKey(pub *rsa.PublicKey) error {
	if pub == nil || pub.N == nil {
		return errors.New("SLIC key: no key given")
	}
	if pub.N.BitLen() != int(KeyBits) {
		return fmt.Errorf("SLIC key: the modulus has %d bits; the SLIC key structure holds RSA-1024 keys only", pub.N.BitLen())
	}
	if pub.E <= 0 || pub.E > math.MaxUint32 {
		return fmt.Errorf("SLIC key: exponent %d does not fit the 32-bit field", pub.E)
	}
	k := SLICPublicKey{
		Type: KeyStructType, Length: SLICKeySize, KeyType: KeyBlobType, Version: KeyBlobVersion,
		Algorithm: KeyAlgRSASign, Magic: KeyMagic, BitLength: KeyBits, Exponent: uint32(pub.E),
	}
	be := pub.N.FillBytes(make([]byte, 128))
	for i := range be {
		k.Modulus[i] = be[len(be)-1-i]
	}
	s.PublicKey = k
	s.HasKey = true
	return nil
}

// SignMarker stores priv's public key in the SLIC and signs the Windows marker with priv, so that
// VerifyMarker succeeds. The marker fields must be set first; change none of bytes 8..53 after.
// PKCS#1 v1.5 signatures are deterministic: the same key and marker give the same bytes.
func (s *SLIC) SignMarker(priv *rsa.PrivateKey) error {
	if priv == nil {
		return errors.New("SLIC signing: no private key given")
	}
	if err := s.SetKey(&priv.PublicKey); err != nil {
		return err
	}
	s.HasMarker = true
	digest := s.Marker.SignedDigest()
	sig, err := rsa.SignPKCS1v15(nil, priv, crypto.SHA256, digest[:])
	if err != nil {
		return fmt.Errorf("SLIC signing: %w", err)
	}
	copy(s.Marker.Signature[:], sig)
	return nil
}

// SLICParams are the values a synthesized SLIC carries. Empty marker IDs default to the header's;
// zero versions default to MarkerVersion20 and SLICVersion21; zero Revision defaults to 1. For a
// value the defaults hide (a SLIC version of 0, NUL-padded IDs), edit the SLIC's fields after
// NewSLIC and before SignMarker.
type SLICParams struct {
	OEMID, OEMTableID             string // header IDs, padded with spaces
	MarkerOEMID, MarkerOEMTableID string // marker IDs when they should differ from the header's
	OEMRevision                   uint32
	CreatorID                     string // default "TEST"
	CreatorRevision               uint32
	Revision                      uint8
	MarkerVersion                 uint32
	SLICVersion                   uint32
}

// NewSLIC builds an unsigned SLIC from p; call SignMarker with the test OEM key, then Encode.
func NewSLIC(p SLICParams) (*SLIC, error) {
	s := &SLIC{HasMarker: true}
	if err := fillHeader(&s.Header, "SLIC", p.Revision, p.OEMID, p.OEMTableID, p.OEMRevision, p.CreatorID, p.CreatorRevision); err != nil {
		return nil, err
	}
	s.Header.Length = SLICSize
	mid, mtid := p.MarkerOEMID, p.MarkerOEMTableID
	if mid == "" {
		mid = p.OEMID
	}
	if mtid == "" {
		mtid = p.OEMTableID
	}
	id, err := PadID(mid, 6)
	if err != nil {
		return nil, fmt.Errorf("SLIC marker OEM ID: %w", err)
	}
	tid, err := PadID(mtid, 8)
	if err != nil {
		return nil, fmt.Errorf("SLIC marker OEM table ID: %w", err)
	}
	m := &s.Marker
	m.Type, m.Length = MarkerStructType, SLICMarkerSize
	m.Version = p.MarkerVersion
	if m.Version == 0 {
		m.Version = MarkerVersion20
	}
	copy(m.OEMID[:], id)
	copy(m.OEMTableID[:], tid)
	m.WindowsFlag = WindowsFlag
	m.SLICVersion = p.SLICVersion
	if m.SLICVersion == 0 {
		m.SLICVersion = SLICVersion21
	}
	return s, nil
}

func fillHeader(h *Header, sig string, rev uint8, oemID, tableID string, oemRev uint32, creator string, creatorRev uint32) error {
	copy(h.Signature[:], sig)
	h.Revision = rev
	if h.Revision == 0 {
		h.Revision = 1
	}
	id, err := PadID(oemID, 6)
	if err != nil {
		return fmt.Errorf("%s OEM ID: %w", sig, err)
	}
	tid, err := PadID(tableID, 8)
	if err != nil {
		return fmt.Errorf("%s OEM table ID: %w", sig, err)
	}
	if creator == "" {
		creator = "TEST"
	}
	cid, err := PadID(creator, 4)
	if err != nil {
		return fmt.Errorf("%s creator ID: %w", sig, err)
	}
	copy(h.OEMID[:], id)
	copy(h.OEMTableID[:], tid)
	copy(h.CreatorID[:], cid)
	h.OEMRevision = oemRev
	h.CreatorRevision = creatorRev
	return nil
}

// Placeholder reports whether the marker is the Insyde BIOS kit's placeholder (marker IDs
// INSYDE/INSYDE00 or marker version 0x00002000) rather than an OEM's marker.
func (s *SLIC) Placeholder() bool {
	if !s.HasMarker {
		return false
	}
	m := &s.Marker
	return m.Version == InsydeMarkerVer ||
		string(m.OEMID[:]) == insydeMarkerOEMID && string(m.OEMTableID[:]) == insydeMarkerTable
}

// Dump returns the SLIC's fields as dump lines, followed by the marker signature verdict.
func (s *SLIC) Dump() []DumpLine {
	lines := s.Header.Dump()
	if s.HasKey {
		lines = keyLayout.dump(lines, SLICKeyOffset, &s.PublicKey)
	}
	if s.HasMarker {
		lines = markerLayout.dump(lines, SLICMarkerOffset, &s.Marker)
	}
	verdict := "verifies with the table's own key"
	if err := s.VerifyMarker(); err != nil {
		verdict = err.Error()
	}
	return append(lines, DumpLine{Off: -1, Name: "Marker signature", Value: verdict})
}

// erasedFill reports whether b is all 0xFF or all 0x00 (an erased or blanked body), and which.
func erasedFill(b []byte) (byte, bool) {
	if len(b) == 0 {
		return 0, false
	}
	c := b[0]
	if c != 0x00 && c != 0xFF {
		return 0, false
	}
	for _, x := range b {
		if x != c {
			return 0, false
		}
	}
	return c, true
}
