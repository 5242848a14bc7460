package firmware

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/oemact/oemact/firmware/productkey"
	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// iaslField is one "[OFFh DEC LEN] Name : Value" line of `iasl -d` output.
type iaslField struct {
	off, size int
	name      string
	value     string // note in [...] removed
	raw       []byte // for "\"-continued hex values
}

var iaslLine = regexp.MustCompile(`^\[([0-9A-F]+)h (\d+) +(\d+)\] +(.*?) : (.*)$`)

func parseIaslDSL(text string) []iaslField {
	var out []iaslField
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		m := iaslLine.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		off, _ := strconv.ParseInt(m[1], 16, 64)
		size, _ := strconv.Atoi(m[3])
		f := iaslField{off: int(off), size: size, name: m[4], value: m[5]}
		if j := strings.Index(f.value, "    ["); j >= 0 {
			f.value = f.value[:j]
		}
		f.value = strings.TrimSpace(f.value)
		if f.value == `\` {
			for i+1 < len(lines) {
				i++
				row := strings.TrimSpace(lines[i])
				cont := strings.HasSuffix(row, `\`)
				for _, tok := range strings.Fields(strings.TrimSuffix(row, `\`)) {
					v, err := strconv.ParseUint(tok, 16, 8)
					if err == nil {
						f.raw = append(f.raw, byte(v))
					}
				}
				if !cont {
					break
				}
			}
		}
		out = append(out, f)
	}
	return out
}

// runIasl disassembles b with `iasl -d` in a temp folder and returns its output and the .dsl text.
func runIasl(t *testing.T, iasl, name string, b []byte) (string, string) {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".dat"), b, 0o644))
	cmd := exec.Command(iasl, "-d", name+".dat")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "iasl -d %s: %s", name, out)
	dsl, err := os.ReadFile(filepath.Join(dir, name+".dsl"))
	require.NoError(t, err, "iasl wrote no .dsl: %s", out)
	return string(out), string(dsl)
}

// agreeWithIasl checks that every field both iasl and our dump show, at the same offset and
// under the same name, has the same value (iasl prints strings up to the first NUL).
func agreeWithIasl(t *testing.T, what string, ours []DumpLine, theirs []iaslField) int {
	t.Helper()
	byKey := map[string]iaslField{}
	for _, f := range theirs {
		byKey[strconv.Itoa(f.off)+"/"+f.name] = f
	}
	n := 0
	for _, l := range ours {
		f, ok := byKey[strconv.Itoa(l.Off)+"/"+l.Name]
		if !ok || l.Bytes != nil {
			continue
		}
		n++
		assert.Equal(t, f.size, l.Size, "%s %s size", what, l.Name)
		if strings.HasPrefix(l.Value, `"`) {
			s, err := strconv.Unquote(l.Value)
			require.NoError(t, err)
			if i := strings.IndexByte(s, 0); i >= 0 {
				s = s[:i]
			}
			assert.Equal(t, `"`+s+`"`, f.value, "%s %s", what, l.Name)
		} else {
			assert.Equal(t, l.Value, f.value, "%s %s", what, l.Name)
		}
	}
	return n
}

// Every synthesized table disassembles with `iasl -d` without an error, and iasl shows the values
// we wrote: the header fields, the SLIC/MSDM body (iasl prints it as a raw "Software Licensing
// Structure") and the RSDT/XSDT entries.
func TestIaslDisassemblesSynthesizedTables(t *testing.T) {
	iasl := hosttooltest.Require(t, "iasl")
	type synth struct {
		name string
		b    []byte
		dump []DumpLine
	}
	var tables []synth
	for _, c := range synthSLICs {
		s := synthSLIC(t, c.p)
		tables = append(tables, synth{"slic-" + c.name, s.Encode(), s.Dump()})
	}
	m, err := NewMSDM(MSDMParams{OEMID: "TSTOEM", OEMTableID: "TSTBOARD", Key: productkey.Derive("iasl").Reveal()})
	require.NoError(t, err)
	tables = append(tables, synth{"msdm", m.Encode(), m.Dump(true)})
	for _, sig := range []string{"RSDT", "XSDT"} {
		s := &SDT{Entries: []uint64{0x7FFE1000, 0x7FFE2000}}
		require.NoError(t, fillHeader(&s.Header, sig, 1, "TSTOEM", "TSTBOARD", 1, "", 1))
		tables = append(tables, synth{strings.ToLower(sig), s.Encode(), s.Dump()})
	}
	for _, s := range tables {
		t.Run(s.name, func(t *testing.T) {
			out, dsl := runIasl(t, iasl, s.name, s.b)
			assert.NotContains(t, out, "Error")
			assert.NotContains(t, dsl, "Error")
			fields := parseIaslDSL(dsl)
			require.NotEmpty(t, fields)
			n := agreeWithIasl(t, s.name, s.dump, fields)
			assert.GreaterOrEqual(t, n, 9, "the nine header fields at least")
			if s.name == "rsdt" || s.name == "xsdt" {
				assert.Equal(t, 9+2, n, "header and both entries")
			}
			for _, f := range fields {
				if f.name == "Software Licensing Structure" {
					assert.Equal(t, s.b[HeaderSize:], f.raw, "iasl's raw body is what we wrote")
				}
			}
		})
	}
}

