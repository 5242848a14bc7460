package tpm

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/google/go-tpm/tpm2"
)

// A sealed blob, version 1. oemact's own integers are little-endian, like the firmware tables;
// the TPM structures inside are kept as the TPM marshals them (big-endian).
//
//	off   size  field
//	0x00  4     magic "OATS" (oemact TPM seal)
//	0x04  2     version = 1
//	0x06  1     PCR index, 0-23 (the SHA-256 bank)
//	0x07  1     N, the number of measured items, 1-64
//	0x08  32    the PCR value the data is sealed to
//	0x28  34    the storage key's TPM Name: 0x000B (SHA-256) and the SHA-256 of its public area
//	0x4A        N items: name length L (1 byte, 1-64), name (L bytes, printable ASCII), SHA-256 (32)
//	            public area of the sealed object: size (2 bytes), TPMT_PUBLIC
//	            private area of the sealed object: size (2 bytes), the TPM2B_PRIVATE's contents
//	            nonce (12 bytes), then ciphertext: size (4 bytes), the data encrypted with
//	            AES-256-GCM (16-byte tag last) under the 32-byte key the sealed object holds; the
//	            additional authenticated data is every byte of the blob before the nonce
//
// The sealed object holds only a key because a TPM seals at most 128 bytes (MAX_SYM_DATA in the
// PC Client profile) and the licence state is larger. Checks a decoder makes before the TPM sees
// anything: the items replay (Replay) to the sealed PCR value, and the public area's policy is
// exactly TPM2_PolicyPCR over that PCR and value; so the recorded items explain a policy failure
// truthfully, and a blob whose header was edited is reported as damaged, not as a changed
// firmware. A 1-event measurement with 4 KiB of data makes a blob of about 4.4 KiB.
const (
	blobMagic   = "OATS"
	blobVersion = 1
	headerSize  = 0x4A
	nameSize    = 2 + sha256.Size // a SHA-256 TPM Name
	nonceSize   = 12
	tagSize     = 16
	// maxPublic and maxPrivate bound the TPM's areas: a keyed-hash public area with a SHA-256
	// policy is about 80 bytes, its private area about 120; TPM 2.0 sizes them in 16 bits.
	maxPublic  = 1024
	maxPrivate = 1024
)

// ErrBlob is wrapped by every BlobError: the blob is not one Seal made, or was altered.
var ErrBlob = errors.New("tpm: damaged sealed blob")

// BlobError says where a sealed blob is wrong.
type BlobError struct {
	Off int    // offset in the blob
	Msg string // what is wrong
	Err error  // the TPM's or the cipher's error, if any
}

func (e *BlobError) Error() string {
	s := fmt.Sprintf("tpm: sealed blob at offset %#x: %s", e.Off, e.Msg)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s + " (seal the data again)"
}

// Is makes errors.Is(err, ErrBlob) true.
func (e *BlobError) Is(target error) bool { return target == ErrBlob }

func (e *BlobError) Unwrap() error { return e.Err }

// blob is a decoded sealed blob.
type blob struct {
	pcr        int
	value      Digest
	parentName []byte
	items      []Item
	public     []byte // TPMT_PUBLIC
	private    []byte // TPM2B_PRIVATE contents
	nonce      []byte
	ciphertext []byte
	aad        []byte // every byte before the nonce
}

func (b *blob) marshal() []byte {
	var w bytes.Buffer
	w.WriteString(blobMagic)
	binary.Write(&w, binary.LittleEndian, uint16(blobVersion))
	w.WriteByte(byte(b.pcr))
	w.WriteByte(byte(len(b.items)))
	w.Write(b.value)
	w.Write(b.parentName)
	for _, it := range b.items {
		w.WriteByte(byte(len(it.Name)))
		w.WriteString(it.Name)
		w.Write(it.Digest)
	}
	binary.Write(&w, binary.LittleEndian, uint16(len(b.public)))
	w.Write(b.public)
	binary.Write(&w, binary.LittleEndian, uint16(len(b.private)))
	w.Write(b.private)
	b.aad = append([]byte(nil), w.Bytes()...)
	w.Write(b.nonce)
	binary.Write(&w, binary.LittleEndian, uint32(len(b.ciphertext)))
	w.Write(b.ciphertext)
	return w.Bytes()
}

