package firmware

import (
	"crypto/rand"
	"crypto/rsa"
	"sync"
	"testing"

	"github.com/oemact/oemact/firmware/productkey"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	testKeyOnce sync.Once
	testKey     *rsa.PrivateKey
	testKeyErr  error
)

// oemTestKey returns an RSA-1024 TEST key made for this test run (OEM keys in SLICs are RSA-1024).
func oemTestKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	testKeyOnce.Do(func() { testKey, testKeyErr = rsa.GenerateKey(rand.Reader, 1024) })
	require.NoError(t, testKeyErr)
	return testKey
}

// synthSLICs are the SLICs the round-trip and iasl tests synthesize.
var synthSLICs = []struct {
	name string
	p    SLICParams
}{
	{"win7", SLICParams{OEMID: "TSTOEM", OEMTableID: "TSTBOARD", OEMRevision: 1, CreatorRevision: 1}},
	{"vista", SLICParams{OEMID: "TSTOEM", OEMTableID: "TSTBOARD", SLICVersion: SLICVersion20}},
	{"short-ids", SLICParams{OEMID: "AB", OEMTableID: "X", Revision: 3}},
	{"inner-ids-differ", SLICParams{OEMID: "TSTOEM", OEMTableID: "TSTBOARD", MarkerOEMID: "OTHOEM", MarkerOEMTableID: "OTHBOARD"}},
}

func synthSLIC(t testing.TB, p SLICParams) *SLIC {
	t.Helper()
	s, err := NewSLIC(p)
	require.NoError(t, err)
	require.NoError(t, s.SignMarker(oemTestKey(t)))
	return s
}

func TestSynthesizedSLICRoundTrip(t *testing.T) {
	for _, c := range synthSLICs {
		t.Run(c.name, func(t *testing.T) {
			s := synthSLIC(t, c.p)
			b := s.Encode()
			require.Len(t, b, SLICSize)
			assert.True(t, ChecksumOK(b))
			back, err := DecodeSLIC(b)
			require.NoError(t, err)
			assert.Equal(t, s, back)
			assert.NoError(t, back.VerifyMarker())
			pub, err := back.Key()
			require.NoError(t, err)
			assert.True(t, oemTestKey(t).PublicKey.Equal(pub), "the key read back is the signing key")

			set := NewSet("synth", SetBytes)
			set.AddBytes("SLIC", b)
			got := Check(set, Options{Release: "Windows 7", MinSLICVersion: SLICVersion21})
			switch c.name {
			case "vista":
				assert.Equal(t, []string{CodeNoRootTable, CodeSLICVersionLow}, got.Codes())
			case "inner-ids-differ":
				assert.Equal(t, []string{CodeNoRootTable, CodeMarkerHeader, CodeMarkerHeader}, got.Codes())
			default:
				assert.Equal(t, []string{CodeNoRootTable}, got.Codes())
			}
		})
	}
}

func TestSignMarkerCoversBytes8To53Only(t *testing.T) {
	s := synthSLIC(t, synthSLICs[0].p)
	b := s.Encode()
	// Changing any signed byte breaks the signature; the header and marker type/length do not.
	for off := OffMarkerVersion; off < OffMarkerSignature; off++ {
		c := append([]byte(nil), b...)
		c[off] ^= 0x01
		d, err := DecodeSLIC(c)
		require.NoError(t, err)
		err = d.VerifyMarker()
		require.ErrorIs(t, err, ErrMarkerSignature, "offset 0x%x", off)
		require.ErrorIs(t, err, rsa.ErrVerification)
	}
	for _, off := range []int64{OffOEMID, OffMarkerType, OffMarkerLength} {
		c := append([]byte(nil), b...)
		c[off] ^= 0x01
		d, err := DecodeSLIC(c)
		require.NoError(t, err)
		assert.NoError(t, d.VerifyMarker(), "offset 0x%x is outside the signed bytes", off)
	}
}

func TestSLICBuildErrors(t *testing.T) {
	_, err := NewSLIC(SLICParams{OEMID: "TOOLONGID", OEMTableID: "T"})
	assert.ErrorContains(t, err, "OEM ID")
	_, err = NewSLIC(SLICParams{OEMID: "A", OEMTableID: "NINECHARS"})
	assert.ErrorContains(t, err, "OEM table ID")

	s, err := NewSLIC(SLICParams{OEMID: "A", OEMTableID: "B"})
	require.NoError(t, err)
	big, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	assert.ErrorContains(t, s.SignMarker(big), "RSA-1024")
	assert.Error(t, s.SignMarker(nil))
}

func TestSynthesizedMSDMRoundTrip(t *testing.T) {
	key := productkey.Derive("firmware test MSDM")
	m, err := NewMSDM(MSDMParams{OEMID: "TSTOEM", OEMTableID: "TSTBOARD", Key: key.Reveal()})
	require.NoError(t, err)
	b := m.Encode()
	require.Len(t, b, MSDMSize)
	assert.True(t, ChecksumOK(b))
	back, err := DecodeMSDM(b)
	require.NoError(t, err)
	assert.Equal(t, m, back)
	assert.Equal(t, key.Reveal(), back.Key())

	set := NewSet("synth", SetBytes)
	set.AddBytes("MSDM", b)
	assert.Empty(t, Check(set, Options{}))

	// The dump masks the key unless asked.
	var masked, shown string
	for _, l := range back.Dump(false) {
		if l.Name == "Data" {
			masked = l.Value
		}
	}
	for _, l := range back.Dump(true) {
		if l.Name == "Data" {
			shown = l.Value
		}
	}
	assert.Equal(t, `"`+key.Masked()+`"`, masked)
	assert.Equal(t, `"`+key.Reveal()+`"`, shown)

	_, err = NewMSDM(MSDMParams{OEMID: "A", OEMTableID: "B", Key: "not a key"})
	assert.Error(t, err)
}

func TestSynthesizedSDTRoundTrip(t *testing.T) {
	for _, sig := range []string{"RSDT", "XSDT"} {
		tb := &SDT{Entries: []uint64{0x7FFE1000, 0x7FFE2000, 0xFED00000}}
		require.NoError(t, fillHeader(&tb.Header, sig, 1, "TSTOEM", "TSTBOARD", 1, "", 1))
		b := tb.Encode()
		back, err := DecodeSDT(b)
		require.NoError(t, err)
		assert.Equal(t, tb, back)
		assert.True(t, ChecksumOK(b))
	}
}

// The model may check a SLIC it holds as a struct, without table bytes.
func TestCheckTablesBuiltAroundStructs(t *testing.T) {
	s := synthSLIC(t, SLICParams{OEMID: "TSTOEM", OEMTableID: "TSTBOARD", SLICVersion: SLICVersion20})
	tb := &Table{Name: "SLIC", Header: s.Header, SLIC: s}
	got := CheckSLIC(tb, Options{MinSLICVersion: SLICVersion21})
	assert.Equal(t, []string{CodeSLICVersionLow}, got.Codes())
	assert.Equal(t, []string{CodeNoRootTable}, CheckMarkerIDs(NewSet("x", SetBytes), tb, Options{}).Codes())

	m, err := NewMSDM(MSDMParams{OEMID: "TSTOEM", OEMTableID: "TSTBOARD", Key: productkey.Derive("x").Reveal()})
	require.NoError(t, err)
	assert.Empty(t, CheckMSDM(&Table{Name: "MSDM", MSDM: m}))
}
