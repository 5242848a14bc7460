package tpm

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testBlob makes a well-formed blob without a TPM: a public area as Seal creates it, and private
// and ciphertext bytes of plausible sizes (only the TPM and the cipher can judge those).
func testBlob(t testing.TB) (*blob, []byte) {
	t.Helper()
	items, err := Items([]Event{{Name: "acpi/SLIC", Data: []byte("SLIC...")}, {Name: SMBIOSIdentityEvent, Data: []byte("id")}})
	require.NoError(t, err)
	value := Replay(items)
	policy, err := policyDigest(DefaultPCR, value)
	require.NoError(t, err)
	name := append([]byte{0x00, 0x0b}, bytes.Repeat([]byte{0xAB}, 32)...)
	b := &blob{
		pcr: DefaultPCR, value: value, parentName: name, items: items,
		public:     tpm2.Marshal(sealTemplate(policy)),
		private:    bytes.Repeat([]byte{0x5A}, 120),
		nonce:      bytes.Repeat([]byte{1}, nonceSize),
		ciphertext: bytes.Repeat([]byte{2}, 40),
	}
	raw := b.marshal()
	for i := range b.items {
		b.items[i].Size = 0 // not recorded in the blob
	}
	return b, raw
}

func TestBlobRoundTrip(t *testing.T) {
	want, raw := testBlob(t)
	got, err := decodeBlob(raw, DefaultMaxData)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Equal(t, raw, got.marshal(), "decode then encode gives the same bytes")
	assert.Equal(t, "OATS", string(raw[:4]))
	assert.Equal(t, headerSize, 8+32+34)
}

// TestBlobErrors checks each field's check, and that an error says where.
func TestBlobErrors(t *testing.T) {
	b, raw := testBlob(t)
	itemsEnd := headerSize
	for _, it := range b.items {
		itemsEnd += 1 + len(it.Name) + 32
	}
	privOff := itemsEnd + 2 + len(b.public)
	ctOff := privOff + 2 + len(b.private) + nonceSize
	edit := func(f func(c []byte) []byte) []byte { return f(bytes.Clone(raw)) }
	cases := []struct {
		name string
		in   []byte
		off  int
		msg  string
	}{
		{"empty", nil, 0, "magic: 4 bytes needed, 0 left"},
		{"magic", edit(func(c []byte) []byte { c[0] = 'X'; return c }), 0, `magic "XATS", want "OATS"`},
		{"version", edit(func(c []byte) []byte { c[4] = 2; return c }), 4, "version 2; this oemact reads version 1"},
		{"pcr", edit(func(c []byte) []byte { c[6] = 24; return c }), 6, "PCR 24"},
		{"no items", edit(func(c []byte) []byte { c[7] = 0; return c }), 7, "0 measured items"},
		{"too many items", edit(func(c []byte) []byte { c[7] = 65; return c }), 7, "65 measured items"},
		{"name alg", edit(func(c []byte) []byte { c[0x29] = 4; return c }), 0x28, "storage key name algorithm 0x0004"},
		{"item name", edit(func(c []byte) []byte { c[headerSize+1] = ' '; return c }), headerSize, "item 0: name"},
		{"item name length", edit(func(c []byte) []byte { c[headerSize] = 0xFF; return c }), headerSize, "item 0: name of 255 bytes"},
		{"item name past the end", raw[:headerSize+4], headerSize + 1, "item name: 9 bytes needed, 3 left"},
		{"value", edit(func(c []byte) []byte { c[8] ^= 1; return c }), 8, "replay to"},
		{"item digest", edit(func(c []byte) []byte { c[itemsEnd-1] ^= 1; return c }), 8, "replay to"},
		{"public size", edit(func(c []byte) []byte { binary.LittleEndian.PutUint16(c[itemsEnd:], 2000); return c }), itemsEnd, "public area of 2000 bytes"},
		{"public policy", edit(func(c []byte) []byte { c[privOff-1] ^= 1; return c }), itemsEnd + 2, ""},
		{"private size", edit(func(c []byte) []byte { binary.LittleEndian.PutUint16(c[privOff:], 0); return c }), privOff, "private area of 0 bytes"},
		{"ciphertext size", edit(func(c []byte) []byte { binary.LittleEndian.PutUint32(c[ctOff:], 1<<30); return c }), ctOff, "ciphertext of 1073741824 bytes"},
		{"short ciphertext", edit(func(c []byte) []byte { binary.LittleEndian.PutUint32(c[ctOff:], 15); return c }), ctOff, "ciphertext of 15 bytes"},
		{"truncated", raw[:len(raw)-1], ctOff + 4, "ciphertext: 40 bytes needed, 39 left"},
		{"trailing", append(bytes.Clone(raw), 0), len(raw), "1 bytes after the ciphertext"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := decodeBlob(c.in, DefaultMaxData)
			var be *BlobError
			require.ErrorAs(t, err, &be)
			assert.ErrorIs(t, err, ErrBlob)
			assert.Equal(t, c.off, be.Off, "%v", err)
			assert.Contains(t, err.Error(), c.msg)
			assert.Contains(t, err.Error(), "seal the data again")
		})
	}
}

