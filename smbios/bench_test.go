package smbios

import "testing"

// BenchmarkDecodeRealDump decodes the largest real dump (VMware, 620 structures, 29 KB) and
// every typed view in it.
func BenchmarkDecodeRealDump(b *testing.B) {
	raw := readFixture(b, "uroot_VMWare.bin")
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		in, err := Decode(raw)
		if err != nil {
			b.Fatal(err)
		}
		for _, s := range in.Structures {
			if _, err := ParseTyped(s, in.Version); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkEncodeRealDump re-encodes the same dump as a dump-bin file.
func BenchmarkEncodeRealDump(b *testing.B) {
	in, err := Decode(readFixture(b, "uroot_VMWare.bin"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := in.DumpBin(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLintRealDump lints it.
func BenchmarkLintRealDump(b *testing.B) {
	in, err := Decode(readFixture(b, "uroot_VMWare.bin"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = Lint(in, nil)
	}
}

// BenchmarkIdentityValues reads every identity field of the same dump, as hardware identity and
// the TPM binding do.
func BenchmarkIdentityValues(b *testing.B) {
	in, err := Decode(readFixture(b, "uroot_VMWare.bin"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if v := in.IdentityValues(); len(v) == 0 {
			b.Fatal("no identity values")
		}
	}
}
