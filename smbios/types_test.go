package smbios

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The per-type lengths, each version where a type grew (SMBIOS 3.7, "Spec. version" columns).
func TestDefaultLength(t *testing.T) {
	for _, tc := range []struct {
		typ     uint8
		version Version
		want    uint8
	}{
		{0, Version{2, 0, 0}, 0x12}, {0, Version{2, 1, 0}, 0x13}, {0, Version{2, 3, 0}, 0x14},
		{0, Version{2, 4, 0}, 0x18}, {0, Version{3, 0, 0}, 0x18}, {0, Version{3, 1, 0}, 0x1A},
		{1, Version{2, 0, 0}, 0x08}, {1, Version{2, 1, 0}, 0x19}, {1, Version{2, 4, 0}, 0x1B},
		{2, Version{2, 0, 0}, 0x0F}, {2, Version{3, 5, 0}, 0x0F},
		{3, Version{2, 0, 0}, 0x09}, {3, Version{2, 1, 0}, 0x0D}, {3, Version{2, 3, 0}, 0x15}, {3, Version{2, 7, 0}, 0x16},
		{4, Version{2, 0, 0}, 0x1A}, {4, Version{2, 1, 0}, 0x20}, {4, Version{2, 3, 0}, 0x23}, {4, Version{2, 5, 0}, 0x28},
		{4, Version{2, 6, 0}, 0x2A}, {4, Version{3, 0, 0}, 0x30}, {4, Version{3, 6, 0}, 0x32},
		{11, Version{2, 0, 0}, 0x05},
		{16, Version{2, 1, 0}, 0x0F}, {16, Version{2, 7, 0}, 0x17},
		{17, Version{2, 1, 0}, 0x15}, {17, Version{2, 3, 0}, 0x1B}, {17, Version{2, 6, 0}, 0x1C}, {17, Version{2, 7, 0}, 0x22},
		{17, Version{2, 8, 0}, 0x28}, {17, Version{3, 2, 0}, 0x54}, {17, Version{3, 3, 0}, 0x5C}, {17, Version{3, 7, 0}, 0x64},
		{EndOfTable, Version{3, 0, 0}, 4},
		{200, Version{3, 0, 0}, 0},
		// Zero is the latest version; 2.33 is read as 2.6 (Version.Effective).
		{17, Version{}, 0x5C}, {4, Version{2, 0x21, 0}, 0x23},
	} {
		assert.Equal(t, tc.want, DefaultLength(tc.typ, tc.version), "type %d, SMBIOS %v", tc.typ, tc.version)
	}
	for _, typ := range KnownTypes() {
		assert.NotEmpty(t, TypeTitle(typ), "type %d", typ)
		assert.GreaterOrEqual(t, int(DefaultLength(typ, Latest)), minLength(typ), "type %d", typ)
	}
}

// The version guess reads the same lengths; a chassis's contained elements do not count.
func TestGuessVersionFromLengths(t *testing.T) {
	build := func(tv Typed, length uint8) *Structure {
		tv.header().Length = length
		s, err := tv.Structure()
		require.NoError(t, err)
		return s
	}
	assert.Equal(t, Version{2, 0, 0}, GuessVersion(nil))
	assert.Equal(t, Version{2, 4, 0}, GuessVersion([]*Structure{build(&SystemInfo{}, 0x1B)}))
	assert.Equal(t, Version{2, 6, 0}, GuessVersion([]*Structure{build(&MemoryDevice{}, 0x1C), build(&SystemInfo{}, 0x19)}))
	// A 2.3 chassis with two 3-byte elements is 0x1B bytes long, yet it has no SKU (2.7).
	c := &ChassisInfo{ContainedElementCount: 2, ContainedElementRecordLength: 3, ContainedElements: make([]byte, 6)}
	assert.Equal(t, Version{2, 3, 0}, GuessVersion([]*Structure{build(c, 0x15+6)}))
	c = &ChassisInfo{ContainedElementCount: 2, ContainedElementRecordLength: 3, ContainedElements: make([]byte, 6), SKUNumber: "S"}
	assert.Equal(t, Version{2, 7, 0}, GuessVersion([]*Structure{build(c, 0x16+6)}))
	// Never above the latest version this package decodes.
	assert.Equal(t, Latest, GuessVersion([]*Structure{build(&MemoryDevice{}, 0x64)}))
}

func TestParseTypedKnowsEveryRegisteredType(t *testing.T) {
	for _, typ := range KnownTypes() {
		s := &Structure{Type: typ, Formatted: make([]byte, int(DefaultLength(typ, Latest))-4)}
		tv, err := ParseTyped(s, Latest)
		require.NoError(t, err, "type %d", typ)
		require.NotNil(t, tv, "type %d", typ)
		assert.Equal(t, typ, typeCode(tv), "type %d", typ)
	}
	tv, err := ParseTyped(&Structure{Type: 200, Formatted: make([]byte, 4)}, Latest)
	assert.NoError(t, err)
	assert.Nil(t, tv)
}
