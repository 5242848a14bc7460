package smbios

import (
	"bytes"
	"errors"
	"testing"

	gosmbios "github.com/digitalocean/go-smbios/smbios"
)

func addFixtureSeeds(f *testing.F) {
	for _, name := range realDumps {
		f.Add(readFixture(f, name))
	}
}

// FuzzDecodeEntryPoint checks the entry point decoder never panics, that whatever it accepts
// encodes back to the same bytes, and that it agrees with go-smbios on every _SM_ and _SM3_
// entry point go-smbios accepts when given exactly the entry point's length.
func FuzzDecodeEntryPoint(f *testing.F) {
	addFixtureSeeds(f)
	for _, name := range realDumps[:4] {
		f.Add(readFixture(f, name)[:DumpBinTableOffset])
	}
	f.Add([]byte("_DMI_\x00\x10\x00\x20\x00\x00\x00\x01\x00\x21"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ep, err := DecodeEntryPoint(b)
		if ep == nil {
			if err == nil {
				t.Fatal("nil entry point without an error")
			}
			return
		}
		if err == nil {
			out, encErr := ep.Bytes()
			if encErr != nil {
				t.Fatalf("decoded entry point does not encode: %v", encErr)
			}
			if !bytes.Equal(out, b[:len(out)]) {
				t.Fatalf("re-encoded entry point differs:\n% x\n% x", out, b[:len(out)])
			}
		}
		checkAgainstGoSMBIOS(t, b, ep, err)
	})
}

// checkAgainstGoSMBIOS compares with go-smbios's parser, giving it exactly Length bytes (its
// 64-bit checksum covers every byte it is given).
func checkAgainstGoSMBIOS(t *testing.T, b []byte, ep *EntryPoint, err error) {
	if ep.Kind == EntryPointLegacy || len(b) < ep.Size() {
		return
	}
	g, gerr := gosmbios.ParseEntryPoint(bytes.NewReader(b[:ep.Size()]))
	if gerr != nil {
		return // go-smbios is stricter in places (it wants 31 bytes for _SM_ even when the length says 30)
	}
	var fe *FormatError
	if err != nil && !(errors.As(err, &fe) && fe.Code == CodeIntermediateChecksum) {
		// go-smbios does not check the _DMI_ intermediate checksum; anything else it accepts, so
		// must this decoder.
		t.Fatalf("go-smbios accepts an entry point this decoder rejects: %v", err)
	}
	addr, size := g.Table()
	major, minor, rev := g.Version()
	if uint64(addr) != ep.TableAddress || uint32(size) != ep.TableLength {
		t.Fatalf("table %#x+%d, go-smbios says %#x+%d", ep.TableAddress, ep.TableLength, addr, size)
	}
	v := ep.Version()
	if int(v.Major) != major || int(v.Minor) != minor || int(v.Docrev) != rev {
		t.Fatalf("version %v, go-smbios says %d.%d.%d", v, major, minor, rev)
	}
}

// FuzzDecode checks container detection, the structure decoder, the typed views, rendering and
// lint never panic, and that a cleanly decoded table encodes back to its bytes.
func FuzzDecode(f *testing.F) {
	addFixtureSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := Decode(b)
		if in == nil {
			if f := Container(b); f == FormatBare || f == FormatRSMB {
				t.Fatalf("Container says %v, but Decode refuses it: %v", f, err)
			}
			return
		}
		for _, s := range in.Structures {
			_ = Render(s, in.Version).String()
			tv, perr := ParseTyped(s, in.Version)
			if perr != nil || tv == nil {
				continue
			}
			_ = tv.(interface{ String() string }).String()
			got, eerr := tv.Structure()
			if eerr != nil {
				t.Fatalf("type %d handle %#x decodes but does not encode: %v", s.Type, s.Handle, eerr)
			}
			want, _ := s.MarshalBinary()
			if gotb, _ := got.MarshalBinary(); !bytes.Equal(want, gotb) {
				t.Fatalf("type %d handle %#x: the typed view encodes differently:\n% x\n% x", s.Type, s.Handle, want, gotb)
			}
		}
		for _, k := range StringKeywords() {
			_ = k.Values(in)
		}
		_ = in.IdentityValues()
		_ = Lint(in, nil)
		_ = Summarize(in).Text()
		if err == nil {
			table, terr := in.Table.Bytes()
			if terr != nil {
				t.Fatalf("decoded table does not encode: %v", terr)
			}
			src := b[in.TableOffset:]
			if int64(len(src)) > in.DeclaredTableLength {
				src = src[:in.DeclaredTableLength]
			}
			if !bytes.Equal(table, src) {
				t.Fatalf("table re-encodes differently (%d vs %d bytes)", len(table), len(src))
			}
		}
	})
}

// FuzzDecodeStructure checks the structure decoder alone, at any offset.
func FuzzDecodeStructure(f *testing.F) {
	for _, name := range realDumps {
		b := readFixture(f, name)
		if len(b) > DumpBinTableOffset && (string(b[:4]) == "_SM_" || string(b[:5]) == "_SM3_") {
			b = b[DumpBinTableOffset:]
		}
		f.Add(b, int64(0))
	}
	f.Fuzz(func(t *testing.T, b []byte, off int64) {
		s, next, err := DecodeStructure(b, off, 0)
		if err != nil {
			return
		}
		if next <= off || next > int64(len(b)) {
			t.Fatalf("next offset %d after %d in %d bytes", next, off, len(b))
		}
		out, err := s.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded structure does not encode: %v", err)
		}
		if !bytes.Equal(out, b[off:next]) {
			t.Fatalf("structure re-encodes differently:\n% x\n% x", out, b[off:next])
		}
	})
}

func TestEntryPointsAgreeWithGoSMBIOS(t *testing.T) {
	for _, name := range realDumps[:4] {
		b := readFixture(t, name)
		ep, err := DecodeEntryPoint(b)
		if err != nil {
			t.Fatal(err)
		}
		// The pitfall: go-smbios checksums every byte it is given, so the whole file fails for a
		// 64-bit entry point, while exactly its 24 bytes pass.
		if ep.Kind == EntryPoint64 {
			if _, gerr := gosmbios.ParseEntryPoint(bytes.NewReader(b)); gerr == nil {
				t.Fatalf("%s: go-smbios accepted a 64-bit entry point with table bytes after it", name)
			}
		}
		if _, gerr := gosmbios.ParseEntryPoint(bytes.NewReader(b[:ep.Size()])); gerr != nil {
			t.Fatalf("%s: go-smbios: %v", name, gerr)
		}
		checkAgainstGoSMBIOS(t, b, ep, nil)
	}
}
