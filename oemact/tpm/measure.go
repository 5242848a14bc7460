package tpm

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/go-tpm/tpm2"

	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/smbios"
)

// DefaultPCR is the PCR the firmware identity is measured into: PCR 23, "Application Support" in
// the TCG PC Client Platform TPM Profile.
//
// Why 23 and not another:
//   - PCRs 0-7 are the firmware's. SeaBIOS's tcgbios (src/tcgbios.c) extends PCR 1 with the SMBIOS
//     structure table (a SHA-1 digest of the whole table in an EV_EVENT_TAG event), PCR 2 with a
//     "Start Option ROM Scan" action and each option ROM, PCR 4 with "Calling INT 19h" (and the
//     MBR's boot code when booting a disk, PCR 5 its partition table), and a separator in each of
//     0-7; it measures no ACPI table, and on a TPM 2.0 it extends SHA-1 digests zero-padded into
//     the SHA-256 bank. The event log of a test machine booted with -kernel (harness/swtpm's
//     guest tests) holds exactly: PCR 1 EV_EVENT_TAG, PCR 2 EV_ACTION, two PCR 2 EV_EVENT_TAG
//     (option ROMs), PCR 4 EV_ACTION, separators 0-7, on pc and q35 alike. oemact does not
//     rely on any of it: PCR 1 covers the whole SMBIOS table, memory devices and processors
//     included, so a memory upgrade (which OEM activation survives) would break the seal, while
//     the SLIC and MSDM are measured nowhere; OVMF measures other things in other ways.
//   - PCRs 8-15 are the operating system's (GRUB 8-9, IMA 10, systemd 11-15, BitLocker 11) and
//     cannot be reset: a second measurement in one boot would give another value.
//   - PCR 16 is for debugging; 17-22 belong to dynamic launch and refuse locality 0.
//   - PCR 23 may be reset and extended at locality 0, is zero after every TPM2_Startup(CLEAR), and
//     nothing in the boot chain uses it. Measure resets it first, so its value depends only on
//     the events measured, in order: it is the replay of their digests from zero (Replay), which
//     is how a policy can be computed without the TPM.
//
// The price of a resettable PCR: the seal proves what the measuring code (the guest agent) read,
// as any PCR the operating system measures into does; it does not protect against a hostile OS,
// which could replay the old measurements. That is this model's trust boundary.
const DefaultPCR = 23

// resettable are the PCRs a PC Client TPM lets locality 0 reset (PTP, PCR attributes).
var resettable = map[int]bool{16: true, 23: true}

// Limits on what Measure takes, so that a measurement fits a blob with room to spare.
const (
	MaxEvents  = 64
	MaxNameLen = 64
)

// Event is one thing measured: a name for people and the bytes whose SHA-256 extends the PCR.
type Event struct {
	Name string
	Data []byte
}

// Item is a measured event: its name, the SHA-256 of its data, and the data's size.
type Item struct {
	Name   string `json:"name"`
	Digest Digest `json:"digest"`
	Size   int    `json:"size"`
}

// Measurement is what Measure did: the PCR, its value afterwards, and the items extended into it
// in order.
type Measurement struct {
	PCR   int    `json:"pcr"`
	Value Digest `json:"value"`
	Items []Item `json:"items"`
}

// ErrPCRInUse means a PCR that cannot be reset already holds measurements this boot, so measuring
// again would not give a reproducible value.
var ErrPCRInUse = errors.New("tpm: the PCR was already extended this boot")

// Items hashes events into items, checking their names.
func Items(events []Event) ([]Item, error) {
	if len(events) == 0 {
		return nil, errors.New("tpm: nothing to measure")
	}
	if len(events) > MaxEvents {
		return nil, fmt.Errorf("tpm: %d events to measure; at most %d", len(events), MaxEvents)
	}
	items := make([]Item, len(events))
	for i, e := range events {
		if err := checkName(e.Name); err != nil {
			return nil, fmt.Errorf("tpm: event %d: %w", i, err)
		}
		sum := sha256.Sum256(e.Data)
		items[i] = Item{Name: e.Name, Digest: Digest(sum[:]), Size: len(e.Data)}
	}
	return items, nil
}

