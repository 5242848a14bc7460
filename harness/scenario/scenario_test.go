package scenario

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/oemact/oemact/firmware/productkey"
	"github.com/oemact/oemact/oemact/licence"
	"github.com/oemact/oemact/smbios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fixturesDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "fixtures")
}

// The default matrix: every file parses, and together they cover what the harness must show.
func TestDefaultMatrixParses(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(fixturesDir(), "scenarios", "*.yaml"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 12)
	names := map[string]bool{}
	kinds := map[Kind]int{}
	for _, f := range files {
		sc, err := Load(f)
		require.NoError(t, err, f)
		assert.False(t, names[sc.Name], "duplicate scenario name %s", sc.Name)
		names[sc.Name] = true
		for _, s := range sc.Steps {
			kinds[s.Kind]++
		}
	}
	for _, k := range []Kind{Boot, Activate, Rearm, Change, Advance, AddKMS} {
		assert.NotZero(t, kinds[k], "no %s step in the matrix", k)
	}
}

func TestParseStepsAndExpectations(t *testing.T) {
	sc, err := Load(filepath.Join(fixturesDir(), "scenarios", "06-retail-hardware-reactivation.yaml"))
	require.NoError(t, err)
	require.Len(t, sc.Machines, 1)
	assert.Equal(t, "retail/win7-ultimate", sc.Machines[0].Key.Label)
	assert.Equal(t, DefaultStart, sc.Start)
	s := sc.Steps[3]
	assert.Equal(t, Change, s.Kind)
	assert.Equal(t, "NIC 52:54:00:4f:45:02, disk TSTDISK0999, 2 CPUs", s.Change.Describe())
	b := sc.Steps[4]
	require.NotNil(t, b.Expect.Status)
	assert.Equal(t, licence.OOTGrace, *b.Expect.Status)
	assert.Equal(t, 5, *b.Expect.Hardware.LostVotes)
	assert.Equal(t, "telephone", sc.Steps[6].Method)
	assert.Equal(t, "activate pc (telephone)", sc.Steps[6].Describe())
	assert.Equal(t, "advance 10d", sc.Steps[2].Describe())
}

