package runner_test

import (
	"context"
	"crypto/rsa"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/engine/inproc"
	"github.com/oemact/oemact/harness/internal/harnesstest"
	"github.com/oemact/oemact/harness/runner"
	"github.com/oemact/oemact/harness/scenario"
	"github.com/oemact/oemact/oemact/cert"
)

// newOEM lays out what a new OEM makes with keygen and cert issue, in dir: a TEST authority
// (authority.pem), the OEM's key (oem.pem), its certificate for OEMID/TABLEID (oem.xrm-ms), and a
// profile of its board (board.yaml).
func newOEM(t *testing.T, dir, oemID, tableID string) {
	t.Helper()
	authKey, err := cert.GenerateKey(cert.RoleAuthority, 0)
	require.NoError(t, err)
	oemKey, err := cert.GenerateKey(cert.RoleOEM, 0)
	require.NoError(t, err)
	writeKey(t, filepath.Join(dir, "authority.pem"), authKey, cert.RoleAuthority)
	writeKey(t, filepath.Join(dir, "oem.pem"), oemKey, cert.RoleOEM)
	auth, err := cert.NewAuthority(authKey)
	require.NoError(t, err)
	doc, err := auth.Issue(&oemKey.PublicKey, []cert.OEMIDs{{OEMID: oemID, OEMTableID: tableID}})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "oem.xrm-ms"), doc, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "board.yaml"), []byte("name: "+strings.ToLower(oemID)+"-board\n"+
		"acpi: {oem_id: "+oemID+", oem_table_id: "+tableID+"}\nmarkers:\n  slic: {key: oem.pem, release: win7}\n"+
		"vm: {memory_mb: 256, cpus: 1, nics: [{mac: \"52:54:00:4e:57:01\"}], disks: [{serial: NWDISK01}]}\n"), 0o644))
}

// writeKey writes a key as oemact keygen does.
func writeKey(t *testing.T, path string, key *rsa.PrivateKey, role cert.Role) {
	t.Helper()
	b, err := cert.EncodePrivateKeyPEM(key, role, "")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b, 0o600))
}

// runInProcess loads a scenario file and runs it on the in-process engine.
func runInProcess(t *testing.T, path string, o scenario.Options) *runner.Run {
	t.Helper()
	sc, err := scenario.LoadWith(path, o)
	require.NoError(t, err)
	r, err := runner.Execute(context.Background(), []*scenario.Scenario{sc}, runner.Options{Engine: inproc.Engine{}, Artifacts: t.TempDir()})
	require.NoError(t, err)
	return r
}

// requireAllHeld fails the test with every check that did not hold.
func requireAllHeld(t *testing.T, r *runner.Run) {
	t.Helper()
	for _, sc := range r.Scenarios {
		require.Empty(t, sc.Error)
		for _, st := range sc.Steps {
			assert.Equal(t, runner.Passed, st.Outcome, "step %d (%s): %s %s", st.Index+1, st.Description, st.Error, st.OA)
			for _, c := range st.Checks {
				assert.True(t, c.OK, "step %d (%s) %s: want %s, got %s", st.Index+1, st.Description, c.Name, c.Want, c.Got)
			}
		}
	}
	assert.Equal(t, 0, r.ExitCode())
}

const newOEMScenario = `name: new-oem
machines:
  pc:                                  # the new OEM's image on its own board
    profile: board.yaml
    edition: win7-professional
    key: oem-slp/NWTEST/win7-professional
    certificate: oem.xrm-ms
    authority: authority.pem
  elsewhere:                           # the same image on another OEM's board
    profile: TSTOEM_BOARD
    edition: win7-professional
    key: oem-slp/NWTEST/win7-professional
    certificate: oem.xrm-ms
    authority: authority.pem
  reference:                           # the built-in OEM's certificate with the new OEM's key
    profile: board.yaml
    edition: win7-professional
    key: oem-slp/NWTEST/win7-professional
    certificate: built-in:TSTOEM
  bare:                                # the new OEM's key, and no certificate of that OEM anywhere
    profile: board.yaml
    edition: win7-professional
    key: oem-slp/NWTEST/win7-professional
    authority: authority.pem
  tstimage:                            # the built-in OEM's whole image on the new OEM's board
    profile: board.yaml
    edition: win7-professional
    key: oem-slp/TSTOEM/win7-professional
steps:
  - boot: pc
    expect: {status: Licensed, oa: valid}
  - change: pc
    board: TSTOEM_BOARD
  - boot: pc
    expect: {oa: invalid, oa_rules_failed: [2, 5]}
  - boot: elsewhere
    expect: {status: OOBGrace, oa: invalid, oa_rules_failed: [2, 5]}
  - boot: reference
    expect: {status: OOBGrace, oa: invalid, oa_rules_failed: [2], findings: [oa-cert-key-mismatch]}
  - boot: bare
    expect: {status: OOBGrace, oa: invalid, oa_rules_failed: [2], findings: [oa-no-certificate]}
  - boot: tstimage
    expect: {status: OOBGrace, oa: invalid, oa_rules_failed: [2, 5]}
`

