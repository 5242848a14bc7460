package firmware

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The offsets findings give come from the layouts; they must be DESIGN.md's binary formats.
func TestOffsetsAreTheFormats(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"header length", OffLength, 4}, {"header checksum", OffChecksum, 9},
		{"header OEM ID", OffOEMID, 10}, {"header OEM table ID", OffOEMTableID, 16},
		{"key type", OffKeyType, 0x24}, {"key magic", OffKeyMagic, 0x34}, {"key modulus", OffKeyModulus, 0x40},
		{"marker type", OffMarkerType, 0xC0}, {"marker OEM ID", OffMarkerOEMID, 0xCC},
		{"marker Windows flag", OffMarkerFlag, 0xDA}, {"SLIC version", OffMarkerSLICVersion, 0xE2},
		{"marker signature", OffMarkerSignature, 0xF6},
		{"MSDM version", OffMSDMVersion, 0x24}, {"MSDM data length", OffMSDMDataLength, 0x34}, {"MSDM data", OffMSDMData, 0x38},
	} {
		assert.Equal(t, c.want, c.got, c.name)
	}
	assert.Equal(t, int64(SLICSize), OffMarkerSignature+128, "the signature ends the SLIC")
}
