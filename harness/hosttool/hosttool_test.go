package hosttool

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFindMissingSaysHowToFix(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("OEMACT_QEMU", "")
	_, err := Find("qemu-system-x86_64")
	var nf *NotFoundError
	require.True(t, errors.As(err, &nf))
	assert.Equal(t, "qemu-system-x86_64 not found: install the qemu-system-x86 package (apt-get install qemu-system-x86) or set OEMACT_QEMU to its path", err.Error())
}

func TestFindEnvOverride(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "myqemu")
	require.NoError(t, os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755))
	t.Setenv("OEMACT_QEMU", exe)
	p, err := Find("qemu-system-x86_64")
	require.NoError(t, err)
	assert.Equal(t, exe, p)

	t.Setenv("OEMACT_QEMU", filepath.Join(dir, "nope"))
	_, err = Find("qemu-system-x86_64")
	assert.ErrorContains(t, err, "qemu-system-x86_64 not found")
	assert.ErrorContains(t, err, "no such file")
}

func TestFindOnPath(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "iasl"), []byte("#!/bin/sh\n"), 0o755))
	t.Setenv("PATH", dir)
	p, err := Find("iasl")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "iasl"), p)
}
