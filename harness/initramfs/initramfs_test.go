package initramfs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/hosttool"
)

type entry struct {
	h    Header
	data string
}

func readAll(t testing.TB, b []byte) []entry {
	t.Helper()
	r := NewReader(bytes.NewReader(b))
	var out []entry
	for {
		h, err := r.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		data, err := io.ReadAll(r)
		require.NoError(t, err)
		out = append(out, entry{*h, string(data)})
	}
}

func TestWriterRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	require.NoError(t, w.File("/etc/deep/conf", 0o600, []byte("abc"))) // parents are added
	require.NoError(t, w.Symlink("bin/sh", "/init"))
	require.NoError(t, w.CharDev("dev/console", 0o600, 5, 1))
	require.NoError(t, w.File("empty", 0o644, nil))
	require.NoError(t, w.Dir("etc", 0o700)) // already there: no second entry
	require.NoError(t, w.Close())
	assert.Zero(t, buf.Len()%512, "archive is padded to 512 bytes")

	got := readAll(t, buf.Bytes())
	var names []string
	for _, e := range got {
		names = append(names, e.h.Name)
		assert.Zero(t, e.h.Mtime)
		assert.Zero(t, e.h.UID)
	}
	assert.Equal(t, []string{"etc", "etc/deep", "etc/deep/conf", "bin", "bin/sh", "dev", "dev/console", "empty"}, names)
	assert.Equal(t, uint32(TypeDir|0o755), got[0].h.Mode)
	assert.Equal(t, uint32(1), got[0].h.Ino)
	assert.Equal(t, uint32(TypeRegular|0o600), got[2].h.Mode)
	assert.Equal(t, "abc", got[2].data)
	assert.Equal(t, uint32(TypeSymlink|0o777), got[4].h.Mode)
	assert.Equal(t, "/init", got[4].data)
	assert.Equal(t, uint32(TypeChar|0o600), got[6].h.Mode)
	assert.Equal(t, [2]uint32{5, 1}, [2]uint32{got[6].h.RdevMajor, got[6].h.RdevMinor})
	assert.Equal(t, uint32(8), got[7].h.Ino)

	// The first header, byte for byte: newc magic, then ino 1, mode 040755, uid, gid, nlink 2,
	// mtime, size, 4 device fields, namesize 4 ("etc\0"), check.
	want := "070701" + "00000001" + "000041ED" + "00000000" + "00000000" + "00000002" + "00000000" +
		"00000000" + "00000000" + "00000000" + "00000000" + "00000000" + "00000004" + "00000000" + "etc\x00"
	assert.Equal(t, want, buf.String()[:len(want)])
}

func TestWriterErrors(t *testing.T) {
	w := NewWriter(io.Discard)
	require.NoError(t, w.File("a", 0o644, nil))
	assert.ErrorContains(t, w.File("a", 0o644, nil), "added twice")
	assert.ErrorContains(t, w.File("a/b", 0o644, nil), "not a directory")
	assert.ErrorContains(t, w.File("/", 0o644, nil), "empty entry name")
	assert.ErrorContains(t, w.File(strings.Repeat("x", MaxNameSize), 0o644, nil), "longer than")
	require.NoError(t, w.Close())
	assert.ErrorContains(t, w.File("c", 0o644, nil), "after Close")
}

func TestReaderRejectsDamage(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	require.NoError(t, w.File("f", 0o644, []byte("0123456789")))
	require.NoError(t, w.Close())
	good := buf.Bytes()

	cases := map[string]struct {
		data []byte
		want string
	}{
		"bad magic":  {append([]byte("070707"), good[6:]...), "magic"},
		"bad hex":    {append(append([]byte{}, good[:6]...), append([]byte("zz"), good[8:]...)...), "not 8 hex digits"},
		"truncated":  {good[:headerSize+10], "ends"},
		"no trailer": {good[:headerSize+4+12], "ends"},
		"huge name":  {[]byte(strings.Replace(string(good), "00000002"+"00000000"+"f", "FFFFFFFF"+"00000000"+"f", 1)), "name size"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := NewReader(bytes.NewReader(c.data))
			var err error
			for err == nil {
				_, err = r.Next()
				if err == nil {
					_, err = io.ReadAll(r)
				}
			}
			var fe *FormatError
			require.True(t, errors.As(err, &fe), "got %v", err)
			assert.Contains(t, fe.Error(), c.want)
		})
	}
}

// staticBinary builds a tiny static program, the way the harness builds oemact.
func staticBinary(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\nfunc main() {}\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module x\n"), 0o644))
	out := filepath.Join(dir, "init")
	t.Setenv("GOFLAGS", "") // the module is not the repository's: no flags meant for it
	require.NoError(t, hosttool.BuildStatic(context.Background(), dir, ".", out))
	return out
}

