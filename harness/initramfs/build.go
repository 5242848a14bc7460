package initramfs

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Where the guest agent finds what Build puts in the archive.
const (
	InitPath = "init"
	// ModuleDir holds the kernel modules, one NAME.ko per module.
	ModuleDir = "lib/modules"
	// LoadOrderPath lists the module names, one a line, in the order the agent loads them
	// (dependencies first).
	LoadOrderPath = "lib/modules/oemact.order"
)

// Module is a kernel module to put in the archive.
type Module struct {
	Name string // module name, as in its modinfo name= ("virtio_pci")
	Path string // the .ko file on the host
}

// ExtraFile is any other file to put in the archive.
type ExtraFile struct {
	Name string // archive path
	Mode uint32 // permission bits
	Data []byte
}

// Spec is what an initramfs holds.
type Spec struct {
	// Init is the program the kernel runs as PID 1: a statically linked executable (the oemact
	// binary built with CGO_ENABLED=0). The kernel's initramfs has no dynamic loader.
	Init string
	// Modules in load order: dependencies before the modules that need them.
	Modules []Module
	Files   []ExtraFile
}

// Write writes the archive for s to w: /init, the mount points the agent uses (/proc, /sys, /dev,
// /tmp), the modules under lib/modules with their load order, then the extra files.
func Write(w io.Writer, s Spec) error {
	if err := CheckStatic(s.Init); err != nil {
		return err
	}
	initData, err := os.ReadFile(s.Init)
	if err != nil {
		return fmt.Errorf("initramfs: reading init: %w", err)
	}
	cw := NewWriter(w)
	for _, d := range []string{"dev", "proc", "sys", "tmp", "run"} {
		if err := cw.Dir(d, 0o755); err != nil {
			return err
		}
	}
	// The kernel's built-in initramfs provides /dev/console; adding it here too keeps the archive
	// usable on kernels built without that default.
	if err := cw.CharDev("dev/console", 0o600, 5, 1); err != nil {
		return err
	}
	if err := cw.File(InitPath, 0o755, initData); err != nil {
		return err
	}
	var order strings.Builder
	seen := map[string]bool{}
	for _, m := range s.Modules {
		if m.Name == "" || strings.ContainsAny(m.Name, "/\n") {
			return fmt.Errorf("initramfs: module name %q (from %s) is not a plain name", m.Name, m.Path)
		}
		if seen[m.Name] {
			return fmt.Errorf("initramfs: module %s listed twice", m.Name)
		}
		seen[m.Name] = true
		data, err := os.ReadFile(m.Path)
		if err != nil {
			return fmt.Errorf("initramfs: reading module %s: %w", m.Name, err)
		}
		if err := cw.File(ModuleDir+"/"+m.Name+".ko", 0o644, data); err != nil {
			return err
		}
		order.WriteString(m.Name + "\n")
	}
	if len(s.Modules) > 0 {
		if err := cw.File(LoadOrderPath, 0o644, []byte(order.String())); err != nil {
			return err
		}
	}
	for _, f := range s.Files {
		if err := cw.File(f.Name, f.Mode, f.Data); err != nil {
			return err
		}
	}
	return cw.Close()
}

// WriteCached writes the archive for s into dir as initramfs-<first 16 hex digits of its
// SHA-256>.cpio and returns that path. When the file is already there it is reused, so building
// the same inputs twice costs one read of them; within one process, inputs whose files have not
// changed (same path, size and modification time) are not read again at all (reading and
// hashing the 20 MB agent cost about 40 ms per boot). The file is written under a temporary name
// in dir and renamed, so concurrent callers never see a partial archive.
func WriteCached(dir string, s Spec) (string, error) {
	key, memoOK := identity(dir, s)
	if memoOK {
		if v, ok := memo.Load(key); ok {
			m := v.(memoEntry)
			if st, err := os.Stat(m.path); err == nil && st.Size() == m.size {
				return m.path, nil
			}
		}
	}
	name, size, err := writeCached(dir, s)
	if err == nil && memoOK {
		memo.Store(key, memoEntry{path: name, size: size})
	}
	return name, err
}

// memo maps the identity of WriteCached's inputs to the archive they made.
var memo sync.Map

type memoEntry struct {
	path string
	size int64
}

// identity names WriteCached's inputs by their files' paths, sizes and modification times (in
// nanoseconds), and the extra files' contents; false when a file cannot be examined (WriteCached then reads
// everything, and reports the problem).
func identity(dir string, s Spec) (string, bool) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00", dir)
	stamp := func(p string) bool {
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() {
			return false
		}
		fmt.Fprintf(h, "%s\x00%d %d\x00", p, st.Size(), st.ModTime().UnixNano())
		return true
	}
	if !stamp(s.Init) {
		return "", false
	}
	for _, m := range s.Modules {
		fmt.Fprintf(h, "%s\x00", m.Name)
		if !stamp(m.Path) {
			return "", false
		}
	}
	for _, f := range s.Files {
		fmt.Fprintf(h, "%s\x00%o\x00%d\x00", f.Name, f.Mode, len(f.Data))
		h.Write(f.Data)
	}
	return string(h.Sum(nil)), true
}

func writeCached(dir string, s Spec) (string, int64, error) {
	var buf bytes.Buffer
	if err := Write(&buf, s); err != nil {
		return "", 0, err
	}
	sum := sha256.Sum256(buf.Bytes())
	name := filepath.Join(dir, "initramfs-"+hex.EncodeToString(sum[:8])+".cpio")
	size := int64(buf.Len())
	if st, err := os.Stat(name); err == nil && st.Size() == size {
		return name, size, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", 0, fmt.Errorf("initramfs: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".initramfs-*.tmp")
	if err != nil {
		return "", 0, fmt.Errorf("initramfs: %w", err)
	}
	_, werr := tmp.Write(buf.Bytes())
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp.Name(), 0o644) // CreateTemp makes it 0600; the cache is shared
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), name)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return "", 0, fmt.Errorf("initramfs: writing %s: %w", name, werr)
	}
	return name, size, nil
}

// CheckStatic returns an error unless path is an x86-64 ELF executable with no dynamic loader
// (no PT_INTERP), which is what the kernel can run as /init from an initramfs that holds nothing else.
func CheckStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("initramfs: init %s is not a readable ELF executable: %w", path, err)
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 {
		return fmt.Errorf("initramfs: init %s is built for %s; the guest is x86-64 (build with GOARCH=amd64)", path, f.Machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			interp, _ := io.ReadAll(io.LimitReader(p.Open(), 256))
			return fmt.Errorf("initramfs: init %s is dynamically linked (interpreter %s); build it with CGO_ENABLED=0",
				path, strings.TrimRight(string(interp), "\x00"))
		}
	}
	return nil
}