// reader reads a blob, never past its end.
type reader struct {
	b   []byte
	off int
}

func (r *reader) take(n int, what string) ([]byte, error) {
	if n < 0 || len(r.b)-r.off < n {
		return nil, &BlobError{Off: r.off, Msg: fmt.Sprintf("%s: %d bytes needed, %d left", what, n, len(r.b)-r.off)}
	}
	v := r.b[r.off : r.off+n]
	r.off += n
	return v, nil
}

func (r *reader) u8(what string) (int, error) {
	v, err := r.take(1, what)
	if err != nil {
		return 0, err
	}
	return int(v[0]), nil
}

func (r *reader) u16(what string) (int, error) {
	v, err := r.take(2, what)
	if err != nil {
		return 0, err
	}
	return int(binary.LittleEndian.Uint16(v)), nil
}

func (r *reader) u32(what string) (int, error) {
	v, err := r.take(4, what)
	if err != nil {
		return 0, err
	}
	return int(binary.LittleEndian.Uint32(v)), nil
}

// decodeBlob reads and checks a blob whose data is at most maxData bytes. It never trusts a
// length: each is checked against what is left and against its limit.
func decodeBlob(in []byte, maxData int) (*blob, error) {
	r := &reader{b: in}
	magic, err := r.take(4, "magic")
	if err != nil {
		return nil, err
	}
	if string(magic) != blobMagic {
		return nil, &BlobError{Off: 0, Msg: fmt.Sprintf("magic %q, want %q: not a blob oemact sealed", magic, blobMagic)}
	}
	ver, err := r.u16("version")
	if err != nil {
		return nil, err
	}
	if ver != blobVersion {
		return nil, &BlobError{Off: 4, Msg: fmt.Sprintf("version %d; this oemact reads version %d", ver, blobVersion)}
	}
	b := &blob{}
	if b.pcr, err = r.u8("PCR index"); err != nil {
		return nil, err
	}
	if b.pcr > 23 {
		return nil, &BlobError{Off: 6, Msg: fmt.Sprintf("PCR %d: a PC Client TPM has PCRs 0 to 23", b.pcr)}
	}
	n, err := r.u8("item count")
	if err != nil {
		return nil, err
	}
	if n == 0 || n > MaxEvents {
		return nil, &BlobError{Off: 7, Msg: fmt.Sprintf("%d measured items: want 1 to %d", n, MaxEvents)}
	}
	v, err := r.take(sha256.Size, "PCR value")
	if err != nil {
		return nil, err
	}
	b.value = Digest(v)
	if b.parentName, err = r.take(nameSize, "storage key name"); err != nil {
		return nil, err
	}
	if binary.BigEndian.Uint16(b.parentName) != uint16(tpm2.TPMAlgSHA256) {
		return nil, &BlobError{Off: 0x28, Msg: fmt.Sprintf("storage key name algorithm %#04x, want SHA-256 (0x000b)", binary.BigEndian.Uint16(b.parentName))}
	}
	for i := 0; i < n; i++ {
		off := r.off
		l, err := r.u8("item name length")
		if err != nil {
			return nil, err
		}
		if l == 0 || l > MaxNameLen {
			return nil, &BlobError{Off: off, Msg: fmt.Sprintf("item %d: name of %d bytes: want 1 to %d", i, l, MaxNameLen)}
		}
		name, err := r.take(l, "item name")
		if err != nil {
			return nil, err
		}
		if err := checkName(string(name)); err != nil {
			return nil, &BlobError{Off: off, Msg: fmt.Sprintf("item %d: %v", i, err)}
		}
		d, err := r.take(sha256.Size, "item digest")
		if err != nil {
			return nil, err
		}
		b.items = append(b.items, Item{Name: string(name), Digest: Digest(d)})
	}
	if got := Replay(b.items); !bytes.Equal(got, b.value) {
		return nil, &BlobError{Off: 8, Msg: fmt.Sprintf("the recorded items replay to %s, not to the sealed PCR value %s", got, b.value)}
	}
	pubOff := r.off
	l, err := r.u16("public area size")
	if err != nil {
		return nil, err
	}
	if l == 0 || l > maxPublic {
		return nil, &BlobError{Off: pubOff, Msg: fmt.Sprintf("public area of %d bytes: want 1 to %d", l, maxPublic)}
	}
	if b.public, err = r.take(l, "public area"); err != nil {
		return nil, err
	}
	if err := checkPublic(b.public, b.pcr, b.value); err != nil {
		return nil, &BlobError{Off: pubOff + 2, Msg: err.Error()}
	}
	privOff := r.off
	if l, err = r.u16("private area size"); err != nil {
		return nil, err
	}
	if l == 0 || l > maxPrivate {
		return nil, &BlobError{Off: privOff, Msg: fmt.Sprintf("private area of %d bytes: want 1 to %d", l, maxPrivate)}
	}
	if b.private, err = r.take(l, "private area"); err != nil {
		return nil, err
	}
	b.aad = in[:r.off]
	if b.nonce, err = r.take(nonceSize, "nonce"); err != nil {
		return nil, err
	}
	ctOff := r.off
	if l, err = r.u32("ciphertext size"); err != nil {
		return nil, err
	}
	if l < tagSize || l > maxData+tagSize {
		return nil, &BlobError{Off: ctOff, Msg: fmt.Sprintf("ciphertext of %d bytes: want %d to %d (data of at most %d bytes and the tag)", l, tagSize, maxData+tagSize, maxData)}
	}
	if b.ciphertext, err = r.take(l, "ciphertext"); err != nil {
		return nil, err
	}
	if r.off != len(in) {
		return nil, &BlobError{Off: r.off, Msg: fmt.Sprintf("%d bytes after the ciphertext", len(in)-r.off)}
	}
	return b, nil
}

