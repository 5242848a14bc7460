package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/oemact/oemact/harness/runner"
)

// Files are the report files `oemact run` writes: the paths of --json, --junit and --html, each
// empty when not asked for.
type Files struct {
	JSON  string
	JUnit string
	HTML  string
}

// Write writes each report asked for, creating missing parent folders. A report is written to a
// temporary file beside its path and renamed into place, so a reader never sees half a report. It
// writes every report it can and returns all failures, each naming its file.
func (f Files) Write(r *runner.Run) error {
	var errs []error
	for _, o := range []struct {
		what, path string
		write      func(io.Writer, *runner.Run) error
	}{
		{"JSON report", f.JSON, WriteJSON},
		{"JUnit report", f.JUnit, WriteJUnit},
		{"HTML report", f.HTML, WriteHTML},
	} {
		if o.path == "" {
			continue
		}
		if err := writeFile(o.path, r, o.write); err != nil {
			errs = append(errs, fmt.Errorf("writing the %s %s: %w", o.what, o.path, err))
		}
	}
	return errors.Join(errs...)
}

func writeFile(path string, r *runner.Run, write func(io.Writer, *runner.Run) error) error {
	var buf bytes.Buffer
	if err := write(&buf, r); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	// CreateTemp makes the file 0600; a report is for everyone who can read the folder.
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
