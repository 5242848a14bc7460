package tpm_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/oemact/tpm"
	"github.com/oemact/oemact/smbios"
)

// A TPM the binding tests can power-cycle and replace: go-tpm-tools' simulator (cgo) or swtpm.
type testTPM interface {
	// Open connects for one boot.
	Open(t *testing.T) *tpm.TPM
	// Reboot is a TPM reset: PCRs back to zero, seeds (so the EK and storage key) kept.
	Reboot(t *testing.T)
	// Replace is a new TPM: new seeds.
	Replace(t *testing.T)
}

func fixtures() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "fixtures")
}

func readFixture(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures(), rel))
	require.NoError(t, err)
	return b
}

// machine is what the guest sees of a machine's firmware: its ACPI tables and SMBIOS, as the
// agent's report carries them.
type machine struct {
	tables     []tpm.Table
	entryPoint []byte
	smbios     []byte
	disks      []disk // not measured: here to show a disk swap changes nothing
}

// disk is a disk the machine has: never part of the firmware identity.
type disk struct {
	Serial string
	SizeMB int
}

// dell is a real Dell SLIC and MSDM with a real ThinkPad's SMBIOS: the TPM only sees bytes.
func dell(t testing.TB) machine {
	in, err := smbios.Read(filepath.Join(fixtures(), "smbios", "uroot_Lenovo-ThinkPad-T480.bin"))
	require.NoError(t, err)
	return withSMBIOS(t, machine{
		tables: []tpm.Table{
			{Name: "APIC", Data: []byte("APIC\x2c\x00\x00\x00not measured")},
			{Name: "FACP", Data: readFixture(t, "acpi/dell-inspiron-14-3462/FACP")},
			{Name: "MSDM", Data: readFixture(t, "acpi/dell-inspiron-14-3462/MSDM")},
			{Name: "SLIC", Data: readFixture(t, "acpi/dell-inspiron-14-3462/SLIC")},
		},
		disks: []disk{{Serial: "TSTDISK0417", SizeMB: 8}},
	}, in)
}

func withSMBIOS(t testing.TB, m machine, in *smbios.Info) machine {
	t.Helper()
	ep, table, err := in.SysfsFiles()
	require.NoError(t, err)
	m.entryPoint, m.smbios = ep, table
	return m
}

// changeSMBIOS returns m with its SMBIOS edited by f.
func changeSMBIOS(t testing.TB, m machine, f func(in *smbios.Info)) machine {
	t.Helper()
	in, err := smbios.DecodeSysfs(m.entryPoint, m.smbios)
	require.NoError(t, err)
	f(in)
	require.NoError(t, in.Fixup())
	return withSMBIOS(t, m, in)
}

func (m machine) events(t testing.TB) []tpm.Event {
	t.Helper()
	ev, err := tpm.FirmwareEvents(m.tables, m.entryPoint, m.smbios)
	require.NoError(t, err)
	return ev
}

func (m machine) replace(name string, data []byte) machine {
	out := m
	out.tables = nil
	for _, b := range m.tables {
		if b.Name == name {
			b.Data = data
		}
		out.tables = append(out.tables, b)
	}
	return out
}

// boot is one boot of the agent's TPM steps: EK, measure, unseal what the last boot sealed.
type bootResult struct {
	ek     string
	m      *tpm.Measurement
	data   []byte
	err    error
	status *tpm.Status
}

func boot(t *testing.T, tt testTPM, m machine, blob []byte) bootResult {
	t.Helper()
	tt.Reboot(t)
	c := tt.Open(t)
	ek, err := c.EKDigest()
	require.NoError(t, err)
	meas, err := c.Measure(tpm.DefaultPCR, m.events(t))
	require.NoError(t, err)
	data, err := c.Unseal(blob)
	st := tpm.NewStatus(ek, meas)
	st.SetUnseal(err)
	return bootResult{ek: ek, m: meas, data: data, err: err, status: st}
}

func seal(t *testing.T, tt testTPM, data []byte, m *tpm.Measurement) []byte {
	t.Helper()
	blob, err := tt.Open(t).Seal(data, m)
	require.NoError(t, err)
	return blob
}

