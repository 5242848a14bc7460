package oa

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/firmware/productkey"
	"github.com/oemact/oemact/oemact/catalog"
	"github.com/oemact/oemact/oemact/cert"
	"github.com/oemact/oemact/oemact/edition"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fixtures(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "fixtures")
}

func load(t testing.TB) (authority *cert.Certificate, other *cert.Certificate, cat *catalog.Catalog, auth *cert.Authority) {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(fixtures(t), "keys", name))
		require.NoError(t, err)
		return b
	}
	c, err := cert.Parse(read("oem-TSTOEM.xrm-ms"))
	require.NoError(t, err)
	o, err := cert.Parse(read("oem-OTHOEM.xrm-ms"))
	require.NoError(t, err)
	cat, err = catalog.Load(filepath.Join(fixtures(t), "keys", "catalog.yaml"))
	require.NoError(t, err)
	priv, err := cert.ParsePrivateKeyPEM(read("authority.pem"), "authority.pem")
	require.NoError(t, err)
	auth, err = cert.NewAuthority(priv)
	require.NoError(t, err)
	return c, o, cat, auth
}

// slic builds a SLIC signed with a fixture TEST OEM key, after edit changes the marker.
func slic(t testing.TB, keyFile string, p firmware.SLICParams, edit func(*firmware.SLIC)) []byte {
	t.Helper()
	priv, err := cert.LoadPrivateKey(filepath.Join(fixtures(t), "keys", keyFile))
	require.NoError(t, err)
	if p.OEMID == "" {
		p.OEMID, p.OEMTableID = "TSTOEM", "TSTBOARD"
	}
	s, err := firmware.NewSLIC(p)
	require.NoError(t, err)
	if p.SLICVersion == 0 {
		s.Marker.SLICVersion = firmware.SLICVersion21
	}
	require.NoError(t, s.SignMarker(priv))
	if edit != nil {
		edit(s)
	}
	return s.Encode()
}

func set(tables ...[]byte) *firmware.Set {
	s := firmware.NewSet("test", firmware.SetBytes)
	for _, b := range tables {
		h, _ := firmware.DecodeHeader(b)
		s.AddBytes(h.Sig(), b)
	}
	return s
}

func entry(t testing.TB, cat *catalog.Catalog, label string) *catalog.Entry {
	e, err := cat.Lookup(productkey.Derive(label))
	require.NoError(t, err, label)
	return e
}

func ed(t testing.TB, id string) edition.Edition {
	e, err := edition.Lookup(id)
	require.NoError(t, err)
	return e
}

func failed(v *Verdict) []int {
	var out []int
	for _, r := range v.Rules {
		if !r.OK {
			out = append(out, r.Number)
		}
	}
	return out
}

