package yamldoc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

type doc struct {
	Name  string `yaml:"name"`
	Items []struct {
		A int    `yaml:"a"`
		B string `yaml:"b"`
	} `yaml:"items"`
	Small    uint8             `yaml:"small"`
	Rev      uint32            `yaml:"rev"`
	Flag     bool              `yaml:"flag"`
	Ratio    float64           `yaml:"ratio"`
	Wait     time.Duration     `yaml:"wait"`
	Labels   map[string]int    `yaml:"labels"`
	Inner    *inner            `yaml:"inner"`
	Colour   colour            `yaml:"colour"`
	Any      any               `yaml:"any"`
	Skip     string            `yaml:"-"`
	Plain    string            // yaml names it "plain"
	Strings  map[string]string `yaml:"strings"`
	Embedded `yaml:",inline"`
}

type Embedded struct {
	Extra string `yaml:"extra"`
}

type inner struct {
	Serial string `yaml:"serial"`
	Count  int16  `yaml:"count"`
}

// colour decodes itself, as a profile's chassis type does: its errors are its messages.
type colour string

func (c *colour) UnmarshalYAML(n *yaml.Node) error {
	switch n.Value {
	case "red", "green":
		*c = colour(n.Value)
		return nil
	}
	return errors.New("want red or green")
}

func TestDecodeAndLines(t *testing.T) {
	var v doc
	d, err := Decode([]byte("name: x\nitems:\n  - a: 1\n  - a: 2\n    b: y\nwait: 90s\ninner: {serial: S1, count: -3}\ncolour: red\nplain: p\nextra: e\nany: [1, two]\n"), "f.yaml", &v)
	require.NoError(t, err)
	assert.Equal(t, 2, v.Items[1].A)
	assert.Equal(t, 90*time.Second, v.Wait)
	assert.Equal(t, int16(-3), v.Inner.Count)
	assert.Equal(t, colour("red"), v.Colour)
	assert.Equal(t, "p", v.Plain)
	assert.Equal(t, "e", v.Extra)
	assert.Equal(t, 1, d.Line(""))
	assert.Equal(t, 2, d.Line("items"))
	assert.Equal(t, 4, d.Line("items.1"))
	assert.Equal(t, 5, d.Line("items.1.b"))
	assert.Equal(t, 4, d.Line("items.1.c"), "a missing field points at its parent")
	assert.Equal(t, 2, d.Line("items.9"))
	assert.Equal(t, "f.yaml:5: items.1.b: bad", d.Errorf("items.1.b", "bad").Error())
}

// goWords are what an error must not show a user: Go type names and the yaml package's tags.
var goWords = regexp.MustCompile(`!!|\bin type\b|\binto\b|yamldoc\.|\bint(8|16|32|64)?\b|\buint|\bfloat64\b|\bstruct\b|\bmap\[|\[\]`)

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "f.yaml: empty document"},
		{"name: [", "f.yaml:1: did not find expected node content"},
		{"name: x\ncolour: red\nnmae: y\n", "f.yaml:3: nmae: unknown field; did you mean name? (fields here: any, colour, extra, flag, inner, items, labels, name, plain, ratio, rev, small, strings, wait)"},
		{"name: x\nshape: round\n", "f.yaml:2: shape: unknown field (fields here: any,"},
		{"skip: x\n", "f.yaml:1: skip: unknown field"},
		{"items:\n  - a: one\n", `f.yaml:2: items.0.a: want a whole number, got "one"`},
		{"items:\n  - a: 1\n  - a: 2\n    c: 3\n", "f.yaml:4: items.1.c: unknown field; did you mean a? (fields here: a, b)"},
		{"items: {a: 1}\n", "f.yaml:1: items: want a list, got a mapping"},
		{"items: 3\n", `f.yaml:1: items: want a list, got "3"`},
		{"small: 300\n", `f.yaml:1: small: want a whole number from 0 to 255, got "300"`},
		{"small: -1\n", `f.yaml:1: small: want a whole number from 0 to 255, got "-1"`},
		{"rev: 0x1ffffffff\n", `f.yaml:1: rev: want a whole number from 0 to 4294967295, got "0x1ffffffff"`},
		{"flag: maybe\n", `f.yaml:1: flag: want true or false, got "maybe"`},
		{"ratio: half\n", `f.yaml:1: ratio: want a number, got "half"`},
		{"wait: soon\n", `f.yaml:1: wait: want a duration such as 90s, 15m or 4h, got "soon"`},
		{"name: [a, b]\n", "f.yaml:1: name: want text, got a list"},
		{"name: {first: a}\n", "f.yaml:1: name: want text, got a mapping"},
		{"labels: {a: one}\n", `f.yaml:1: labels.a: want a whole number, got "one"`},
		{"labels: [a]\n", "f.yaml:1: labels: want a mapping (key: value), got a list"},
		{"labels:\n  a: 1\n  a: 2\n", "f.yaml:3: labels.a: given twice (first at line 2)"},
		{"name: x\nname: y\n", "f.yaml:2: name: given twice (first at line 1)"},
		{"inner: serial\n", `f.yaml:1: inner: want a mapping of fields (name: value), got "serial"`},
		{"inner:\n  count: 40000\n", `f.yaml:2: inner.count: want a whole number from -32768 to 32767, got "40000"`},
		{"inner:\n  serial: S\n  colour: red\n", "f.yaml:3: inner.colour: unknown field (fields here: count, serial)"},
		{"colour: blue\n", "f.yaml:1: colour: want red or green"},
		{"- a\n- b\n", "f.yaml:1: want a mapping of fields (name: value), got a list"},
		{"strings: {a: [x]}\n", "f.yaml:1: strings.a: want text, got a list"},
	} {
		var v doc
		_, err := Decode([]byte(tc.in), "f.yaml", &v)
		require.Error(t, err, tc.in)
		assert.Contains(t, err.Error(), tc.want, tc.in)
		assert.NotRegexp(t, goWords, err.Error(), tc.in)
		var e *Error
		assert.True(t, errors.As(err, &e), tc.in)
	}
}