func checkName(n string) error {
	if n == "" || len(n) > MaxNameLen {
		return fmt.Errorf("name %q: want 1 to %d characters", n, MaxNameLen)
	}
	for _, r := range n {
		if r <= 0x20 || r > 0x7E {
			return fmt.Errorf("name %q: only printable ASCII without spaces", n)
		}
	}
	return nil
}

// Replay computes the value a PCR holds after extending a zero PCR with the items' digests in
// order: v = SHA-256(v || digest), v starting as 32 zero bytes (TPM 2.0 Part 1, 17.7 PCR extend).
func Replay(items []Item) Digest {
	v := make([]byte, sha256.Size)
	for _, it := range items {
		h := sha256.New()
		h.Write(v)
		h.Write(it.Digest)
		v = h.Sum(nil)
	}
	return v
}

// Measure extends the SHA-256 bank of pcr with each event's SHA-256, in order, and returns what
// it measured. A resettable PCR (16, 23) is reset first; any other must still be zero (untouched
// since the TPM started), else ErrPCRInUse. Afterwards the PCR must read the replayed value, which
// proves nothing else extended it meanwhile.
func (t *TPM) Measure(pcr int, events []Event) (*Measurement, error) {
	if err := checkPCR(pcr); err != nil {
		return nil, err
	}
	items, err := Items(events)
	if err != nil {
		return nil, err
	}
	auth := tpm2.AuthHandle{Handle: tpm2.TPMHandle(pcr), Auth: tpm2.PasswordAuth(nil)}
	if resettable[pcr] {
		if _, err := (tpm2.PCRReset{PCRHandle: auth}).Execute(t.t); err != nil {
			return nil, fmt.Errorf("tpm: resetting PCR %d: %w", pcr, err)
		}
	} else {
		v, err := t.readPCR(pcr)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(v, make([]byte, sha256.Size)) {
			return nil, fmt.Errorf("%w: PCR %d holds %s; measure once per boot, or use PCR %d, which is reset first", ErrPCRInUse, pcr, v, DefaultPCR)
		}
	}
	for _, it := range items {
		_, err := tpm2.PCRExtend{
			PCRHandle: auth,
			Digests:   tpm2.TPMLDigestValues{Digests: []tpm2.TPMTHA{{HashAlg: tpm2.TPMAlgSHA256, Digest: it.Digest}}},
		}.Execute(t.t)
		if err != nil {
			return nil, fmt.Errorf("tpm: extending PCR %d with %s: %w", pcr, it.Name, err)
		}
	}
	got, err := t.readPCR(pcr)
	if err != nil {
		return nil, err
	}
	want := Replay(items)
	if !bytes.Equal(got, want) {
		return nil, fmt.Errorf("tpm: PCR %d reads %s after measuring, but its events replay to %s: something else extended it meanwhile", pcr, got, want)
	}
	return &Measurement{PCR: pcr, Value: want, Items: items}, nil
}

// Event names FirmwareEvents gives.
const (
	// ACPIEventPrefix precedes an ACPI table's sysfs name ("acpi/SLIC", "acpi/MSDM").
	ACPIEventPrefix = "acpi/"
	// SMBIOSIdentityEvent is the SMBIOS identity (SMBIOSIdentity).
	SMBIOSIdentityEvent = "smbios/identity"
)

// Table is one ACPI table as the firmware exposes it: its sysfs name ("SLIC", "MSDM2") and its
// bytes. The caller converts whatever it read (a guest report, files on a host) to this form.
type Table struct {
	Name string
	Data []byte
}

