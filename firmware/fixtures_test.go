package firmware

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixturesDir holds the real tables (linuxhw/ACPI, CC BY 4.0; see its README.md).
const fixturesDir = "../fixtures/acpi"

// realMachine is what fixtures/acpi/README.md says about each machine, measured with independent
// tools; the decoder must agree.
type realMachine struct {
	dir          string
	tables       []string
	markerOEMID  string // raw 6 bytes
	markerTable  string // raw 8 bytes
	slicVersion  uint32
	verifies     bool
	hasMarker    bool
	wantFindings []string // codes Check must report for the set (others may come too)
	noFindings   []string // codes Check must not report
}

var realMachines = []realMachine{
	{dir: "dell-inspiron-14-3462", tables: []string{"FACP", "MSDM", "SLIC"}, markerOEMID: "DELL  ", markerTable: "WN09   \x00",
		slicVersion: 0x00020001, verifies: true, hasMarker: true,
		wantFindings: []string{CodeIDNulPadded, CodeNoRootTable, CodeMSDMKeyX},
		noFindings:   []string{CodeSignature, CodeMarkerHeader, CodeMarkerFADT, CodeSLICVersionLow, CodeChecksum}},
	{dir: "hp-elitebook-840-g7", tables: []string{"FACP", "MSDM", "SLIC"}, markerOEMID: "HPQOEM", markerTable: "SLIC-BPC",
		slicVersion: 0x00020001, verifies: true, hasMarker: true,
		noFindings: []string{CodeSignature, CodeMarkerHeader, CodeSLICVersionLow, CodeChecksum}},
	{dir: "lenovo-thinkcentre-m800", tables: []string{"FACP", "MSDM", "SLIC"}, markerOEMID: "LENOVO", markerTable: "TC-FW   ",
		slicVersion: 0x00020003, verifies: true, hasMarker: true,
		noFindings: []string{CodeSignature, CodeMarkerHeader, CodeMarkerFADT, CodeSLICVersionLow}},
	{dir: "acer-extensa-4210", tables: []string{"FACP", "SLIC"}, markerOEMID: "ACRSYS", markerTable: "ACRPRDCT",
		slicVersion: 0, verifies: true, hasMarker: true,
		wantFindings: []string{CodeSLICVersionUnset, CodeSLICVersionLow, CodeMarkerFADT},
		noFindings:   []string{CodeSignature, CodeMarkerHeader}},
	{dir: "toshiba-satellite-c70d-b", tables: []string{"FACP", "MSDM", "RSDT", "SLIC", "XSDT"}, markerOEMID: "TOSINV", markerTable: "TOSINV00",
		slicVersion: 0x00020001, verifies: true, hasMarker: true,
		noFindings: []string{CodeSignature, CodeMarkerHeader, CodeMarkerRSDT, CodeMarkerXSDT, CodeMarkerFADT, CodeNoRootTable}},
	{dir: "gigabyte-ga-ma785gm-us2h", tables: []string{"FACP", "MSDM", "SLIC"}, markerOEMID: "GBT   ", markerTable: "GBTUACPI",
		slicVersion: 0x00020001, verifies: true, hasMarker: true,
		wantFindings: []string{CodeMSDMErased},
		noFindings:   []string{CodeSignature, CodeMarkerHeader, CodeMSDMDataLength}},
	{dir: "framework-laptop-16", tables: []string{"FACP", "SLIC"}, markerOEMID: "INSYDE", markerTable: "INSYDE00",
		slicVersion: 0x00020001, verifies: false, hasMarker: true,
		wantFindings: []string{CodeSLICPlaceholder, CodeSignature},
		noFindings:   []string{CodeMarkerHeader}},
	{dir: "lenovo-miix-3-1030", tables: []string{"FACP", "MSDM", "SLIC"},
		verifies: false, hasMarker: true, markerOEMID: "\xff\xff\xff\xff\xff\xff", markerTable: "\xff\xff\xff\xff\xff\xff\xff\xff", slicVersion: 0xFFFFFFFF,
		wantFindings: []string{CodeSLICErased},
		noFindings:   []string{CodeChecksum, CodeMarkerHeader}},
	{dir: "dell-poweredge-r820", tables: []string{"FACP", "SLIC"}, verifies: false, hasMarker: false,
		wantFindings: []string{CodeSLICTruncated}},
	{dir: "microsoft-surface-laptop", tables: []string{"FACP", "MSDM"},
		wantFindings: []string{CodeIDNulPadded, CodeMSDMKeyX},
		noFindings:   []string{CodeMSDMVersion, CodeMSDMDataLength, CodeMSDMKeyFormat}},
}

