package scenario

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/oemact/cert"
)

// imageDir lays out a folder with a TEST authority key, an OEM key and a certificate of NWTEST.
func imageDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	authKey, err := cert.GenerateKey(cert.RoleAuthority, 0)
	require.NoError(t, err)
	oemKey, err := cert.GenerateKey(cert.RoleOEM, 0)
	require.NoError(t, err)
	b, err := cert.EncodePrivateKeyPEM(authKey, cert.RoleAuthority, "")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "authority.pem"), b, 0o600))
	pub, err := cert.EncodePublicKeyPEM(&authKey.PublicKey, cert.RoleAuthority)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "authority-public.pem"), pub, 0o644))
	auth, err := cert.NewAuthority(authKey)
	require.NoError(t, err)
	doc, err := auth.Issue(&oemKey.PublicKey, []cert.OEMIDs{{OEMID: "NWTEST", OEMTableID: "NWBOARD"}})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "oem.xrm-ms"), doc, 0o644))
	return dir
}

func imageScenario(machine string) string {
	return "name: s\nmachines:\n  pc:\n    profile: " + filepath.Join(fixturesDir(), "profiles", "tstoem-desktop.yaml") +
		"\n    edition: win7-professional\n    key: oem-slp/NWTEST/win7-professional\n" + machine + "steps:\n  - boot: pc\n"
}

// certificate: and authority: are read when the scenario loads; the authority reaches the guest
// as a public key whatever keygen file it came from; built-in:OEMID names a built-in certificate.
func TestMachineImage(t *testing.T) {
	dir := imageDir(t)
	want, err := os.ReadFile(filepath.Join(dir, "oem.xrm-ms"))
	require.NoError(t, err)
	for _, authority := range []string{"authority.pem", "authority-public.pem"} {
		path := filepath.Join(dir, "s.yaml")
		require.NoError(t, os.WriteFile(path, []byte(imageScenario("    certificate: oem.xrm-ms\n    authority: "+authority+"\n")), 0o644))
		sc, err := Load(path)
		require.NoError(t, err, authority)
		m := sc.Machines[0]
		assert.Equal(t, want, m.Image.Certificate)
		assert.Equal(t, filepath.Join(dir, "oem.xrm-ms"), m.Image.CertificateFrom)
		assert.Equal(t, want, sc.Certificate(m, m.Key), "the machine's certificate: whatever the key")
		assert.Contains(t, string(m.Image.Authority), "-----BEGIN PUBLIC KEY-----")
		assert.NotContains(t, string(m.Image.Authority), "PRIVATE", "a private key never goes to the guest")
		pub, err := cert.ParsePublicKeyPEM(m.Image.Authority, "authority")
		require.NoError(t, err)
		c, err := cert.Parse(m.Image.Certificate)
		require.NoError(t, err)
		assert.NoError(t, c.Verify(pub))
	}

	path := filepath.Join(dir, "s.yaml")
	require.NoError(t, os.WriteFile(path, []byte(imageScenario("    certificate: built-in:TSTOEM\n")), 0o644))
	sc, err := Load(path)
	require.NoError(t, err)
	c, err := cert.Parse(sc.Machines[0].Image.Certificate)
	require.NoError(t, err)
	assert.True(t, c.Covers("TSTOEM", "TSTBOARD"))
	assert.Equal(t, "the built-in TEST certificate of TSTOEM", sc.Machines[0].Image.CertificateFrom)

	require.NoError(t, os.WriteFile(path, []byte(imageScenario("")), 0o644))
	sc, err = Load(path)
	require.NoError(t, err)
	assert.Nil(t, sc.Certificate(sc.Machines[0], sc.Machines[0].Key), "no certificate of NWTEST anywhere: the guest gets none")
}

// Errors about the image name the file, line and field, and never quote the file they read.
func TestMachineImageErrors(t *testing.T) {
	dir := imageDir(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "secret"), []byte(secret), 0o600))
	other := filepath.Join(dir, "other")
	require.NoError(t, os.Mkdir(other, 0o755))
	for _, tc := range []struct{ name, machine, want string }{
		{"missing certificate", "    certificate: nope.xrm-ms\n", "s.yaml:7: machines.pc.certificate: "},
		{"not a certificate", "    certificate: authority.pem\n", "s.yaml:7: machines.pc.certificate: authority.pem is not an OEM certificate oemact can read (an .xrm-ms from oemact cert issue; oemact cert show authority.pem says what is wrong)"},
		{"secret as certificate", "    certificate: secret\n", "machines.pc.certificate: secret is not an OEM certificate"},
		{"unknown built-in", "    certificate: built-in:ACME\n", `s.yaml:7: machines.pc.certificate: no built-in TEST certificate of OEM "ACME" (there are for OTHOEM, TSTOEM); or name a file`},
		{"built-in path", "    certificate: built-in:../keys/catalog.yaml\n", `no built-in TEST certificate of OEM "../keys/catalog.yaml"`},
		{"not a key", "    authority: oem.xrm-ms\n", "s.yaml:7: machines.pc.authority: oem.xrm-ms is not a PEM RSA key: want the TEST authority's key as oemact keygen --authority writes it, or its public key"},
		{"secret as key", "    authority: secret\n", "machines.pc.authority: secret is not a PEM RSA key"},
		{"folder", "    certificate: other\n", "machines.pc.certificate: "},
	} {
		path := filepath.Join(dir, "s.yaml")
		require.NoError(t, os.WriteFile(path, []byte(imageScenario(tc.machine)), 0o644))
		_, err := Load(path)
		require.Error(t, err, tc.name)
		msg := strings.ReplaceAll(err.Error(), dir+"/", "")
		assert.Contains(t, msg, tc.want, tc.name)
		for _, leak := range []string{"saltSALT", "hashHASH", "root:", "$6$", "MII"} {
			assert.NotContains(t, msg, leak, tc.name)
		}
	}
}

