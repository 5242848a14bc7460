package firmware

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkDecodeVerifySLIC decodes one real SLIC and verifies its marker signature: what
// `oemact inspect` and the guest agent do per SLIC.
func BenchmarkDecodeVerifySLIC(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join(fixturesDir, "dell-inspiron-14-3462", "SLIC"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		s, err := DecodeSLIC(raw)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.VerifyMarker(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeSLIC is the decoding alone, without the RSA verification.
func BenchmarkDecodeSLIC(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join(fixturesDir, "dell-inspiron-14-3462", "SLIC"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := DecodeSLIC(raw); err != nil {
			b.Fatal(err)
		}
	}
}
