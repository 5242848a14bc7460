package scenario

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
)

// secret is what a file a scenario must not show looks like (a shadow line).
const secret = "root:$6$saltSALT$hashHASHhash:19000:0:99999:7:::\nsvc:$6$more$secrets:19000:0:99999:7:::\n"

// untrusted lays out a scenario folder as a pull request would, with a secret file beside it and
// a copy of a fixture profile (its key and files alongside).
func untrusted(t *testing.T) (dir, secretPath, prof string) {
	t.Helper()
	root := t.TempDir()
	dir = filepath.Join(root, "pr")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "keys"), 0o755))
	secretPath = filepath.Join(root, "shadow")
	require.NoError(t, os.WriteFile(secretPath, []byte(secret), 0o600))
	key, err := os.ReadFile(filepath.Join(fixturesDir(), "keys", "oem-TSTOEM.pem"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "keys", "oem.pem"), key, 0o600))
	prof = filepath.Join(dir, "p.yaml")
	require.NoError(t, os.WriteFile(prof, []byte("name: p\nacpi: {oem_id: TSTOEM, oem_table_id: TSTBOARD}\nmarkers:\n  slic:\n    key: keys/oem.pem\n"), 0o644))
	return dir, secretPath, prof
}

func scenarioWith(machineProfile, extra string) string {
	return "name: s\nmachines:\n  pc:\n    profile: " + machineProfile + "\n    edition: win7-ultimate\n" + extra +
		"steps:\n  - boot: pc\n"
}

// A referenced file that is not YAML of the expected shape: the error names the file, line and
// field, and never quotes a word of the file beyond what looks like a field name.
func TestReferencedFileContentNeverQuoted(t *testing.T) {
	dir, secretPath, prof := untrusted(t)
	rel, err := filepath.Rel(dir, secretPath)
	require.NoError(t, err)
	keyFile := filepath.Join(dir, "keyfile.yaml")
	require.NoError(t, os.WriteFile(keyFile, []byte("name: p\nroot$6$saltSALT: x\n"), 0o644))
	for name, body := range map[string]string{
		"profile":              scenarioWith(rel, ""),
		"absolute profile":     scenarioWith(secretPath, ""),
		"board":                strings.Replace(scenarioWith(prof, ""), "steps:\n", "steps:\n  - change: pc\n    board: "+rel+"\n", 1),
		"catalog":              "catalog: " + rel + "\n" + scenarioWith(prof, ""),
		"unknown field named":  scenarioWith("keyfile.yaml", ""),
		"secret as a sequence": scenarioWith("seq.yaml", ""),
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "seq.yaml"), []byte("- "+strings.SplitN(secret, "\n", 2)[0]+"\n"), 0o644))
		path := filepath.Join(dir, "s.yaml")
		require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
		_, err := Load(path)
		require.Error(t, err, name)
		msg := err.Error()
		for _, leak := range []string{"saltSALT", "hashHASH", "root:", "secrets", "$6$"} {
			assert.NotContains(t, msg, leak, "%s: %s", name, msg)
		}
		assert.Contains(t, msg, "s.yaml:", name)
	}
}

// With confinement, profile:, board: and catalog: (and the files a profile names) stay inside
// the folder tree given, symbolic links resolved.
func TestConfine(t *testing.T) {
	dir, secretPath, prof := untrusted(t)
	outside := filepath.Join(filepath.Dir(dir), "outside.yaml")
	b, err := os.ReadFile(prof)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(outside, []byte(strings.Replace(string(b), "keys/oem.pem", "pr/keys/oem.pem", 1)), 0o644))
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "link.yaml")))
	require.NoError(t, os.Symlink(secretPath, filepath.Join(dir, "keys", "link.pem")))
	leaky := filepath.Join(dir, "leaky.yaml")
	require.NoError(t, os.WriteFile(leaky, []byte(strings.Replace(string(b), "keys/oem.pem", "keys/link.pem", 1)), 0o644))

	ok := scenarioWith("p.yaml", "")
	for name, tc := range map[string]struct{ body, field string }{
		"parent path":       {scenarioWith("../outside.yaml", ""), "machines.pc.profile"},
		"absolute path":     {scenarioWith(outside, ""), "machines.pc.profile"},
		"symlink":           {scenarioWith("link.yaml", ""), "machines.pc.profile"},
		"board":             {strings.Replace(ok, "steps:\n", "steps:\n  - change: pc\n    board: ../outside.yaml\n", 1), "steps.0.board"},
		"catalog":           {"catalog: " + secretPath + "\n" + ok, "catalog"},
		"profile's own key": {scenarioWith("leaky.yaml", ""), "machines.pc.profile"},
	} {
		path := filepath.Join(dir, "s.yaml")
		require.NoError(t, os.WriteFile(path, []byte(tc.body), 0o644))
		_, err := LoadWith(path, Options{Confine: dir})
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), tc.field+": ", name)
		assert.Contains(t, err.Error(), "outside "+dir, name)
		assert.NotContains(t, err.Error(), "saltSALT", name)
	}
	path := filepath.Join(dir, "s.yaml")
	require.NoError(t, os.WriteFile(path, []byte(ok), 0o644))
	_, err = LoadWith(path, Options{Confine: dir})
	require.NoError(t, err, "a scenario that stays inside loads")
	require.NoError(t, os.WriteFile(path, []byte(scenarioWith("../outside.yaml", "")), 0o644))
	_, err = Load(path)
	require.NoError(t, err, "without confinement a reference may leave the folder")
}

