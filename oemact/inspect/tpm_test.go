package inspect

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
	"github.com/oemact/oemact/harness/swtpm"
	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/tpm"
	"github.com/oemact/oemact/smbios"
)

func dellDoc(t *testing.T) (*Document, []*firmware.Set, *smbios.Info) {
	t.Helper()
	sets, err := firmware.Load(filepath.Join("..", "..", "fixtures", "acpi", "dell-inspiron-14-3462"))
	require.NoError(t, err)
	rel, err := edition.LookupRelease("win7")
	require.NoError(t, err)
	smb, err := smbios.Read(filepath.Join("..", "..", "fixtures", "smbios", "uroot_Lenovo-ThinkPad-T480.bin"))
	require.NoError(t, err)
	return Build(sets, Options{Release: rel}), sets, smb
}

// TestTPMSection reads a swtpm into the report and checks the expected measurement against what
// the TPM itself computes when the same firmware is measured into it, as the guest agent does.
func TestTPMSection(t *testing.T) {
	hosttooltest.Require(t, "swtpm")
	p, err := swtpm.Start(t.TempDir(), swtpm.Options{Server: true})
	require.NoError(t, err)
	defer p.Stop()

	doc, sets, smb := dellDoc(t)
	require.NoError(t, doc.AddTPMAt(p.Server, sets, smb))
	s := doc.TPM
	require.NotNil(t, s)
	assert.Empty(t, s.Error)
	assert.Len(t, s.EKDigest, 64)
	assert.Equal(t, tpm.DefaultPCR, s.PCR)
	assert.Equal(t, make(tpm.Digest, 32), s.PCRValue, "nothing measured yet")
	require.NotNil(t, s.Expected)
	var names []string
	for _, it := range s.Expected.Items {
		names = append(names, it.Name)
	}
	assert.Equal(t, []string{"acpi/MSDM", "acpi/SLIC", "smbios/identity"}, names)

	// Measure what a guest with these tables and this SMBIOS would see.
	ep, table, err := smb.SysfsFiles()
	require.NoError(t, err)
	var blobs []tpm.Table
	for _, n := range []string{"FACP", "MSDM", "SLIC"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "acpi", "dell-inspiron-14-3462", n))
		require.NoError(t, err)
		blobs = append(blobs, tpm.Table{Name: n, Data: b})
	}
	ev, err := tpm.FirmwareEvents(blobs, ep, table)
	require.NoError(t, err)
	c, err := tpm.Open(p.Server)
	require.NoError(t, err)
	m, err := c.Measure(tpm.DefaultPCR, ev)
	require.NoError(t, err)
	c.Close()
	assert.Equal(t, m.Value, s.Expected.Value, "inspect predicts the guest's PCR value")

	doc, sets, smb = dellDoc(t)
	require.NoError(t, doc.AddTPMAt(p.Server, sets, smb))
	assert.Equal(t, m.Value, doc.TPM.PCRValue, "and reads it back from the TPM")

	var b strings.Builder
	require.NoError(t, WriteText(&b, doc))
	text := b.String()
	assert.Contains(t, text, "\n== TPM "+p.Server+"\n")
	assert.Contains(t, text, "  EK digest (SHA-256 of the RSA EK public area): "+doc.TPM.EKDigest+"\n")
	assert.Contains(t, text, "  PCR 23 now (firmware identity binding)       : "+m.Value.String()+"\n")
	assert.Contains(t, text, "  PCR 23 expected for this firmware            : "+m.Value.String()+"\n")
	assert.Contains(t, text, "    acpi/SLIC        "+m.Items[1].Digest.String()+"  374 bytes\n")
	assert.Less(t, strings.Index(text, "== TPM"), strings.Index(text, "\nSummary:"), "the summary stays last")

	js, err := json.Marshal(doc)
	require.NoError(t, err)
	var back struct {
		TPM map[string]any `json:"tpm"`
	}
	require.NoError(t, json.Unmarshal(js, &back))
	assert.Equal(t, doc.TPM.EKDigest, back.TPM["ek_digest"])
	assert.Equal(t, float64(23), back.TPM["pcr"])
	assert.Equal(t, m.Value.String(), back.TPM["pcr_value"])
	assert.Equal(t, m.Value.String(), back.TPM["expected"].(map[string]any)["value"])
}

func TestTPMSectionPaths(t *testing.T) {
	doc, sets, smb := dellDoc(t)
	require.NoError(t, doc.AddTPMAt("none", sets, smb))
	assert.Nil(t, doc.TPM, "none skips the TPM")

	err := doc.AddTPMAt(filepath.Join(t.TempDir(), "tpm0"), sets, smb)
	assert.ErrorContains(t, err, "does not exist: this machine has no TPM 2.0")
	assert.Nil(t, doc.TPM)

	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	assert.ErrorContains(t, doc.AddTPMAt(file, sets, smb), "is neither a TPM device nor a TPM simulator's socket")

	if _, err := os.Stat(tpm.DefaultPath); err != nil {
		require.NoError(t, doc.AddTPMAt("", sets, smb))
		assert.Nil(t, doc.TPM, "no TPM on this host: no section")
	}

	doc.TPMUnavailable(tpm.DefaultPath, os.ErrPermission)
	var b strings.Builder
	require.NoError(t, WriteText(&b, doc))
	assert.Contains(t, b.String(), "== TPM /dev/tpmrm0\n  not read                                     : permission denied\n")
}