// Aliases and merge keys are followed, and checked where they are used.
func TestDecodeAliases(t *testing.T) {
	var v doc
	_, err := Decode([]byte("x: &i {serial: S, count: 2}\n"), "f.yaml", &v)
	require.Error(t, err, "x is not a field")
	_, err = Decode([]byte("inner: &i {serial: S, count: 2}\nitems:\n  - &it {a: 1}\n  - *it\n"), "f.yaml", &v)
	require.NoError(t, err)
	assert.Equal(t, 1, v.Items[1].A)
	_, err = Decode([]byte("labels: &l {a: 1}\ninner: *l\n"), "f.yaml", &v)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "f.yaml:1: inner.a: unknown field")
	_, err = Decode([]byte("base: &b {serial: S}\n"), "f.yaml", &v)
	require.Error(t, err)
}

func TestPlainWords(t *testing.T) {
	assert.Equal(t, `text (many) does not belong here`, plainWords(Safe("cannot unmarshal !!str `many` into int")))
	assert.Equal(t, `text (a value (not shown)) does not belong here`, plainWords(Safe("cannot unmarshal !!str `root:$6$x` into profile.Profile")))
	assert.Equal(t, "unknown field colour", plainWords(Safe("field colour not found in type profile.System")))
	assert.Equal(t, "unknown field (a name that is not shown)", plainWords(Safe("field root:$6$salt:1:: not found in type profile.Profile")))
}

// An error quotes nothing of the document but names and numbers: the file may be any file.
func TestErrorsShowNoContent(t *testing.T) {
	for _, in := range []string{
		"root:$6$salt$hash:19000:0:99999:7:::\n",
		"name: {secret: x}\nroot:$6$salt$hash: 1\n",
		"name: hunter 2 password\nsmall: root:$6$salt\n",
		"labels:\n  \"root:$6$salt$hash\": 1\n  \"root:$6$salt$hash\": 2\n",
		"labels: {\"pass word\": 1.5}\n",
		"items:\n  - {a: \"pa55 w0rd\"}\n",
	} {
		var v doc
		_, err := Decode([]byte(in), "f.yaml", &v)
		require.Error(t, err, in)
		for _, secret := range []string{"$6$", "hunter", "pass word", "pa55"} {
			assert.NotContains(t, err.Error(), secret, in)
		}
	}
}

func fixtureDocs(t testing.TB) []string {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..", "fixtures")
	var out []string
	for _, g := range []string{"profiles/*.yaml", "scenarios/*.yaml", "keys/*.yaml", "images/*/*.yaml"} {
		m, err := filepath.Glob(filepath.Join(root, g))
		require.NoError(t, err)
		out = append(out, m...)
	}
	require.NotEmpty(t, out)
	return out
}

// Any input gives a document or an *Error without Go words; nothing panics.
func FuzzDecode(f *testing.F) {
	for _, p := range fixtureDocs(f) {
		b, err := os.ReadFile(p)
		require.NoError(f, err)
		f.Add(string(b))
	}
	f.Add("items: [{a: 1}, {a: x}]\nlabels: {a: 1}\ninner: {count: 1}\n")
	f.Fuzz(func(t *testing.T, s string) {
		var v doc
		_, err := Decode([]byte(s), "f.yaml", &v)
		if err == nil {
			return
		}
		var e *Error
		require.True(t, errors.As(err, &e), err.Error())
		if !strings.HasPrefix(e.Msg, "did not find") {
			assert.NotRegexp(t, regexp.MustCompile(`!!|\bin type\b|yamldoc\.`), err.Error())
		}
	})
}

// A document whose aliases multiply it is refused before it is walked or decoded at length.
func TestDecodeAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("strings: &s {")
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&b, "k%d: v, ", i)
	}
	b.WriteString("}\nlist: &l [")
	for i := 0; i < 1000; i++ {
		b.WriteString("*s, ")
	}
	b.WriteString("]\nitems: [")
	for i := 0; i < 1000; i++ {
		b.WriteString("*l, ")
	}
	b.WriteString("]\n")
	type bomb struct {
		Strings map[string]string     `yaml:"strings"`
		List    []map[string]string   `yaml:"list"`
		Items   [][]map[string]string `yaml:"items"`
	}
	var v bomb
	_, err := Decode([]byte(b.String()), "f.yaml", &v)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "aliases expand it too far")
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
		{"ptr: &b {n: 0.1}\nnested: {x: *b}\n", "f.yaml:1: ptr.n: 0.1 is not a whole number"},
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
