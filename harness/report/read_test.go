package report

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/firmware/fileio"
	"github.com/oemact/oemact/harness/runner"
)

// The JSON report of the fixture run (testdata/run.json, what WriteJSON writes) reads back into
// the same run.
func TestReadJSONRoundTrip(t *testing.T) {
	r, err := ReadJSONFile(filepath.Join("testdata", "run.json"))
	require.NoError(t, err)
	assert.Empty(t, cmp.Diff(fixtureRun(), r))

	_, shards := splitFixture(t, [][]int{{0, 3}, {1, 4}, {2}})
	m := Merge(inputs(shards...))
	var b bytes.Buffer
	require.NoError(t, WriteJSON(&b, m))
	back, err := ReadJSON(&b, "merged.json")
	require.NoError(t, err, "a merged report reads back too")
	assert.Empty(t, cmp.Diff(m, back))
}

func TestReadJSONErrors(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "run.json"))
	require.NoError(t, err)
	edit := func(old, new string) string {
		require.Contains(t, string(good), old)
		return strings.Replace(string(good), old, new, 1)
	}
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", "r.json: offset 0: empty: not a report"},
		{"not JSON", "<testsuites>", "r.json: offset 1: not JSON: invalid character '<' looking for beginning of value"},
		{"truncated", string(good[:500]), "r.json: offset 500: ends in the middle of the report"},
		{"another JSON document", `{"name": "x", "scenarios": []}`, `r.json: unknown field "name" (not a field of an oemact run report)`},
		{"wrong type", `{"started": "2026-03-12T10:04:31Z", "boots": "many", "scenarios": []}`, `r.json: offset 51: boots: want int, not a JSON string`},
		{"no start", `{"scenarios": []}`, "r.json: started: missing: not an oemact run report"},
		{"no scenarios", `{"started": "2026-03-12T10:04:31Z"}`, "r.json: scenarios: missing: not an oemact run report"},
		{"data after it", string(good) + "{}", fmt.Sprintf("r.json: offset %d: more data after the report", len(good)+1) /* the offset of the byte after the report */},
		{"negative boots", edit(`"boots": 16,`, `"boots": -16,`), "r.json: boots: -16 is negative"},
		{"unknown outcome", edit(`"outcome": "passed",`, `"outcome": "fine",`), `r.json: scenarios[0].outcome: "fine": want passed, failed, error or skipped`},
		{"step without a kind", edit(`"kind": "boot",`, `"kind": "",`), "r.json: scenarios[0].steps[0].kind: missing"},
		{"nameless scenario", edit(`"name": "oem21-valid",`, `"name": "",`), "r.json: scenarios[0].name: missing"},
		{"shard out of its split", edit(`"resumed": 0,`, `"resumed": 0, "shard": {"index": 4, "count": 3, "scenarios": 5, "total": 5},`),
			"r.json: shard: shard 4/3: want 1 <= index <= count <= 1000"},
		{"shard given more than all", edit(`"resumed": 0,`, `"resumed": 0, "shard": {"index": 1, "count": 3, "scenarios": 6, "total": 5},`),
			"r.json: shard: given 6 of 5 scenarios: want 0 <= given <= total"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadJSON(strings.NewReader(tc.in), "r.json")
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
			var fe *FormatError
			assert.True(t, errors.As(err, &fe), "a FormatError")
		})
	}
}

// A report is read within a bound, whatever the file's size.
func TestReadJSONTooLarge(t *testing.T) {
	old := maxJSONSize
	maxJSONSize = 1000
	defer func() { maxJSONSize = old }()
	big, err := os.ReadFile(filepath.Join("testdata", "run.json"))
	require.NoError(t, err)
	_, err = ReadJSON(bytes.NewReader(big), "big.json")
	assert.EqualError(t, err, "big.json: offset 1000: larger than 0 MiB: not a report")

	// A file is bounded by its size before it is read, and decoded from the bytes read once.
	path := filepath.Join("testdata", "run.json")
	_, err = ReadJSONFile(path)
	assert.ErrorIs(t, err, fileio.ErrTooLarge)
	assert.ErrorContains(t, err, path)
	maxJSONSize = int64(len(big))
	r, err := ReadJSONFile(path)
	require.NoError(t, err)
	assert.NotEmpty(t, r.Scenarios)
}

func FuzzReadJSON(f *testing.F) {
	// The fixture run's first scenario: the whole report (115 KB) makes each mutation slow.
	r := fixtureRun()
	r.Scenarios = r.Scenarios[:1]
	var seed bytes.Buffer
	require.NoError(f, WriteJSON(&seed, r))
	f.Add(seed.Bytes())
	f.Add([]byte(`{"started": "2026-03-12T10:04:31Z", "scenarios": [], "shard": {"index": 1, "count": 2, "scenarios": 0, "total": 3}}`))
	f.Add([]byte(`{"started": "2026-03-12T10:04:31Z", "scenarios": [{"name": "a", "outcome": "passed", "steps": [{"kind": "boot"}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ReadJSON(bytes.NewReader(b), "fuzz.json")
		if err != nil {
			var fe *FormatError
			require.True(t, errors.As(err, &fe), "%v", err)
			return
		}
		// What reads back renders in every report and merges without a panic.
		for _, w := range []func(*bytes.Buffer, *runner.Run) error{summary, jsonOut, junitOut, htmlOut} {
			var out bytes.Buffer
			require.NoError(t, w(&out, r))
		}
		Merge([]ShardReport{{Path: "fuzz.json", Run: r}})
	})
}
