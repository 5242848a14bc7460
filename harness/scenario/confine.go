package scenario

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/oemact/oemact/harness/qemu"
	"github.com/oemact/oemact/oemact/profile"
	"github.com/oemact/oemact/oemact/service/api"
	"github.com/oemact/oemact/oemact/service/rules"
)

// Options tune LoadWith and ParseWith.
type Options struct {
	// Catalogs add to the built-in key catalog, before the scenario's own catalog: does.
	Catalogs []string
	// Confine, when set, is a folder that profile:, board: and catalog: references, and the files
	// the profiles name, must stay inside once symbolic links are resolved: scenario files from
	// pull requests cannot reach the rest of the machine ('oemact run --confine').
	Confine string
}

// LoadWith reads and validates a scenario file with options.
func LoadWith(path string, o Options) (*Scenario, error) {
	return load(path, o)
}

// inside reports whether path, symbolic links resolved, is in the folder root (resolved too).
// A path that does not exist is judged by its name: loading it fails anyway.
func inside(root, path string) (bool, error) {
	r, err := realPath(root)
	if err != nil {
		return false, err
	}
	p, err := realPath(path)
	if err != nil {
		return false, err
	}
	rel, err := filepath.Rel(r, p)
	if err != nil {
		return false, nil
	}
	return rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel), nil
}

func realPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(abs)
	if errors.Is(err, os.ErrNotExist) {
		// Resolve what exists of it: a missing file under a linked folder is still where the
		// link points.
		dir, err := realPath(filepath.Dir(abs))
		if err != nil || dir == filepath.Dir(abs) && filepath.Dir(abs) == abs {
			return abs, nil
		}
		return filepath.Join(dir, filepath.Base(abs)), nil
	}
	return real, err
}

// reference resolves a file a scenario names and, when confined, checks it stays inside.
func (p *parser) reference(field, name string) (string, error) {
	path := p.resolve(name)
	if p.confine == "" {
		return path, nil
	}
	in, err := inside(p.confine, path)
	if err != nil {
		return "", p.doc.Errorf(field, "%v", err)
	}
	if !in {
		return "", p.doc.Errorf(field, "%s is outside %s: with --confine, scenarios name files inside that folder tree only", name, p.confine)
	}
	return path, nil
}

// loadProfile loads a profile a scenario names; when confined, the files the profile names must
// stay inside too.
func (p *parser) loadProfile(field, name string) (*profile.Profile, error) {
	path, err := p.reference(field, name)
	if err != nil {
		return nil, err
	}
	prof, err := profile.Load(path)
	if err != nil {
		return nil, p.doc.Errorf(field, "%v", err)
	}
	if p.confine != "" {
		for _, f := range prof.Files() {
			in, err := inside(p.confine, f.Path)
			if err != nil {
				return nil, p.doc.Errorf(field, "%v", err)
			}
			if !in {
				return nil, p.doc.Errorf(field, "%s: %s names %s, outside %s: with --confine, profiles name files inside that folder tree only",
					name, f.Field, f.Name, p.confine)
			}
		}
		if err := p.confineImage(field, name, prof); err != nil {
			return nil, err
		}
	}
	return prof, nil
}

// confineImage checks that the files an OS image reaches (a backing chain, a qcow2's data file, a
// VMDK's extents), which QEMU would open and the guest could read, stay inside the confined tree.
func (p *parser) confineImage(field, name string, prof *profile.Profile) error {
	for i, d := range prof.VM.Disks {
		if d.Path == "" {
			continue
		}
		files, err := qemu.ImageFiles(context.Background(), d.Path, d.Format)
		if err != nil {
			return p.doc.Errorf(field, "%s: vm.disks.%d.file: with --confine, what an image references must be known: %v", name, i, err)
		}
		for _, f := range files[1:] {
			in, err := inside(p.confine, f)
			if err != nil {
				return p.doc.Errorf(field, "%v", err)
			}
			if !in {
				return p.doc.Errorf(field, "%s: vm.disks.%d.file: the image %s reads %s, outside %s: with --confine, images reach files inside that folder tree only",
					name, i, d.File, f, p.confine)
			}
		}
	}
	return nil
}

// clockRange is where the scenario clock may go: the times the activation service answers at,
// less the validity a KMS activation at the last of them grants (see api.MaxTime).
func clockRange() (time.Time, time.Time) {
	return api.MinTime, api.MaxTime.Add(-rules.DefaultConfig().KMS.Validity)
}

func checkClock(t time.Time) error {
	first, last := clockRange()
	if t.Before(first) || t.After(last) {
		return fmt.Errorf("%s is outside the supported range, %s to %s (UTC)", t.Format(time.RFC3339), first.Format(time.RFC3339), last.Format(time.RFC3339))
	}
	return nil
}