func TestEvaluate21Rules(t *testing.T) {
	tst, oth, cat, auth := load(t)
	good := slic(t, "oem-TSTOEM.pem", firmware.SLICParams{}, nil)
	pro := ed(t, "win7-professional")
	slp := entry(t, cat, "oem-slp/TSTOEM/win7-professional")

	for _, tc := range []struct {
		name   string
		in     Input21
		failed []int
		codes  []string
	}{
		{"valid", Input21{Set: set(good), Certificate: tst, Key: slp, Edition: pro}, nil, nil},
		{"no SLIC", Input21{Set: set(), Certificate: tst, Key: slp, Edition: pro}, []int{1, 2, 3, 4, 5}, []string{CodeNoSLIC}},
		{"marker 2.0 on Windows 7", Input21{Set: set(slic(t, "oem-TSTOEM.pem", firmware.SLICParams{SLICVersion: firmware.SLICVersion20}, nil)), Certificate: tst, Key: slp, Edition: pro},
			[]int{4}, []string{firmware.CodeSLICVersionLow}},
		{"tampered signature", Input21{Set: set(slic(t, "oem-TSTOEM.pem", firmware.SLICParams{}, func(s *firmware.SLIC) { s.Marker.Signature[5] ^= 0x40 })), Certificate: tst, Key: slp, Edition: pro},
			[]int{1}, []string{firmware.CodeSignature, CodeMarkerInvalid}},
		{"certificate of another OEM", Input21{Set: set(good), Certificate: oth, Key: slp, Edition: pro}, []int{2}, []string{CodeCertKeyMismatch}},
		{"no certificate", Input21{Set: set(good), Key: slp, Edition: pro}, []int{2}, []string{CodeNoCertificate}},
		{"marker IDs disagree with the header", Input21{Set: set(slic(t, "oem-TSTOEM.pem", firmware.SLICParams{MarkerOEMID: "OTHOEM", MarkerOEMTableID: "OTHBOARD"}, nil)), Certificate: tst, Key: slp, Edition: pro},
			[]int{2, 3, 5}, []string{firmware.CodeMarkerHeader, CodeCertIDMismatch, CodeKeyOtherOEM}},
		{"insyde placeholder marker", Input21{Set: set(slic(t, "oem-TSTOEM.pem", firmware.SLICParams{MarkerOEMID: "INSYDE", MarkerOEMTableID: "INSYDE00"}, nil)), Certificate: tst, Key: slp, Edition: pro},
			[]int{1, 2, 5}, []string{firmware.CodeSLICPlaceholder, CodeCertIDMismatch, CodeKeyOtherOEM}},
		{"SLP key of another OEM", Input21{Set: set(good), Certificate: tst, Key: entry(t, cat, "oem-slp/OTHOEM/win7-professional"), Edition: pro}, []int{5}, []string{CodeKeyOtherOEM}},
		{"retail key", Input21{Set: set(good), Certificate: tst, Key: entry(t, cat, "retail/win7-professional"), Edition: pro}, []int{5}, []string{CodeKeyNotSLP}},
		{"SLP key of another edition", Input21{Set: set(good), Certificate: tst, Key: entry(t, cat, "oem-slp/TSTOEM/win7-homepremium"), Edition: pro}, []int{5}, []string{CodeKeyOtherEdition}},
		{"no key", Input21{Set: set(good), Certificate: tst, Edition: pro}, []int{5}, []string{CodeNoKey}},
		{"volume-only edition", Input21{Set: set(good), Certificate: tst, Key: slp, Edition: ed(t, "win7-enterprise")}, []int{5}, []string{CodeEditionNoOEM}},
		{"SLIC of 4 bytes", Input21{Set: set([]byte("SLIC")), Certificate: tst, Key: slp, Edition: pro}, []int{1, 2, 3, 4, 5}, nil},
		{"header-only SLIC", Input21{Set: set(good[:firmware.HeaderSize]), Certificate: tst, Key: slp, Edition: pro}, []int{1, 2, 3, 4, 5}, nil},
		{"vista accepts 2.0", Input21{Set: set(slic(t, "oem-TSTOEM.pem", firmware.SLICParams{SLICVersion: firmware.SLICVersion20}, nil)), Certificate: tst,
			Key: entry(t, cat, "oem-slp/TSTOEM/vista-business"), Edition: ed(t, "vista-business")}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Authority = auth.PublicKey()
			v := Evaluate21(tc.in)
			assert.Equal(t, tc.failed, failed(v), v.String())
			assert.Equal(t, tc.failed == nil, v.Valid)
			require.Len(t, v.Rules, 5)
			for _, c := range tc.codes {
				assert.True(t, v.Findings.Has(c), "want finding %s in %v", c, v.Findings.Codes())
			}
			for _, r := range v.Rules {
				assert.NotEmpty(t, r.Reason, "rule %d", r.Number)
				if !r.OK {
					assert.NotEmpty(t, r.Findings, "rule %d failed without a finding", r.Number)
				}
			}
		})
	}
}

// A real SLIC with a TEST certificate: the marker verifies (rule 1) but the certificate's key is
// not the SLIC's, and the verdict says which two keys differ.
func TestRealSLICWithTestCertificate(t *testing.T) {
	tst, _, cat, auth := load(t)
	sets, err := firmware.Load(filepath.Join(fixtures(t), "acpi", "dell-inspiron-14-3462"))
	require.NoError(t, err)
	v := Evaluate21(Input21{Set: sets[0], Certificate: tst, Authority: auth.PublicKey(),
		Key: entry(t, cat, "oem-slp/DELL/win7-professional"), Edition: ed(t, "win7-professional")})
	assert.False(t, v.Valid)
	assert.True(t, v.Rules[0].OK, v.Rules[0].Reason)
	r2 := v.Rules[1]
	require.False(t, r2.OK)
	assert.Contains(t, r2.Reason, "certificate key does not match")
	assert.Contains(t, r2.Reason, cert.Fingerprint(tst.OEMKey))
	key, err := sets[0].First("SLIC").SLIC.Key()
	require.NoError(t, err)
	assert.Contains(t, r2.Reason, cert.Fingerprint(key), "the reason names the SLIC's key too")
	assert.Equal(t, CodeCertKeyMismatch, r2.Findings[0].Code)
	assert.True(t, v.Rules[4].OK, "the DELL SLP key matches the DELL marker: %s", v.Rules[4].Reason)
	assert.True(t, v.WindowsMarker)
	assert.Contains(t, v.Marker, "DELL/")
}