// TestBlobPublicArea checks the sealed object's public area is refused unless it is one only the
// PCR policy opens.
func TestBlobPublicArea(t *testing.T) {
	b, _ := testBlob(t)
	policy, err := policyDigest(b.pcr, b.value)
	require.NoError(t, err)
	mut := func(f func(p *tpm2.TPMTPublic)) []byte {
		p := sealTemplate(policy)
		f(&p)
		return tpm2.Marshal(p)
	}
	cases := map[string]struct {
		pub []byte
		msg string
	}{
		"password allowed": {mut(func(p *tpm2.TPMTPublic) { p.ObjectAttributes.UserWithAuth = true }), "only a policy may open"},
		"not fixed":        {mut(func(p *tpm2.TPMTPublic) { p.ObjectAttributes.FixedTPM = false }), "only a policy may open"},
		"name alg":         {mut(func(p *tpm2.TPMTPublic) { p.NameAlg = tpm2.TPMAlgSHA1 }), "name algorithm 0x0004"},
		"other policy":     {mut(func(p *tpm2.TPMTPublic) { p.AuthPolicy.Buffer = make([]byte, 32) }), "is not PolicyPCR(PCR 23"},
		"an RSA key":       {tpm2.Marshal(tpm2.RSASRKTemplate), "type 0x0001"},
		"garbage":          {[]byte{0x00, 0x08, 0x00}, "cannot be decoded"},
		"trailing":         {append(tpm2.Marshal(sealTemplate(policy)), 0), "does not account for"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			assert.ErrorContains(t, checkPublic(c.pub, b.pcr, b.value), c.msg)
		})
	}
	assert.NoError(t, checkPublic(tpm2.Marshal(sealTemplate(policy)), b.pcr, b.value))
	assert.ErrorContains(t, checkPublic(tpm2.Marshal(sealTemplate(policy)), 22, b.value), "PolicyPCR(PCR 22")
}

// TestPolicyDigest pins the policy to the value TPM 2.0 Part 3 (23.7) defines, computed here by
// hand: SHA-256(zeros || TPM_CC_PolicyPCR || TPML_PCR_SELECTION || SHA-256(PCR value)).
func TestPolicyDigest(t *testing.T) {
	value := bytes.Repeat([]byte{0x11}, 32)
	var m []byte
	m = append(m, make([]byte, 32)...)
	m = binary.BigEndian.AppendUint32(m, 0x0000017F)  // TPM_CC_PolicyPCR
	m = binary.BigEndian.AppendUint32(m, 1)           // one selection
	m = binary.BigEndian.AppendUint16(m, 0x000B)      // SHA-256
	m = append(m, 3, 0x00, 0x00, 0x80)                // three bytes of bitmap, PCR 23
	pcrDigest := sha256.Sum256(value)                 // the digest of the selected PCRs
	want := sha256.Sum256(append(m, pcrDigest[:]...)) // policyDigest
	got, err := policyDigest(23, value)
	require.NoError(t, err)
	assert.Equal(t, want[:], got)
}

func FuzzDecodeBlob(f *testing.F) {
	_, raw := testBlob(f)
	f.Add(raw)
	f.Add(raw[:headerSize])
	f.Add([]byte("OATS\x01\x00"))
	f.Fuzz(func(t *testing.T, in []byte) {
		b, err := decodeBlob(in, DefaultMaxData)
		if err != nil {
			if !errors.Is(err, ErrBlob) {
				t.Fatalf("error %v is not a BlobError", err)
			}
			return
		}
		if got := b.marshal(); !bytes.Equal(got, in) {
			t.Fatalf("a blob that decodes must encode to the same bytes")
		}
	})
}
