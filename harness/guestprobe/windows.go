package guestprobe

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf16"

	"github.com/oemact/oemact/harness/qga"
)

// Windows paths of the programs a Windows probe runs (every Windows 7 and later has them).
const (
	windowsPowerShell = `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`
	windowsCscript    = `C:\Windows\System32\cscript.exe`
	windowsSlmgr      = `C:\Windows\System32\slmgr.vbs`
)

// MaxWindowsOutput bounds what a Windows probe command may print: the base64 of the tables, or
// slmgr's text.
const MaxWindowsOutput = 16 << 20

// firmwareTable is one table the Windows probe asks GetSystemFirmwareTable for. The provider is
// the four-character code as a big-endian DWORD ('ACPI' = 0x41435049, 'RSMB' = 0x52534D42); an
// ACPI table's ID is its signature's four bytes read as a little-endian DWORD ('SLIC' =
// 0x43494C53); the RSMB provider has one table, ID 0.
type firmwareTable struct {
	name     string
	provider uint32
	id       uint32
}

func fourCC(s string) uint32 { return binary.BigEndian.Uint32([]byte(s)) }

func acpiTableID(sig string) uint32 { return binary.LittleEndian.Uint32([]byte(sig)) }

// windowsTables are what the Windows probe reads, in the order it prints them.
func windowsTables() []firmwareTable {
	var ts []firmwareTable
	for _, sig := range Signatures {
		ts = append(ts, firmwareTable{sig, fourCC("ACPI"), acpiTableID(sig)})
	}
	return append(ts, firmwareTable{"RSMB", fourCC("RSMB"), 0})
}

// windowsFirmwareScript is the PowerShell script: GetSystemFirmwareTable through P/Invoke (first
// the size, then the table), one "NAME BASE64" line per table, "NAME -" for a table the firmware
// does not have. Windows PowerShell 2.0 (Windows 7) runs it.
func windowsFirmwareScript() string {
	var b strings.Builder
	b.WriteString(`$ErrorActionPreference = 'Stop'
Add-Type -TypeDefinition @'
using System;
using System.Runtime.InteropServices;
public static class OemactFirmwareTable {
    [DllImport("kernel32.dll", SetLastError = true)]
    static extern uint GetSystemFirmwareTable(uint provider, uint id, byte[] buffer, uint size);
    public static byte[] Read(uint provider, uint id) {
        uint size = GetSystemFirmwareTable(provider, id, null, 0);
        if (size == 0) { return null; }
        byte[] buffer = new byte[size];
        if (GetSystemFirmwareTable(provider, id, buffer, size) != size) { return null; }
        return buffer;
    }
}
'@
function Show-Table([string]$name, [uint32]$provider, [uint32]$id) {
    $b = [OemactFirmwareTable]::Read($provider, $id)
    if ($b -eq $null) { "$name -" } else { "$name " + [Convert]::ToBase64String($b) }
}
`)
	for _, t := range windowsTables() {
		fmt.Fprintf(&b, "Show-Table '%s' 0x%08X 0x%08X\n", t.name, t.provider, t.id)
	}
	return b.String()
}

// encodedCommand is a script as PowerShell's -EncodedCommand takes it: base64 of UTF-16LE. It
// spares the script every layer of quoting between the host and powershell.exe.
func encodedCommand(script string) string {
	u := utf16.Encode([]rune(script))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// WindowsFirmwareCommand is the guest-exec command that prints the ACPI tables SLIC and MSDM and
// the raw SMBIOS blob (RSMB) as Windows sees them through GetSystemFirmwareTable; ParseWindowsFirmware
// reads its output.
func WindowsFirmwareCommand() qga.Command {
	return qga.Command{Path: windowsPowerShell, Args: []string{"-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass",
		"-EncodedCommand", encodedCommand(windowsFirmwareScript())}}
}

// SlmgrCommand is the guest-exec command that prints the Windows licence in detail:
// cscript //nologo slmgr.vbs /dlv. ParseSlmgr reads its output.
func SlmgrCommand() qga.Command {
	return qga.Command{Path: windowsCscript, Args: []string{"//nologo", windowsSlmgr, "/dlv"}}
}

// ParseWindowsFirmware reads the output of WindowsFirmwareCommand: each table exactly once, as
// base64 or "-". Errors name the line.
func ParseWindowsFirmware(out []byte) (*Tables, error) {
	t := &Tables{ACPI: map[string][]byte{}, Source: "windows GetSystemFirmwareTable"}
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, MaxWindowsOutput)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		if !ok || !known(name) {
			return nil, fmt.Errorf("firmware table output line %d: %q is not \"NAME BASE64\" for %s", n, clipLine(line), windowsTableNames())
		}
		if seen[name] {
			return nil, fmt.Errorf("firmware table output line %d: %s a second time", n, name)
		}
		seen[name] = true
		if value == "-" {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(value)
		if err != nil {
			return nil, fmt.Errorf("firmware table output line %d: %s is not base64: %v", n, name, err)
		}
		if name == "RSMB" {
			t.RSMB = b
		} else {
			t.ACPI[name] = b
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("firmware table output: %w", err)
	}
	for _, ft := range windowsTables() {
		if !seen[ft.name] {
			return nil, fmt.Errorf("firmware table output: no %s line (did the script stop early? see its standard error)", ft.name)
		}
	}
	return t, nil
}

// windowsTableNames lists the tables the script reads: "SLIC, MSDM or RSMB".
func windowsTableNames() string {
	ts := windowsTables()
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.name
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

func known(name string) bool {
	for _, t := range windowsTables() {
		if t.name == name {
			return true
		}
	}
	return false
}

// clipLine shortens a line quoted in an error.
func clipLine(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// ReadWindows runs both Windows commands through the agent: the firmware tables and the licence.
// A command that exits with a non-zero status is an error carrying its standard error.
func ReadWindows(ctx context.Context, c *qga.Client) (*Tables, *WindowsLicence, error) {
	out, err := runChecked(ctx, c, "GetSystemFirmwareTable script", WindowsFirmwareCommand())
	if err != nil {
		return nil, nil, err
	}
	tables, err := ParseWindowsFirmware(out)
	if err != nil {
		return nil, nil, err
	}
	out, err = runChecked(ctx, c, "slmgr /dlv", SlmgrCommand())
	if err != nil {
		return nil, nil, err
	}
	lic, err := ParseSlmgr(out)
	if err != nil {
		return nil, nil, err
	}
	return tables, lic, nil
}

// runChecked runs cmd through the agent; label names it in errors (its first argument is an
// option such as -NoProfile, which says nothing).
func runChecked(ctx context.Context, c *qga.Client, label string, cmd qga.Command) ([]byte, error) {
	st, err := c.Run(ctx, cmd, MaxWindowsOutput)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	if st.ExitCode != 0 || st.StdoutTruncated {
		return nil, fmt.Errorf("%s (%s): exit status %d (output truncated: %v): %s", label, cmd.Path, st.ExitCode,
			st.StdoutTruncated, clipLine(strings.TrimSpace(string(st.Stderr))))
	}
	return st.Stdout, nil
}
