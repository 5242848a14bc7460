package smbios

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// physicalAddress is where firmware typically puts the table below 1 MiB; memory images keep it.
const physicalAddress = 0x000E0020

// containerCopies writes the table of a real dump in every container users hand over, and returns
// the dump-bin file dmidecode reads (the fixture itself, or for a bare table the same bytes
// behind a built entry point) with the copies by container name.
func containerCopies(t *testing.T, name string) (string, map[string]string) {
	t.Helper()
	in, _ := Read(fixturePath(t, name))
	require.NotNil(t, in)
	ref := dumpForDmidecode(t, name, in)
	refBytes, err := os.ReadFile(ref)
	require.NoError(t, err)
	ep, err := DecodeEntryPoint(refBytes)
	require.NoError(t, err)
	table := refBytes[DumpBinTableOffset:]
	table = table[:min(len(table), int(ep.TableLength))]
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		return p
	}
	withAddress := func(ep EntryPoint, addr uint64) []byte {
		ep.TableAddress = addr
		b, err := ep.Bytes()
		require.NoError(t, err)
		return b
	}
	copies := map[string]string{"dump-bin": ref, "bare": write("DMI", table)}
	// libsmbios-style memory image: the entry point at 0 keeps the physical address, the table
	// is at 0x20.
	img := append(withAddress(*ep, physicalAddress), make([]byte, DumpBinTableOffset)...)[:DumpBinTableOffset]
	copies["physical-address"] = write("image.bin", append(img, table...))
	// The same with the table right behind the entry point.
	copies["behind-entry-point"] = write("tight.bin", append(withAddress(*ep, physicalAddress), table...))
	// Windows' GetSystemFirmwareTable('RSMB').
	v := ep.Version()
	rsmb := []byte{0, v.Major, v.Minor, v.Docrev, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(rsmb[4:], uint32(len(table)))
	copies["RSMB"] = write("rsmb.bin", append(rsmb, table...))
	// The kernel's pair, as /sys/firmware/dmi/tables holds it.
	sysfs := filepath.Join(dir, "sysfs")
	require.NoError(t, os.Mkdir(sysfs, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(sysfs, SysfsEntryPointFile), withAddress(*ep, physicalAddress)[:ep.Size()], 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(sysfs, SysfsTableFile), table, 0o644))
	copies["sysfs"] = sysfs
	return ref, copies
}

// dmidecodeString runs dmidecode --from-dump FILE -s KEYWORD and returns what it printed.
func dmidecodeString(t *testing.T, bin, path, keyword string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "--from-dump", path, "-s", keyword)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "dmidecode -s %s: %s", keyword, stderr.String())
	return stdout.String()
}

func keywordOutput(k StringKeyword, in *Info) string {
	var b strings.Builder
	for _, v := range k.Values(in) {
		b.WriteString(v + "\n")
	}
	return b.String()
}

// Every real dump, in every container: the keyword values are exactly what dmidecode -s prints
// for the dump-bin copy, for every keyword dmidecode knows, and the identity fields agree with
// them field by field.
func TestContainersAgreeWithDmidecode(t *testing.T) {
	bin := hosttooltest.Require(t, "dmidecode")
	compared := 0
	for _, name := range realDumps {
		ref, copies := containerCopies(t, name)
		want := map[string]string{}
		for _, k := range StringKeywords() {
			want[k.Name] = dmidecodeString(t, bin, ref, k.Name)
		}
		for container, path := range copies {
			in, err := Read(path)
			require.NotNil(t, in, "%s %s: %v", name, container, err)
			for _, k := range StringKeywords() {
				assert.Equal(t, want[k.Name], keywordOutput(k, in), "%s %s -s %s", name, container, k.Name)
				compared++
			}
			for _, f := range IdentityFields() {
				first, _, _ := strings.Cut(want[f.Keyword()], "\n")
				assert.Equal(t, dmidecodeIdentity(f, first), f.Get(in), "%s %s %s", name, container, f.Key)
			}
		}
	}
	t.Logf("compared %d keyword outputs with dmidecode", compared)
}

// dmidecodeIdentity is the identity value dmidecode's -s line stands for: its placeholders for
// an absent string or UUID mean "".
func dmidecodeIdentity(f IdentityField, line string) string {
	switch line {
	case "Not Specified", "<BAD INDEX>":
		return ""
	case "Not Present", "Not Settable":
		if f.Key == "system.uuid" {
			return ""
		}
	}
	return line
}

func TestStringKeywordLookup(t *testing.T) {
	k, err := LookupStringKeyword("System-Serial-Number")
	require.NoError(t, err)
	assert.Equal(t, "system-serial-number", k.Name)
	_, err = LookupStringKeyword("system-colour")
	assert.ErrorContains(t, err, `invalid string keyword "system-colour"`)
	assert.ErrorContains(t, err, "bios-vendor, bios-version")
	assert.Len(t, StringKeywords(), 26)
	// Every identity field is a dmidecode keyword, of the same type and offset.
	for _, f := range IdentityFields() {
		k, err := LookupStringKeyword(f.Keyword())
		if assert.NoError(t, err, "identity field %s has no dmidecode keyword", f.Key) {
			assert.Equal(t, [2]int{int(f.Type), f.Offset}, [2]int{int(k.Type), k.Offset}, "identity field %s: type and offset", f.Key)
		}
	}
}
