package guestimage

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
)

// sfdiskTable reads a disk image's partition table with sfdisk, the independent reader.
func sfdiskTable(t *testing.T, path string) map[string]any {
	t.Helper()
	out, err := exec.Command(hosttooltest.Require(t, "sfdisk"), "--json", path).Output()
	require.NoError(t, err)
	var v struct {
		PartitionTable map[string]any `json:"partitiontable"`
	}
	require.NoError(t, json.Unmarshal(out, &v))
	return v.PartitionTable
}

func TestMBRReadBySfdisk(t *testing.T) {
	esp, root, size := layout(300<<20 + 12345)
	mbr, err := encodeMBR([]byte{0xFA, 0x31, 0xC0}, 0x4F454D41, []partition{esp, root})
	require.NoError(t, err)
	require.Len(t, mbr, 512)
	assert.Equal(t, []byte{0xFA, 0x31, 0xC0, 0}, mbr[:4], "boot code first")
	disk := filepath.Join(t.TempDir(), "disk.img")
	espImg := filepath.Join(t.TempDir(), "esp.img")
	require.NoError(t, os.WriteFile(espImg, make([]byte, espBytes), 0o644))
	require.NoError(t, writeDisk(disk, mbr, esp, espImg, size))
	st, err := os.Stat(disk)
	require.NoError(t, err)
	assert.Equal(t, size, st.Size())
	assert.Equal(t, int64(1<<20+64<<20+301<<20), size, "1 MiB, the ESP, the root rounded up to a MiB")

	pt := sfdiskTable(t, disk)
	assert.Equal(t, "dos", pt["label"])
	assert.Equal(t, "0x4f454d41", pt["id"])
	parts := pt["partitions"].([]any)
	require.Len(t, parts, 2)
	p0, p1 := parts[0].(map[string]any), parts[1].(map[string]any)
	assert.Equal(t, []any{2048.0, 131072.0, "ef", true}, []any{p0["start"], p0["size"], p0["type"], p0["bootable"]})
	assert.Equal(t, []any{133120.0, 616448.0, "83", nil}, []any{p1["start"], p1["size"], p1["type"], p1["bootable"]})

	// The disk is not written over an existing file.
	assert.ErrorIs(t, writeDisk(disk, mbr, esp, espImg, size), os.ErrExist)
	require.NoError(t, os.WriteFile(espImg, make([]byte, 100), 0o644))
	assert.ErrorContains(t, writeDisk(disk+"2", mbr, esp, espImg, size), "esp.img is 100 bytes; its partition holds 67108864")
}

func TestMBRBounds(t *testing.T) {
	_, err := encodeMBR(make([]byte, 441), 0, nil)
	assert.EqualError(t, err, "MBR boot code is 441 bytes; the MBR holds 440")
	_, err = encodeMBR(nil, 0, make([]partition, 5))
	assert.EqualError(t, err, "5 partitions; an MBR holds 4")
}

func TestIDs(t *testing.T) {
	a, b := idsFor("3fa2d89496487c26"), idsFor("3fa2d89496487c27")
	assert.Equal(t, a, idsFor("3fa2d89496487c26"), "the same recipe gives the same identifiers")
	assert.NotEqual(t, a, b)
	assert.Regexp(t, regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`), a.rootUUID)
	assert.Equal(t, "4F45-4D41", espLabel(0x4F454D41))
}

func TestKeyAndSources(t *testing.T) {
	r := DefaultRecipe()
	k := key(r, []byte("Types: deb\n"))
	assert.Len(t, k, 16)
	assert.NotEqual(t, k, key(r, []byte("Types: deb-src\n")), "the sources file is an input")
	r.Include = append(r.Include, "pciutils")
	assert.NotEqual(t, k, key(r, []byte("Types: deb\n")), "the recipe is an input")

	etc := t.TempDir()
	_, err := findSources(etc)
	assert.ErrorContains(t, err, "no apt sources file ("+etc+"/sources.list.d/*.sources or "+etc+"/sources.list)")
	require.NoError(t, os.WriteFile(filepath.Join(etc, "sources.list"), []byte("deb http://example.invalid/debian bookworm main\n"), 0o644))
	p, err := findSources(etc)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(etc, "sources.list"), p)
	require.NoError(t, os.MkdirAll(filepath.Join(etc, "sources.list.d"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(etc, "sources.list.d", "debian.sources"), []byte("Types: deb\n"), 0o644))
	p, err = findSources(etc)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(etc, "sources.list.d", "debian.sources"), p)
}

func TestLocateNotBuilt(t *testing.T) {
	cache := t.TempDir()
	src := filepath.Join(t.TempDir(), "debian.sources")
	require.NoError(t, os.WriteFile(src, []byte("Types: deb\n"), 0o644))
	_, err := Locate(Options{CacheDir: cache, Sources: src})
	var nb *NotBuiltError
	require.ErrorAs(t, err, &nb)
	assert.Contains(t, err.Error(), "the Debian guest image is not built in "+cache+"/guestimage/")
	assert.Contains(t, err.Error(), "run 'make guest-image'")

	// A damaged cache entry says what to delete.
	dir := nb.Dir
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, manifestName), []byte(`{"size": 10}`), 0o644))
	_, err = Locate(Options{CacheDir: cache, Sources: src})
	assert.ErrorContains(t, err, "is missing or not the 10 bytes its manifest says: delete "+dir)
	assert.False(t, errors.As(err, &nb))
	require.NoError(t, os.WriteFile(filepath.Join(dir, manifestName), []byte(`{`), 0o644))
	_, err = Locate(Options{CacheDir: cache, Sources: src})
	assert.ErrorContains(t, err, "delete the folder to build the image again")
}

// Link names the image by another path: a hard link on one file system, made again when the
// path names something else (an image built from an older recipe), left alone when it is the
// image already.
func TestLink(t *testing.T) {
	dir := t.TempDir()
	im := &Image{Path: filepath.Join(dir, "cache", "debian.img")}
	require.NoError(t, os.MkdirAll(filepath.Dir(im.Path), 0o755))
	require.NoError(t, os.WriteFile(im.Path, []byte("image"), 0o644))
	link := filepath.Join(dir, "fixtures", "debian.img")
	require.NoError(t, os.MkdirAll(filepath.Dir(link), 0o755))
	require.NoError(t, os.WriteFile(link, []byte("an older image"), 0o644))

	how, err := im.Link(link)
	require.NoError(t, err)
	assert.Equal(t, "hard link", how)
	a, err := os.Lstat(link)
	require.NoError(t, err)
	b, err := os.Stat(im.Path)
	require.NoError(t, err)
	assert.True(t, os.SameFile(a, b))
	how, err = im.Link(link)
	require.NoError(t, err)
	assert.Equal(t, "already the image", how)
	entries, err := os.ReadDir(filepath.Dir(link))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left")

	_, err = im.Link(filepath.Join(dir, "no-such-folder", "debian.img"))
	assert.ErrorContains(t, err, "linking the guest image to "+filepath.Join(dir, "no-such-folder", "debian.img"))
}
