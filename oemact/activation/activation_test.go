package activation_test

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/oemact/oemact/firmware/productkey"
	"github.com/oemact/oemact/fixtures"
	"github.com/oemact/oemact/oemact/activation"
	"github.com/oemact/oemact/oemact/catalog"
	"github.com/oemact/oemact/oemact/hwid"
	"github.com/oemact/oemact/oemact/licence"
	"github.com/oemact/oemact/oemact/profile"
	"github.com/oemact/oemact/oemact/service"
	"github.com/oemact/oemact/oemact/service/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func profiles(t testing.TB, name string) *profile.Profile {
	_, file, _, _ := runtime.Caller(0)
	p, err := profile.Load(filepath.Join(filepath.Dir(file), "..", "..", "fixtures", "profiles", name+".yaml"))
	require.NoError(t, err)
	return p
}

// raw is what a machine booted with the profile's tables exposes: QEMU copies the SLIC header's
// IDs into the RSDT, which the kernel log shows.
func raw(t testing.TB, p *profile.Profile) activation.Firmware {
	tables, err := p.Synthesize()
	require.NoError(t, err)
	var r activation.Firmware
	if tables.SLIC != nil {
		r.Tables = append(r.Tables, activation.Table{Name: "SLIC", Data: tables.SLIC})
		id, tid := string(tables.SLIC[10:16]), string(tables.SLIC[16:24])
		r.KernelLog = append(r.KernelLog, "ACPI: RSDT 0x000000007FFE1A2B 000038 (v01 "+id+" "+tid+" 00000001 BXPC 00000001)")
	}
	if tables.MSDM != nil {
		r.Tables = append(r.Tables, activation.Table{Name: "MSDM", Data: tables.MSDM})
	}
	ep, tab, err := tables.SMBIOS.SysfsFiles()
	require.NoError(t, err)
	r.SMBIOSEntryPoint, r.SMBIOSTable = ep, tab
	return r
}

func inventory(nic, disk string) hwid.Inventory {
	var inv hwid.Inventory
	inv.Add(hwid.NIC, nic)
	inv.Add(hwid.Disk, disk)
	inv.Add(hwid.Memory, hwid.MemoryRange(220*1024))
	inv.Add(hwid.CPU, "QEMU Virtual CPU version 2.5+ x1")
	inv.Add(hwid.StorageController, "1af4:1001")
	inv.Add(hwid.System, "7d3f1a62-5c0e-4b7e-9a51-2f8e6c4d0b17 TST7100-000417")
	inv.Add(hwid.Board, "TSTOEM Computers (TEST) TSTBOARD-71 TBB71-0000921")
	inv.Add(hwid.BIOS, "TSTOEM TEST BIOS TST1.0.4")
	return inv
}

type world struct {
	clock *service.ManualClock
	host  *client.Host
}

func newWorld(t *testing.T, start time.Time) *world {
	cat, err := fixtures.Catalog()
	require.NoError(t, err)
	clock := service.NewManualClock(start)
	srv, err := service.Open(context.Background(), service.Config{DBPath: filepath.Join(t.TempDir(), "svc.db"), Catalog: cat, Clock: clock})
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	return &world{clock: clock, host: &client.Host{Client: client.NewInProcess(srv.Handler(), "")}}
}

type boot struct {
	w     *world
	state []byte
}

func (b *boot) run(t *testing.T, in activation.Input, r activation.Firmware, inv hwid.Inventory) *activation.Evaluation {
	t.Helper()
	in.Logon, in.Firmware, in.State, in.Inventory = true, r, b.state, inv
	b.w.clock.Set(in.Now)
	ev, st, err := activation.Evaluate(in, b.w.host)
	require.NoError(t, err)
	b.state = st
	return ev
}

// noHost answers nothing: for boots that must not ask.
type noHost struct{}

func (noHost) Activate(activation.ActivateRequest) (activation.Activation, error) {
	return activation.Activation{}, errors.New("no host")
}
func (noHost) KMS(activation.KMSRequest) (licence.KMSAnswer, error) {
	return licence.KMSAnswer{}, errors.New("no host")
}

