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
	"regexp"
	"strconv"
	"strings"

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
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(name, err)
	}
	return &Doc{File: name, root: &root}, nil
}

var lineRe = regexp.MustCompile(`^line (\d+): (.*)$`)

// yamlError turns yaml's "yaml: line 3: ..." into an Error at line 3 (the first problem only).
func yamlError(name string, err error) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n  ")
	first := strings.SplitN(msg, "\n", 2)[0]
	if m := lineRe.FindStringSubmatch(first); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: name, Line: line, Msg: m[2]}
	}
	return &Error{File: name, Msg: msg}
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
