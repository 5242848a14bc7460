package statedisk

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.img")
	require.NoError(t, Create(path, DefaultSize))
	_, err := Read(path)
	assert.ErrorIs(t, err, ErrEmpty)

	payload := []byte(`{"status":2,"grace_days":30}`)
	require.NoError(t, Write(path, payload))
	got, err := Read(path)
	require.NoError(t, err)
	assert.Equal(t, payload, got)

	// Create leaves existing state alone.
	require.NoError(t, Create(path, DefaultSize))
	got, err = Read(path)
	require.NoError(t, err)
	assert.Equal(t, payload, got)

	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, int64(DefaultSize), st.Size(), "Write never grows the disk")
}

func TestWriteErrors(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.img")
	require.NoError(t, Create(small, 32))
	assert.ErrorContains(t, Write(small, []byte(`{"a":"0123456789"}`)), "larger state disk")
	assert.ErrorContains(t, Write(small, []byte(`{not json`)), "not valid JSON")
	assert.ErrorContains(t, Create(filepath.Join(dir, "tiny.img"), 8), "cannot hold")
	assert.Error(t, Write(filepath.Join(dir, "missing.img"), []byte(`{}`)))
}

func TestDecodeDamage(t *testing.T) {
	good, err := Encode([]byte(`{"k":1}`))
	require.NoError(t, err)
	disk := append(good, make([]byte, 100)...)
	p, err := Decode(disk)
	require.NoError(t, err)
	assert.Equal(t, `{"k":1}`, string(p))

	mutate := func(f func(b []byte)) []byte {
		b := append([]byte(nil), disk...)
		f(b)
		return b
	}
	cases := map[string]struct {
		b    []byte
		off  int64
		want string
	}{
		"short":       {disk[:10], 0, "smaller than"},
		"magic":       {mutate(func(b []byte) { b[0] = 'X' }), 0, "magic"},
		"format":      {mutate(func(b []byte) { b[8] = 9 }), 8, "format 9"},
		"length":      {mutate(func(b []byte) { binary.LittleEndian.PutUint32(b[12:], 0xFFFFFFF0) }), 12, "runs past the end"},
		"crc":         {mutate(func(b []byte) { b[HeaderSize+2]++ }), 16, "CRC-32"},
		"not json":    {mutate(func(b []byte) { copy(b[16:], le32(crc32Of([]byte(`{"k":1`+"\x00")))); b[HeaderSize+6] = 0 }), HeaderSize, "not valid JSON"},
		"half header": {mutate(func(b []byte) { copy(b[8:], make([]byte, 16)) }), 8, "format 0"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Decode(c.b)
			var fe *FormatError
			require.True(t, errors.As(err, &fe), "got %v", err)
			assert.Equal(t, c.off, fe.Off)
			assert.Contains(t, fe.Error(), c.want)
		})
	}
	_, err = Decode(make([]byte, 64))
	assert.ErrorIs(t, err, ErrEmpty)
}

func FuzzDecode(f *testing.F) {
	good, _ := Encode([]byte(`{"status":1}`))
	f.Add(good)
	f.Add(make([]byte, HeaderSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Decode(b)
		if err != nil {
			return
		}
		// The reserved word is not checked, so compare payloads, not bytes.
		again, err := Encode(p)
		if err != nil {
			t.Fatalf("decoded payload does not encode: %v", err)
		}
		p2, err := Decode(again)
		if err != nil || string(p2) != string(p) {
			t.Fatalf("payload does not survive a round trip: %v", err)
		}
	})
}

func le32(v uint32) []byte { b := make([]byte, 4); binary.LittleEndian.PutUint32(b, v); return b }

func crc32Of(b []byte) uint32 { return crc32.ChecksumIEEE(b) }