func TestWriteSpec(t *testing.T) {
	init := staticBinary(t)
	dir := t.TempDir()
	modA := filepath.Join(dir, "a.ko")
	modB := filepath.Join(dir, "b.ko")
	require.NoError(t, os.WriteFile(modA, []byte("module a"), 0o644))
	require.NoError(t, os.WriteFile(modB, []byte("module b!"), 0o644))
	spec := Spec{
		Init:    init,
		Modules: []Module{{Name: "virtio", Path: modA}, {Name: "virtio_pci", Path: modB}},
		Files:   []ExtraFile{{Name: "etc/oemact.conf", Mode: 0o644, Data: []byte("x=1\n")}},
	}
	var one, two bytes.Buffer
	require.NoError(t, Write(&one, spec))
	require.NoError(t, Write(&two, spec))
	assert.Equal(t, one.Bytes(), two.Bytes(), "output is deterministic")

	files := map[string]entry{}
	for _, e := range readAll(t, one.Bytes()) {
		files[e.h.Name] = e
	}
	initData, err := os.ReadFile(init)
	require.NoError(t, err)
	assert.Equal(t, string(initData), files["init"].data)
	assert.Equal(t, uint32(TypeRegular|0o755), files["init"].h.Mode)
	assert.Equal(t, "module a", files["lib/modules/virtio.ko"].data)
	assert.Equal(t, "module b!", files["lib/modules/virtio_pci.ko"].data)
	assert.Equal(t, "virtio\nvirtio_pci\n", files[LoadOrderPath].data)
	assert.Equal(t, "x=1\n", files["etc/oemact.conf"].data)
	for _, d := range []string{"proc", "sys", "dev", "tmp"} {
		assert.Equal(t, uint32(TypeDir), files[d].h.Mode&TypeMask, d)
	}

	cache := t.TempDir()
	p1, err := WriteCached(cache, spec)
	require.NoError(t, err)
	st1, err := os.Stat(p1)
	require.NoError(t, err)
	p2, err := WriteCached(cache, spec)
	require.NoError(t, err)
	assert.Equal(t, p1, p2, "same inputs, same cached file")
	assert.Equal(t, os.FileMode(0o644), st1.Mode().Perm())
	st2, err := os.Stat(p2)
	require.NoError(t, err)
	assert.Equal(t, st1.ModTime(), st2.ModTime(), "the cached file is reused, not rewritten")
	entries, err := os.ReadDir(cache)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left")

	spec.Files[0].Data = []byte("x=2\n")
	p3, err := WriteCached(cache, spec)
	require.NoError(t, err)
	assert.NotEqual(t, p1, p3, "different content, different name")

	bad := spec
	bad.Modules = append(bad.Modules, Module{Name: "virtio", Path: modA})
	assert.ErrorContains(t, Write(io.Discard, bad), "listed twice")
	bad = spec
	bad.Modules = []Module{{Name: "gone", Path: filepath.Join(dir, "gone.ko")}}
	assert.ErrorContains(t, Write(io.Discard, bad), "reading module gone")
}

func TestCheckStatic(t *testing.T) {
	assert.NoError(t, CheckStatic(staticBinary(t)))
	err := CheckStatic("/bin/sh") // Debian's sh is dynamically linked
	assert.ErrorContains(t, err, "dynamically linked")
	assert.ErrorContains(t, err, "CGO_ENABLED=0")
	notELF := filepath.Join(t.TempDir(), "script")
	require.NoError(t, os.WriteFile(notELF, []byte("#!/bin/sh\n"), 0o755))
	assert.ErrorContains(t, CheckStatic(notELF), "not a readable ELF")
}

func FuzzReader(f *testing.F) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	_ = w.File("init", 0o755, []byte("\x7fELF"))
	_ = w.Symlink("sbin/init", "/init")
	_ = w.Close()
	f.Add(buf.Bytes())
	f.Add([]byte("070701"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(bytes.NewReader(b))
		for i := 0; i < 10000; i++ {
			h, err := r.Next()
			if err != nil {
				return
			}
			n, err := io.Copy(io.Discard, r)
			if err == nil && n != int64(h.Size) {
				t.Fatalf("entry %s: read %d bytes, header says %d", h.Name, n, h.Size)
			}
			if err != nil {
				return
			}
		}
	})
}

// Within a process, unchanged inputs find their archive without being read again; a changed
// input or a removed archive is noticed.
func TestWriteCachedRemembers(t *testing.T) {
	dir := t.TempDir()
	elf, err := os.ReadFile(staticBinary(t))
	require.NoError(t, err)
	init := filepath.Join(dir, "init")
	require.NoError(t, os.WriteFile(init, elf, 0o755))
	cache := t.TempDir()
	spec := Spec{Init: init}
	p1, err := WriteCached(cache, spec)
	require.NoError(t, err)
	key, ok := identity(cache, spec)
	require.True(t, ok)
	_, remembered := memo.Load(key)
	assert.True(t, remembered)
	p2, err := WriteCached(cache, spec)
	require.NoError(t, err)
	assert.Equal(t, p1, p2)

	require.NoError(t, os.Remove(p1))
	p3, err := WriteCached(cache, spec)
	require.NoError(t, err)
	assert.Equal(t, p1, p3, "a removed archive is written again")
	assert.FileExists(t, p3)

	// A rebuilt init: new contents and modification time, a new archive.
	require.NoError(t, os.WriteFile(init, append(elf, 0), 0o755))
	require.NoError(t, os.Chtimes(init, time.Now(), time.Now().Add(time.Second)))
	p4, err := WriteCached(cache, spec)
	require.NoError(t, err)
	assert.NotEqual(t, p1, p4)
}
