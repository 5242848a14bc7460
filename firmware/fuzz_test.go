package firmware

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seedTables adds every real table (and a few cut versions) to a fuzz corpus.
func seedTables(f *testing.F, sigs ...string) {
	files, err := filepath.Glob(filepath.Join(fixturesDir, "*", "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		base := filepath.Base(p)
		want := len(sigs) == 0
		for _, s := range sigs {
			want = want || base == s
		}
		if !want || base == "README.md" {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		if len(b) > 100 {
			f.Add(b[:100])
		}
	}
}

func FuzzHeader(f *testing.F) {
	seedTables(f)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := DecodeHeader(b)
		if err != nil {
			if len(b) >= HeaderSize {
				t.Fatalf("DecodeHeader failed on %d bytes: %v", len(b), err)
			}
			return
		}
		var out [HeaderSize]byte
		h.Encode(out[:])
		if !bytes.Equal(out[:], b[:HeaderSize]) {
			t.Fatalf("header does not encode back: %x vs %x", out, b[:HeaderSize])
		}
		_ = h.Dump()
	})
}

// checkTable runs everything a report runs on one table's bytes.
func checkTable(t *testing.T, b []byte) *Table {
	set := NewSet("fuzz", SetBytes)
	tb := set.AddBytes("T", b)
	for _, fd := range Check(set, Options{Release: "Windows 7", MinSLICVersion: SLICVersion21}) {
		if fd.Code == "" || fd.Message == "" {
			t.Fatalf("finding without code or message: %+v", fd)
		}
		if fd.Offset != -1 && (fd.Offset < 0 || fd.Offset > int64(len(b))+SLICSize) {
			t.Fatalf("finding offset %d outside the input (%d bytes): %+v", fd.Offset, len(b), fd)
		}
	}
	var buf bytes.Buffer
	if err := WriteDump(&buf, tb.Dump(false)); err != nil {
		t.Fatal(err)
	}
	_ = tb.ChecksumOK()
	return tb
}

func FuzzSLIC(f *testing.F) {
	seedTables(f, "SLIC")
	f.Fuzz(func(t *testing.T, b []byte) {
		checkTable(t, b)
		s, err := DecodeSLIC(b)
		if s == nil {
			if err == nil {
				t.Fatal("nil SLIC without an error")
			}
			return
		}
		_ = s.VerifyMarker()
		enc := s.Encode()
		back, err := DecodeSLIC(enc)
		if s.HasMarker && err != nil {
			t.Fatalf("encoded SLIC does not decode: %v", err)
		}
		if back.HasKey != s.HasKey || back.HasMarker != s.HasMarker || back.PublicKey != s.PublicKey ||
			back.Marker != s.Marker || back.Header != s.Header {
			t.Fatalf("SLIC does not round-trip:\n%+v\n%+v", s, back)
		}
		if !ChecksumOK(enc) {
			t.Fatal("Encode left a bad checksum")
		}
	})
}

func FuzzMSDM(f *testing.F) {
	seedTables(f, "MSDM")
	f.Fuzz(func(t *testing.T, b []byte) {
		checkTable(t, b)
		m, err := DecodeMSDM(b)
		if m == nil {
			if err == nil {
				t.Fatal("nil MSDM without an error")
			}
			return
		}
		_ = m.Key()
		_ = m.Dump(false)
		enc := m.Encode()
		back, err := DecodeMSDM(enc)
		if m.HasFields && err != nil {
			t.Fatalf("encoded MSDM does not decode: %v", err)
		}
		if back.HasFields != m.HasFields || back.Header != m.Header || back.DataLength != m.DataLength ||
			m.HasFields && !bytes.Equal(back.Data, m.Data) {
			t.Fatalf("MSDM does not round-trip:\n%+v\n%+v", m, back)
		}
	})
}

// FuzzTable feeds any bytes to the signature dispatch (RSDT/XSDT, FADT, RSDP, unknown tables).
func FuzzTable(f *testing.F) {
	seedTables(f)
	f.Add([]byte("RSD PTR \x00OEMID \x02\x00\x00\x00\x00\x24\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) { checkTable(t, b) })
}

func FuzzAcpidump(f *testing.F) {
	samples, _ := filepath.Glob("testdata/acpidump/*.txt")
	for _, p := range samples {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("SLIC @ 0x0\n    0000: 53 4C\n    0002: 49 43  IC\n")
	f.Fuzz(func(t *testing.T, text string) {
		blocks, err := ParseAcpidump(strings.NewReader(text))
		_ = LooksLikeAcpidump([]byte(text))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := FormatAcpidump(&out, blocks); err != nil {
			t.Fatal(err)
		}
		again, err := ParseAcpidump(&out)
		if err != nil {
			t.Fatalf("our own acpidump text does not parse: %v\n%s", err, out.String())
		}
		if len(again) != len(blocks) {
			t.Fatalf("%d blocks, then %d", len(blocks), len(again))
		}
		for i := range blocks {
			if again[i].Name != blocks[i].Name || again[i].Address != blocks[i].Address || !bytes.Equal(again[i].Data, blocks[i].Data) {
				t.Fatalf("block %d changed: %+v vs %+v", i, blocks[i], again[i])
			}
		}
	})
}

func FuzzKernelLog(f *testing.F) {
	f.Add("[    0.000000] ACPI: RSDT 0x000000007FFE1A2B 000034 (v01 BOCHS  BXPC     00000001 BXPC 00000001)\n")
	f.Add("ACPI: RSDP 0x00000000000F5A10 000014 (v00 BOCHS )\nACPI: FACS 0x000000007FFE0000 000040\n")
	f.Add("ACPI: SLIC 0x0000000000000000 000176 (v01 DELL   WN09     01072009 AMI  00010013)\n")
	f.Fuzz(func(t *testing.T, text string) {
		hs, err := ParseKernelLog(strings.NewReader(text))
		if err != nil {
			return
		}
		set := NewSet("fuzz", SetBytes)
		set.AddKernelLog(hs, "log")
		_ = Check(set, Options{})
		for _, h := range hs {
			again, ok := ParseKernelLogLine([]byte(h.String()))
			if !ok {
				t.Fatalf("%q does not parse back", h.String())
			}
			again.Line = h.Line
			if again != h {
				t.Fatalf("%+v\n%+v", h, again)
			}
		}
	})
}