// A new OEM's image carries its certificate (certificate:, authority:) and activates on its
// board; moved to another OEM's board it fails rules 2 and 5; the built-in OEM's certificate with
// the new OEM's key, or no certificate, fails rule 2 alone; the built-in OEM's image (its key,
// hence its built-in certificate) fails rules 2 and 5 on the new board: the firmware's OEM's
// certificate is never taken.
func TestNewOEMImageCarriesItsCertificate(t *testing.T) {
	dir := t.TempDir()
	newOEM(t, dir, "NWTEST", "NWBOARD")
	tst := filepath.Join(harnesstest.RepoRoot(), "fixtures", "profiles", "tstoem-desktop.yaml")
	path := filepath.Join(dir, "s.yaml")
	require.NoError(t, os.WriteFile(path, []byte(strings.ReplaceAll(newOEMScenario, "TSTOEM_BOARD", tst)), 0o644))
	r := runInProcess(t, path, scenario.Options{})
	requireAllHeld(t, r)
}

const besideCatalog = `name: beside-catalog
catalog: keys/more.yaml
machines:
  pc: {profile: board.yaml, edition: win7-professional, key: oem-slp/NWTEST/win7-professional, authority: authority.pem}
  tst: {profile: TSTOEM_BOARD, edition: win7-professional, key: oem-slp/TSTOEM/win7-professional}
  other: {profile: board.yaml, edition: win7-professional, key: oem-slp/TSTOEM/win7-professional, authority: authority.pem}
steps:
  - boot: pc
    expect: {status: Licensed, oa: valid}
  - boot: tst
    expect: {status: Licensed, oa: valid}
  - boot: other
    expect: {oa: invalid, oa_rules_failed: [2, 5]}
`

// Without certificate:, an OEM:SLP key brings its OEM's certificate from beside the catalog
// (oem-OEMID.xrm-ms in the catalog file's folder), the scenario's catalog: or --catalog; an OEM
// with no certificate there keeps its built-in one; the board's OEM's certificate, known beside
// the catalog, is never taken for another OEM's key.
func TestCertificateBesideTheCatalog(t *testing.T) {
	dir := t.TempDir()
	newOEM(t, dir, "NWTEST", "NWBOARD")
	keys := filepath.Join(dir, "keys")
	require.NoError(t, os.Mkdir(keys, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(keys, "more.yaml"), []byte("keys: []\n"), 0o644))
	require.NoError(t, os.Rename(filepath.Join(dir, "oem.xrm-ms"), filepath.Join(keys, "oem-NWTEST.xrm-ms")))
	tst := filepath.Join(harnesstest.RepoRoot(), "fixtures", "profiles", "tstoem-desktop.yaml")
	body := strings.ReplaceAll(besideCatalog, "TSTOEM_BOARD", tst)
	path := filepath.Join(dir, "s.yaml")
	require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
	requireAllHeld(t, runInProcess(t, path, scenario.Options{}))

	// The same from --catalog, with the scenario naming none.
	path2 := filepath.Join(dir, "s2.yaml")
	require.NoError(t, os.WriteFile(path2, []byte(strings.Replace(body, "catalog: keys/more.yaml\n", "", 1)), 0o644))
	requireAllHeld(t, runInProcess(t, path2, scenario.Options{Catalogs: []string{filepath.Join(keys, "more.yaml")}}))

	// Without the certificate beside the catalog, the new OEM's image has none: rule 2 fails.
	require.NoError(t, os.Remove(filepath.Join(keys, "oem-NWTEST.xrm-ms")))
	sc, err := scenario.Load(path)
	require.NoError(t, err)
	r, err := runner.Execute(context.Background(), []*scenario.Scenario{sc}, runner.Options{Engine: inproc.Engine{}, Artifacts: t.TempDir()})
	require.NoError(t, err)
	st := r.Scenarios[0].Steps[0]
	assert.Equal(t, runner.Failed, st.Outcome)
	assert.Contains(t, st.OA, "rule 2 (OEM certificate matches the marker): no OEM certificate is installed")
	assert.NotContains(t, st.OA, "rule 5")
}