// Two different certificates of one OEM beside the catalogs are an error naming both; the same
// file twice is not.
func TestCertificatesBesideCatalogsConflict(t *testing.T) {
	dir := imageDir(t)
	for _, d := range []string{"a", "b"} {
		require.NoError(t, os.Mkdir(filepath.Join(dir, d), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, d, "keys.yaml"), []byte("keys: []\n"), 0o644))
	}
	doc, err := os.ReadFile(filepath.Join(dir, "oem.xrm-ms"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a", "oem-NWTEST.xrm-ms"), doc, 0o644))
	path := filepath.Join(dir, "s.yaml")
	require.NoError(t, os.WriteFile(path, []byte("catalog: a/keys.yaml\n"+imageScenario("")), 0o644))

	sc, err := Load(path, filepath.Join(dir, "a", "keys.yaml"))
	require.NoError(t, err, "the same folder twice")
	assert.Equal(t, doc, sc.Certificate(sc.Machines[0], sc.Machines[0].Key))

	// Another certificate of NWTEST beside the --catalog file.
	other := imageDir(t)
	doc2, err := os.ReadFile(filepath.Join(other, "oem.xrm-ms"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b", "oem-NWTEST.xrm-ms"), doc2, 0o644))
	_, err = Load(path, filepath.Join(dir, "b", "keys.yaml"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "s.yaml:7: machines.pc.key: two different TEST certificates of NWTEST beside the catalogs: "+
		filepath.Join(dir, "b", "oem-NWTEST.xrm-ms")+" and "+filepath.Join(dir, "a", "oem-NWTEST.xrm-ms"))

	// Something beside the catalog under that name that is not a certificate.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a", "oem-NWTEST.xrm-ms"), []byte(secret), 0o644))
	_, err = Load(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "a/oem-NWTEST.xrm-ms, beside the catalog, is not an OEM certificate")
	assert.NotContains(t, err.Error(), "saltSALT")
}

// With confinement, certificate:, authority: and a certificate beside the scenario's catalog stay
// inside the folder tree.
func TestConfineImage(t *testing.T) {
	root := imageDir(t)
	dir := filepath.Join(root, "pr")
	require.NoError(t, os.Mkdir(dir, 0o755))
	prof := filepath.Join(dir, "p.yaml")
	require.NoError(t, os.WriteFile(prof, []byte("name: p\nacpi: {oem_id: NWTEST, oem_table_id: NWBOARD}\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "keys.yaml"), []byte("keys: []\n"), 0o644))
	head := "name: s\nmachines:\n  pc:\n    profile: p.yaml\n    edition: win7-professional\n    key: oem-slp/NWTEST/win7-professional\n"
	for name, tc := range map[string]struct{ body, field string }{
		"certificate": {head + "    certificate: ../oem.xrm-ms\nsteps:\n  - boot: pc\n", "machines.pc.certificate"},
		"authority":   {head + "    authority: " + filepath.Join(root, "authority.pem") + "\nsteps:\n  - boot: pc\n", "machines.pc.authority"},
		"beside":      {"catalog: keys.yaml\n" + head + "steps:\n  - boot: pc\n", "machines.pc.key"},
	} {
		if name == "beside" {
			require.NoError(t, os.Symlink(filepath.Join(root, "oem.xrm-ms"), filepath.Join(dir, "oem-NWTEST.xrm-ms")))
		}
		path := filepath.Join(dir, "s.yaml")
		require.NoError(t, os.WriteFile(path, []byte(tc.body), 0o644))
		_, err := LoadWith(path, Options{Confine: dir})
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), tc.field+": ", name)
		assert.Contains(t, err.Error(), "outside "+dir, name)
		_, err = Load(path)
		assert.NoError(t, err, "%s: without confinement a reference may leave the folder", name)
	}
}