// FirmwareEvents are the events that make the firmware identity, in the order Measure extends
// them: every SLIC and MSDM table, raw, as the kernel exposes it (by the signature in its first
// four bytes, in the order of tables, which the agent sorts by sysfs name), then the SMBIOS
// identity (SMBIOSIdentity). A table's digest is then what `sha256sum
// /sys/firmware/acpi/tables/SLIC` prints.
//
// What changes the measurement: a new or changed marker table (a board swap, a BIOS update that
// rewrites the SLIC, an MSDM with another key), and any field of the SMBIOS identity (a new system
// serial number, another board, another BIOS version). What does not: disks, NICs, memory and
// processors, and every other ACPI table (the DSDT and FACP change with devices and QEMU options).
func FirmwareEvents(tables []Table, entryPoint, table []byte) ([]Event, error) {
	id, err := readIdentity(entryPoint, table)
	if err != nil {
		return nil, err
	}
	return IdentityEvents(tables, id), nil
}

// IdentityOf is the SMBIOS identity IdentityEvents measures, read from a decoded table (nil: no
// SMBIOS, every value empty).
func IdentityOf(info *smbios.Info) map[string]string {
	if info == nil {
		return map[string]string{}
	}
	return info.IdentityValues()
}

// IdentityEvents is FirmwareEvents with the SMBIOS identity already read (IdentityOf), as the
// host has it when it inspects a machine's tables.
func IdentityEvents(tables []Table, id map[string]string) []Event {
	var ev []Event
	for _, b := range tables {
		if len(b.Data) < 4 {
			continue
		}
		if firmware.IsMarker(string(b.Data[:4])) {
			ev = append(ev, Event{Name: ACPIEventPrefix + b.Name, Data: b.Data})
		}
	}
	return append(ev, Event{Name: SMBIOSIdentityEvent, Data: IdentityText(id)})
}

// identityVersion heads the SMBIOS identity text; it changes whenever the fields do.
const identityVersion = "oemact smbios identity 1"

// SMBIOSIdentity is the SMBIOS identity Measure extends: a text of the fields that name the system,
// its board and its firmware, one "key=value" line each in this fixed order, values quoted as Go
// strings (so any byte is unambiguous):
//
//	oemact smbios identity 1
//	system.manufacturer="..."      type 1
//	system.product_name="..."
//	system.serial_number="..."
//	system.uuid="..."              "" when absent, not present (all FF) or not settable (all 0)
//	baseboard.manufacturer="..."   first type 2
//	baseboard.product_name="..."
//	baseboard.serial_number="..."
//	bios.vendor="..."              type 0
//	bios.version="..."
//	bios.release_date="..."
//
// The identity, not the raw table: the table also holds memory devices, processors and handles
// that QEMU renumbers, none of which are the firmware's identity. The chassis (type 3) is the case,
// not the board, and is left out. Missing SMBIOS (no entry point and no table) gives the same
// text with every value empty; a table that cannot be decoded at all is an error.
func SMBIOSIdentity(entryPoint, table []byte) ([]byte, error) {
	id, err := readIdentity(entryPoint, table)
	if err != nil {
		return nil, err
	}
	return IdentityText(id), nil
}

func readIdentity(entryPoint, table []byte) (map[string]string, error) {
	if len(entryPoint) == 0 && len(table) == 0 {
		return IdentityOf(nil), nil
	}
	info, err := smbios.DecodeSysfs(entryPoint, table)
	if info == nil {
		return nil, fmt.Errorf("tpm: the SMBIOS identity cannot be read: %w", err)
	}
	// A damaged table still yields the structures before the damage, deterministically.
	return IdentityOf(info), nil
}

// identitySections orders the identity text: the system, its board, its firmware. Within a
// section the fields come in smbios.IdentityFields' order; the fields are its core ones.
var identitySections = []string{"system", "baseboard", "bios"}

// IdentityKeys are the keys of the identity text, in its order.
func IdentityKeys() []string {
	var keys []string
	for _, sec := range identitySections {
		for _, f := range smbios.IdentityFields() {
			if f.Core && strings.HasPrefix(f.Key, sec+".") {
				keys = append(keys, f.Key)
			}
		}
	}
	return keys
}

// IdentityText writes an SMBIOS identity in SMBIOSIdentity's form.
func IdentityText(id map[string]string) []byte {
	var b strings.Builder
	b.WriteString(identityVersion + "\n")
	for _, k := range IdentityKeys() {
		b.WriteString(k + "=" + strconv.Quote(id[k]) + "\n")
	}
	return []byte(b.String())
}