// Rule 3 compares the marker with the root tables the kernel log reports.
func TestRootTableMismatch(t *testing.T) {
	tst, _, cat, auth := load(t)
	s := set(slic(t, "oem-TSTOEM.pem", firmware.SLICParams{}, nil))
	h, ok := firmware.ParseKernelLogLine([]byte("ACPI: RSDT 0x000000007FFE1A2B 000034 (v01 BOCHS  BXPC     00000001 BXPC 00000001)"))
	require.True(t, ok)
	s.AddKernelLog([]firmware.LogHeader{h}, "dmesg")
	v := Evaluate21(Input21{Set: s, Certificate: tst, Authority: auth.PublicKey(),
		Key: entry(t, cat, "oem-slp/TSTOEM/win7-professional"), Edition: ed(t, "win7-professional")})
	assert.Equal(t, []int{3}, failed(v), v.String())
	assert.True(t, v.Findings.Has(firmware.CodeMarkerRSDT))
}

func TestEvaluate30(t *testing.T) {
	_, _, cat, _ := load(t)
	msdm := func(key string) []byte {
		m, err := firmware.NewMSDM(firmware.MSDMParams{OEMID: "TSTOEM", OEMTableID: "TSTBOARD", Key: key})
		require.NoError(t, err)
		return m.Encode()
	}
	dm := productkey.Derive("oem-dm/win8-pro").Reveal()
	real, err := os.ReadFile(filepath.Join(fixtures(t), "acpi", "gigabyte-ga-ma785gm-us2h", "MSDM"))
	require.NoError(t, err)
	for _, tc := range []struct {
		name    string
		set     *firmware.Set
		edition string
		failed  []int
		code    string
	}{
		{"valid", set(msdm(dm)), "win8-pro", nil, ""},
		{"no MSDM", set(), "win8-pro", []int{1, 2, 3}, CodeNoMSDM},
		{"erased MSDM (real table)", set(real), "win8-pro", []int{1, 2, 3}, CodeMSDMInvalid},
		{"unknown key", set(msdm(productkey.Derive("not in catalog").Reveal())), "win8-pro", []int{2, 3}, CodeMSDMKeyUnknown},
		{"retail key in MSDM", set(msdm(productkey.Derive("retail/win7-ultimate").Reveal())), "win8-pro", []int{2, 3}, CodeMSDMKeyNotDM},
		{"other edition", set(msdm(dm)), "win8-core", []int{3}, CodeMSDMOtherEdition},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, e := Evaluate30(Input30{Set: tc.set, Catalog: cat, Edition: ed(t, tc.edition)})
			assert.Equal(t, tc.failed, failed(v), v.String())
			assert.Equal(t, tc.failed == nil, v.Valid)
			assert.Equal(t, tc.failed == nil, e != nil)
			if tc.code != "" {
				assert.True(t, v.Findings.Has(tc.code), v.Findings.Codes())
			}
			assert.NotContains(t, v.String(), dm, "the key is never printed whole")
		})
	}
}

func BenchmarkEvaluate21(b *testing.B) {
	tst, _, cat, auth := load(b)
	s := set(slic(b, "oem-TSTOEM.pem", firmware.SLICParams{}, nil))
	in := Input21{Set: s, Certificate: tst, Authority: auth.PublicKey(), Key: entry(b, cat, "oem-slp/TSTOEM/win7-professional"), Edition: ed(b, "win7-professional")}
	b.ReportAllocs()
	for b.Loop() {
		if !Evaluate21(in).Valid {
			b.Fatal("not valid")
		}
	}
}
