package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/runner"
)

func TestFilesWrite(t *testing.T) {
	dir := t.TempDir()
	f := Files{
		JSON:  filepath.Join(dir, "out", "run.json"),
		JUnit: filepath.Join(dir, "out", "junit", "report.xml"),
		HTML:  filepath.Join(dir, "report.html"),
	}
	r := fixtureRun()
	require.NoError(t, f.Write(r))

	b, err := os.ReadFile(f.JSON)
	require.NoError(t, err)
	var back runner.Run
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Len(t, back.Scenarios, len(r.Scenarios))
	parseJUnit(t, mustRead(t, f.JUnit))
	assert.Equal(t, string(render(t, htmlOut, r)), string(mustRead(t, f.HTML)))
	for _, p := range []string{f.JSON, f.JUnit, f.HTML} {
		st, err := os.Stat(p)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o644), st.Mode().Perm(), p)
	}
	// No temporary file is left beside the reports.
	entries, err := os.ReadDir(filepath.Join(dir, "out"))
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{"junit", "run.json"}, names)
}

func TestFilesNothingAsked(t *testing.T) {
	assert.NoError(t, Files{}.Write(fixtureRun()))
}

// A report that cannot be written is named in the error; the others are still written.
func TestFilesErrors(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(blocker, nil, 0o644))
	f := Files{JSON: filepath.Join(blocker, "run.json"), HTML: filepath.Join(dir, "ok", "report.html")}
	err := f.Write(fixtureRun())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "writing the JSON report "+f.JSON+": ")
	assert.FileExists(t, f.HTML)
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return b
}
