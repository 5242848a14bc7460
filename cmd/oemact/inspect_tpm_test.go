package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
	"github.com/oemact/oemact/harness/swtpm"
)

// TestInspectTPM runs `oemact inspect --tpm` against a swtpm: the TPM section in text and JSON,
// with the PCR value a guest with these tables and this SMBIOS would measure.
func TestInspectTPM(t *testing.T) {
	hosttooltest.Require(t, "swtpm")
	p, err := swtpm.Start(t.TempDir(), swtpm.Options{Server: true})
	require.NoError(t, err)
	defer p.Stop()
	dell := filepath.Join("..", "..", "fixtures", "acpi", "dell-inspiron-14-3462")
	smb := filepath.Join("..", "..", "fixtures", "smbios", "uroot_Lenovo-ThinkPad-T480.bin")

	var out, errOut bytes.Buffer
	code := run(stdio{nil, &out, &errOut}, []string{"inspect", "--json", "--tpm", p.Server, dell, smb})
	require.Equal(t, exitOK, code, errOut.String())
	var doc struct {
		TPM struct {
			Path     string `json:"path"`
			EKDigest string `json:"ek_digest"`
			PCR      int    `json:"pcr"`
			PCRValue string `json:"pcr_value"`
			Expected struct {
				Value string `json:"value"`
				Items []struct {
					Name string `json:"name"`
				} `json:"items"`
			} `json:"expected"`
		} `json:"tpm"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &doc))
	assert.Equal(t, p.Server, doc.TPM.Path)
	assert.Len(t, doc.TPM.EKDigest, 64)
	assert.Equal(t, 23, doc.TPM.PCR)
	assert.Len(t, doc.TPM.Expected.Value, 64)
	assert.Len(t, doc.TPM.Expected.Items, 3)

	out.Reset()
	code = run(stdio{nil, &out, &errOut}, []string{"inspect", "--tpm", p.Server, dell, smb})
	require.Equal(t, exitOK, code, errOut.String())
	assert.Contains(t, out.String(), "== TPM "+p.Server+"\n  EK digest (SHA-256 of the RSA EK public area): "+doc.TPM.EKDigest+"\n")
	assert.Contains(t, out.String(), "  PCR 23 expected for this firmware            : "+doc.TPM.Expected.Value+"\n")
}