// The scenario clock stays where the service can answer: from 2000 to the end of 9999 less the
// KMS validity; beyond, the start or the advance that crosses is an error at its line.
func TestScenarioClockRange(t *testing.T) {
	prof := filepath.Join(fixturesDir(), "profiles", "tstoem-desktop.yaml")
	head := "name: s\nmachines:\n  pc:\n    profile: " + prof + "\n    edition: win7-ultimate\n"
	for name, tc := range map[string]struct{ body, want string }{
		"late start":  {"start: 9999-12-01T00:00:00Z\n" + head + "steps:\n  - boot: pc\n", "s.yaml:1: start: 9999-12-01T00:00:00Z is outside the supported range"},
		"early start": {"start: 2000-01-01T01:00:00+03:00\n" + head + "steps:\n  - boot: pc\n", "s.yaml:1: start: 1999-12-31T22:00:00Z is outside the supported range"},
		"advance past the range": {"start: 9990-01-01T00:00:00Z\n" + head + "steps:\n  - boot: pc\n  - advance: 3000d\n  - advance: 3000d\n  - boot: pc\n",
			"s.yaml:10: steps.2.advance: the scenario clock would read 10006-06-"},
	} {
		path := filepath.Join(t.TempDir(), "s.yaml")
		require.NoError(t, os.WriteFile(path, []byte(tc.body), 0o644))
		_, err := Load(path)
		require.Error(t, err, name)
		assert.Contains(t, strings.ReplaceAll(err.Error(), path, "s.yaml"), tc.want, name)
	}
}

// With confinement, an OS image stays inside the folder tree, and so do the files it makes QEMU
// open: a qcow2 whose backing file is the secret beside the folder would let the guest read it.
func TestConfineOSImage(t *testing.T) {
	tool := hosttooltest.Require(t, "qemu-img")
	dir, secretPath, _ := untrusted(t)
	img := func(args ...string) {
		t.Helper()
		cmd := exec.Command(tool, append([]string{"create", "-q"}, args...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
	}
	img("-f", "qcow2", "inside.qcow2", "4M")
	img("-f", "qcow2", "-u", "-b", secretPath, "-F", "raw", "leaky.qcow2", "4M")
	require.NoError(t, os.Symlink(secretPath, filepath.Join(dir, "linked.img")))
	profile := func(image string) string {
		p := filepath.Join(dir, "img-"+strings.ReplaceAll(image, ".", "-")+".yaml")
		require.NoError(t, os.WriteFile(p, []byte("name: p\nacpi: {oem_id: TSTOEM, oem_table_id: TSTBOARD}\nvm:\n  boot: disk\n  disks: [{file: "+image+"}]\n"), 0o644))
		return filepath.Base(p)
	}
	probe := func(prof string) string {
		return "name: s\nmachines:\n  pc:\n    profile: " + prof + "\nsteps:\n  - probe: pc\n"
	}
	path := filepath.Join(dir, "s.yaml")
	for name, tc := range map[string]struct{ image, want string }{
		"backing file outside": {"leaky.qcow2", "vm.disks.0.file: the image leaky.qcow2 reads " + secretPath + ", outside " + dir},
		"image linked outside": {"linked.img", "vm.disks.0.file names linked.img, outside " + dir},
	} {
		require.NoError(t, os.WriteFile(path, []byte(probe(profile(tc.image))), 0o644))
		_, err := LoadWith(path, Options{Confine: dir})
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "s.yaml:4: machines.pc.profile: ", name)
		assert.Contains(t, err.Error(), tc.want, name)
		assert.NotContains(t, err.Error(), "saltSALT", name)
		_, err = Load(path)
		assert.NoError(t, err, "%s: without confinement an image may reach anywhere", name)
	}
	require.NoError(t, os.WriteFile(path, []byte(probe(profile("inside.qcow2"))), 0o644))
	sc, err := LoadWith(path, Options{Confine: dir})
	require.NoError(t, err)
	assert.True(t, sc.BootsImage())
}
