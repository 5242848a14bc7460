package fwimage

import "strings"

// The scan finds ACPI tables in any bytes: a 36-byte header whose signature is made of the
// characters ACPICA accepts, whose length field is plausible and whose Length bytes sum to zero
// (ACPI 6.5, 5.2.6). ValidSignature is the project's one signature rule: it lives here because
// this package is the lowest that needs it, and firmware and sniff, which import this one, use it.
//
// One in 256 random headers has a valid checksum, and code holds many runs of capitals and
// digits: measured on OVMF_CODE_4M.fd, three PE32 images hold such "tables" (PPE1, VAUI, AWE1).
// So a signature that no specification defines must also have printable ID fields (OEM ID, OEM
// table ID, creator ID: ASCII or NUL padding, as the 28 real tables in the project's fixtures
// have), which leaves none of them.

const (
	acpiHeaderSize = 36
	// maxTableLen bounds the length field the scan accepts: far above the tables that carry
	// markers (SLIC 374 bytes, MSDM 85) and above the largest DSDTs of real machines (hundreds of
	// KiB), so that a length read from arbitrary bytes cannot make the scan sum gigabytes.
	maxTableLen = 2 << 20
	// scanWindow is how many candidate offsets one buffer of prefix sums serves.
	scanWindow = 2 << 20
)

// sigChar marks the bytes a table signature may hold: A-Z, 0-9 and '_' ('!' too, in the last
// place).
var sigChar = func() (t [256]bool) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['_'] = true
	return t
}()

// knownSignatures are the table signatures the ACPI specification and ACPICA define (ACPICA
// actbl*.h, ACPI_SIG_*), and the marker tables.
var knownSignatures = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range strings.Fields(`AEST AGDI APIC APMT ASF! BDAT BERT BGRT BOOT CCEL CDAT CDIT CEDT CPEP CSRT
		DBG2 DBGP DMAR DRTM DSDT ECDT EINJ ERST ETDT FACP FIDT FPDT GTDT HEST HMAT HPET IBFT IORT IVRS
		LPIT MCFG MCHI MPAM MPST MSCT MSDM NFIT NHLT OEMB PCCT PDTT PHAT PMTT PPTT PRMT PSDT RASF RAS2
		RGRT RHCT RSDT S3PT SBST SDEI SDEV SLIC SLIT SPCR SPMI SRAT SSDT STAO SVKL TCPA TDEL TPM2 UEFI
		VIOT WAET WDAT WDDT WDRT WPBT WSMT XENV XSDT`) {
		m[s] = true
	}
	return m
}()

// KnownSignature reports whether sig is a table signature the ACPI specification or ACPICA
// defines, or a marker table's.
func KnownSignature(sig []byte) bool { return knownSignatures[string(sig)] }

// plausibleIDs reports whether the header's OEM ID, OEM table ID and creator ID are printable
// ASCII or NUL.
func plausibleIDs(h []byte) bool {
	for _, r := range [][2]int{{10, 24}, {28, 32}} {
		for _, c := range h[r[0]:r[1]] {
			if c != 0 && (c < 0x20 || c > 0x7E) {
				return false
			}
		}
	}
	return true
}

// ValidSignature reports whether sig is 4 bytes that may be an ACPI table signature: the
// characters ACPICA accepts, A-Z, 0-9 and '_' ('!' too, in the last place, as in "ASF!").
func ValidSignature(sig []byte) bool {
	return len(sig) == 4 && sigChar[sig[0]] && sigChar[sig[1]] && sigChar[sig[2]] && (sigChar[sig[3]] || sig[3] == '!')
}

// scanTables calls fn(off, length) for every checksummed ACPI table in b, by offset, until fn
// returns false. Tables may overlap. The checksum of each candidate is read from prefix sums
// over a window, so the scan costs a few passes over b whatever the length fields say, and
// holds at most scanWindow+maxTableLen bytes besides b.
func scanTables(b []byte, fn func(off, n int) bool) {
	var sums []byte // sums[k] = sum of b[win : win+k] mod 256
	win := -1
	for i := 0; i+acpiHeaderSize <= len(b); i++ {
		if !sigChar[b[i]] || !ValidSignature(b[i:i+4]) {
			continue
		}
		n := int(le.Uint32(b[i+4:]))
		if n < acpiHeaderSize || n > maxTableLen || n > len(b)-i {
			continue
		}
		if win < 0 || i+n > win+len(sums)-1 {
			win = i
			end := min(len(b), win+scanWindow+maxTableLen)
			if sums == nil {
				sums = make([]byte, 0, min(len(b)-win, scanWindow+maxTableLen)+1)
			}
			sums = append(sums[:0], 0)
			var s byte
			for _, c := range b[win:end] {
				s += c
				sums = append(sums, s)
			}
		}
		if sums[i-win+n] != sums[i-win] {
			continue
		}
		if !knownSignatures[string(b[i:i+4])] && !plausibleIDs(b[i:]) {
			continue
		}
		if !fn(i, n) {
			return
		}
	}
}
