package firmware

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemact/oemact/firmware/finding"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mutate copies b, applies f and, when fix is set, repairs the checksum so that only the intended
// problem remains.
func mutate(b []byte, fix bool, f func(b []byte) []byte) []byte {
	c := f(append([]byte(nil), b...))
	if fix && len(c) >= HeaderSize {
		h, _ := DecodeHeader(c)
		if int(h.Length) <= len(c) && h.Length >= HeaderSize {
			FixChecksum(c[:h.Length])
		}
	}
	return c
}

func put32(off int64, v uint32) func([]byte) []byte {
	return func(b []byte) []byte { le.PutUint32(b[off:], v); return b }
}

func putBytes(off int64, s string) func([]byte) []byte {
	return func(b []byte) []byte { copy(b[off:], s); return b }
}

// Malformed inputs: each gives a finding with a stable code at the offset of the problem (or,
// for text, a syntax note naming the line), and nothing panics.
func TestMalformedInputs(t *testing.T) {
	slic := fixture(t, "dell-inspiron-14-3462", "SLIC")
	msdm := fixture(t, "dell-inspiron-14-3462", "MSDM")
	rsdt := fixture(t, "toshiba-satellite-c70d-b", "RSDT")
	keyX := strings.Repeat("x", 5)

	cases := []struct {
		name string
		in   []byte
		code string
		off  int64
		sev  finding.Severity
		msg  string // part of the message
	}{
		{"empty file", []byte{}, CodeTruncated, 0, finding.Error, "empty"},
		{"ten bytes", slic[:10], CodeTruncated, 10, finding.Error, "10 bytes"},
		{"header-only SLIC", mutate(slic[:36], true, put32(4, 36)), CodeSLICTruncated, 36, finding.Error, "public key structure and Windows marker are missing"},
		{"SLIC cut at 200 bytes", slic[:200], CodeSLICTruncated, 200, finding.Error, "Windows marker is missing"},
		{"SLIC cut: length lies", slic[:200], CodeLengthExceeds, OffLength, finding.Error, "says 374 bytes but only 200"},
		{"4 GiB length field", mutate(slic, false, put32(4, 0xFFFFFFFF)), CodeLengthExceeds, OffLength, finding.Error, "4294967295"},
		{"length below the header", mutate(slic, false, put32(4, 10)), CodeLengthShort, OffLength, finding.Error, "less than the 36-byte header"},
		{"bad checksum", mutate(slic, false, func(b []byte) []byte { b[9]++; return b }), CodeChecksum, OffChecksum, finding.Error, "C6 would make them sum to zero"},
		{"bytes after the table", append(append([]byte(nil), slic...), make([]byte, 16)...), CodeTrailingData, SLICSize, finding.Warning, "16 bytes"},
		{"not a signature", mutate(slic, false, putBytes(0, "sl c")), CodeBadSignature, 0, finding.Error, "not an ACPI table signature"},
		{"key structure type 1", mutate(slic, true, put32(OffKeyType, 1)), CodeKeyType, OffKeyType, finding.Error, "type is 1"},
		{"key structure length lies", mutate(slic, true, put32(OffKeyLength, 0x80)), CodeKeyLength, OffKeyLength, finding.Error, "128"},
		{"key blob type 7", mutate(slic, true, putBytes(OffKeyBlobType, "\x07")), CodeKeyBlobType, OffKeyBlobType, finding.Error, "0x07"},
		{"key algorithm KEYX", mutate(slic, true, put32(OffKeyAlgorithm, 0xA400)), CodeKeyAlgorithm, OffKeyAlgorithm, finding.Error, "0x0000A400"},
		{"reversed magic", mutate(slic, true, putBytes(OffKeyMagic, "1ASR")), CodeKeyMagic, OffKeyMagic, finding.Error, "byte-reversed"},
		{"bit length 2048", mutate(slic, true, put32(OffKeyBitLength, 2048)), CodeKeyBits, OffKeyBitLength, finding.Error, "2048"},
		{"exponent 3", mutate(slic, true, put32(OffKeyExponent, 3)), CodeKeyExponent, OffKeyExponent, finding.Warning, "exponent is 3"},
		{"even modulus", mutate(slic, true, func(b []byte) []byte { b[OffKeyModulus] &^= 1; return b }), CodeKeyModulus, OffKeyModulus, finding.Error, "even"},
		{"key changed: signature", mutate(slic, true, func(b []byte) []byte { b[OffKeyModulus+64] ^= 0x10; return b }), CodeSignature, OffMarkerSignature, finding.Error, "verification error"},
		{"marker type 2", mutate(slic, true, put32(OffMarkerType, 2)), CodeMarkerType, OffMarkerType, finding.Error, "type is 2"},
		{"marker length lies", mutate(slic, true, put32(OffMarkerLength, 0x100)), CodeMarkerLength, OffMarkerLength, finding.Error, "256"},
		{"Windows flag", mutate(slic, true, putBytes(OffMarkerFlag, "WINDOWS_")), CodeMarkerFlag, OffMarkerFlag, finding.Error, `"WINDOWS_"`},
		{"non-ASCII marker OEM ID", mutate(slic, true, putBytes(OffMarkerOEMID+1, "\xc9")), CodeMarkerIDNonASCII, OffMarkerOEMID + 1, finding.Warning, "0xC9"},
		{"non-ASCII header OEM ID", mutate(slic, true, putBytes(OffOEMID+5, "\x85")), CodeIDNonASCII, OffOEMID + 5, finding.Warning, "0x85"},
		{"marker IDs differ from the header", mutate(slic, true, putBytes(OffOEMID, "DELL2 ")), CodeMarkerHeader, OffMarkerOEMID, finding.Error, `"DELL2 "`},
		{"SLIC body zeroed", mutate(slic, true, func(b []byte) []byte { clear(b[SLICKeyOffset:]); return b }), CodeSLICErased, SLICKeyOffset, finding.Error, "all 0x00"},
		{"marker reserved bytes", mutate(slic, true, putBytes(OffMarkerReserved+3, "\x01")), CodeMarkerReserved, OffMarkerReserved, finding.Warning, "reserved"},
		{"insyde placeholder", mutate(slic, true, put32(OffMarkerVersion, InsydeMarkerVer)), CodeSLICPlaceholder, SLICMarkerOffset, finding.Error, "Insyde"},
		{"MSDM data length 4 GiB", mutate(msdm, true, put32(OffMSDMDataLength, 0xFFFFFFFF)), CodeMSDMDataLength, OffMSDMDataLength, finding.Error, "4294967295"},
		{"MSDM data length 30", mutate(msdm, true, put32(OffMSDMDataLength, 28)), CodeMSDMDataLength, OffMSDMDataLength, finding.Error, "want 29"},
		{"MSDM data type 2", mutate(msdm, true, put32(OffMSDMDataType, 2)), CodeMSDMDataType, OffMSDMDataType, finding.Error, "0x00000002"},
		{"MSDM reserved", mutate(msdm, true, put32(OffMSDMReserved, 1)), CodeMSDMReserved, OffMSDMReserved, finding.Error, "reserved"},
		{"MSDM data reserved", mutate(msdm, true, put32(OffMSDMDataReserved, 7)), CodeMSDMDataReserved, OffMSDMDataReserved, finding.Error, "data reserved"},
		{"MSDM version 2", mutate(msdm, true, put32(OffMSDMVersion, 2)), CodeMSDMVersion, OffMSDMVersion, finding.Error, "version is 2"},
		{"MSDM key in lower case", mutate(msdm, true, putBytes(OffMSDMData, keyX)), CodeMSDMKeyFormat, OffMSDMData, finding.Error, "XXXXX-XXXXX"},
		{"MSDM key without dashes", mutate(msdm, true, putBytes(OffMSDMData+5, "_")), CodeMSDMKeyFormat, OffMSDMData + 5, finding.Error, "dashes"},
		{"MSDM cut at 50 bytes", mutate(msdm[:50], true, put32(4, 50)), CodeMSDMTruncated, 50, finding.Error, "ends after 50 bytes"},
		{"MSDM body zeroed", mutate(msdm, true, func(b []byte) []byte { clear(b[HeaderSize:]); return b }), CodeMSDMErased, HeaderSize, finding.Error, "all 0x00"},
		{"RSDT partial entry", mutate(append(append([]byte(nil), rsdt...), 1, 2), true, put32(4, uint32(len(rsdt)+2))), CodeSDTPartialEntry, int64(len(rsdt)), finding.Error, "2 bytes left after 21 entries"},
	}
	require.GreaterOrEqual(t, len(cases), 20)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			set := NewSet("malformed", SetBytes)
			tb := set.AddBytes("T", c.in)
			got := Check(set, Options{Release: "Windows 7", MinSLICVersion: SLICVersion21})
			var hit *finding.Finding
			for i := range got {
				if got[i].Code == c.code && got[i].Offset == c.off {
					hit = &got[i]
				}
			}
			require.NotNil(t, hit, "want %s at 0x%x, got %v", c.code, c.off, got)
			assert.Equal(t, c.sev, hit.Severity)
			assert.Contains(t, hit.Message, c.msg)
			// The dump and the report fields never panic on it either.
			_ = tb.Dump(false)
			_ = tb.ChecksumOK()
			var buf bytes.Buffer
			require.NoError(t, WriteDump(&buf, tb.Dump(false)))
		})
	}
}