var t0 = time.Date(2010, 3, 1, 9, 0, 0, 0, time.UTC)

func key(label string) string { return productkey.Derive(label).Reveal() }

func TestEvaluateOEMSLP(t *testing.T) {
	b := &boot{w: newWorld(t, t0)}
	r := raw(t, profiles(t, "tstoem-desktop"))
	ev := b.run(t, activation.Input{Now: t0, Edition: "win7-professional", Key: key("oem-slp/TSTOEM/win7-professional"), InstallKey: true}, r, inventory("52:54:00:4f:45:01", "TSTDISK0417"))
	require.NotNil(t, ev.OA)
	assert.True(t, ev.OA.Valid, ev.OA.String())
	assert.Equal(t, licence.Licensed, ev.Snapshot.Status)
	assert.True(t, ev.WindowsMarker)
	assert.NotEmpty(t, ev.Digests["SLIC"])
	assert.Equal(t, "TST7100-000417", ev.Identity["system.serial_number"])

	// NIC, disk and memory swaps do not touch an OEM licence.
	inv := inventory("52:54:00:00:00:99", "NEWDISK")
	ev = b.run(t, activation.Input{Now: t0.Add(24 * time.Hour), Edition: "win7-professional", Key: key("oem-slp/TSTOEM/win7-professional")}, r, inv)
	assert.Equal(t, licence.Licensed, ev.Snapshot.Status)

	// A board from another OEM: the marker is gone, and so is the activation.
	other := raw(t, profiles(t, "othoem-board"))
	ev = b.run(t, activation.Input{Now: t0.Add(48 * time.Hour), Edition: "win7-professional", Key: key("oem-slp/TSTOEM/win7-professional")}, other, inv)
	assert.False(t, ev.OA.Valid)
	assert.NotEqual(t, licence.Licensed, ev.Snapshot.Status)
	assert.Equal(t, []int{2, 5}, failedRules(ev), "the image's certificate and key are TSTOEM's, the marker OTHOEM's: %s", ev.OA)
}

func failedRules(ev *activation.Evaluation) []int {
	var out []int
	for _, r := range ev.OA.Rules {
		if !r.OK {
			out = append(out, r.Number)
		}
	}
	return out
}

// The OEM certificate comes with the image, never from the firmware's OEM (DESIGN.md).
func TestEvaluateCertificateFollowsTheImage(t *testing.T) {
	tst := raw(t, profiles(t, "tstoem-desktop"))
	oth := raw(t, profiles(t, "othoem-board"))
	othCert, err := fixtures.Keys.ReadFile(fixtures.CertificateFile("OTHOEM"))
	require.NoError(t, err)
	inv := inventory("52:54:00:4f:45:01", "TSTDISK0417")
	for _, tc := range []struct {
		name   string
		fw     activation.Firmware
		label  string
		cert   []byte
		failed []int
	}{
		{"own image on own board", tst, "oem-slp/TSTOEM/win7-professional", nil, nil},
		{"TSTOEM image on an OTHOEM board", oth, "oem-slp/TSTOEM/win7-professional", nil, []int{2, 5}},
		{"OTHOEM certificate with a TSTOEM key on a TSTOEM board", tst, "oem-slp/TSTOEM/win7-professional", othCert, []int{2}},
		{"OTHOEM image on its own board", oth, "oem-slp/OTHOEM/win7-professional", nil, nil},
	} {
		b := &boot{w: newWorld(t, t0)}
		ev := b.run(t, activation.Input{Now: t0, Edition: "win7-professional", Key: key(tc.label), InstallKey: true, Certificate: tc.cert}, tc.fw, inv)
		require.NotNil(t, ev.OA, tc.name)
		assert.Equal(t, tc.failed, failedRules(ev), "%s: %s", tc.name, ev.OA)
		assert.Equal(t, tc.failed == nil, ev.Snapshot.Status == licence.Licensed, tc.name)
	}
}

