package scenario

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oemact/oemact/oemact/licence"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func loadBody(t *testing.T, body string) (*Scenario, error) {
	t.Helper()
	prof := filepath.Join(fixturesDir(), "profiles", "tstoem-desktop.yaml")
	path := filepath.Join(t.TempDir(), "s.yaml")
	require.NoError(t, os.WriteFile(path, []byte(strings.ReplaceAll(body, "PROFILE", prof)), 0o644))
	sc, err := Load(path)
	if err != nil {
		return nil, &pathless{err, path}
	}
	return sc, nil
}

// pathless names the file s.yaml in errors, so that tests can compare them.
type pathless struct {
	err  error
	path string
}

func (e *pathless) Error() string { return strings.ReplaceAll(e.err.Error(), e.path, "s.yaml") }

const fleet = `name: s
machines:
  pc:
    profile: PROFILE
    edition: win7-enterprise
    key: mak/win7-enterprise
    ip: 192.0.2.10
    licence:
      refused_activation: after-grace
      oot_grace: 5d
      reminders: {every: 2h}
  pc2:
    profile: PROFILE
    edition: win7-enterprise
    key: mak/win7-enterprise
  pc3:
    profile: PROFILE
    edition: win7-starter
`

func TestFidelitySpellings(t *testing.T) {
	sc, err := loadBody(t, fleet+`steps:
  - activate: pc
    method: proxy
    with: [pc2]
    ip: 2001:DB8::1
  - activate: pc3
    ip: 198.51.100.7
  - change: pc3
    network: false
  - shutdown: pc
  - kms_host: down
  - advance: 29d4h
  - kms_host: up
  - kms_clients: {count: 1, edition: win7-enterprise}
  - boot: pc3
    expect: {surfaces: [], findings: [], status: OOBGrace}
`)
	require.NoError(t, err)
	pc, pc2, pc3 := sc.Machines[0], sc.Machines[1], sc.Machines[2]
	assert.Equal(t, "192.0.2.10", pc.IP)
	require.NotNil(t, pc.Licence)
	assert.Equal(t, licence.RefusalAfterGrace, pc.Licence.RefusedActivation)
	assert.Equal(t, 5*licence.Day, pc.Licence.OOTGrace)
	assert.Equal(t, 2*time.Hour, pc.Licence.Reminders.Every)
	assert.Equal(t, 30*licence.Day, pc.Licence.InitialGrace, "what the block does not name keeps its default")
	assert.Nil(t, pc2.Licence)
	assert.Nil(t, pc3.Key, "a machine may have no key")

	proxy := sc.Steps[0]
	assert.Equal(t, MethodProxy, proxy.Method)
	assert.Equal(t, []*Machine{pc2}, proxy.With)
	assert.Equal(t, "2001:db8::1", proxy.IP, "addresses in their usual form")
	assert.Equal(t, []*Machine{pc, pc2}, proxy.Booted())
	assert.Equal(t, "activate pc (proxy, with pc2)", proxy.Describe())
	assert.Equal(t, "198.51.100.7", sc.Steps[1].IP)
	ch := sc.Steps[2].Change
	require.NotNil(t, ch.Network)
	assert.False(t, *ch.Network)
	assert.False(t, ch.Hardware(), "the network alone is no hardware change")
	assert.Equal(t, "change pc3: network disconnected", sc.Steps[2].Describe())
	assert.Equal(t, "shut down pc", sc.Steps[3].Describe())
	assert.Nil(t, sc.Steps[3].Booted())
	assert.Equal(t, "KMS host down", sc.Steps[4].Describe())
	assert.Equal(t, 29*licence.Day+4*time.Hour, sc.Steps[5].Advance)
	assert.Equal(t, "advance 29d4h", sc.Steps[5].Describe())
	e := sc.Steps[8].Expect
	assert.NotNil(t, e.Surfaces, "surfaces: [] is a check")
	assert.Empty(t, e.Surfaces)
	assert.NotNil(t, e.Findings)
	assert.Empty(t, e.Findings)
}

