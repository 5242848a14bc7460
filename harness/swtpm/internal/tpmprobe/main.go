//go:build linux

// Command tpmprobe is a test machine's /init for harness/swtpm's end-to-end tests. At each boot it
// does what the guest agent's TPM binding does, with harness/tpm on the guest kernel's
// /dev/tpmrm0: it reads the EK digest, measures the firmware identity, unseals the blob the
// previous boot left on the state disk and seals a new one, then reports over the channel and
// powers off. The report's State carries the probe's Result as JSON (StateStatus "tpmprobe").
//
// It is not the agent: it proves the vTPM path (QEMU's TPM device, swtpm, the kernel's driver
// and resource manager, harness/tpm) end to end, and times it inside the guest.
package main

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/oemact/oemact/harness/agent"
	"github.com/oemact/oemact/harness/channel"
	"github.com/oemact/oemact/harness/initramfs"
	"github.com/oemact/oemact/harness/statedisk"
	"github.com/oemact/oemact/oemact/tpm"
)

// Result is what the probe found; the tests decode it from the report's State.
type Result struct {
	// Device: /dev/tpmrm0 exists.
	Device bool        `json:"device"`
	Status *tpm.Status `json:"status,omitempty"`
	// Firmware are PCRs 0-7 after the firmware's measurements.
	Firmware []tpm.PCRValue `json:"firmware,omitempty"`
	// EventLog is the firmware's event log (securityfs binary_bios_measurements), one line per
	// event: "PCR 1 EV_EVENT_TAG".
	EventLog []string `json:"event_log,omitempty"`
	// Ms are the TPM steps' durations in the guest, in milliseconds.
	Ms    map[string]float64 `json:"ms"`
	Error string             `json:"error,omitempty"`
	// Record is the data unsealed, if any.
	Record string `json:"record,omitempty"`
}

// state is what the probe keeps on the state disk.
type state struct {
	Sealed []byte `json:"sealed,omitempty"`
}

func main() {
	// Whatever happens, the machine powers off: a stuck probe would cost the test its timeout.
	time.AfterFunc(40*time.Second, powerOff)
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "tpmprobe: %v\n", err)
	}
	powerOff()
}

func powerOff() {
	unix.Sync()
	unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
}

func run() error {
	for _, m := range []struct{ src, dir, fstype string }{
		{"proc", "/proc", "proc"}, {"sysfs", "/sys", "sysfs"}, {"devtmpfs", "/dev", "devtmpfs"},
		{"securityfs", "/sys/kernel/security", "securityfs"},
	} {
		os.MkdirAll(m.dir, 0o755)
		if err := unix.Mount(m.src, m.dir, m.fstype, 0, ""); err != nil && !errors.Is(err, unix.EBUSY) {
			return fmt.Errorf("mounting %s: %w", m.dir, err)
		}
	}
	loadModules()
	port, err := channel.OpenPort("/sys", "/dev", channel.DefaultPortName, 10*time.Second)
	if err != nil {
		return err
	}
	conn := channel.NewConn(port, channel.Guest, channel.Options{})

	report := agent.Collect("/")
	dev := ""
	for deadline := time.Now().Add(5 * time.Second); dev == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		dev, _ = agent.FindStateDisk("/")
	}
	res := &Result{Ms: map[string]float64{}}
	if blob, err := probe(report, dev, res); err != nil {
		res.Error = err.Error()
	} else if blob != nil {
		// The state disk holds JSON; the agent keeps its sealed copy the same way (State.Sealed).
		st, _ := json.Marshal(state{Sealed: blob})
		if err := statedisk.Write(dev, st); err != nil {
			res.Error = "writing the blob: " + err.Error()
		}
	}
	report.State, _ = json.Marshal(res)
	report.StateStatus = "tpmprobe"
	_, err = conn.Call(channel.TypeReport, report)
	return err
}

