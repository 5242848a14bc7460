package smbios

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dmiRecord is one structure as dmidecode printed it.
type dmiRecord struct {
	Handle uint16
	Type   int
	Length int
	Title  string
	Fields []Field
}

var handleLine = regexp.MustCompile(`^Handle 0x([0-9A-F]{4}), DMI type (\d+), (\d+) bytes$`)

// parseDmidecode splits dmidecode's text output into records. Values are kept exactly (dmidecode
// prints strings with their trailing spaces).
func parseDmidecode(t testing.TB, out string) []dmiRecord {
	t.Helper()
	var recs []dmiRecord
	var cur *dmiRecord
	lines := strings.Split(out, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if m := handleLine.FindStringSubmatch(line); m != nil {
			h, _ := strconv.ParseUint(m[1], 16, 16)
			typ, _ := strconv.Atoi(m[2])
			n, _ := strconv.Atoi(m[3])
			recs = append(recs, dmiRecord{Handle: uint16(h), Type: typ, Length: n})
			cur = &recs[len(recs)-1]
			if i+1 < len(lines) {
				cur.Title = lines[i+1]
				i++
			}
			continue
		}
		if cur == nil || line == "" {
			if line == "" {
				cur = nil
			}
			continue
		}
		switch {
		case strings.HasPrefix(line, "\t\t"):
			require.NotEmpty(t, cur.Fields, "list item before any field: %q", line)
			f := &cur.Fields[len(cur.Fields)-1]
			f.List = true
			f.Items = append(f.Items, line[2:])
		case strings.HasPrefix(line, "\t"):
			name, value, ok := strings.Cut(line[1:], ":")
			require.True(t, ok, "dmidecode line without a colon: %q", line)
			f := Field{Name: name}
			if value == "" {
				f.List = true
			} else {
				f.Value = strings.TrimPrefix(value, " ")
			}
			cur.Fields = append(cur.Fields, f)
		}
	}
	return recs
}

// runDmidecode runs dmidecode --from-dump on a file and returns stdout and stderr.
func runDmidecode(t testing.TB, path string) (string, string) {
	t.Helper()
	bin := hosttooltest.Require(t, "dmidecode")
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "--from-dump", path)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "dmidecode --from-dump %s: %s", path, stderr.String())
	return stdout.String(), stderr.String()
}

// notDecoded lists the fields dmidecode prints for the compared types that this package does not
// reproduce, each with the reason ("field name": "why"). The comparison fails on any other field
// it cannot match. It is empty: every field dmidecode 3.4 prints for types 0-4, 11, 16 and 17
// is decoded, including the x86 CPUID flags and signatures and the ARM SoC ID form.
var notDecoded = map[string]string{}

// comparedTypes are the types whose every field the comparison checks.
var comparedTypes = map[int]bool{0: true, 1: true, 2: true, 3: true, 4: true, 7: true, 9: true, 11: true, 16: true, 17: true, 19: true, 32: true, 38: true, 41: true}

type fielder interface{ Fields() []Field }

// compareWithDmidecode checks every field dmidecode prints for the compared types against the
// typed decode, structure by structure. It returns how many fields it compared.
func compareWithDmidecode(t *testing.T, in *Info, recs []dmiRecord) int {
	t.Helper()
	compared := 0
	n := min(len(recs), len(in.Structures))
	for i := 0; i < n; i++ {
		rec, s := recs[i], in.Structures[i]
		require.Equal(t, rec.Handle, s.Handle, "structure #%d handle", i)
		require.Equal(t, rec.Type, int(s.Type), "structure #%d type", i)
		require.Equal(t, rec.Length, s.Length(), "structure #%d length", i)
		if !comparedTypes[rec.Type] {
			continue
		}
		tv, err := ParseTyped(s, in.Version)
		require.NoError(t, err)
		require.NotNil(t, tv, "type %d has no typed view", s.Type)
		mine := tv.(fielder).Fields()
		title := strings.SplitN(tv.(fmt.Stringer).String(), "\n", 3)[1]
		assert.Equal(t, rec.Title, title, "handle 0x%04X title", s.Handle)
		byName := map[string]Field{}
		for _, f := range mine {
			byName[f.Name] = f
		}
		seen := map[string]bool{}
		for _, want := range rec.Fields {
			seen[want.Name] = true
			got, ok := byName[want.Name]
			if !ok {
				if _, skip := notDecoded[want.Name]; skip {
					continue
				}
				t.Errorf("handle 0x%04X type %d: dmidecode prints %q = %q, the typed decode has no such field", s.Handle, s.Type, want.Name, want.Value)
				continue
			}
			compared++
			assert.Equal(t, want.Value, got.Value, "handle 0x%04X type %d field %q", s.Handle, s.Type, want.Name)
			assert.Equal(t, nonEmpty(want.Items), nonEmpty(got.Items), "handle 0x%04X type %d field %q items", s.Handle, s.Type, want.Name)
		}
		for _, f := range mine {
			assert.True(t, seen[f.Name], "handle 0x%04X type %d: the typed decode renders %q = %q, dmidecode does not", s.Handle, s.Type, f.Name, f.Value)
		}
		// The whole rendering agrees too: same lines, same order.
		var want strings.Builder
		writeFields(&want, rec.Fields)
		var got strings.Builder
		writeFields(&got, mine)
		assert.Equal(t, want.String(), got.String(), "handle 0x%04X type %d rendering", s.Handle, s.Type)
	}
	return compared
}

// dumpForDmidecode returns a file dmidecode --from-dump can read for a fixture: the file itself,
// or for a bare table the same bytes behind an entry point built by the encoder.
func dumpForDmidecode(t *testing.T, name string, in *Info) string {
	t.Helper()
	if in.Format != FormatBare {
		return fixturePath(t, name)
	}
	ep, err := NewEntryPoint(EntryPoint32, in.Version)
	require.NoError(t, err)
	raw := readFixture(t, name)
	b, err := EncodeDumpBin(ep, raw)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), name+".dump")
	require.NoError(t, os.WriteFile(p, b, 0o644))
	return p
}

func TestDmidecodeAgreesOnRealDumps(t *testing.T) {
	total := 0
	for _, name := range realDumps {
		t.Run(name, func(t *testing.T) {
			in, err := Read(fixturePath(t, name))
			require.NotNil(t, in, "%v", err)
			out, stderr := runDmidecode(t, dumpForDmidecode(t, name, in))
			recs := parseDmidecode(t, out)
			require.NotEmpty(t, recs)
			if in.Format == FormatBare {
				// The Hyper-V table breaks at its sixth structure: dmidecode stops after five,
				// and so does the decoder, with an error that says where.
				assert.Len(t, recs, 5)
				assert.Len(t, in.Structures, 5)
				var fe *FormatError
				require.ErrorAs(t, err, &fe)
				assert.Equal(t, CodeStructureLength, fe.Code)
				assert.Equal(t, int64(0x1de), fe.Off)
				assert.Equal(t, 5, fe.Index)
				assert.Contains(t, stderr, "Invalid entry length (0). DMI table is broken! Stop.")
			} else {
				require.NoError(t, err)
				// dmidecode prints every structure up to the end of table; so does the decoder.
				assert.Len(t, in.Structures, len(recs))
			}
			total += compareWithDmidecode(t, in, recs)
		})
	}
	t.Logf("compared %d fields with dmidecode", total)
}

func nonEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
