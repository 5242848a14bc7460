package qemu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/oemact/oemact/harness/hosttool"
)

// Bounds on asking qemu-img what an image references.
const (
	imageInfoTimeout = 30 * time.Second
	maxImageInfo     = 1 << 20
)

// imageInfo is what qemu-img info --output=json says of one image: the files it references.
type imageInfo struct {
	BackingName        string `json:"backing-filename"`
	BackingFormat      string `json:"backing-filename-format"`
	FormatSpecificData struct {
		Data struct {
			DataFile string `json:"data-file"`
			Extents  []struct {
				Filename string `json:"filename"`
			} `json:"extents"`
		} `json:"data"`
	} `json:"format-specific"`
}

// maxBackingChain bounds the backing chain ImageFiles follows.
const maxBackingChain = 16

// ImageFiles lists every file QEMU opens to read an image of a format: the image itself, its
// backing chain, a qcow2's external data file and a VMDK's extent files, as qemu-img info reports
// them, one image of the chain at a time. A reference that is not a local file (json:, nbd:,
// http:...) is an error before anything opens it. It tells whoever confines what a VM may read
// whether an image reaches outside.
func ImageFiles(ctx context.Context, path, format string) ([]string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	tool, err := hosttool.Find("qemu-img")
	if err != nil {
		return nil, err
	}
	files := []string{abs}
	for range maxBackingChain {
		im, err := infoOf(ctx, tool, abs, format)
		if err != nil {
			return nil, err
		}
		refs := []string{im.FormatSpecificData.Data.DataFile}
		for _, e := range im.FormatSpecificData.Data.Extents {
			refs = append(refs, e.Filename)
		}
		for _, r := range refs {
			if r != "" {
				p, err := localRef(abs, r)
				if err != nil {
					return nil, err
				}
				files = append(files, p)
			}
		}
		if im.BackingName == "" {
			return dedupe(files), nil
		}
		if abs, err = localRef(abs, im.BackingName); err != nil {
			return nil, err
		}
		if format = im.BackingFormat; format == "" {
			return nil, fmt.Errorf("%s has a backing file without a format (%s): QEMU would have to guess it", files[len(files)-1], im.BackingName)
		}
		files = append(files, abs)
	}
	return nil, fmt.Errorf("%s: a backing chain of more than %d images", files[0], maxBackingChain)
}

// localRef resolves a file an image names, relative to the image's folder; a reference that is
// not a local file is an error.
func localRef(image, ref string) (string, error) {
	if strings.HasPrefix(ref, "json:") || strings.Contains(ref, "://") || strings.HasPrefix(ref, "nbd:") {
		return "", fmt.Errorf("%s references %q, which is not a local file", image, ref)
	}
	if !filepath.IsAbs(ref) {
		ref = filepath.Join(filepath.Dir(image), ref)
	}
	return filepath.Clean(ref), nil
}

// infoOf runs qemu-img info on one image, without opening its backing file.
func infoOf(ctx context.Context, tool, path, format string) (*imageInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, imageInfoTimeout)
	defer cancel()
	var out, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, tool, "info", "--output=json", "-f", format, path)
	cmd.Stdout, cmd.Stderr = &limited{w: &out, n: maxImageInfo}, &limited{w: &stderr, n: 4 << 10}
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("qemu-img info %s: %v: %s", path, err, strings.TrimSpace(stderr.String()))
	}
	var im imageInfo
	if err := json.Unmarshal(out.Bytes(), &im); err != nil {
		return nil, fmt.Errorf("qemu-img info %s: unexpected output: %w", path, err)
	}
	return &im, nil
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	out := ss[:0]
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// limited writes at most n bytes to w, then fails.
type limited struct {
	w *bytes.Buffer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	if l.w.Len()+len(p) > l.n {
		return 0, errors.New("too much output")
	}
	return l.w.Write(p)
}
