package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// shellWords splits a command line as sh would for the simple lines of the CI files: words apart
// at spaces, double and single quotes removed. It stops at ; (then, fi and the like follow).
func shellWords(line string) []string {
	var words []string
	var cur strings.Builder
	quote := byte(0)
	in := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(c)
		case c == '"' || c == '\'':
			quote, in = c, true
		case c == ';':
			i = len(line)
		case c == ' ' || c == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words
}

// ciCommands are the oemact and make command lines of a CI file's scripts, with the CI
// system's variables replaced by the values of shard 1 of shards.
func ciCommands(scripts []string, shards int) (oemact, makes [][]string) {
	vars := strings.NewReplacer("${{ matrix.shard }}", "1", "$CI_NODE_INDEX", "1", "$CI_NODE_TOTAL", strconv.Itoa(shards))
	for _, s := range scripts {
		for _, line := range strings.Split(s, "\n") {
			w := shellWords(vars.Replace(strings.TrimSpace(line)))
			for i := 0; i < len(w); i++ {
				end := i + 1
				for end < len(w) && w[end] != "&&" {
					end++
				}
				switch {
				case w[i] == "./bin/oemact" || w[i] == "oemact":
					oemact = append(oemact, w[i+1:end])
				case w[i] == "make" && (i == 0 || w[i-1] == "&&"):
					makes = append(makes, w[i+1:end])
				default:
					continue
				}
				i = end
			}
		}
	}
	return oemact, makes
}

// checkCLI runs each command line with --help added: the verb and every flag must exist (an
// unknown flag or verb is a usage error), and nothing runs.
func checkCLI(t *testing.T, file string, cmds [][]string) {
	t.Helper()
	for _, args := range cmds {
		var out, errb bytes.Buffer
		code := run(stdio{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}, append(append([]string{}, args...), "--help"))
		assert.Equal(t, exitOK, code, "%s: oemact %s: %s", file, strings.Join(args, " "), errb.String())
	}
}

func makeTargets(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	require.NoError(t, err)
	targets := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^([a-z][a-z0-9-]*):`).FindAllStringSubmatch(string(b), -1) {
		targets[m[1]] = true
	}
	return targets
}

func readYAML(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "ci", name))
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(b, &doc), name)
	return doc
}

func strs(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// The check itself catches a flag or verb the CLI does not have.
func TestCICheckCatchesMistakes(t *testing.T) {
	cmds, makes := ciCommands([]string{"./bin/oemact run --shards 1/3 fixtures/scenarios\nmake kernel && make nothing"}, 3)
	require.Len(t, cmds, 1)
	var out, errb bytes.Buffer
	assert.Equal(t, exitUsage, run(stdio{stdout: &out, stderr: &errb}, append(cmds[0], "--help")))
	assert.Contains(t, errb.String(), "unknown flag: --shards")
	assert.Equal(t, [][]string{{"kernel"}, {"nothing"}}, makes)
	assert.False(t, makeTargets(t)["nothing"])
	assert.Equal(t, []string{"run", "--shard", "1/3", "--json", "shard-1/r.json"},
		shellWords(`run --shard "1/3" --json 'shard-1/r.json'; then`))
}

// The GitHub Actions workflow parses, each job has steps that run or use something, the shards
// listed are the shards the run lines split into, and every oemact command and make target it
// uses exists.
func TestGitHubActionsWorkflow(t *testing.T) {
	doc := readYAML(t, "github-actions.yml")
	jobs, ok := doc["jobs"].(map[string]any)
	require.True(t, ok, "jobs")
	require.Contains(t, jobs, "scenarios")
	require.Contains(t, jobs, "report")
	var scripts []string
	for name, j := range jobs {
		job, ok := j.(map[string]any)
		require.True(t, ok, name)
		steps, ok := job["steps"].([]any)
		require.True(t, ok, "%s: steps", name)
		for i, s := range steps {
			step, ok := s.(map[string]any)
			require.True(t, ok, "%s step %d", name, i)
			_, runs := step["run"]
			_, uses := step["uses"]
			assert.True(t, runs != uses, "%s step %d: run or uses, one of them", name, i)
			scripts = append(scripts, strs(step["run"])...)
		}
	}
	matrix := jobs["scenarios"].(map[string]any)["strategy"].(map[string]any)["matrix"].(map[string]any)["shard"].([]any)
	shards := len(matrix)
	for i, s := range matrix {
		assert.Equal(t, i+1, s, "shards are numbered from 1")
	}
	cmds, makes := ciCommands(scripts, shards)
	checked := checkShards(t, cmds, shards)
	assert.Equal(t, 2, checked, "both run lines split")
	checkCLI(t, "github-actions.yml", cmds)
	targets := makeTargets(t)
	for _, m := range makes {
		for _, target := range m {
			assert.True(t, targets[target], "make %s: no such target", target)
		}
	}
	assert.Contains(t, verbs(cmds), "report merge")
}

// The GitLab CI file parses, its shard job runs in parallel, and every oemact command and make
// target its scripts use exists.
func TestGitLabCI(t *testing.T) {
	doc := readYAML(t, "gitlab-ci.yml")
	require.Contains(t, doc, "scenarios")
	shards, ok := doc["scenarios"].(map[string]any)["parallel"].(int)
	require.True(t, ok, "scenarios: parallel")
	var scripts []string
	for name, j := range doc {
		job, ok := j.(map[string]any)
		if !ok || strings.HasPrefix(name, ".") {
			continue
		}
		if _, isJob := job["script"]; !isJob {
			continue
		}
		for _, k := range []string{"before_script", "script", "after_script"} {
			scripts = append(scripts, strs(job[k])...)
		}
	}
	cmds, makes := ciCommands(scripts, shards)
	assert.Equal(t, 2, checkShards(t, cmds, shards))
	checkCLI(t, "gitlab-ci.yml", cmds)
	targets := makeTargets(t)
	for _, m := range makes {
		for _, target := range m {
			assert.True(t, targets[target], "make %s: no such target", target)
		}
	}
	assert.Contains(t, verbs(cmds), "report merge")
}

// checkShards checks that every --shard is I/shards and returns how many there were.
func checkShards(t *testing.T, cmds [][]string, shards int) int {
	t.Helper()
	n := 0
	for _, c := range cmds {
		for i, w := range c {
			if w == "--shard" && i+1 < len(c) {
				n++
				assert.Equal(t, "1/"+strconv.Itoa(shards), c[i+1], "oemact %s", strings.Join(c, " "))
			}
		}
	}
	return n
}

func verbs(cmds [][]string) []string {
	var out []string
	for _, c := range cmds {
		if len(c) > 1 && !strings.HasPrefix(c[1], "-") {
			out = append(out, c[0]+" "+c[1])
		} else if len(c) > 0 {
			out = append(out, c[0])
		}
	}
	return out
}
