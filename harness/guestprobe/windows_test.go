package guestprobe

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/oemact/oemact/harness/internal/qgatest"
	"github.com/oemact/oemact/harness/qga"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decodeEncodedCommand undoes PowerShell's -EncodedCommand: base64 of UTF-16LE.
func decodeEncodedCommand(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	require.NoError(t, err)
	require.Zero(t, len(b)%2)
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// The PowerShell probe cannot run here (no Windows guest): what is tested is the command line
// and the script it carries.
func TestWindowsFirmwareCommand(t *testing.T) {
	cmd := WindowsFirmwareCommand()
	assert.Equal(t, `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, cmd.Path)
	require.Len(t, cmd.Args, 6)
	assert.Equal(t, []string{"-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-EncodedCommand"}, cmd.Args[:5])
	script := decodeEncodedCommand(t, cmd.Args[5])
	assert.Equal(t, windowsFirmwareScript(), script)
	assert.Contains(t, script, `[DllImport("kernel32.dll", SetLastError = true)]`)
	assert.Contains(t, script, "static extern uint GetSystemFirmwareTable(uint provider, uint id, byte[] buffer, uint size);")
	// Provider codes big-endian ('ACPI', 'RSMB'), ACPI table IDs the signature's bytes
	// little-endian, as GetSystemFirmwareTable takes them.
	assert.Contains(t, script, "\nShow-Table 'SLIC' 0x41435049 0x43494C53\nShow-Table 'MSDM' 0x41435049 0x4D44534D\nShow-Table 'RSMB' 0x52534D42 0x00000000\n")
	assert.Contains(t, script, `[Convert]::ToBase64String($b)`)
	assert.NotContains(t, script, "\t", "PowerShell here-strings keep tabs; the script uses spaces")
}

func TestSlmgrCommand(t *testing.T) {
	cmd := SlmgrCommand()
	assert.Equal(t, `C:\Windows\System32\cscript.exe`, cmd.Path)
	assert.Equal(t, []string{"//nologo", `C:\Windows\System32\slmgr.vbs`, "/dlv"}, cmd.Args)
}

// windowsOutput is what the firmware script prints for these tables (nil: "-"), with CRLF.
func windowsOutput(slic, msdm, rsmb []byte) []byte {
	var b strings.Builder
	for _, e := range []struct {
		name string
		data []byte
	}{{"SLIC", slic}, {"MSDM", msdm}, {"RSMB", rsmb}} {
		if e.data == nil {
			fmt.Fprintf(&b, "%s -\r\n", e.name)
		} else {
			fmt.Fprintf(&b, "%s %s\r\n", e.name, base64.StdEncoding.EncodeToString(e.data))
		}
	}
	return []byte(b.String())
}

// TestParseWindowsFirmwareRealTables reads the output the script would print on real machines'
// firmware (fixtures/acpi, fixtures/smbios) and compares it with the same tables as given.
func TestParseWindowsFirmwareRealTables(t *testing.T) {
	slic, msdm := realTable(t, "dell-inspiron-14-3462", "SLIC"), realTable(t, "dell-inspiron-14-3462", "MSDM")
	info := realSMBIOS(t, "uroot_Lenovo-ThinkPad-T480.bin")
	rsmb, err := info.RSMBBlob()
	require.NoError(t, err)
	tables, err := ParseWindowsFirmware(windowsOutput(slic, msdm, rsmb))
	require.NoError(t, err)
	assert.Equal(t, map[string][]byte{"SLIC": slic, "MSDM": msdm}, tables.ACPI)
	assert.Equal(t, rsmb, tables.RSMB)
	assert.Empty(t, Compare(Given{ACPI: map[string][]byte{"SLIC": slic, "MSDM": msdm}, SMBIOS: info.QEMUStructures()}, tables))
	seen, err := tables.SMBIOS()
	require.NoError(t, err)
	assert.Equal(t, info.IdentityValues(), seen.IdentityValues())

	// A machine without markers.
	tables, err = ParseWindowsFirmware(windowsOutput(nil, nil, rsmb))
	require.NoError(t, err)
	assert.Empty(t, tables.ACPI)
	assert.Equal(t, []Mismatch{{"SLIC", "the OS has no SLIC"}}, Compare(Given{ACPI: map[string][]byte{"SLIC": slic}}, tables))
}

func TestParseWindowsFirmwareErrors(t *testing.T) {
	good := "SLIC -\nMSDM -\nRSMB -\n"
	cases := []struct{ in, want string }{
		{"", "firmware table output: no SLIC line (did the script stop early? see its standard error)"},
		{"SLIC -\nMSDM -\n", "no RSMB line"},
		{good + "SLIC -\n", "firmware table output line 4: SLIC a second time"},
		{"FACP AAAA\n" + good, `firmware table output line 1: "FACP AAAA" is not "NAME BASE64" for SLIC, MSDM or RSMB`},
		{"Add-Type : Cannot add type.\n" + good, `line 1: "Add-Type : Cannot add type." is not "NAME BASE64"`},
		{"SLIC\n", `line 1: "SLIC" is not "NAME BASE64"`},
		{"SLIC !!!!\nMSDM -\nRSMB -\n", "firmware table output line 1: SLIC is not base64"},
	}
	for _, tc := range cases {
		_, err := ParseWindowsFirmware([]byte(tc.in))
		assert.ErrorContains(t, err, tc.want, "%q", tc.in)
	}
	tables, err := ParseWindowsFirmware([]byte("\r\n" + good + "\r\n"))
	require.NoError(t, err)
	assert.Nil(t, tables.RSMB)
}

func FuzzParseWindowsFirmware(f *testing.F) {
	f.Add(windowsOutput([]byte("SLIC"), nil, []byte{0, 2, 8, 0, 0, 0, 0, 0}))
	f.Add([]byte("SLIC -\nMSDM -\nRSMB -\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tables, err := ParseWindowsFirmware(b)
		if err != nil {
			return
		}
		// Whatever was accepted goes through the decoders without a panic.
		tables.SMBIOS()
		Compare(Given{ACPI: map[string][]byte{"SLIC": []byte("SLIC")}, SMBIOS: nil}, tables)
	})
}

// A command that fails is named by what it does, not by its first argument (an option), with its
// standard error; run through Debian's qemu-ga on the host.
func TestRunCheckedNamesTheCommand(t *testing.T) {
	conn, _ := qgatest.Start(t)
	c := qga.NewClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, c.Ready(ctx))

	out, err := runChecked(ctx, c, "echo", qga.Command{Path: "/bin/sh", Args: []string{"-c", "echo fine"}})
	require.NoError(t, err)
	assert.Equal(t, "fine\n", string(out))
	_, err = runChecked(ctx, c, "slmgr /dlv", qga.Command{Path: "/bin/sh", Args: []string{"-c", "echo no licence >&2; exit 3"}})
	assert.EqualError(t, err, "slmgr /dlv (/bin/sh): exit status 3 (output truncated: false): no licence")
}
