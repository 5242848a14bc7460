package fileio

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "t.bin")
	require.NoError(t, os.WriteFile(p, []byte("SLIC1234"), 0o644))
	b, err := ReadFile(p, 8)
	require.NoError(t, err)
	assert.Equal(t, "SLIC1234", string(b))

	_, err = ReadFile(p, 7)
	assert.ErrorIs(t, err, ErrTooLarge)
	assert.EqualError(t, err, p+" is larger than 7 bytes, the most read from such a file: it is not what was expected")

	big := filepath.Join(dir, "big")
	require.NoError(t, os.WriteFile(big, make([]byte, 2<<20+1), 0o644))
	_, err = ReadFile(big, 2<<20)
	assert.ErrorContains(t, err, "larger than 2 MiB")

	_, err = ReadFile(filepath.Join(dir, "missing"), 8)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// Files whose size stat does not know (procfs) are read to the end, bounded all the same.
func TestReadFileUnknownSize(t *testing.T) {
	b, err := ReadFile("/proc/self/status", YAMLLimit)
	require.NoError(t, err)
	assert.Contains(t, string(b), "Name:")
	_, err = ReadFile("/proc/self/status", 16)
	assert.ErrorIs(t, err, ErrTooLarge)
}

// Pipes, devices and folders are refused at once, without blocking on a FIFO that has no writer.
func TestNotRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	for path, kind := range map[string]string{fifo: "a named pipe (FIFO)", "/dev/zero": "a character device", dir: "a folder"} {
		_, err := ReadFile(path, TableLimit)
		assert.ErrorIs(t, err, ErrNotRegular, path)
		var fe *Error
		require.True(t, errors.As(err, &fe), path)
		assert.Equal(t, path, fe.Path)
		assert.ErrorContains(t, err, path+" is "+kind+", not a regular file")
		_, err = Head(path, 4)
		assert.ErrorIs(t, err, ErrNotRegular, path)
	}
}

func TestHead(t *testing.T) {
	p := filepath.Join(t.TempDir(), "short")
	require.NoError(t, os.WriteFile(p, []byte("ab"), 0o644))
	b, err := Head(p, 4)
	require.NoError(t, err)
	assert.Equal(t, "ab", string(b))
}
