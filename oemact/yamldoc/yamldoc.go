// Package yamldoc decodes the YAML files oemact reads (profiles, scenarios, simulation specs)
// strictly, and makes errors that name the file, the line and the field path, and say in the
// document's words what belongs there ("vm.cpus: want a whole number, got "many""), so a user can
// go straight to the mistake without knowing the Go types behind the document. Errors quote
// nothing of a document but what looks like a name or a number (see Safe).
//
// It knows nothing of what the documents mean.
package yamldoc

import (
	"fmt"
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

// Decode decodes b into v (a pointer), rejecting unknown fields. name is the file name used in
// errors. An empty document is an error. Errors are *Error: the file, the line, the dotted path
// of the field and what was wanted there, in the document's words, never a Go type's name.
func Decode(b []byte, name string, v any) (*Doc, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, yamlError(name, err)
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return nil, &Error{File: name, Msg: "empty document"}
	}
	top := root.Content[0]
	if t := reflect.TypeOf(v); t != nil && t.Kind() == reflect.Pointer {
		if e := newChecker(top).check(top, t.Elem(), ""); e != nil {
			e.File = name
			return nil, e
		}
	}
	if err := top.Decode(v); err != nil {
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
		return &Error{File: name, Line: line, Msg: plainWords(m[2])}
	}
	return &Error{File: name, Msg: plainWords(first)}
}

// The patterns compile on first use: the same binary is the guest's /init, where package
// initialisation runs under emulation at every boot.
var (
	quotedRe   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile("`[^`]*`") })
	notFoundRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`field (.*) not found in (.*)$`) })
	fieldRe    = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]{0,31}(\.[A-Za-z0-9_-]{1,31}){0,3}$`)
	})
	// unmarshalRe matches yaml's type error after Safe: the value quoted or replaced.
	unmarshalRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile("cannot unmarshal !!(\\w+) (`[^`]*`|a value \\(not shown\\)) into \\S+")
	})
	typeNotFoundRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`field (.*) not found in type \S+$`) })
	tagWords       = map[string]string{"str": "text", "int": "a number", "float": "a number", "bool": "true or false",
		"map": "a mapping", "seq": "a list", "null": "nothing", "timestamp": "a time", "binary": "binary data"}
)

// plainWords rewords what Safe left of the yaml package's messages that name Go types: the
// walk in Decode reports type mistakes first, this covers what it does not foresee.
func plainWords(msg string) string {
	msg = unmarshalRe().ReplaceAllStringFunc(msg, func(s string) string {
		m := unmarshalRe().FindStringSubmatch(s)
		what := tagWords[m[1]]
		if what == "" {
			what = "a value"
		}
		return fmt.Sprintf("%s (%s) does not belong here", what, strings.Trim(m[2], "`"))
	})
	return typeNotFoundRe().ReplaceAllString(msg, "unknown field $1")
}

// FieldName returns s when it looks like a field name (words of letters, digits, _ and -, up to
// four joined by dots; the decoder's own "..." of a cut value does not qualify), else
// a placeholder: for error messages about files whose content must not be shown.
func FieldName(s string) string {
	if fieldRe().MatchString(s) {
		return s
	}
	return "(a name that is not shown)"
}

// notShown stands for a value an error does not quote.
const notShown = "a value (not shown)"

var (
	numberRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[-+]?[0-9.][0-9a-fA-FxXoO._+-]{0,19}$`) })
	keyRe    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_./-]{0,63}$`) })
)

// Shown returns a value for an error message when it looks like a field name or a number, else
// a placeholder: what a document holds is not shown, since the file may not be one the user
// chose to show.
func Shown(s string) string {
	if fieldRe().MatchString(s) || numberRe().MatchString(s) {
		return s
	}
	return notShown
}

// keyName is a mapping key for a field path: a name or label (letters, digits, '_', '.', '/',
// '-'), else a placeholder.
func keyName(s string) string {
	if keyRe().MatchString(s) {
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
		return notShown
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
