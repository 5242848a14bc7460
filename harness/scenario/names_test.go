package scenario

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStepIDs(t *testing.T) {
	prof := filepath.Join(fixturesDir(), "profiles", "tstoem-desktop.yaml")
	head := "name: s\nmachines:\n  pc:\n    profile: " + prof + "\n    edition: win7-ultimate\n    key: retail/win7-ultimate\nsteps:\n"
	load := func(body string) (*Scenario, error) {
		path := filepath.Join(t.TempDir(), "s.yaml")
		require.NoError(t, os.WriteFile(path, []byte(head+body), 0o644))
		sc, err := Load(path)
		if err != nil {
			return nil, err
		}
		return sc, nil
	}
	sc, err := load("  - boot: pc\n    id: first-boot\n  - advance: 1d\n  - boot: pc\n  - boot: pc\n    id: after.a_day-1\n  - advance: 2d\n")
	require.NoError(t, err)
	assert.Equal(t, "first-boot", sc.Steps[0].ID)
	assert.Empty(t, sc.Steps[1].ID)
	assert.Equal(t, []string{"first-boot", "advance", "boot pc", "after.a_day-1", "advance #2"}, sc.StepNames())

	for _, tc := range []struct{ body, want string }{
		{"  - boot: pc\n    id: two words\n", `s.yaml:9: steps.0.id: "two words": want 1 to 64 of A-Z a-z 0-9 . _ -, starting with a letter or digit`},
		{"  - boot: pc\n    id: -x\n", `steps.0.id: "-x": want 1 to 64`},
		{"  - boot: pc\n    id: " + strings.Repeat("x", 65) + "\n", `want 1 to 64`},
		{"  - boot: pc\n    id: advance\n", `s.yaml:9: steps.0.id: "advance" is the name of a step kind: choose another id`},
		{"  - boot: pc\n    id: b\n  - advance: 1d\n  - boot: pc\n    id: b\n", `s.yaml:12: steps.2.id: "b" is the id of the step at line 8 too: ids name one step each`},
	} {
		_, err := load(tc.body)
		require.Error(t, err, tc.body)
		assert.Contains(t, err.Error(), strings.TrimPrefix(tc.want, "s.yaml"), tc.body)
	}
}

// insertStep puts a step (YAML lines, indented as a list item of steps) before step i of a
// scenario file's text.
func insertStep(t *testing.T, text string, i int, step string) string {
	t.Helper()
	lines := strings.SplitAfter(text, "\n")
	n := -1
	for j, l := range lines {
		if strings.HasPrefix(l, "  - ") {
			n++
			if n == i {
				return strings.Join(lines[:j], "") + step + strings.Join(lines[j:], "")
			}
		}
	}
	require.Equal(t, n+1, i, "step %d of %d", i, n+1)
	return text + step
}

// Inserting a step anywhere in a real scenario leaves the other steps' names as they were, when
// it is not the unnamed equal of a later step: a kind and machine the scenario does not have
// after it, or a step with an id.
func TestStepNamesSurviveAnInsertedStep(t *testing.T) {
	path := filepath.Join(fixturesDir(), "scenarios", "06-retail-hardware-reactivation.yaml")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	sc, err := Load(path)
	require.NoError(t, err)
	before := sc.StepNames()
	assert.Equal(t, []string{"boot pc", "activate pc", "advance", "change pc", "boot pc #2", "activate pc #2", "activate pc #3"}, before)
	dir := filepath.Dir(path)
	for _, step := range []string{
		"  - boot: pc\n    id: extra-boot\n",
		"  - rearm: pc\n",
		"  - kms_clients: {count: 1, edition: win7-enterprise}\n",
		"  - install_key: pc\n    key: retail/win7-ultimate\n",
	} {
		for i := 0; i <= len(before); i++ {
			text := insertStep(t, string(b), i, step)
			sc, err := Parse([]byte(text), filepath.Join(dir, "inserted.yaml"))
			require.NoError(t, err, "%q at %d", step, i)
			after := sc.StepNames()
			require.Len(t, after, len(before)+1)
			others := append(append([]string{}, after[:i]...), after[i+1:]...)
			assert.Equal(t, before, others, "%q inserted at %d", step, i)
		}
	}
	// An unnamed boot inserted first is the equal of the later boots: they move down one number.
	sc, err = Parse([]byte(insertStep(t, string(b), 0, "  - boot: pc\n")), filepath.Join(dir, "inserted.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "boot pc #3", sc.StepNames()[5], "the documented limit: give such steps an id")
}
