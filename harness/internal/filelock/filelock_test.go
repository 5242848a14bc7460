package filelock

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHeld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	held, err := Held(path)
	require.NoError(t, err)
	assert.False(t, held, "nobody ever took it")

	unlock, err := Lock(path, "test lock")
	require.NoError(t, err)
	held, err = Held(path)
	require.NoError(t, err)
	assert.True(t, held)

	unlock()
	held, err = Held(path)
	require.NoError(t, err)
	assert.False(t, held)
	unlock, err = Lock(path, "test lock")
	require.NoError(t, err, "Held leaves the lock free")
	unlock()

	_, err = Held(filepath.Join(path, "under-a-file"))
	assert.ErrorContains(t, err, "under-a-file")
}
