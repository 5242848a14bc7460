package guestprobe

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/smbios"
)

// Given is what a machine was given to show its OS.
type Given struct {
	// ACPI holds whole tables by signature, as QEMU's -acpitable adds them.
	ACPI map[string][]byte
	// SMBIOS are the structures QEMU was given, one per -smbios file=.
	SMBIOS []*smbios.Structure
	// FirmwareTypes are SMBIOS types the firmware writes itself instead of QEMU's (OVMF writes
	// type 0): their structures are not compared.
	FirmwareTypes []uint8
}

// Mismatch is one way what the OS saw differs from what it was given.
type Mismatch struct {
	Table   string `json:"table"` // "SLIC", "SMBIOS type 1 handle 0x0100"
	Problem string `json:"problem"`
}

func (m Mismatch) String() string { return m.Table + ": " + m.Problem }

// Compare checks what the OS saw against what it was given: every given ACPI table byte for
// byte (and decodable by the firmware package, as the OS's copy must be), no marker table the
// machine was not given, and every given SMBIOS structure byte for byte in the table the OS saw
// (decoded by the smbios package), at its handle. No mismatches means the OS saw it all.
func Compare(g Given, t *Tables) []Mismatch {
	var out []Mismatch
	sigs := make([]string, 0, len(g.ACPI))
	for sig := range g.ACPI {
		sigs = append(sigs, sig)
	}
	sort.Strings(sigs)
	for _, sig := range sigs {
		out = append(out, compareACPI(sig, g.ACPI[sig], t.ACPI[sig])...)
	}
	for _, sig := range Signatures {
		if _, given := g.ACPI[sig]; !given && t.ACPI[sig] != nil {
			out = append(out, Mismatch{sig, fmt.Sprintf("the OS has a %d-byte %s the machine was not given", len(t.ACPI[sig]), sig)})
		}
	}
	if len(g.SMBIOS) > 0 {
		out = append(out, compareSMBIOS(g, t)...)
	}
	return out
}

func compareACPI(sig string, want, got []byte) []Mismatch {
	if got == nil {
		return []Mismatch{{sig, "the OS has no " + sig}}
	}
	var out []Mismatch
	if !bytes.Equal(want, got) {
		out = append(out, Mismatch{sig, describeDiff(want, got)})
	}
	// The firmware package decodes it as the host's tools do: by the decoder its signature selects.
	t := firmware.NewTable(sig, "", firmware.FromBytes, got)
	var fe *firmware.FormatError
	if errors.As(t.Err, &fe) && fe.Table == "" {
		fe.Table = sig // a header too short to say what the table is
	}
	switch {
	case t.Err != nil:
		out = append(out, Mismatch{sig, "the OS's copy does not decode: " + t.Err.Error()})
	case t.Signature() != sig:
		out = append(out, Mismatch{sig, fmt.Sprintf("the OS's copy has the signature %s", firmware.QuoteID([]byte(t.Signature())))})
	}
	return out
}

// describeDiff says how two byte strings differ, without showing them (a table may hold a key).
func describeDiff(want, got []byte) string {
	n := min(len(want), len(got))
	diff, first := 0, -1
	for i := range n {
		if want[i] != got[i] {
			if first < 0 {
				first = i
			}
			diff++
		}
	}
	s := fmt.Sprintf("the OS's copy differs: %d bytes given, %d seen", len(want), len(got))
	if first >= 0 {
		s += fmt.Sprintf("; %d of the first %d bytes differ, the first at offset %#x", diff, n, first)
	}
	return s
}

func compareSMBIOS(g Given, t *Tables) []Mismatch {
	var out []Mismatch
	info, err := t.SMBIOS()
	switch {
	case info == nil && err == nil:
		return []Mismatch{{"SMBIOS", "the OS has no SMBIOS table"}}
	case info == nil:
		return []Mismatch{{"SMBIOS", "the OS's table does not decode: " + err.Error()}}
	case err != nil:
		// The decoder kept what it could read: compare that too.
		out = append(out, Mismatch{"SMBIOS", "the OS's table decodes with a problem: " + err.Error()})
	}
	for _, s := range g.SMBIOS {
		if slices.Contains(g.FirmwareTypes, s.Type) {
			continue
		}
		name := fmt.Sprintf("SMBIOS type %d handle %#04x", s.Type, s.Handle)
		seen := info.ByHandle(s.Handle)
		if seen == nil {
			out = append(out, Mismatch{name, "the OS's table has no structure with this handle"})
			continue
		}
		if seen.Type != s.Type {
			out = append(out, Mismatch{name, fmt.Sprintf("the OS's structure with this handle is of type %d", seen.Type)})
			continue
		}
		want, err1 := s.MarshalBinary()
		got, err2 := seen.MarshalBinary()
		if err1 != nil || err2 != nil {
			out = append(out, Mismatch{name, fmt.Sprintf("cannot encode for comparison: %v", errors.Join(err1, err2))})
			continue
		}
		if !bytes.Equal(want, got) {
			out = append(out, Mismatch{name, describeDiff(want, got)})
		}
	}
	return out
}