// probe runs the binding's steps and returns the new blob to keep.
func probe(report *channel.Report, dev string, res *Result) ([]byte, error) {
	if _, err := os.Stat(tpm.DefaultPath); err != nil {
		return nil, nil // no TPM: the benchmark's baseline
	}
	res.Device = true
	// Sealing and policy sessions read crypto/rand, whose first read blocks until the guest
	// kernel's random generator is seeded (getrandom(2)): timed apart from the TPM's steps.
	t0 := time.Now()
	rand.Read(make([]byte, 1))
	res.Ms["entropy"] = float64(time.Since(t0).Microseconds()) / 1000
	step := func(name string, f func() error) error {
		t := time.Now()
		err := f()
		res.Ms[name] = float64(time.Since(t).Microseconds()) / 1000
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	var t *tpm.TPM
	if err := step("open", func() (err error) { t, err = tpm.Open(tpm.DefaultPath); return }); err != nil {
		return nil, err
	}
	defer t.Close()
	var ek string
	if err := step("ek", func() (err error) { ek, err = t.EKDigest(); return }); err != nil {
		return nil, err
	}
	var m *tpm.Measurement
	if err := step("measure", func() error {
		ev, err := tpm.FirmwareEvents(channel.TPMTables(report.ACPITables), report.SMBIOSEntryPoint, report.SMBIOSTable)
		if err != nil {
			return err
		}
		m, err = t.Measure(tpm.DefaultPCR, ev)
		return err
	}); err != nil {
		return nil, err
	}
	res.Status = tpm.NewStatus(ek, m)
	if dev == "" {
		return nil, errors.New("no state disk")
	}
	var old state
	b, err := statedisk.Read(dev)
	switch {
	case errors.Is(err, statedisk.ErrEmpty):
	case err != nil:
		return nil, err
	default:
		if err := json.Unmarshal(b, &old); err != nil {
			return nil, fmt.Errorf("state disk: %w", err)
		}
	}
	step("unseal", func() error {
		data, err := t.Unseal(old.Sealed)
		res.Status.SetUnseal(err)
		res.Record = string(data)
		return nil
	})
	var blob []byte
	record := fmt.Sprintf(`{"sealed_at_boot_with":%q}`, m.Value)
	if err := step("seal", func() (err error) { blob, err = t.Seal([]byte(record), m); return }); err != nil {
		return nil, err
	}
	res.Firmware, _ = t.ReadPCRs(0, 1, 2, 3, 4, 5, 6, 7)
	res.EventLog = eventLog("/sys/kernel/security/tpm0/binary_bios_measurements")
	return blob, nil
}

// loadModules loads the virtio modules the initramfs lists (the channel and the state disk).
func loadModules() {
	b, err := os.ReadFile("/" + initramfs.LoadOrderPath)
	if err != nil {
		return
	}
	for _, name := range strings.Fields(string(b)) {
		f, err := os.Open(filepath.Join("/", initramfs.ModuleDir, name+".ko"))
		if err != nil {
			continue
		}
		unix.FinitModule(int(f.Fd()), "", 0)
		f.Close()
	}
}

// eventLog lists a TCG crypto-agile event log (TCG PC Client Platform Firmware Profile, 10.2):
// a first event in the SHA-1 format whose Spec ID data gives the digest sizes, then
// TCG_PCR_EVENT2 records. It stops at the first record it cannot read.
func eventLog(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return []string{"(no event log: " + err.Error() + ")"}
	}
	u32 := func(off int) (int, bool) {
		if off < 0 || off+4 > len(b) {
			return 0, false
		}
		return int(binary.LittleEndian.Uint32(b[off:])), true
	}
	// First event: pcr, type, SHA-1 digest (20), size, data.
	size, ok := u32(28)
	if !ok || 32+size > len(b) || size < 28 {
		return []string{"(unreadable event log)"}
	}
	spec := b[32 : 32+size]
	n := int(binary.LittleEndian.Uint32(spec[24:]))
	digestSize := map[uint16]int{}
	for i := 0; i < n && 28+4*i+4 <= len(spec); i++ {
		digestSize[binary.LittleEndian.Uint16(spec[28+4*i:])] = int(binary.LittleEndian.Uint16(spec[30+4*i:]))
	}
	var out []string
	for off := 32 + size; off < len(b) && len(out) < 256; {
		pcr, ok1 := u32(off)
		typ, ok2 := u32(off + 4)
		count, ok3 := u32(off + 8)
		if !ok1 || !ok2 || !ok3 || count > 8 {
			break
		}
		p := off + 12
		for i := 0; i < count && p+2 <= len(b); i++ {
			p += 2 + digestSize[binary.LittleEndian.Uint16(b[p:])]
		}
		esize, ok := u32(p)
		if !ok || p+4+esize > len(b) {
			break
		}
		if pcr == 0 && typ == 0 && count == 0 {
			break // the unused rest of the log area
		}
		out = append(out, fmt.Sprintf("PCR %d %s", pcr, eventType(typ)))
		off = p + 4 + esize
	}
	return out
}

func eventType(t int) string {
	if n, ok := map[int]string{
		0x1: "EV_POST_CODE", 0x3: "EV_NO_ACTION", 0x4: "EV_SEPARATOR", 0x5: "EV_ACTION",
		0x6: "EV_EVENT_TAG", 0x7: "EV_S_CRTM_CONTENTS", 0x8: "EV_S_CRTM_VERSION", 0xD: "EV_IPL",
		0xE: "EV_IPL_PARTITION_DATA",
	}[t]; ok {
		return n
	}
	return fmt.Sprintf("event type %#x", t)
}