func TestFidelityErrors(t *testing.T) {
	for _, tc := range []struct{ name, steps, want string }{
		{"with without proxy", "  - activate: pc\n    with: [pc2]\n", "s.yaml:21: steps.0.with: with gathers machines into a MAK proxy batch: it needs method: proxy"},
		{"with itself", "  - activate: pc\n    method: proxy\n    with: [pc]\n", "steps.0.with.0: pc is in the batch already"},
		{"with twice", "  - activate: pc\n    method: proxy\n    with: [pc2, pc2]\n", "steps.0.with.1: pc2 is in the batch already"},
		{"with unknown", "  - activate: pc\n    method: proxy\n    with: [pc9]\n", "steps.0.with.0: no machine \"pc9\""},
		{"with empty", "  - activate: pc\n    method: proxy\n    with: []\n", "steps.0.with: name the machines"},
		{"with on boot", "  - boot: pc\n    with: [pc2]\n", "steps.0.with: with does not apply to a boot step"},
		{"bad ip", "  - activate: pc\n    ip: 192.0.2.300\n", "steps.0.ip: \"192.0.2.300\" is not an IPv4 or IPv6 address"},
		{"ip on boot", "  - boot: pc\n    ip: 192.0.2.1\n", "steps.0.ip: ip does not apply to a boot step"},
		{"network on boot", "  - boot: pc\n    network: false\n", "steps.0.network: network does not apply to a boot step"},
		{"network not bool", "  - change: pc\n    network: off-ish\n", "steps.0.network: want true or false"},
		{"kms host word", "  - kms_host: sideways\n", "steps.0.kms_host: \"sideways\": want down or up"},
		{"kms host up twice", "  - kms_host: up\n", "steps.0.kms_host: the KMS host is up already"},
		{"kms host down twice", "  - kms_host: down\n  - kms_host: down\n", "steps.1.kms_host: the KMS host is down already (line 20)"},
		{"kms clients while down", "  - kms_host: down\n  - kms_clients: {count: 1, edition: win7-enterprise}\n", "steps.1.kms_clients: the KMS host is down (kms_host: down at line 20)"},
		{"shutdown unknown", "  - shutdown: laptop\n", "steps.0.shutdown: no machine \"laptop\""},
		{"expect on shutdown", "  - shutdown: pc\n    expect: {status: Licensed}\n", "a shutdown step has nothing to check"},
		{"empty no_findings", "  - boot: pc\n    expect: {no_findings: []}\n", "steps.0.expect.no_findings: an empty list checks nothing"},
		{"compound too long", "  - advance: 36500d1h\n", "steps.0.advance: \"36500d1h\": want a positive duration such as 10d, 1.5d, 29d4h, 4h or 90m (at most 36500 days)"},
		{"days out of range", "  - advance: 1000000d\n", "at most 36500 days"},
		{"empty findings on check", "  - check: true\n    expect: {findings: []}\n", "a check step checks the service only"},
	} {
		_, err := loadBody(t, fleet+"steps:\n"+tc.steps)
		if assert.Error(t, err, tc.name) {
			assert.Contains(t, err.Error(), tc.want, tc.name)
		}
	}
	for _, tc := range []struct{ name, machine, want string }{
		{"machine ip", "    ip: somewhere\n", "s.yaml:22: machines.pc4.ip: \"somewhere\" is not an IPv4 or IPv6 address"},
		{"licence unknown field", "    licence: {grace: 3d}\n", "s.yaml:22: machines.pc4.licence.grace: unknown field \"grace\""},
		{"licence bad duration", "    licence: {oot_grace: soon}\n", "machines.pc4.licence.oot_grace: duration \"soon\""},
		{"licence bad policy", "    licence:\n      refused_activation: never\n", "s.yaml:23: machines.pc4.licence.refused_activation: must be notify or after-grace, got \"never\""},
		{"licence nested", "    licence:\n      reminders: {every: 0s}\n", "machines.pc4.licence.reminders.every: must be positive"},
		{"licence kms retry", "    licence: {kms_retry: 1m}\n", "machines.pc4.licence.kms_retry: must be at least 15 minutes"},
		{"licence as list", "    licence: [notify]\n", "machines.pc4.licence: want a mapping"},
	} {
		body := fleet + "  pc4:\n    profile: PROFILE\n    edition: win7-ultimate\n" + tc.machine + "steps:\n  - boot: pc4\n"
		_, err := loadBody(t, body)
		if assert.Error(t, err, tc.name) {
			assert.Contains(t, err.Error(), tc.want, tc.name)
		}
	}
}

func TestFormatDurationCompound(t *testing.T) {
	for d, want := range map[time.Duration]string{
		10 * licence.Day:                            "10d",
		29*licence.Day + 4*time.Hour:                "29d4h",
		licence.Day + 12*time.Hour + 30*time.Minute: "1d12h30m",
		4 * time.Hour:                               "4h",
		90 * time.Minute:                            "90m",
		2*time.Hour + 30*time.Minute:                "2h30m",
		36 * time.Hour:                              "1d12h",
		1500 * time.Millisecond:                     "1.5s",
		licence.Day + time.Minute:                   "1d1m",
	} {
		assert.Equal(t, want, FormatDuration(d), d.String())
		back, err := licence.ParseDuration(FormatDuration(d))
		require.NoError(t, err)
		assert.Equal(t, d, back)
	}
}

// Every kind has its short word for the HTML matrix, and no two share one.
func TestEveryKindHasATag(t *testing.T) {
	seen := map[string]Kind{}
	for _, k := range Kinds() {
		assert.NotEmpty(t, k.Tag, k.Kind)
		if prev, dup := seen[k.Tag]; dup {
			t.Errorf("%s and %s share the tag %q", prev, k.Kind, k.Tag)
		}
		seen[k.Tag] = k.Kind
	}
}

// FuzzParse: no scenario document makes the parser panic; what it accepts has steps and
// machines, and an error names the file.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(fixturesDir(), "scenarios", "*.yaml"))
	require.NoError(f, err)
	for _, p := range files {
		b, err := os.ReadFile(p)
		require.NoError(f, err)
		f.Add(b)
	}
	name := filepath.Join(fixturesDir(), "scenarios", "fuzz.yaml") // profiles resolve beside the fixtures
	f.Fuzz(func(t *testing.T, b []byte) {
		sc, err := Parse(b, name)
		if err != nil {
			assert.Contains(t, err.Error(), "fuzz.yaml")
			return
		}
		assert.NotEmpty(t, sc.Steps)
		assert.NotEmpty(t, sc.Machines)
		for _, m := range sc.Machines {
			if m.Licence != nil {
				assert.NoError(t, m.Licence.Validate())
			}
		}
	})
}