// Decoders return a *FormatError that names the table and the offset.
func TestDecodeErrorsSayWhere(t *testing.T) {
	slic := fixture(t, "dell-inspiron-14-3462", "SLIC")
	msdm := fixture(t, "dell-inspiron-14-3462", "MSDM")
	cases := []struct {
		name     string
		decode   func([]byte) error
		in       []byte
		table    string
		off      int64
		sentinel error
	}{
		{"SLIC header only", func(b []byte) error { _, err := DecodeSLIC(b); return err }, mutate(slic[:36], true, put32(4, 36)), "SLIC", 36, ErrTruncated},
		{"SLIC 4 GiB", func(b []byte) error { _, err := DecodeSLIC(b); return err }, mutate(slic, false, put32(4, 0xFFFFFFFF)), "SLIC", 4, ErrTruncated},
		{"SLIC length 0", func(b []byte) error { _, err := DecodeSLIC(b); return err }, mutate(slic, false, put32(4, 0)), "SLIC", 4, ErrLength},
		{"SLIC short file", func(b []byte) error { _, err := DecodeSLIC(b); return err }, slic[:20], "SLIC", 20, ErrTruncated},
		{"not a SLIC", func(b []byte) error { _, err := DecodeSLIC(b); return err }, msdm, "SLIC", 0, ErrSignature},
		{"MSDM short", func(b []byte) error { _, err := DecodeMSDM(b); return err }, mutate(msdm[:40], true, put32(4, 40)), "MSDM", 40, ErrTruncated},
		{"not an MSDM", func(b []byte) error { _, err := DecodeMSDM(b); return err }, slic, "MSDM", 0, ErrSignature},
		{"RSDP short", func(b []byte) error { _, err := DecodeRSDP(b); return err }, []byte("RSD PTR "), "RSDP", 8, ErrTruncated},
		{"SDT not a root table", func(b []byte) error { _, err := DecodeSDT(b); return err }, slic, "SLIC", 0, ErrSignature},
		{"FADT short", func(b []byte) error { _, err := DecodeFADT(b); return err }, mutate(fixture(t, "acer-extensa-4210", "FACP")[:40], true, put32(4, 40)), "FACP", 40, ErrTruncated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.decode(c.in)
			var fe *FormatError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, c.table, fe.Table)
			assert.Equal(t, c.off, fe.Off)
			assert.True(t, errors.Is(err, c.sentinel), "%v wraps %v", err, c.sentinel)
			assert.Contains(t, err.Error(), fmt.Sprintf("%s at offset 0x%x", c.table, c.off))
		})
	}
}

// A broken acpidump file keeps the tables before the error and reports the line.
func TestMalformedAcpidumpFile(t *testing.T) {
	dir := t.TempDir()
	text := "SLIC @ 0x0000000000000000\n    0000: 53 4C 49 43 24 00 00 00 01 2F 44 45 4C 4C 20 20  SLIC$..../DELL  \n    0020: 00\n"
	p := filepath.Join(dir, "dump.txt")
	require.NoError(t, writeFile(p, text))
	sets, err := Load(p)
	require.NoError(t, err)
	require.Len(t, sets, 1)
	got := Check(sets[0], Options{})
	require.True(t, got.Has(CodeAcpidumpSyntax), "%v", got)
	for _, f := range got {
		if f.Code == CodeAcpidumpSyntax {
			assert.Contains(t, f.Message, "line 3")
			assert.Equal(t, p, f.Path)
		}
	}
	require.Len(t, sets[0].Tables, 1)
	assert.True(t, got.Has(CodeTruncated), "the 16 bytes read are reported as a cut table")
}