// iasl on the real tables: it disassembles all 28 without an error, shows SLIC and MSDM bodies as
// one raw "Software Licensing Structure" (it does not decode them; 20200925), stops after the header
// of the 36-byte SLIC, and agrees with our decoder on every field both show (the header, the FADT's
// FACS/DSDT addresses, the RSDT/XSDT entries).
func TestIaslAgreesOnRealTables(t *testing.T) {
	iasl := hosttooltest.Require(t, "iasl")
	files, err := filepath.Glob(filepath.Join(fixturesDir, "*", "*"))
	require.NoError(t, err)
	n := 0
	for _, f := range files {
		if filepath.Base(f) == "README.md" {
			continue
		}
		n++
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		name := filepath.Base(filepath.Dir(f)) + "_" + filepath.Base(f)
		out, dsl := runIasl(t, iasl, name, b)
		assert.NotContains(t, out, "Error", f)
		tb := NewTable(filepath.Base(f), f, FromFile, b)
		fields := parseIaslDSL(dsl)
		agreed := agreeWithIasl(t, name, tb.Dump(false), fields)
		assert.GreaterOrEqual(t, agreed, 9, f)
		var body []byte
		for _, x := range fields {
			if x.name == "Software Licensing Structure" {
				body = x.raw
			}
		}
		switch sig := tb.Signature(); {
		case (sig == "SLIC" || sig == "MSDM") && len(b) > HeaderSize:
			assert.Equal(t, b[HeaderSize:], body, f)
		default:
			assert.Nil(t, body, f)
		}
		// iasl prints the same header line the kernel does; our kernel log parser reads it.
		var logged []LogHeader
		for _, line := range strings.Split(out, "\n") {
			if h, ok := ParseKernelLogLine([]byte(line)); ok {
				logged = append(logged, h)
			}
		}
		require.Len(t, logged, 1, "iasl's 'ACPI: %s ...' line for %s", tb.Signature(), f)
		h := logged[0]
		assert.Equal(t, tb.Signature(), h.Signature)
		assert.Equal(t, tb.Header.Length, h.Length)
		assert.Equal(t, KernelLogID(tb.Header.OEMID[:]), h.OEMID)
		assert.Equal(t, KernelLogID(tb.Header.OEMTableID[:]), h.OEMTableID)
		assert.Equal(t, tb.Header.OEMRevision, h.OEMRevision)
	}
	assert.Equal(t, 28, n)
}

// acpidump -f prints the format ParseAcpidump reads; the bytes come back unchanged.
func TestAcpidumpToolOutputParses(t *testing.T) {
	acpidump := hosttooltest.Require(t, "acpidump")
	dirs, err := filepath.Glob(filepath.Join(fixturesDir, "*"))
	require.NoError(t, err)
	for _, dir := range dirs {
		st, err := os.Stat(dir)
		require.NoError(t, err)
		if !st.IsDir() {
			continue
		}
		files, err := filepath.Glob(filepath.Join(dir, "*"))
		require.NoError(t, err)
		var args []string
		for _, f := range files {
			args = append(args, "-f", f)
		}
		out, err := exec.Command(acpidump, args...).Output()
		require.NoError(t, err, dir)
		blocks, err := ParseAcpidump(bytes.NewReader(out))
		require.NoError(t, err, dir)
		require.Len(t, blocks, len(files), dir)
		for i, f := range files {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			assert.Equal(t, b, blocks[i].Data, f)
			assert.Equal(t, filepath.Base(f), blocks[i].Name, f)
		}
		// Our writer prints what acpidump printed.
		var ours bytes.Buffer
		require.NoError(t, FormatAcpidump(&ours, blocks))
		assert.Equal(t, string(out), ours.String(), dir)
	}
}

// acpixtract reads both the committed acpidump samples and what FormatAcpidump writes, and
// extracts the same bytes ParseAcpidump does.
func TestAcpixtractAgrees(t *testing.T) {
	acpixtract := hosttooltest.Require(t, "acpixtract")
	samples, err := filepath.Glob("testdata/acpidump/*.txt")
	require.NoError(t, err)
	require.Len(t, samples, 2)
	for _, sample := range samples {
		text, err := os.ReadFile(sample)
		require.NoError(t, err)
		blocks, err := ParseAcpidump(bytes.NewReader(text))
		require.NoError(t, err)
		var ours bytes.Buffer
		require.NoError(t, FormatAcpidump(&ours, blocks))
		for _, in := range [][]byte{text, ours.Bytes()} {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "dump.txt"), in, 0o644))
			cmd := exec.Command(acpixtract, "-a", "dump.txt")
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			for _, b := range blocks {
				got, err := os.ReadFile(filepath.Join(dir, strings.ToLower(b.Name)+".dat"))
				require.NoError(t, err, "%s: acpixtract output %s", sample, out)
				assert.Equal(t, b.Data, got, "%s %s", sample, b.Name)
			}
		}
	}
}
