package fwimage

import (
	"os"
	"testing"
)

// bench32MiB is a 32 MiB flash image: a flash descriptor, 16 MiB of random ME region, and a
// BIOS region with OVMF_CODE_4M.fd at its top and a real SLIC in its free space.
func bench32MiB(b *testing.B) []byte {
	fd, err := os.ReadFile(ovmf(b, "OVMF_CODE_4M.fd"))
	if err != nil {
		b.Fatal(err)
	}
	img := flashImage(32<<20, 16<<20, fd, randomBlob(16<<20-0x1000, 5))
	copy(img[20<<20:], realTable(b, "hp-elitebook-840-g7", "SLIC"))
	return img
}

// BenchmarkWalk32MiB walks a 32 MiB flash image: B/op is what one walk allocates (the image
// itself is read before), bounded by Limits whatever the image says.
func BenchmarkWalk32MiB(b *testing.B) {
	img := bench32MiB(b)
	b.SetBytes(int64(len(img)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		im := Walk("flash.bin", img, Limits{})
		if len(im.Tables) != 2 || len(im.Errors) != 0 {
			b.Fatalf("%d tables, errors %v", len(im.Tables), im.Errors)
		}
	}
}

// BenchmarkScan32MiB scans 32 MiB of random bytes for tables.
func BenchmarkScan32MiB(b *testing.B) {
	img := randomBlob(32<<20, 11)
	b.SetBytes(int64(len(img)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		scanTables(img, func(int, int) bool { return true })
	}
}