// testBinding runs the TPM binding's behaviour on a TPM: what the scenarios need, at the
// library level.
func testBinding(t *testing.T, tt testTPM) {
	base := dell(t)
	record := []byte(`{"licence":{"status":1},"cmid":"TEST"}`)

	t.Run("EK", func(t *testing.T) {
		tt.Reboot(t)
		c := tt.Open(t)
		ek1, err := c.EKDigest()
		require.NoError(t, err)
		assert.Len(t, ek1, 64)
		// What is hashed: the TPMT_PUBLIC, which with a SHA-256 name algorithm is the EK's Name
		// without its algorithm prefix.
		rsp, err := tpm2.CreatePrimary{PrimaryHandle: tpm2.TPMRHEndorsement, InPublic: tpm2.New2B(tpm2.RSAEKTemplate)}.Execute(rawTransport(t, c))
		require.NoError(t, err)
		tpm2.FlushContext{FlushHandle: rsp.ObjectHandle}.Execute(rawTransport(t, c))
		assert.Equal(t, hex.EncodeToString(rsp.Name.Buffer[2:]), ek1)
		sum := sha256.Sum256(rsp.OutPublic.Bytes())
		assert.Equal(t, hex.EncodeToString(sum[:]), ek1)

		tt.Reboot(t)
		ek2, err := tt.Open(t).EKDigest()
		require.NoError(t, err)
		assert.Equal(t, ek1, ek2, "same TPM, same EK across boots")

		// A key persisted at the EK's handle is used when it is the EK, and ignored when it is
		// another key.
		tr := rawTransport(t, tt.Open(t))
		persist := func(tmpl tpm2.TPMTPublic, hierarchy tpm2.TPMHandle) {
			rsp, err := tpm2.CreatePrimary{PrimaryHandle: hierarchy, InPublic: tpm2.New2B(tmpl)}.Execute(tr)
			require.NoError(t, err)
			defer tpm2.FlushContext{FlushHandle: rsp.ObjectHandle}.Execute(tr)
			_, err = tpm2.EvictControl{
				Auth:             tpm2.TPMRHOwner,
				ObjectHandle:     &tpm2.NamedHandle{Handle: rsp.ObjectHandle, Name: rsp.Name},
				PersistentHandle: tpm.PersistentEKHandle,
			}.Execute(tr)
			require.NoError(t, err)
		}
		evict := func() {
			rp, err := tpm2.ReadPublic{ObjectHandle: tpm.PersistentEKHandle}.Execute(tr)
			require.NoError(t, err)
			_, err = tpm2.EvictControl{
				Auth:             tpm2.TPMRHOwner,
				ObjectHandle:     &tpm2.NamedHandle{Handle: tpm.PersistentEKHandle, Name: rp.Name},
				PersistentHandle: tpm.PersistentEKHandle,
			}.Execute(tr)
			require.NoError(t, err)
		}
		ekOf := func() (string, []uint32) {
			rec := &recorder{t: tr}
			ek, err := tpm.New(rec).EKDigest()
			require.NoError(t, err)
			return ek, rec.codes
		}
		const createPrimary, readPublic = 0x131, 0x173
		for _, other := range []struct {
			name      string
			tmpl      tpm2.TPMTPublic
			hierarchy tpm2.TPMHandle
		}{
			{"an SRK", tpm2.ECCSRKTemplate, tpm2.TPMRHOwner},
			{"the EK template in the owner hierarchy", tpm2.RSAEKTemplate, tpm2.TPMRHOwner},
		} {
			persist(other.tmpl, other.hierarchy)
			ek, codes := ekOf()
			assert.Equal(t, ek1, ek, "%s at 0x81010001 is not taken for the EK", other.name)
			assert.Equal(t, []uint32{readPublic, createPrimary, 0x165}, codes, "read, then create (and flush)")
			evict()
		}
		persist(tpm2.RSAEKTemplate, tpm2.TPMRHEndorsement)
		ek, codes := ekOf()
		assert.Equal(t, ek1, ek, "the persisted EK gives the same digest")
		assert.Equal(t, []uint32{readPublic}, codes, "and no key is created")
		evict()

		tt.Replace(t)
		ek3, err := tt.Open(t).EKDigest()
		require.NoError(t, err)
		assert.NotEqual(t, ek1, ek3, "a new TPM has a new EK")
	})

	t.Run("Measure", func(t *testing.T) {
		tt.Reboot(t)
		c := tt.Open(t)
		ev := base.events(t)
		m, err := c.Measure(tpm.DefaultPCR, ev)
		require.NoError(t, err)
		var names []string
		for _, it := range m.Items {
			names = append(names, it.Name)
		}
		assert.Equal(t, []string{"acpi/MSDM", "acpi/SLIC", "smbios/identity"}, names, "the markers and the SMBIOS identity, nothing else")
		slic := sha256.Sum256(readFixture(t, "acpi/dell-inspiron-14-3462/SLIC"))
		assert.Equal(t, tpm.Digest(slic[:]), m.Items[1].Digest, "a table's digest is sha256sum of its file")
		assert.Equal(t, tpm.Replay(m.Items), m.Value)
		got, err := c.ReadPCRs(tpm.DefaultPCR)
		require.NoError(t, err)
		assert.Equal(t, m.Value, got[0].Value, "the PCR holds the replayed value")

		// Measuring again in the same boot gives the same value: PCR 23 is reset first.
		again, err := c.Measure(tpm.DefaultPCR, ev)
		require.NoError(t, err)
		assert.Equal(t, m.Value, again.Value)

		// A PCR that cannot be reset can be measured once per boot only.
		_, err = c.Measure(14, ev)
		require.NoError(t, err)
		_, err = c.Measure(14, ev)
		assert.ErrorIs(t, err, tpm.ErrPCRInUse)
		assert.ErrorContains(t, err, "use PCR 23")

		_, err = c.Measure(24, ev)
		assert.ErrorContains(t, err, "PCR 24 does not exist")
		_, err = c.Measure(tpm.DefaultPCR, nil)
		assert.ErrorContains(t, err, "nothing to measure")
		_, err = c.Measure(tpm.DefaultPCR, []tpm.Event{{Name: "has space", Data: nil}})
		assert.ErrorContains(t, err, "printable ASCII")
	})

	t.Run("SameFirmwareUnsealsEveryBoot", func(t *testing.T) {
		r := boot(t, tt, base, nil)
		assert.ErrorIs(t, r.err, tpm.ErrNoBlob)
		assert.Equal(t, tpm.None, r.status.Unseal)
		blob := seal(t, tt, record, r.m)
		assert.Less(t, len(blob), 1024, "a small record makes a small blob")
		for i := 2; i <= 4; i++ {
			r := boot(t, tt, base, blob)
			require.NoError(t, r.err, "boot %d", i)
			assert.Equal(t, record, r.data)
			assert.Equal(t, tpm.Unsealed, r.status.Unseal)
			blob = seal(t, tt, append(record, byte('0'+i)), r.m) // each boot saves its new state
			record = append(record, byte('0'+i))
		}
	})

	t.Run("DiskAndMemorySwapKeepTheSeal", func(t *testing.T) {
		r := boot(t, tt, base, nil)
		blob := seal(t, tt, record, r.m)
		other := base
		other.disks = []disk{{Serial: "NEWDISK0001", SizeMB: 16}}
		// More memory changes the SMBIOS table (type 17) but not the identity.
		other = changeSMBIOS(t, other, func(in *smbios.Info) {
			md, err := in.MemoryDevices()
			require.NoError(t, err)
			require.NoError(t, md[0].SetSize(32<<30))
			require.NoError(t, in.Update(md[0]))
		})
		require.NotEqual(t, base.smbios, other.smbios, "the raw SMBIOS table did change")
		r = boot(t, tt, other, blob)
		require.NoError(t, r.err)
		assert.Equal(t, record, r.data)
		assert.Equal(t, tpm.Unsealed, r.status.Unseal)
	})

	t.Run("SerialChangeFailsThePolicy", func(t *testing.T) {
		r := boot(t, tt, base, nil)
		blob := seal(t, tt, record, r.m)
		other := changeSMBIOS(t, base, func(in *smbios.Info) {
			sys, err := in.System()
			require.NoError(t, err)
			sys.SerialNumber = "PC131TBG"
			require.NoError(t, in.Update(sys))
		})
		r2 := boot(t, tt, other, blob)
		require.Error(t, r2.err)
		assert.Nil(t, r2.data)
		assert.ErrorIs(t, r2.err, tpm.ErrPolicy)
		assert.ErrorIs(t, r2.err, tpm2.TPMRCPolicyFail, "the TPM said no, not a string comparison")
		var pe *tpm.PolicyError
		require.ErrorAs(t, r2.err, &pe)
		assert.Equal(t, r.m.Value, pe.Sealed)
		assert.Equal(t, r2.m.Value, pe.Current)
		assert.Equal(t, tpm.Changed, r2.status.Unseal)
		assert.Equal(t, []string{"smbios/identity"}, r2.status.Changed)
		assert.Contains(t, r2.status.String(), "changed: smbios/identity")

		// Back to the old serial: the seal opens again.
		r3 := boot(t, tt, base, blob)
		require.NoError(t, r3.err)
		assert.Equal(t, record, r3.data)
	})

	t.Run("NewSLICFailsThePolicy", func(t *testing.T) {
		r := boot(t, tt, base, nil)
		blob := seal(t, tt, record, r.m)
		other := base.replace("SLIC", readFixture(t, "acpi/lenovo-thinkcentre-m800/SLIC"))
		r2 := boot(t, tt, other, blob)
		assert.ErrorIs(t, r2.err, tpm.ErrPolicy)
		assert.Equal(t, tpm.Changed, r2.status.Unseal)
		assert.Equal(t, []string{"acpi/SLIC"}, r2.status.Changed)

		// A board without an MSDM: that item is gone.
		var noMSDM machine = base
		noMSDM.tables = nil
		for _, b := range base.tables {
			if b.Name != "MSDM" {
				noMSDM.tables = append(noMSDM.tables, b)
			}
		}
		r3 := boot(t, tt, noMSDM, blob)
		assert.ErrorIs(t, r3.err, tpm.ErrPolicy)
		assert.Equal(t, []string{"acpi/MSDM (gone)"}, r3.status.Changed)
	})

	t.Run("NewTPM", func(t *testing.T) {
		r := boot(t, tt, base, nil)
		blob := seal(t, tt, record, r.m)
		tt.Replace(t)
		r2 := boot(t, tt, base, blob)
		assert.ErrorIs(t, r2.err, tpm.ErrOtherTPM)
		assert.NotErrorIs(t, r2.err, tpm.ErrPolicy)
		assert.NotEqual(t, r.ek, r2.ek)
		assert.Equal(t, tpm.Changed, r2.status.Unseal)
		assert.Equal(t, []string{"tpm"}, r2.status.Changed)
	})

	t.Run("TamperedBlob", func(t *testing.T) {
		r := boot(t, tt, base, nil)
		c := tt.Open(t)
		blob, err := c.Seal(record, r.m)
		require.NoError(t, err)
		for i := range blob {
			bad := bytes.Clone(blob)
			bad[i] ^= 0x41
			data, err := c.Unseal(bad)
			require.Error(t, err, "byte %#x changed", i)
			assert.Nil(t, data)
			// An altered blob is never taken for a changed firmware or another TPM.
			assert.ErrorIs(t, err, tpm.ErrBlob, "byte %#x changed", i)
		}
		for n := 0; n < len(blob); n++ {
			_, err := c.Unseal(blob[:n])
			if n == 0 {
				assert.ErrorIs(t, err, tpm.ErrNoBlob)
			} else {
				assert.ErrorIs(t, err, tpm.ErrBlob, "truncated to %d bytes", n)
			}
		}
		_, err = c.Unseal(append(bytes.Clone(blob), 0))
		assert.ErrorContains(t, err, "1 bytes after the ciphertext")
		data, err := c.Unseal(blob)
		require.NoError(t, err, "the original still unseals")
		assert.Equal(t, record, data)
	})

	t.Run("SealLimits", func(t *testing.T) {
		r := boot(t, tt, base, nil)
		c := tt.Open(t)
		c.MaxData = 1000
		_, err := c.Seal(make([]byte, 1001), r.m)
		assert.ErrorContains(t, err, "at most 1000")
		big, err := c.Seal(make([]byte, 1000), r.m)
		require.NoError(t, err)
		c.MaxData = 999
		_, err = c.Unseal(big)
		assert.ErrorIs(t, err, tpm.ErrBlob, "a reader with a lower limit refuses the blob")
		bad := *r.m
		bad.Value = make(tpm.Digest, 32)
		_, err = c.Seal(record, &bad)
		assert.ErrorContains(t, err, "replay to")
		_, err = c.Seal(record, nil)
		assert.ErrorContains(t, err, "no measurement")

		// The largest record the default allows stays well inside the 1 MiB state disk.
		c.MaxData = 0
		blob, err := c.Seal(make([]byte, tpm.DefaultMaxData), r.m)
		require.NoError(t, err)
		assert.Less(t, len(blob), tpm.DefaultMaxData+1024)
		data, err := c.Unseal(blob)
		require.NoError(t, err)
		assert.Len(t, data, tpm.DefaultMaxData)
	})
}

// rawTransport digs the transport out of a TPM for the tests that talk to the TPM directly.
func rawTransport(t *testing.T, c *tpm.TPM) interface {
	Send([]byte) ([]byte, error)
} {
	t.Helper()
	tr := tpm.TransportOf(c)
	require.NotNil(t, tr)
	return tr
}

// recorder passes commands on and records their command codes.
type recorder struct {
	t     interface{ Send([]byte) ([]byte, error) }
	codes []uint32
}

func (r *recorder) Send(cmd []byte) ([]byte, error) {
	if len(cmd) >= 10 {
		r.codes = append(r.codes, binary.BigEndian.Uint32(cmd[6:10]))
	}
	return r.t.Send(cmd)
}