func TestErrorsNameFileLineAndField(t *testing.T) {
	prof := filepath.Join(fixturesDir(), "profiles", "tstoem-desktop.yaml")
	head := "name: s\nmachines:\n  pc:\n    profile: " + prof + "\n    edition: win7-ultimate\n    key: retail/win7-ultimate\n"
	for _, tc := range []struct{ name, body, want string }{
		{"empty", "", "s.yaml: empty document"},
		{"unknown field", head + "steps:\n  - boot: pc\n    colour: red\n", "s.yaml:9: steps.0.colour: unknown field (fields here: activate, add_nic,"},
		{"expect typo", head + "steps:\n  - boot: pc\n    expect: {statu: Licensed}\n", "s.yaml:9: steps.0.expect.statu: unknown field; did you mean status?"},
		{"expect type", head + "steps:\n  - boot: pc\n    expect:\n      grace_days: many\n", `s.yaml:10: steps.0.expect.grace_days: want a whole number, got "many"`},
		{"steps as mapping", head + "steps:\n  boot: pc\n", "s.yaml:8: steps: want a list, got a mapping"},
		{"machines as list", "name: s\nmachines: [pc]\nsteps:\n  - boot: pc\n", "s.yaml:2: machines: want a mapping (key: value), got a list"},
		{"machine tpm", strings.Replace(head, "    key: retail/win7-ultimate\n", "    key: retail/win7-ultimate\n    tpm: maybe\n", 1) + "steps:\n  - boot: pc\n", `s.yaml:7: machines.pc.tpm: want true or false, got "maybe"`},
		{"mak used count", head + "service:\n  mak_used: {mak/win7-enterprise: lots}\nsteps:\n  - boot: pc\n", `s.yaml:8: service.mak_used.mak/win7-enterprise: want a whole number, got "lots"`},
		{"rules as text", head + "steps:\n  - boot: pc\n    expect: {oa_rules_failed: two}\n", `s.yaml:9: steps.0.expect.oa_rules_failed: want a list, got "two"`},
		{"changed as text", head + "steps:\n  - boot: pc\n    expect:\n      hardware: {changed: [[nic]]}\n", "s.yaml:10: steps.0.expect.hardware.changed.0: want text, got a list"},
		{"no name", "machines: {}\n", "s.yaml:1: name: a scenario needs a name"},
		{"no machines", "name: s\nsteps:\n  - advance: 1d\n", "machines: a scenario needs at least one machine"},
		{"bad profile", strings.Replace(head, prof, "nope.yaml", 1) + "steps:\n  - boot: pc\n", "s.yaml:4: machines.pc.profile:"},
		{"bad edition", strings.Replace(head, "edition: win7-ultimate", "edition: win9", 1) + "steps:\n  - boot: pc\n", "s.yaml:5: machines.pc.edition: unknown edition"},
		{"key for other edition", strings.Replace(head, "retail/win7-ultimate", "retail/win7-homepremium", 1) + "steps:\n  - boot: pc\n", "s.yaml:6: machines.pc.key: key retail/win7-homepremium is for win7-homepremium"},
		{"unknown label", strings.Replace(head, "retail/win7-ultimate", "retail/nope", 1) + "steps:\n  - boot: pc\n", "s.yaml:6: machines.pc.key: key label \"retail/nope\" is not in the key catalog (built-in keys/catalog.yaml) and does not read as a label: unknown edition \"nope\""},
		{"key for a label", strings.Replace(head, "retail/win7-ultimate", "MRMHK-4HF24-7XCT7-TC7CJ-JPPKC", 1) + "steps:\n  - boot: pc\n", "s.yaml:6: machines.pc.key: key label XXXXX-XXXXX-XXXXX-XXXXX-JPPKC is not in the key catalog"},
		{"unlisted mak", head + "service:\n  mak_used: {mak/win8-pro: 1}\nsteps:\n  - boot: pc\n", "service.mak_used.mak/win8-pro: key label \"mak/win8-pro\" is not in the key catalog (built-in keys/catalog.yaml): a MAK's pool size is not in its label"},
		{"bad machine name", strings.Replace(head, "  pc:", "  PC!:", 1) + "steps:\n  - boot: PC!\n", "machine name \"PC!\""},
		{"no steps", head, "steps: a scenario needs at least one step"},
		{"two kinds", head + "steps:\n  - boot: pc\n    rearm: pc\n", "s.yaml:8: steps.0: a step does one thing; this one says boot and rearm"},
		{"no kind", head + "steps:\n  - expect: {status: Licensed}\n", "s.yaml:8: steps.0: a step needs one of"},
		{"unknown machine", head + "steps:\n  - boot: laptop\n", "s.yaml:8: steps.0.boot: no machine \"laptop\" (machines: pc)"},
		{"misplaced field", head + "steps:\n  - boot: pc\n    nic: 52:54:00:00:00:01\n", "s.yaml:9: steps.0.nic: nic does not apply to a boot step"},
		{"bad duration", head + "steps:\n  - advance: soon\n", "s.yaml:8: steps.0.advance: \"soon\": want a positive duration"},
		{"bad method", head + "steps:\n  - activate: pc\n    method: fax\n", "steps.0.method: \"fax\": want online, telephone or proxy"},
		{"bad mac", head + "steps:\n  - change: pc\n    nic: 01:00:00:00:00:01\n", "steps.0.nic: \"01:00:00:00:00:01\" is not a unicast MAC"},
		{"bad smbios field", head + "steps:\n  - change: pc\n    smbios: {system.colour: red}\n", "steps.0.smbios.system.colour: not a field"},
		{"empty change", head + "steps:\n  - change: pc\n", "a change step changes nothing"},
		{"expect on advance", head + "steps:\n  - advance: 1d\n    expect: {status: Licensed}\n", "steps.0.expect: a advance step has nothing to check"},
		{"bad status", head + "steps:\n  - boot: pc\n    expect: {status: Activated}\n", "s.yaml:9: steps.0.expect.status:"},
		{"bad activation", head + "steps:\n  - boot: pc\n    expect: {activation: maybe}\n", "\"maybe\": want success, failure or blocked"},
		{"bad surface", head + "steps:\n  - boot: pc\n    expect: {surfaces: [popup]}\n", "\"popup\" is not a notification surface"},
		{"check with status", head + "steps:\n  - check: true\n    expect: {status: Licensed}\n", "a check step checks the service only"},
		{"check without expect", head + "steps:\n  - check: true\n", "a check step needs expect"},
		{"mak label not mak", head + "service:\n  mak_used: {retail/win7-ultimate: 1}\nsteps:\n  - boot: pc\n", "service.mak_used.retail/win7-ultimate: retail/win7-ultimate is a Retail key, not a MAK"},
		{"mak over limit", head + "service:\n  mak_used: {mak/win7-enterprise: 6}\nsteps:\n  - boot: pc\n", "6: the pool holds 5 activations"},
		{"kms non-volume", head + "service:\n  kms_clients: [{count: 3, edition: win7-ultimate}]\nsteps:\n  - boot: pc\n", "win7-ultimate has no KMS clients"},
		{"oa rule", head + "steps:\n  - boot: pc\n    expect: {oa_rules_failed: [6]}\n", "rule 6: OA rules are numbered 1 to 5"},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, "s.yaml")
		require.NoError(t, os.WriteFile(path, []byte(tc.body), 0o644))
		_, err := Load(path)
		require.Error(t, err, tc.name)
		assert.Contains(t, strings.ReplaceAll(err.Error(), path, "s.yaml"), tc.want, tc.name)
		assert.NotRegexp(t, `!!|\bin type\b|scenario\.|\bint\b|\bstruct\b|\*bool`, err.Error(), tc.name)
	}
}

