package runner_test

import (
	"os"
	"sync"
	"testing"
	"time"

	"github.com/oemact/oemact/harness/runner"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Runs started in the same second get folders of their own: each is created, atomically, under
// a name no other run has.
func TestRunDirsAreExclusive(t *testing.T) {
	parent := t.TempDir() + "/runs"
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const n = 64
	dirs := make([]string, n)
	var wg sync.WaitGroup
	for i := range dirs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			d, err := runner.NewRunDir(parent, now)
			assert.NoError(t, err)
			dirs[i] = d
		}(i)
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, d := range dirs {
		require.NotEmpty(t, d)
		assert.False(t, seen[d], "two runs share %s", d)
		seen[d] = true
		st, err := os.Stat(d)
		require.NoError(t, err)
		assert.True(t, st.IsDir())
		assert.Contains(t, d, "/runs/20260301-120000-", "the name still sorts by start time")
	}
	ents, err := os.ReadDir(parent)
	require.NoError(t, err)
	assert.Len(t, ents, n)
}
