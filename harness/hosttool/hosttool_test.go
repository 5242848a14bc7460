package hosttool

import (
	"context"
	"debug/elf"
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

// BuildStatic gives an x86-64 Linux executable with no interpreter and no symbol table, and an
// error that names the package when the build fails.
func TestBuildStatic(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module x\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\nfunc main() {}\n"), 0o644))
	t.Setenv("GOFLAGS", "")
	out := filepath.Join(dir, "init")
	require.NoError(t, BuildStatic(context.Background(), dir, ".", out))
	f, err := elf.Open(out)
	require.NoError(t, err)
	defer f.Close()
	assert.Equal(t, elf.EM_X86_64, f.Machine)
	assert.Equal(t, elf.ET_EXEC, f.Type)
	for _, p := range f.Progs {
		assert.NotEqual(t, elf.PT_INTERP, p.Type, "dynamically linked")
	}
	_, err = f.Symbols()
	assert.ErrorIs(t, err, elf.ErrNoSymbols, "stripped (-ldflags=-s)")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\nfunc main() { undefined() }\n"), 0o644))
	err = BuildStatic(context.Background(), dir, ".", out)
	assert.ErrorContains(t, err, "building . as a static binary")
	assert.ErrorContains(t, err, "undefined")
}
