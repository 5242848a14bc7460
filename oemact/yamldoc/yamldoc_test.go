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

// A fraction or an exponent given for an integer field is an error at its line and field; the
// YAML decoder alone would cut 1.5 to 1. Floats and strings are left alone.
func TestWholeNumbers(t *testing.T) {
	type inner struct {
		N int `yaml:"n"`
	}
	type top struct {
		Count  int              `yaml:"count"`
		Ratio  float64          `yaml:"ratio"`
		Label  string           `yaml:"label"`
		Items  []inner          `yaml:"items"`
		ByName map[string]int   `yaml:"by_name"`
		Ptr    *inner           `yaml:"ptr"`
		Nested map[string]inner `yaml:"nested"`
	}
	for _, tc := range []struct{ body, want string }{
		{"count: 1.5\n", "f.yaml:1: count: 1.5 is not a whole number"},
		{"items:\n  - n: 2\n  - n: 2.0\n", "f.yaml:3: items.1.n: 2.0 is not a whole number"},
		{"by_name: {a: 1, b: 1e3}\n", "f.yaml:1: by_name.b: 1e3 is not a whole number"},
		{"ptr:\n  n: .5\n", "f.yaml:2: ptr.n: .5 is not a whole number"},
		{"base: &b {n: 0.1}\nnested: {x: *b}\n", "f.yaml:1: nested.x.n: 0.1 is not a whole number"},
	} {
		var v top
		_, err := Decode([]byte(tc.body), "f.yaml", &v)
		assert.EqualError(t, err, tc.want, tc.body)
	}
	var v top
	_, err := Decode([]byte("count: 3\nratio: 1.5\nlabel: \"2.5\"\n"), "f.yaml", &v)
	require.NoError(t, err)
	assert.Equal(t, 3, v.Count)
	assert.Equal(t, 1.5, v.Ratio)
}

// Messages keep what looks like a field name and nothing else of the document.
func TestSafe(t *testing.T) {
	for in, want := range map[string]string{
		"cannot unmarshal !!str `many` into int":                        "cannot unmarshal !!str `many` into int",
		"cannot unmarshal !!str `passwor...` into profile.Profile":      "cannot unmarshal !!str a value (not shown) into profile.Profile",
		"cannot unmarshal !!str `root:$6$x` into profile.Profile":       "cannot unmarshal !!str a value (not shown) into profile.Profile",
		"field vm.nics not found in type x":                             "field vm.nics not found in type x",
		"field root:$6$salt$hash:1:: not found in type profile.Profile": "field (a name that is not shown) not found in type profile.Profile",
		"mapping key `hunter 2` already defined at line 3":              "mapping key a value (not shown) already defined at line 3",
		"did not find expected key":                                     "did not find expected key",
	} {
		assert.Equal(t, want, Safe(in), in)
	}
}
