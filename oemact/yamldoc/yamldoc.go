// Package yamldoc decodes the YAML files oemact reads (profiles, scenarios) strictly, and makes
// errors that name the file, the line and the field, so a user can go straight to the mistake.
//
// It knows nothing of what the documents mean.
package yamldoc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// Error is a problem in a YAML document, located by file, line and field.
type Error struct {
	File  string
	Line  int
	Field string // dotted path, e.g. "vm.nics.1.mac"
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:", e.Line)
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Doc is a decoded document, kept to locate fields for later errors.
type Doc struct {
	File string
	root *yaml.Node
}

// Decode decodes b into v, rejecting unknown fields. name is the file name used in errors. An
// empty document is an error.
func Decode(b []byte, name string, v any) (*Doc, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, yamlError(name, err)
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return nil, &Error{File: name, Msg: "empty document"}
	}
	if err := wholeNumbers(root.Content[0], reflect.TypeOf(v), ""); err != nil {
		err.File = name
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(name, err)
	}
	return &Doc{File: name, root: &root}, nil
}

var lineRe = regexp.MustCompile(`^line (\d+): (.*)$`)

// yamlError turns yaml's "yaml: line 3: ..." into an Error at line 3 (the first problem only).
// The YAML decoder quotes the text it could not take; Safe keeps only what looks like a field
// name of it, since the file may not be one the user chose to show (a scenario's profile: can
// name any file).
func yamlError(name string, err error) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n  ")
	first := Safe(strings.SplitN(msg, "\n", 2)[0])
	if m := lineRe.FindStringSubmatch(first); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: name, Line: line, Msg: m[2]}
	}
	return &Error{File: name, Msg: msg}
}

// The patterns compile on first use: the same binary is the guest's /init, where package
// initialisation runs under emulation at every boot.
var (
	quotedRe   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile("`[^`]*`") })
	notFoundRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`field (.*) not found in (.*)$`) })
	fieldRe    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]{0,31}(\.[A-Za-z0-9_-]{1,31}){0,3}$`) })
)

// FieldName returns s when it looks like a field name (words of letters, digits, _ and -, up to
// four joined by dots; the decoder's own "..." of a cut value does not qualify), else
// a placeholder: for error messages about files whose content must not be shown.
func FieldName(s string) string {
	if fieldRe().MatchString(s) {
		return s
	}
	return "(a name that is not shown)"
}

// Safe rewrites a YAML decoder's message so that it quotes nothing of the document but what
// looks like a field name: "cannot unmarshal !!str `root:$6$...`" keeps the type and drops the
// text; "field X not found" keeps X only when it looks like a field name.
func Safe(msg string) string {
	if m := notFoundRe().FindStringSubmatchIndex(msg); m != nil {
		return msg[:m[2]] + FieldName(msg[m[2]:m[3]]) + msg[m[3]:]
	}
	return quotedRe().ReplaceAllStringFunc(msg, func(q string) string {
		if v := q[1 : len(q)-1]; fieldRe().MatchString(v) {
			return q
		}
		return "a value (not shown)"
	})
}

// Errorf makes an Error for the field at a dotted path, at the line of that field in the file, or
// of its closest parent that is present.
func (d *Doc) Errorf(path, format string, args ...any) error {
	return &Error{File: d.File, Line: d.Line(path), Field: path, Msg: fmt.Sprintf(format, args...)}
}

// Line finds the line of a dotted path ("steps.3.expect.status"); sequence items are numbered
// from 0.
func (d *Doc) Line(path string) int {
	if d == nil || d.root == nil || len(d.root.Content) == 0 {
		return 0
	}
	n := d.root.Content[0]
	best := n.Line
	if path == "" {
		return best
	}
	for _, part := range strings.Split(path, ".") {
		var next *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == part {
					next = n.Content[i+1]
					best = n.Content[i].Line
					break
				}
			}
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(part); err == nil && i >= 0 && i < len(n.Content) {
				next = n.Content[i]
				best = next.Line
			}
		}
		if next == nil {
			return best
		}
		n = next
	}
	return best
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

// wholeNumbers finds a number with a fraction or an exponent given for an integer field: the YAML
// decoder would cut it without a word (cpus: 1.5 became 1). It walks the document beside the
// type it decodes into; types that decode themselves are left to their own checks.
func wholeNumbers(n *yaml.Node, t reflect.Type, path string) *Error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil
	}
	join := func(part string) string {
		if path == "" {
			return part
		}
		return path + "." + part
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			if f, ok := fieldByTag(t, key); ok {
				if err := wholeNumbers(n.Content[i+1], f.Type, join(key)); err != nil {
					return err
				}
			}
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := wholeNumbers(n.Content[i+1], t.Elem(), join(n.Content[i].Value)); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return nil
		}
		for i, c := range n.Content {
			if err := wholeNumbers(c, t.Elem(), join(strconv.Itoa(i))); err != nil {
				return err
			}
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" {
			return &Error{Line: n.Line, Field: path, Msg: fmt.Sprintf("%s is not a whole number", n.Value)}
		}
	}
	return nil
}

// fieldByTag finds the struct field a YAML key decodes into (its yaml tag name, or its name in
// lower case, as the decoder does).
func fieldByTag(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		if name == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}
