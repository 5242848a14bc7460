package yamldoc

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type doc struct {
	Name  string `yaml:"name"`
	Items []struct {
		A int    `yaml:"a"`
		B string `yaml:"b"`
	} `yaml:"items"`
}

func TestDecodeAndLines(t *testing.T) {
	var v doc
	d, err := Decode([]byte("name: x\nitems:\n  - a: 1\n  - a: 2\n    b: y\n"), "f.yaml", &v)
	require.NoError(t, err)
	assert.Equal(t, 2, v.Items[1].A)
	assert.Equal(t, 1, d.Line(""))
	assert.Equal(t, 2, d.Line("items"))
	assert.Equal(t, 4, d.Line("items.1"))
	assert.Equal(t, 5, d.Line("items.1.b"))
	assert.Equal(t, 4, d.Line("items.1.c"), "a missing field points at its parent")
	assert.Equal(t, 2, d.Line("items.9"))
	assert.Equal(t, "f.yaml:5: items.1.b: bad", d.Errorf("items.1.b", "bad").Error())
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "f.yaml: empty document"},
		{"name: [", "f.yaml:1:"},
		{"name: x\ncolour: red\n", "f.yaml:2: field colour not found in type yamldoc.doc"},
		{"items:\n  - a: one\n", "f.yaml:2: cannot unmarshal !!str `one` into int"},
	} {
		var v doc
		_, err := Decode([]byte(tc.in), "f.yaml", &v)
		require.Error(t, err, tc.in)
		assert.Contains(t, err.Error(), tc.want)
		var e *Error
		assert.True(t, errors.As(err, &e))
	}
}