// A change step may set every SMBIOS identity field a profile has, by the registry's keys.
func TestChangeSetsEveryIdentityField(t *testing.T) {
	prof := filepath.Join(fixturesDir(), "profiles", "tstoem-desktop.yaml")
	body := "name: s\nmachines:\n  pc:\n    profile: " + prof + "\n    edition: win7-ultimate\n    key: retail/win7-ultimate\nsteps:\n  - change: pc\n    smbios:\n"
	fields := smbios.IdentityFields()
	for _, f := range fields {
		body += "      " + f.Key + ": \"1\"\n"
	}
	path := filepath.Join(t.TempDir(), "s.yaml")
	require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
	sc, err := Load(path)
	require.NoError(t, err)
	assert.Len(t, sc.Steps[0].Change.SMBIOS, len(fields))
}

// A scenario's catalog adds to the built-in one, and so do the catalogs given to Load; a label of
// the grammar that no catalog lists is a key of the scenario's catalog, which the service and the
// guests get.
func TestCatalogsExtendAndLabelsDerive(t *testing.T) {
	dir := t.TempDir()
	prof := filepath.Join(fixturesDir(), "profiles", "tstoem-desktop.yaml")
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	entry := func(label, channel, ed, more string) string {
		return "  - label: " + label + "\n    key: " + productkey.Derive(label).Reveal() + "\n    channel: " + channel + "\n    edition: " + ed + "\n" + more
	}
	write("mine.yaml", "keys:\n"+entry("mak/win8-pro", "Volume:MAK", "win8-pro", "    mak_limit: 4\n"))
	flag := write("flag.yaml", "keys:\n"+entry("gvlk/win8-pro", "Volume:GVLK", "win8-pro", ""))
	sc := write("s.yaml", "name: s\ncatalog: mine.yaml\nmachines:\n  acme:\n    profile: "+prof+
		"\n    edition: win7-professional\n    key: oem-slp/ACMEPC/win7-professional\n"+
		"  pc:\n    profile: "+prof+"\n    edition: win7-ultimate\n    key: retail/win7-ultimate\n"+
		"service:\n  mak_used: {mak/win8-pro: 2}\nsteps:\n  - boot: acme\n  - install_key: pc\n    key: oem-slp/ACMEPC/win7-ultimate\n")
	s, err := Load(sc, flag)
	require.NoError(t, err)
	assert.Contains(t, s.Catalog.Sources(), "built-in keys/catalog.yaml + "+flag+" + "+filepath.Join(dir, "mine.yaml"))
	acme := s.Machines[0].Key
	assert.Equal(t, "ACMEPC", acme.OEMID)
	got, err := s.Catalog.Lookup(acme.Key)
	require.NoError(t, err, "the derived key is in the scenario's catalog")
	assert.Same(t, acme, got)
	_, err = s.Catalog.Lookup(productkey.Derive("oem-slp/ACMEPC/win7-ultimate"))
	assert.NoError(t, err)
	_, err = s.Catalog.Label("gvlk/win8-pro")
	assert.NoError(t, err)
	assert.Equal(t, 2, s.Service.MAKUsed["mak/win8-pro"])

	// The same label in the scenario's catalog and the built-in one: an error naming both places.
	write("dup.yaml", "keys:\n"+entry("retail/win7-ultimate", "Retail", "win7-ultimate", ""))
	dup := write("d.yaml", "name: d\ncatalog: dup.yaml\nmachines:\n  pc:\n    profile: "+prof+"\n    edition: win7-ultimate\nsteps:\n  - boot: pc\n")
	_, err = Load(dup)
	require.Error(t, err)
	assert.Contains(t, err.Error(), dup+`:2: catalog: label "retail/win7-ultimate" is defined twice: at built-in keys/catalog.yaml:18 and at `+filepath.Join(dir, "dup.yaml")+":2")
	_, err = Load(dup, filepath.Join(dir, "dup.yaml"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), dup+`: label "retail/win7-ultimate" is defined twice`)
}