func TestEvaluateRetailOnlineThenTelephone(t *testing.T) {
	w := newWorld(t, t0)
	b := &boot{w: w}
	r := raw(t, profiles(t, "tstoem-desktop"))
	k := key("retail/win7-ultimate")
	inv := inventory("52:54:00:4f:45:01", "TSTDISK0417")
	ev := b.run(t, activation.Input{Now: t0, Edition: "win7-ultimate", Key: k, InstallKey: true}, r, inv)
	assert.Equal(t, licence.OOBGrace, ev.Snapshot.Status)
	assert.Nil(t, ev.OA, "no OA verdict for a retail key")

	ev = b.run(t, activation.Input{Now: t0.Add(time.Hour), Edition: "win7-ultimate", Key: k, Actions: []activation.Action{activation.ActivateOnline}}, r, inv)
	require.Len(t, ev.Activations, 1)
	assert.Equal(t, "activated", ev.Activations[0].Service)
	assert.Equal(t, licence.Licensed, ev.Snapshot.Status)

	// NIC (3 votes) + disk + CPU: out of tolerance.
	changed := inventory("52:54:00:00:00:99", "NEWDISK")
	changed.Components[3] = hwid.NewComponent(hwid.CPU, "QEMU Virtual CPU version 2.5+ x2")
	ev = b.run(t, activation.Input{Now: t0.Add(10 * 24 * time.Hour), Edition: "win7-ultimate", Key: k}, r, changed)
	assert.Equal(t, licence.OOTGrace, ev.Snapshot.Status)
	require.NotNil(t, ev.Snapshot.Hardware)
	assert.Equal(t, 5, ev.Snapshot.Hardware.Lost)

	// Online, the key is bound to the old hardware; by telephone it moves.
	ev = b.run(t, activation.Input{Now: t0.Add(10*24*time.Hour + time.Hour), Edition: "win7-ultimate", Key: k, Actions: []activation.Action{activation.ActivateOnline}}, r, changed)
	require.Len(t, ev.Activations, 1)
	assert.Equal(t, licence.Failed, ev.Activations[0].Result.Outcome)
	assert.Equal(t, "key-in-use", ev.Activations[0].Result.Code)
	assert.Equal(t, licence.OOTGrace, ev.Snapshot.Status)

	ev = b.run(t, activation.Input{Now: t0.Add(10*24*time.Hour + 2*time.Hour), Edition: "win7-ultimate", Key: k, Actions: []activation.Action{activation.ActivateTelephone}}, r, changed)
	require.Len(t, ev.Activations, 1)
	assert.Equal(t, licence.Succeeded, ev.Activations[0].Result.Outcome, ev.Activations[0].Result.Message)
	assert.NotEmpty(t, ev.Activations[0].ConfirmationID)
	assert.Equal(t, licence.Licensed, ev.Snapshot.Status)
}

func TestEvaluateKMSAndOA3(t *testing.T) {
	w := newWorld(t, t0)
	r := raw(t, profiles(t, "tstoem-desktop"))
	// 24 other clients already asked: this one is the 25th and activates.
	for i := 0; i < 24; i++ {
		other := &boot{w: w}
		other.run(t, activation.Input{Now: t0, Edition: "win7-enterprise", Key: key("gvlk/win7-enterprise"), InstallKey: true}, r, inventory("52:54:00:00:01:01", "D"))
	}
	b := &boot{w: w}
	ev := b.run(t, activation.Input{Now: t0, Edition: "win7-enterprise", Key: key("gvlk/win7-enterprise"), InstallKey: true}, r, inventory("52:54:00:00:01:02", "D2"))
	require.NotEmpty(t, ev.KMS)
	last := ev.KMS[len(ev.KMS)-1]
	assert.Equal(t, 25, last.Count)
	assert.True(t, last.Activated)
	assert.Equal(t, licence.Licensed, ev.Snapshot.Status)

	// OA 3.0: the MSDM key is read and activated online, with no key in the plan.
	b3 := &boot{w: w}
	r3 := raw(t, profiles(t, "tstoem-oa3"))
	ev = b3.run(t, activation.Input{Now: t0, Edition: "win8-pro", Actions: []activation.Action{activation.ActivateOnline}}, r3, inventory("52:54:00:00:03:01", "D3"))
	require.NotNil(t, ev.OA)
	assert.True(t, ev.OA.Valid, ev.OA.String())
	require.Len(t, ev.Activations, 1)
	assert.Equal(t, licence.Succeeded, ev.Activations[0].Result.Outcome, ev.Activations[0].Result.Message)
	assert.Equal(t, licence.Licensed, ev.Snapshot.Status)
}

