package guestimage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Link makes path name the image, so that a profile can name it by a path of its own (the
// fixture profiles name fixtures/images/debian.img): a hard link, which stays inside the folder
// tree a scenario is confined to, or a symbolic link where a hard link cannot be made (another
// file system). A file already at path that is not the image is replaced. It says which link it
// made ("hard link", "symbolic link", or "already the image").
func (im *Image) Link(path string) (string, error) {
	if st, err := os.Stat(path); err == nil {
		if is, err := os.Stat(im.Path); err == nil && os.SameFile(st, is) {
			return "already the image", nil
		}
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".new")
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	how := "hard link"
	if err := os.Link(im.Path, tmp); err != nil {
		if !errors.Is(err, syscall.EXDEV) && !errors.Is(err, syscall.EPERM) && !errors.Is(err, syscall.EMLINK) {
			return "", fmt.Errorf("linking the guest image to %s: %w", path, err)
		}
		how = "symbolic link"
		abs, err := filepath.Abs(im.Path)
		if err != nil {
			return "", err
		}
		if err := os.Symlink(abs, tmp); err != nil {
			return "", fmt.Errorf("linking the guest image to %s: %w", path, err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("linking the guest image to %s: %w", path, err)
	}
	return how, nil
}