// checkPublic checks that a sealed object's public area is what Seal creates: a SHA-256 keyed-hash
// data object usable only through its policy, the policy being PolicyPCR over pcr = value.
func checkPublic(public []byte, pcr int, value Digest) (err error) {
	// go-tpm's reflection-based decoder is not written for hostile input: whatever it does with
	// one, it must not take the agent down.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("public area cannot be decoded (%v)", r)
		}
	}()
	pub, err := tpm2.Unmarshal[tpm2.TPMTPublic](public)
	if err != nil {
		return fmt.Errorf("public area cannot be decoded: %v", err)
	}
	if got := tpm2.Marshal(*pub); !bytes.Equal(got, public) {
		return errors.New("public area has bytes its structure does not account for")
	}
	a := pub.ObjectAttributes
	switch {
	case pub.Type != tpm2.TPMAlgKeyedHash:
		return fmt.Errorf("public area of type %#04x: a sealed object is a keyed hash (0x0008)", uint16(pub.Type))
	case pub.NameAlg != tpm2.TPMAlgSHA256:
		return fmt.Errorf("public area's name algorithm %#04x, want SHA-256 (0x000b)", uint16(pub.NameAlg))
	case a.UserWithAuth || a.SignEncrypt || a.Decrypt || a.SensitiveDataOrigin || !a.FixedTPM || !a.FixedParent:
		return errors.New("public area's attributes are not a sealed object's that only a policy may open")
	}
	want, err := policyDigest(pcr, value)
	if err != nil {
		return err
	}
	if !bytes.Equal(pub.AuthPolicy.Buffer, want) {
		return fmt.Errorf("the object's policy %x is not PolicyPCR(PCR %d = %s)", pub.AuthPolicy.Buffer, pcr, value)
	}
	return nil
}

// policyDigest is the policy of TPM2_PolicyPCR over one SHA-256 PCR holding value: SHA-256 of
// (32 zero bytes || TPM_CC_PolicyPCR || TPML_PCR_SELECTION || SHA-256(value)) (TPM 2.0 Part 3,
// 23.7).
func policyDigest(pcr int, value Digest) ([]byte, error) {
	calc, err := tpm2.NewPolicyCalculator(tpm2.TPMAlgSHA256)
	if err != nil {
		return nil, err
	}
	pcrDigest := sha256.Sum256(value)
	if err := (tpm2.PolicyPCR{Pcrs: selection(pcr), PcrDigest: tpm2.TPM2BDigest{Buffer: pcrDigest[:]}}).Update(calc); err != nil {
		return nil, err
	}
	return calc.Hash().Digest, nil
}
