package scenario

import (
	"fmt"
	"regexp"
	"sync"
)

// StepRef is what names a step in test reports: its id, else its kind and machine.
type StepRef struct{ ID, Kind, Machine string }

// StepNames are the stable test names of a scenario's steps, in order: a step's id when it has
// one, else its kind and machine ("boot pc", "advance"), with " #2", " #3"... on the second and
// later steps of one name, counting its equals only. Inserting a step so renames no other step
// unless it is the unnamed equal of a later one, and a step with an id is never renamed. Step
// numbers and descriptions are not part of a name: they change when a step is inserted or an
// amount edited.
func StepNames(steps []StepRef) []string {
	names := make([]string, len(steps))
	taken := map[string]bool{}
	for i, st := range steps {
		if st.ID != "" && !taken[st.ID] {
			names[i] = st.ID
			taken[st.ID] = true
		}
	}
	seen := map[string]int{}
	for i, st := range steps {
		if names[i] != "" {
			continue
		}
		base := st.ID // an id given twice (a hand-edited report): numbered like the others
		if base == "" {
			base = st.Kind
			if st.Machine != "" {
				base += " " + st.Machine
			}
		}
		name := base
		for taken[name] {
			seen[base]++
			name = fmt.Sprintf("%s #%d", base, seen[base]+1)
		}
		names[i] = name
		taken[name] = true
	}
	return names
}

// StepNames are the test names of the scenario's steps (the package function StepNames).
func (sc *Scenario) StepNames() []string {
	refs := make([]StepRef, len(sc.Steps))
	for i, st := range sc.Steps {
		refs[i] = StepRef{ID: st.ID, Kind: string(st.Kind)}
		if st.Machine != nil {
			refs[i].Machine = st.Machine.Name
		}
	}
	return StepNames(refs)
}

var stepIDPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`) })

// stepID checks a step's id: a word (so it never equals the "kind machine" name of a step
// without one), not a kind's name (the name of a step without a machine), not another step's.
func (p *parser) stepID(field, id string) (string, error) {
	if id == "" {
		return "", nil
	}
	if !stepIDPattern().MatchString(id) {
		return "", p.doc.Errorf(field+".id", "%q: want 1 to 64 of A-Z a-z 0-9 . _ -, starting with a letter or digit", id)
	}
	if _, ok := Kind(id).Spec(); ok {
		return "", p.doc.Errorf(field+".id", "%q is the name of a step kind: choose another id", id)
	}
	if line, dup := p.ids[id]; dup {
		return "", p.doc.Errorf(field+".id", "%q is the id of the step at line %d too: ids name one step each", id, line)
	}
	if p.ids == nil {
		p.ids = map[string]int{}
	}
	p.ids[id] = p.doc.Line(field)
	return id, nil
}