func TestRealTablesMatchTheirREADME(t *testing.T) {
	verified, failed := 0, 0
	for _, m := range realMachines {
		t.Run(m.dir, func(t *testing.T) {
			set, err := LoadDir(filepath.Join(fixturesDir, m.dir))
			require.NoError(t, err)
			var names []string
			for _, tb := range set.Tables {
				names = append(names, tb.Name)
				assert.True(t, tb.ChecksumOK(), "%s checksum", tb.Name)
			}
			assert.Equal(t, m.tables, names)

			slic := set.First("SLIC")
			if slic == nil {
				assert.False(t, m.verifies)
			} else {
				require.NotNil(t, slic.SLIC)
				s := slic.SLIC
				assert.Equal(t, m.hasMarker, s.HasMarker)
				if m.hasMarker {
					assert.Equal(t, m.markerOEMID, string(s.Marker.OEMID[:]))
					assert.Equal(t, m.markerTable, string(s.Marker.OEMTableID[:]))
					assert.Equal(t, m.slicVersion, s.Marker.SLICVersion)
				}
				err := s.VerifyMarker()
				if m.verifies {
					assert.NoError(t, err)
					verified++
					k, err := s.Key()
					require.NoError(t, err)
					assert.Equal(t, 1024, k.N.BitLen())
				} else {
					assert.Error(t, err)
					failed++
				}
			}

			got := Check(set, Options{Release: "Windows 7", MinSLICVersion: SLICVersion21})
			for _, code := range m.wantFindings {
				assert.True(t, got.Has(code), "want %s in %v", code, got.Codes())
			}
			for _, code := range m.noFindings {
				assert.False(t, got.Has(code), "unexpected %s in %v", code, got)
			}
			for _, f := range got {
				assert.NotEmpty(t, f.Message)
				assert.NotEmpty(t, f.Table)
			}
		})
	}
	// fixtures/acpi/README.md: six markers verify, three do not (one machine has no SLIC).
	assert.Equal(t, 6, verified)
	assert.Equal(t, 3, failed)
}

// Every real table decodes and encodes back to the same bytes.
func TestRealTablesRoundTrip(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(fixturesDir, "*", "*"))
	require.NoError(t, err)
	n := 0
	for _, f := range files {
		if filepath.Base(f) == "README.md" {
			continue
		}
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		tb := NewTable(filepath.Base(f), f, FromFile, b)
		var enc []byte
		switch {
		case tb.SLIC != nil:
			back := *tb.SLIC
			enc = back.Encode()
			again, err := DecodeSLIC(enc)
			if tb.SLIC.HasMarker {
				require.NoError(t, err, f)
			}
			assert.Equal(t, tb.SLIC, again, f)
		case tb.MSDM != nil:
			back := *tb.MSDM
			enc = back.Encode()
			again, err := DecodeMSDM(enc)
			require.NoError(t, err, f)
			assert.Equal(t, tb.MSDM, again, f)
		case tb.SDT != nil:
			back := *tb.SDT
			enc = back.Encode()
		default:
			assert.NoError(t, tb.Err, f)
			continue
		}
		assert.Equal(t, b, enc, "%s does not encode back to its bytes", f)
		n++
	}
	assert.Equal(t, 9+7+2, n, "SLIC, MSDM, RSDT and XSDT tables round-tripped")
}

func TestHeaderDecode(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(fixturesDir, "dell-inspiron-14-3462", "SLIC"))
	require.NoError(t, err)
	h, err := DecodeHeader(b)
	require.NoError(t, err)
	assert.Equal(t, "SLIC", h.Sig())
	assert.Equal(t, uint32(374), h.Length)
	assert.Equal(t, uint8(1), h.Revision)
	assert.Equal(t, uint8(0xC6), h.Checksum)
	assert.Equal(t, "DELL  ", string(h.OEMID[:]))
	assert.Equal(t, "WN09   \x00", string(h.OEMTableID[:]))
	assert.Equal(t, uint32(0x01072009), h.OEMRevision)
	assert.Equal(t, "AMI ", string(h.CreatorID[:]))
	assert.Equal(t, uint32(0x00010013), h.CreatorRevision)
	assert.True(t, ChecksumOK(b))
	assert.Equal(t, h.Checksum, WantChecksum(b))

	var out [HeaderSize]byte
	h.Encode(out[:])
	assert.Equal(t, b[:HeaderSize], out[:])

	_, err = DecodeHeader(b[:35])
	var fe *FormatError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, int64(35), fe.Off)
	assert.ErrorIs(t, err, ErrTruncated)
}
