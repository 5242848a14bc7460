package main

import (
	"io/fs"
	"os"
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
// the walkthrough script, so nothing built in helps it.
func TestWalkthroughOEMIsNew(t *testing.T) {
	w := readWalkthrough(t)
	id := regexp.MustCompile(`--oem-id (\S+)`).FindStringSubmatch(strings.Join(w.commands, "\n"))
	require.NotNil(t, id, "the walkthrough issues a certificate with --oem-id")
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	allowed := map[string]bool{filepath.Join(root, "README.md"): true, filepath.Join(root, "cmd", "oemact", walkthroughScript): true}
	skip := map[string]bool{".git": true, ".cache": true, "bin": true, "artifacts": true, "out": true}
	n := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && skip[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || allowed[path] {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		assert.NotContains(t, string(b), id[1], "%s names the walkthrough's new OEM ID", path)
		return nil
	})
	require.NoError(t, err)
	assert.Greater(t, n, 100, "the repository's files were read")
}
