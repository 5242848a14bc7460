package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oemact/oemact/smbios"
)

// eachInputs writes n inputs made from the real fixtures: every SMBIOS dump as dump-bin, bare
// table, RSMB blob and physical-address memory image, every ACPI table alone, and every ACPI
// folder copied, in turn.
func eachInputs(b *testing.B, n int) []string {
	b.Helper()
	fixtures := filepath.Join("..", "..", "fixtures")
	var blobs [][]byte
	dumps, _ := filepath.Glob(filepath.Join(fixtures, "smbios", "*.bin"))
	for _, p := range dumps {
		raw, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		in, err := smbios.Decode(raw)
		if in == nil {
			b.Fatal(err)
		}
		table, err := in.Table.Bytes()
		if err != nil {
			b.Fatal(err)
		}
		rsmb, err := in.RSMBBlob()
		if err != nil {
			b.Fatal(err)
		}
		blobs = append(blobs, raw, table, rsmb)
		if in.EntryPoint != nil {
			img := append([]byte(nil), raw...)
			ep := *in.EntryPoint
			ep.TableAddress = 0xE0020
			e, err := ep.Bytes()
			if err != nil {
				b.Fatal(err)
			}
			copy(img, e)
			blobs = append(blobs, img)
		}
	}
	tables, _ := filepath.Glob(filepath.Join(fixtures, "acpi", "*", "*"))
	for _, p := range tables {
		raw, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		blobs = append(blobs, raw)
	}
	folders, _ := filepath.Glob(filepath.Join(fixtures, "acpi", "*"))
	dir := b.TempDir()
	var paths []string
	for i := 0; len(paths) < n; i++ {
		p := filepath.Join(dir, fmt.Sprintf("input-%04d", i))
		if i%10 == 9 { // every tenth input a machine's folder
			src := folders[i%len(folders)]
			if st, err := os.Stat(src); err != nil || !st.IsDir() {
				continue
			}
			copyFolder(b, src, p)
		} else if err := os.WriteFile(p, blobs[i%len(blobs)], 0o644); err != nil {
			b.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

func copyFolder(b *testing.B, src, dst string) {
	b.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		b.Fatal(err)
	}
	ents, _ := os.ReadDir(src)
	for _, e := range ents {
		raw, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), raw, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInspectEach runs `oemact inspect --each --json` over 1,000 inputs and reports, beside
// the time per run, the largest heap in use seen during the runs (sampled every millisecond):
// --each keeps nothing from one input to the next, so it stays near one input's worth.
func BenchmarkInspectEach(b *testing.B) {
	paths := eachInputs(b, 1000)
	args := append([]string{"inspect", "--each", "--json"}, paths...)
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
		}
	}()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if code := run(stdio{stdout: io.Discard, stderr: io.Discard}, args); code == exitUsage {
			b.Fatalf("inspect --each exited %d", code)
		}
	}
	b.StopTimer()
	close(stop)
	<-done
	b.ReportMetric(float64(len(paths)), "inputs/op")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
}