func TestEvaluateRejectsBadPlansAndState(t *testing.T) {
	r := raw(t, profiles(t, "tstoem-desktop"))
	h := noHost{}
	for _, tc := range []struct {
		name  string
		in    activation.Input
		state string
		want  string
	}{
		{"no time", activation.Input{Edition: "win7-ultimate"}, "", "plan: no time"},
		{"edition", activation.Input{Now: t0, Edition: "win99"}, "", "unknown edition"},
		{"key", activation.Input{Now: t0, Edition: "win7-ultimate", Key: "nonsense"}, "", "product key"},
		{"unknown key", activation.Input{Now: t0, Edition: "win7-ultimate", Key: key("nope")}, "", "not in the catalog"},
		{"action", activation.Input{Now: t0, Edition: "win7-ultimate", Actions: []activation.Action{"dance"}}, "", "unknown action"},
		{"state", activation.Input{Now: t0, Edition: "win7-ultimate"}, "{not json", "state disk"},
		{"state version", activation.Input{Now: t0, Edition: "win7-ultimate"}, `{"version": 9}`, "layout version 9"},
	} {
		tc.in.Firmware, tc.in.State = r, []byte(tc.state)
		_, _, err := activation.Evaluate(tc.in, h)
		require.Error(t, err, tc.name)
		assert.Contains(t, err.Error(), tc.want, tc.name)
	}
}

// BenchmarkEvaluateOEMBoot is the client's evaluation of a boot of the default profile with its
// OEM:SLP key (no activation request): what every harness boot pays in the guest.
func BenchmarkEvaluateOEMBoot(b *testing.B) {
	r := raw(b, profiles(b, "tstoem-desktop"))
	inv := inventory("52:54:00:4f:45:01", "TSTDISK0417")
	cat, err := fixtures.Catalog()
	require.NoError(b, err)
	wire, err := cat.Wire() // what the runner hands the guest
	require.NoError(b, err)
	back, err := catalog.ParseWire(wire)
	require.NoError(b, err)
	in := activation.Input{Logon: true, Now: t0, Edition: "win7-professional", Key: key("oem-slp/TSTOEM/win7-professional"),
		InstallKey: true, Catalog: back, Firmware: r, Inventory: inv}
	_, state, err := activation.Evaluate(in, noHost{})
	require.NoError(b, err)
	in.InstallKey, in.State = false, state
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := activation.Evaluate(in, noHost{}); err != nil {
			b.Fatal(err)
		}
	}
}

// A machine that never boots again keeps no state: the evaluation is the same, the state is nil.
func TestEvaluateStateless(t *testing.T) {
	r := raw(t, profiles(t, "tstoem-desktop"))
	inv := inventory("52:54:00:4f:45:01", "TSTDISK0417")
	in := activation.Input{Logon: true, Now: t0, Edition: "win7-professional", Key: key("oem-slp/TSTOEM/win7-professional"),
		InstallKey: true, Firmware: r, Inventory: inv}
	kept, st, err := activation.Evaluate(in, newWorld(t, t0).host)
	require.NoError(t, err)
	require.NotEmpty(t, st)

	in.Stateless = true
	ev, st, err := activation.Evaluate(in, newWorld(t, t0).host)
	require.NoError(t, err)
	assert.Nil(t, st)
	assert.Equal(t, kept.Snapshot, ev.Snapshot)
	assert.Equal(t, licence.Licensed, ev.Snapshot.Status)
	assert.NotEmpty(t, ev.CMID)
}
