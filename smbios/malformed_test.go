package smbios

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/oemact/oemact/firmware/finding"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// baseDump is a well-formed synthesized dump-bin file to damage, with its decode.
func baseDump(t *testing.T, kind EntryPointKind) ([]byte, *Info) {
	t.Helper()
	in, err := fullBuilder(t, Version{3, 2, 0}).Build(kind)
	require.NoError(t, err)
	b, err := in.DumpBin()
	require.NoError(t, err)
	back, err := Decode(b)
	require.NoError(t, err)
	return b, back
}

// structAt returns the file offset of the first structure of type typ in a dump-bin file.
func structAt(t *testing.T, in *Info, typ uint8) int {
	t.Helper()
	for _, s := range in.Structures {
		if s.Type == typ {
			return DumpBinTableOffset + int(s.Offset)
		}
	}
	t.Fatalf("no type %d", typ)
	return 0
}

// refixEP recomputes the entry point checksums of a damaged dump so that only the damage shows.
func refixEP(t *testing.T, b []byte) []byte {
	t.Helper()
	ep, _ := DecodeEntryPoint(b)
	require.NotNil(t, ep)
	e, err := ep.Bytes()
	require.NoError(t, err)
	copy(b, e)
	return b
}

func TestMalformedInputs(t *testing.T) {
	type want struct {
		errCode string // the FormatError Decode returns ("" for none)
		errOff  int64
		info    bool   // whether Decode still returns an Info
		lint    string // a finding Lint must report ("" for none)
		lintOff int64  // its offset, or -2 for any
	}
	cases := []struct {
		name string
		in   func(t *testing.T) []byte
		want want
	}{
		{"empty input", func(t *testing.T) []byte { return nil },
			want{errCode: CodeUnrecognized}},
		{"text file", func(t *testing.T) []byte { return []byte("this is not SMBIOS data\n") },
			want{errCode: CodeUnrecognized}},
		{"_SM_ anchor only", func(t *testing.T) []byte { return []byte("_SM_") },
			want{errCode: CodeEntryPointTruncated, errOff: 4}},
		{"_SM_ length byte too small", func(t *testing.T) []byte {
			b, _ := baseDump(t, EntryPoint32)
			b[5] = 0x10
			return b
		}, want{errCode: CodeEntryPointLength, errOff: 5, info: true, lint: CodeEntryPointLength, lintOff: 5}},
		{"_SM_ length byte past 32", func(t *testing.T) []byte {
			b, _ := baseDump(t, EntryPoint32)
			b[5] = 0x40
			return b
		}, want{errCode: CodeEntryPointLength, errOff: 5, info: true, lint: CodeEntryPointLength, lintOff: 5}},
		{"_SM_ announces more bytes than there are", func(t *testing.T) []byte {
			b, _ := baseDump(t, EntryPoint32)
			return b[:0x1C]
		}, want{errCode: CodeEntryPointTruncated, errOff: 0x1C}},
		{"_SM_ bad checksum", func(t *testing.T) []byte {
			b, _ := baseDump(t, EntryPoint32)
			b[4]++
			return b
		}, want{errCode: CodeEntryPointChecksum, errOff: 4, info: true, lint: CodeEntryPointChecksum, lintOff: 4}},
		{"_SM_ without _DMI_ intermediate anchor", func(t *testing.T) []byte {
			b, _ := baseDump(t, EntryPoint32)
			copy(b[0x10:], "_XMI_")
			return b
		}, want{errCode: CodeIntermediateAnchor, errOff: 0x10, info: true, lint: CodeIntermediateAnchor, lintOff: 0x10}},
		{"_SM_ bad intermediate checksum", func(t *testing.T) []byte {
			b, _ := baseDump(t, EntryPoint32)
			b[0x15]++
			b[4]-- // keep the outer checksum right
			return b
		}, want{errCode: CodeIntermediateChecksum, errOff: 0x15, info: true, lint: CodeIntermediateChecksum, lintOff: 0x15}},
		{"_SM3_ bad checksum", func(t *testing.T) []byte {
			b, _ := baseDump(t, EntryPoint64)
			b[5] ^= 0x55
			return b
		}, want{errCode: CodeEntryPointChecksum, errOff: 5, info: true, lint: CodeEntryPointChecksum, lintOff: 5}},
		{"_SM3_ length byte too small", func(t *testing.T) []byte {
			b, _ := baseDump(t, EntryPoint64)
			b[6] = 0x10
			return b
		}, want{errCode: CodeEntryPointLength, errOff: 6, info: true, lint: CodeEntryPointLength, lintOff: 6}},
		{"_DMI_ legacy entry point cut short", func(t *testing.T) []byte { return []byte("_DMI_\x00\x10\x00\x20") },
			want{errCode: CodeEntryPointTruncated, errOff: 9}},
		{"entry point with no table", func(t *testing.T) []byte {
			b, _ := baseDump(t, EntryPoint32)
			return b[:0x1F]
		}, want{errCode: CodeTableTruncated, errOff: 0x1F}},
		{"table address outside the file", func(t *testing.T) []byte {
			b, _ := baseDump(t, EntryPoint32)
			binary.LittleEndian.PutUint32(b[0x18:], 0x10000)
			return refixEP(t, b)
		}, want{info: true, lint: CodeTableAddress, lintOff: 0x18}},
		{"entry point with no table, its address outside the file", func(t *testing.T) []byte {
			b, _ := baseDump(t, EntryPoint32)
			binary.LittleEndian.PutUint32(b[0x18:], 0x10000)
			b = refixEP(t, b)
			copy(b[DumpBinTableOffset:], make([]byte, 8))
			return b
		}, want{errCode: CodeTableAddress, errOff: 0x18}},
		{"_SM_ entry point damaged and nothing behind it", func(t *testing.T) []byte {
			b, _ := baseDump(t, EntryPoint32)
			b[5] = 0x40
			return b[:0x40]
		}, want{errCode: CodeEntryPointLength, errOff: 5}},
		{"file shorter than the announced table", func(t *testing.T) []byte {
			b, _ := baseDump(t, EntryPoint32)
			return b[:len(b)-40]
		}, want{errCode: CodeTableTruncated, info: true, lint: CodeTableTruncated, lintOff: -2}},
		{"structure length below its header", func(t *testing.T) []byte {
			b, in := baseDump(t, EntryPoint32)
			b[structAt(t, in, 2)+1] = 2
			return b
		}, want{errCode: CodeStructureLength, errOff: int64(0), info: true, lint: CodeStructureLength, lintOff: -2}},
		{"structure formatted area past the table end", func(t *testing.T) []byte {
			b, in := baseDump(t, EntryPoint32)
			b[structAt(t, in, EndOfTable)+1] = 0xF0
			return b
		}, want{errCode: CodeStructureOverrun, info: true, lint: CodeStructureOverrun, lintOff: -2}},
		{"string set without its double NUL", func(t *testing.T) []byte {
			b, _ := baseDump(t, EntryPoint32)
			n := len(b)
			copy(b[n-6:], "abcdef") // the end marker's double NUL becomes text
			return b
		}, want{errCode: CodeStructureOverrun, info: true, lint: CodeStructureOverrun, lintOff: -2}},
		{"RSMB blob announcing more than it holds", func(t *testing.T) []byte {
			_, in := baseDump(t, EntryPoint32)
			blob, err := in.RSMBBlob()
			require.NoError(t, err)
			binary.LittleEndian.PutUint32(blob[4:], uint32(len(blob)))
			return blob
		}, want{errCode: CodeTableTruncated, info: true, lint: CodeTableTruncated, lintOff: -2}},
		{"serial number string past the string set", func(t *testing.T) []byte {
			b, in := baseDump(t, EntryPoint32)
			b[structAt(t, in, 1)+7] = 42
			return b
		}, want{info: true, lint: CodeStringIndex, lintOff: -2}},
		{"two structures with one handle", func(t *testing.T) []byte {
			b, in := baseDump(t, EntryPoint32)
			binary.LittleEndian.PutUint16(b[structAt(t, in, 2)+2:], 0x0001)
			return b
		}, want{info: true, lint: CodeDuplicateHandle, lintOff: -2}},
		{"_SM3_ table without end marker", func(t *testing.T) []byte {
			_, in := baseDump(t, EntryPoint64)
			in.Structures = in.Structures[:len(in.Structures)-1]
			b, err := in.DumpBin()
			require.NoError(t, err)
			return b
		}, want{info: true, lint: CodeNoEndOfTable, lintOff: -2}},
		{"_SM_ count disagrees with the table", func(t *testing.T) []byte {
			b, _ := baseDump(t, EntryPoint32)
			binary.LittleEndian.PutUint16(b[0x1C:], 3)
			return refixEP(t, b)
		}, want{info: true, lint: CodeStructureCount, lintOff: 0x1C}},
		{"all-zero system UUID", func(t *testing.T) []byte {
			b, in := baseDump(t, EntryPoint32)
			at := structAt(t, in, 1) + 8
			copy(b[at:at+16], make([]byte, 16))
			return b
		}, want{info: true, lint: CodeUUIDPlaceholder, lintOff: -2}},
		{"baseboard handle count overruns the structure", func(t *testing.T) []byte {
			b, in := baseDump(t, EntryPoint32)
			b[structAt(t, in, 2)+0x0E] = 50
			return b
		}, want{info: true, lint: CodeStructureTooShort, lintOff: -2}},
		{"chassis type 0", func(t *testing.T) []byte {
			b, in := baseDump(t, EntryPoint32)
			b[structAt(t, in, 3)+5] = 0
			return b
		}, want{info: true, lint: CodeValueOutOfRange, lintOff: -2}},
	}
	require.GreaterOrEqual(t, len(cases), 15)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := c.in(t)
			var in *Info
			var err error
			require.NotPanics(t, func() { in, err = Decode(data) })
			if c.want.errCode != "" {
				var fe *FormatError
				require.True(t, errors.As(err, &fe), "want a *FormatError, got %v", err)
				assert.Equal(t, c.want.errCode, fe.Code, "%v", fe)
				if c.want.errOff != 0 {
					assert.Equal(t, c.want.errOff, fe.Off, "%v", fe)
				}
				assert.NotEmpty(t, fe.Msg)
				t.Log(fe)
			} else {
				require.NoError(t, err)
			}
			if !c.want.info {
				assert.Nil(t, in, "no Info for an unreadable input")
				return
			}
			require.NotNil(t, in, "a recognised container yields an Info")
			var fs finding.List
			require.NotPanics(t, func() { fs = Lint(in, nil) })
			if c.want.lint != "" {
				var hit *finding.Finding
				for i := range fs {
					if fs[i].Code == c.want.lint {
						hit = &fs[i]
					}
				}
				require.NotNil(t, hit, "want finding %s, got %v", c.want.lint, fs.Codes())
				if c.want.lintOff != -2 {
					assert.Equal(t, c.want.lintOff, hit.Offset)
				}
				assert.NotEqual(t, finding.Info, hit.Severity, "%v", hit)
				t.Log(hit)
			}
			// Whatever decoded renders and summarizes without trouble.
			for _, s := range in.Structures {
				if tv, _ := ParseTyped(s, in.Version); tv != nil {
					_ = tv.(interface{ String() string }).String()
				}
			}
			_ = Summarize(in).Text()
		})
	}
}

func TestMalformedErrorsSayWhere(t *testing.T) {
	b, in := baseDump(t, EntryPoint32)
	at := structAt(t, in, 2)
	b[at+1] = 2
	_, err := Decode(b)
	var fe *FormatError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, int64(at-DumpBinTableOffset), fe.Off, "offset in the table")
	assert.Equal(t, 2, fe.Type)
	assert.Equal(t, 2, fe.Index)
	assert.True(t, errors.Is(err, ErrBadLength))
	assert.Contains(t, err.Error(), "table offset 0x")
	assert.Contains(t, err.Error(), "structure #2")
	assert.Contains(t, err.Error(), "handle 0x0002")

	_, err = Read(fixturePath(t, "sidero_HyperV.bin"))
	require.ErrorAs(t, err, &fe)
	assert.Contains(t, err.Error(), "sidero_HyperV.bin", "errors name the file")
}
