package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	walkthroughTitle  = "## A new platform from nothing"
	walkthroughScript = "testdata/script/walkthrough.txtar"
)

// walkthrough is what the README's walkthrough holds: its oemact command lines, in order, and its
// files (a yaml block whose first line is "# NAME: ...").
type walkthrough struct {
	commands []string
	files    map[string]string
}

// readWalkthrough reads the walkthrough section of the README.
func readWalkthrough(t *testing.T) walkthrough {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	text := string(b)
	start := strings.Index(text, "\n"+walkthroughTitle+"\n")
	require.GreaterOrEqual(t, start, 0, "the README has no %q section", walkthroughTitle)
	text = text[start+1:]
	if end := strings.Index(text[len(walkthroughTitle):], "\n## "); end >= 0 {
		text = text[:len(walkthroughTitle)+end]
	}
	w := walkthrough{files: map[string]string{}}
	fileName := regexp.MustCompile(`^# ([A-Za-z0-9._-]+\.yaml):`)
	blocks := strings.Split(text, "```")
	for i := 1; i < len(blocks); i += 2 {
		lang, body, _ := strings.Cut(blocks[i], "\n")
		switch lang {
		case "sh":
			for _, line := range strings.Split(body, "\n") {
				if j := strings.Index(line, " #"); j >= 0 {
					line = line[:j]
				}
				line = strings.TrimSpace(line)
				if line == "" || strings.HasPrefix(line, "#") {
					continue
				}
				require.True(t, strings.HasPrefix(line, "oemact "), "a README walkthrough command that is not oemact's: %s", line)
				w.commands = append(w.commands, line)
			}
		case "yaml":
			m := fileName.FindStringSubmatch(body)
			require.NotNil(t, m, "a README walkthrough yaml block must start with '# NAME.yaml: ...':\n%s", body)
			w.files[m[1]] = body
		}
	}
	return w
}

// The walkthrough script runs the README's walkthrough as written: the same oemact commands in the
// same order (each an exec line, a check after it), and the same files, byte for byte.
func TestWalkthroughIsTheREADME(t *testing.T) {
	w := readWalkthrough(t)
	require.NotEmpty(t, w.commands)
	ar, err := txtar.ParseFile(walkthroughScript)
	require.NoError(t, err)
	var script []string
	exec := regexp.MustCompile(`^(?:! )?exec (oemact .*)$`)
	for _, line := range strings.Split(string(ar.Comment), "\n") {
		if m := exec.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			script = append(script, m[1])
		}
	}
	assert.Equal(t, w.commands, script, "the oemact commands of the README's walkthrough and of %s", walkthroughScript)
	got := map[string]string{}
	for _, f := range ar.Files {
		got[f.Name] = string(f.Data)
	}
	assert.Equal(t, w.files, got, "the files of the README's walkthrough and of %s", walkthroughScript)
	for _, verb := range []string{"keygen", "cert issue", "key derive", "synth", "verify", "run"} {
		found := false
		for _, c := range w.commands {
			found = found || strings.HasPrefix(c, "oemact "+verb+" ")
		}
		assert.True(t, found, "the walkthrough runs oemact %s", verb)
	}
}

// The walkthrough's OEM ID is new: it appears in no file of the repository but the README and
// the walkthrough script, so nothing built in helps it. The files are the ones git tracks: a
// checkout also holds build output and guest images (fixtures/images/debian.img is hundreds of
// megabytes) that are not the repository's and that the test must not read.
func TestWalkthroughOEMIsNew(t *testing.T) {
	w := readWalkthrough(t)
	id := regexp.MustCompile(`--oem-id (\S+)`).FindStringSubmatch(strings.Join(w.commands, "\n"))
	require.NotNil(t, id, "the walkthrough issues a certificate with --oem-id")
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	git, err := exec.LookPath("git")
	require.NoError(t, err, "this test lists the repository's files with git ls-files: install git")
	cmd := exec.Command(git, "ls-files", "-z")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "git ls-files in %s: %s", root, stderr.String())
	allowed := map[string]bool{"README.md": true, "cmd/oemact/" + walkthroughScript: true}
	n := 0
	for _, name := range strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		if name == "" || allowed[name] {
			continue
		}
		path := filepath.Join(root, filepath.FromSlash(name))
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted in the working tree and not yet committed
		}
		require.NoError(t, err)
		if !fi.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		n++
		assert.False(t, bytes.Contains(b, []byte(id[1])), "%s names the walkthrough's new OEM ID %s", path, id[1])
	}
	assert.Greater(t, n, 100, "the repository's files were read")
}
