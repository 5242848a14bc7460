package tpm_test

import (
	"crypto/sha256"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/oemact/tpm"
	"github.com/oemact/oemact/smbios"
)

func TestFirmwareEvents(t *testing.T) {
	m := dell(t)
	slic := readFixture(t, "acpi/dell-inspiron-14-3462/SLIC")
	msdm := readFixture(t, "acpi/dell-inspiron-14-3462/MSDM")
	ev := m.events(t)
	require.Len(t, ev, 3)
	assert.Equal(t, tpm.Event{Name: "acpi/MSDM", Data: msdm}, ev[0])
	assert.Equal(t, tpm.Event{Name: "acpi/SLIC", Data: slic}, ev[1])
	assert.Equal(t, tpm.SMBIOSIdentityEvent, ev[2].Name)

	// Markers are found by signature, whatever sysfs calls them; two SLICs are both measured.
	tables := []tpm.Table{
		{Name: "SLIC", Data: slic},
		{Name: "SLIC2", Data: readFixture(t, "acpi/acer-extensa-4210/SLIC")},
		{Name: "SSDT", Data: []byte("SLI")},                       // too short to have a signature
		{Name: "OEMB", Data: append([]byte("MSDM"), msdm[4:]...)}, // an MSDM under another name
	}
	ev, err := tpm.FirmwareEvents(tables, m.entryPoint, m.smbios)
	require.NoError(t, err)
	var names []string
	for _, e := range ev {
		names = append(names, e.Name)
	}
	assert.Equal(t, []string{"acpi/SLIC", "acpi/SLIC2", "acpi/OEMB", "smbios/identity"}, names)

	_, err = tpm.FirmwareEvents(nil, []byte("_SM_ garbage"), []byte{1, 2})
	assert.ErrorContains(t, err, "SMBIOS identity cannot be read")
}

func TestSMBIOSIdentity(t *testing.T) {
	m := dell(t)
	id, err := tpm.SMBIOSIdentity(m.entryPoint, m.smbios)
	require.NoError(t, err)
	assert.Equal(t, `oemact smbios identity 1
system.manufacturer="LENOVO"
system.product_name="20L8S07A14"
system.serial_number="PC131TBF"
system.uuid="161674cc-2a1e-11b2-a85c-e121881d01b9"
baseboard.manufacturer="LENOVO"
baseboard.product_name="20L8S07A14"
baseboard.serial_number="L1HF9380025"
bios.vendor="LENOVO"
bios.version="N22ET52W (1.29 )"
bios.release_date="01/16/2019"
`, string(id))

	none, err := tpm.SMBIOSIdentity(nil, nil)
	require.NoError(t, err)
	assert.Contains(t, string(none), "system.serial_number=\"\"\n", "no SMBIOS: every value empty")

	// What changes the identity and what does not.
	for _, c := range []struct {
		name    string
		edit    func(*smbios.Info)
		changes bool
	}{
		{"system serial", func(in *smbios.Info) {
			s, _ := in.System()
			s.SerialNumber = "PC131TBG"
			in.Update(s)
		}, true},
		{"baseboard serial", func(in *smbios.Info) {
			bs, _ := in.Baseboards()
			bs[0].SerialNumber = "L1HF9380026"
			in.Update(bs[0])
		}, true},
		{"BIOS version", func(in *smbios.Info) {
			b, _ := in.BIOS()
			b.Version = "N22ET53W (1.30 )"
			in.Update(b)
		}, true},
		{"a string with a newline", func(in *smbios.Info) {
			s, _ := in.System()
			s.SerialNumber = "PC131TBF\nbios.vendor=\"LENOVO\""
			in.Update(s)
		}, true},
		{"memory size", func(in *smbios.Info) {
			md, _ := in.MemoryDevices()
			md[0].SetSize(64 << 30)
			in.Update(md[0])
		}, false},
		{"processor version", func(in *smbios.Info) {
			ps, _ := in.Processors()
			ps[0].Version = "Another CPU"
			in.Update(ps[0])
		}, false},
		{"chassis serial", func(in *smbios.Info) {
			cs, _ := in.Chassis()
			cs[0].SerialNumber = "CHASSIS2"
			in.Update(cs[0])
		}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			other := changeSMBIOS(t, m, c.edit)
			require.NotEqual(t, m.smbios, other.smbios, "the table changed")
			got, err := tpm.SMBIOSIdentity(other.entryPoint, other.smbios)
			require.NoError(t, err)
			assert.Equal(t, c.changes, string(got) != string(id), "%s", got)
		})
	}
}

func TestReplay(t *testing.T) {
	d := sha256.Sum256([]byte("SLIC"))
	first := sha256.Sum256(append(make([]byte, 32), d[:]...))
	assert.Equal(t, tpm.Digest(make([]byte, 32)), tpm.Replay(nil), "a reset PCR is zero")
	assert.Equal(t, tpm.Digest(first[:]), tpm.Replay([]tpm.Item{{Name: "a", Digest: d[:]}}))
	second := sha256.Sum256(append(first[:], d[:]...))
	assert.Equal(t, tpm.Digest(second[:]), tpm.Replay([]tpm.Item{{Digest: d[:]}, {Digest: d[:]}}), "order and count matter")
}

func TestItems(t *testing.T) {
	_, err := tpm.Items(make([]tpm.Event, tpm.MaxEvents+1))
	assert.ErrorContains(t, err, "65 events")
	_, err = tpm.Items([]tpm.Event{{Name: string(make([]byte, 65))}})
	assert.ErrorContains(t, err, "want 1 to 64 characters")
	items, err := tpm.Items([]tpm.Event{{Name: "x", Data: []byte("abc")}})
	require.NoError(t, err)
	assert.Equal(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", items[0].Digest.String())
	assert.Equal(t, 3, items[0].Size)
}

// TestStatusJSON pins the field names reports read.
func TestStatusJSON(t *testing.T) {
	m := &tpm.Measurement{PCR: 23, Items: []tpm.Item{{Name: "acpi/SLIC", Digest: make(tpm.Digest, 32), Size: 374}}}
	m.Value = tpm.Replay(m.Items)
	st := tpm.NewStatus("ab12", m)
	st.SetUnseal(&tpm.PolicyError{PCR: 23, SealedItems: []tpm.Item{{Name: "acpi/SLIC", Digest: make(tpm.Digest, 32)}, {Name: "acpi/MSDM", Digest: make(tpm.Digest, 32)}}})
	b, err := json.Marshal(st)
	require.NoError(t, err)
	assert.JSONEq(t, `{"ek_digest":"ab12","pcr":23,"pcr_value":"`+m.Value.String()+`",
		"items":[{"name":"acpi/SLIC","digest":"`+m.Items[0].Digest.String()+`","size":374}],
		"unseal":"changed","changed":["acpi/MSDM (gone)"],
		"detail":"tpm: the firmware identity changed since sealing: PCR 23 is , the data is sealed to  (\u003cnil\u003e)"}`, string(b))
	var back tpm.Status
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, *st, back)

	st.SetUnseal(nil)
	assert.Equal(t, tpm.Unsealed, st.Unseal)
	assert.Empty(t, st.Changed)
	assert.Equal(t, "unsealed (PCR 23 = "+m.Value.String()+")", st.String())
	st.SetUnseal(tpm.ErrNoBlob)
	assert.Equal(t, tpm.None, st.Unseal)
	st.SetUnseal(&tpm.BlobError{Msg: "x"})
	assert.Equal(t, tpm.Failed, st.Unseal)
	assert.Contains(t, st.String(), "error: tpm: sealed blob at offset 0x0: x")
}
