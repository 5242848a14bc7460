package yamldoc

import (
	"encoding"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// checker walks a node against the Go type it will be decoded into and returns the first
// problem as an Error at the node's line, with the dotted path of the field and a message in the
// document's words (what was expected, what is there), never the name of a Go type.
type checker struct {
	// budget bounds the nodes visited: aliases can make a small document a huge one.
	budget int
}

// newChecker allows ten visits per node of the document, as yaml's own decoder allows aliases
// to grow a document about tenfold before it calls it excessive.
func newChecker(root *yaml.Node) *checker {
	return &checker{budget: 10*countNodes(root) + 10000}
}

func countNodes(n *yaml.Node) int {
	c := 1
	for _, k := range n.Content {
		c += countNodes(k)
	}
	return c
}

func (c *checker) check(n *yaml.Node, t reflect.Type, path string) *Error {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if c.budget--; c.budget < 0 {
		return &Error{Line: n.Line, Field: path, Msg: "the document's aliases expand it too far"}
	}
	if isNull(n) {
		return nil // a null leaves the zero value, as yaml does
	}
	if custom(t) {
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			return &Error{Line: n.Line, Field: path, Msg: plain(err)}
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		return c.check(n, t.Elem(), path)
	case reflect.Interface:
		return nil
	case reflect.Struct:
		if t == timeType {
			return scalar(n, t, path, "a time such as 2009-10-22T08:00:00Z")
		}
		return c.checkStruct(n, t, path)
	case reflect.Map:
		return c.checkMap(n, t, path)
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return &Error{Line: n.Line, Field: path, Msg: "want a list, got " + describe(n)}
		}
		for i, item := range n.Content {
			if e := c.check(item, t.Elem(), join(path, strconv.Itoa(i))); e != nil {
				return e
			}
		}
		return nil
	case reflect.Bool:
		return scalar(n, t, path, "true or false")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if e := fraction(n, path); e != nil && t != durationType {
			return e
		}
		if t == durationType {
			return scalar(n, t, path, "a duration such as 90s, 15m or 4h")
		}
		if bits := t.Bits(); bits < 64 {
			return scalar(n, t, path, fmt.Sprintf("a whole number from %d to %d", int64(-1)<<(bits-1), int64(1)<<(bits-1)-1))
		}
		return scalar(n, t, path, "a whole number")
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if e := fraction(n, path); e != nil {
			return e
		}
		if bits := t.Bits(); bits < 64 {
			return scalar(n, t, path, fmt.Sprintf("a whole number from 0 to %d", uint64(math.MaxUint64)>>(64-bits)))
		}
		return scalar(n, t, path, "a whole number, 0 or more")
	case reflect.Float32, reflect.Float64:
		return scalar(n, t, path, "a number")
	case reflect.String:
		if n.Kind == yaml.ScalarNode {
			return nil // every scalar reads as text
		}
		return scalar(n, t, path, "text")
	}
	return scalar(n, t, path, "a value of another kind")
}

var (
	timeType        = reflect.TypeOf(time.Time{})
	durationType    = reflect.TypeOf(time.Duration(0))
	unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
	textType        = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
)

// custom reports whether the type decodes itself: its own errors are its message.
func custom(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return t.Kind() != reflect.Pointer && (p.Implements(unmarshalerType) || p.Implements(textType) && t != timeType)
}

// fraction refuses a number with a fraction or an exponent for an integer field: the YAML
// decoder would cut it without a word (cpus: 1.5 became 1).
func fraction(n *yaml.Node, path string) *Error {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" {
		return &Error{Line: n.Line, Field: path, Msg: Shown(n.Value) + " is not a whole number"}
	}
	return nil
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// scalar checks that a scalar node decodes into t, and says what was wanted when it does not.
func scalar(n *yaml.Node, t reflect.Type, path, want string) *Error {
	if n.Kind != yaml.ScalarNode || n.Decode(reflect.New(t).Interface()) != nil {
		return &Error{Line: n.Line, Field: path, Msg: "want " + want + ", got " + describe(n)}
	}
	return nil
}

func (c *checker) checkStruct(n *yaml.Node, t reflect.Type, path string) *Error {
	if n.Kind != yaml.MappingNode {
		return &Error{Line: n.Line, Field: path, Msg: "want a mapping of fields (name: value), got " + describe(n)}
	}
	fields := map[string]reflect.Type{}
	var names []string
	structFields(t, fields, &names)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.ShortTag() == "!!merge" {
			if e := c.check(v, t, path); e != nil {
				return e
			}
			continue
		}
		if prev, dup := seen[k.Value]; dup {
			return &Error{Line: k.Line, Field: join(path, FieldName(k.Value)), Msg: fmt.Sprintf("given twice (first at line %d)", prev)}
		}
		seen[k.Value] = k.Line
		ft, ok := fields[k.Value]
		if !ok {
			return &Error{Line: k.Line, Field: join(path, FieldName(k.Value)), Msg: unknownField(k.Value, names)}
		}
		if e := c.check(v, ft, join(path, k.Value)); e != nil {
			return e
		}
	}
	return nil
}

// structFields lists the YAML names of t's fields, as yaml.v3 names them (the tag's name, else
// the field name in lower case; inline structs contribute their fields).
func structFields(t reflect.Type, out map[string]reflect.Type, names *[]string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(","+opts+",", ",inline,") {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				structFields(ft, out, names)
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
		*names = append(*names, name)
	}
}

func (c *checker) checkMap(n *yaml.Node, t reflect.Type, path string) *Error {
	if n.Kind != yaml.MappingNode {
		return &Error{Line: n.Line, Field: path, Msg: "want a mapping (key: value), got " + describe(n)}
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return &Error{Line: k.Line, Field: path, Msg: "a key must be a plain value, got " + describe(k)}
		}
		name := keyName(k.Value)
		if prev, dup := seen[k.Value]; dup {
			return &Error{Line: k.Line, Field: join(path, name), Msg: fmt.Sprintf("given twice (first at line %d)", prev)}
		}
		seen[k.Value] = k.Line
		if e := c.check(k, t.Key(), join(path, name)); e != nil {
			e.Msg = "key: " + e.Msg
			return e
		}
		if e := c.check(v, t.Elem(), join(path, name)); e != nil {
			return e
		}
	}
	return nil
}

func join(path, part string) string {
	if path == "" {
		return part
	}
	return path + "." + part
}

// describe names what a node holds, for "want X, got Y".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if s := Shown(n.Value); s != notShown {
			return strconv.Quote(s)
		}
		switch n.ShortTag() {
		case "!!int", "!!float":
			return "a number (not shown)"
		}
		return "text (not shown)"
	}
	return "nothing"
}

// unknownField says a field is not known here, and which is meant when one is a typo away.
func unknownField(name string, known []string) string {
	sorted := append([]string(nil), known...)
	sort.Strings(sorted)
	best, bestD := "", 3
	for _, k := range sorted {
		if d := distance(strings.ToLower(name), k); d < bestD {
			best, bestD = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown field; did you mean %s? (fields here: %s)", best, strings.Join(sorted, ", "))
	}
	return "unknown field (fields here: " + strings.Join(sorted, ", ") + ")"
}

// distance is the Levenshtein distance between two short strings.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// plain is a custom type's error as its message, without the yaml package's prefixes.
func plain(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n  ")
	if m := lineRe.FindStringSubmatch(strings.SplitN(msg, "\n", 2)[0]); m != nil {
		msg = m[2]
	}
	return plainWords(Safe(msg))
}
