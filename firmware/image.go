package firmware

import (
	"fmt"

	"github.com/oemact/oemact/firmware/fileio"
	"github.com/oemact/oemact/firmware/fwimage"
	"github.com/oemact/oemact/firmware/sniff"
)

// Firmware images (UEFI volumes and capsules, flash images, coreboot ROMs, any blob holding
// tables) are walked by package fwimage; the checksummed ACPI tables found in one image form one
// set, each table carrying its Location in the image.

// LoadImage reads a firmware image (up to fwimage.DefaultLimits.File bytes) and returns its tables
// as one set. A file that sniff does not call an image is an error.
func LoadImage(path string) (*Set, error) {
	b, err := fileio.ReadFile(path, fwimage.DefaultLimits.File)
	if err != nil {
		return nil, fmt.Errorf("reading firmware image: %w", err)
	}
	if d := sniff.Detect(b); d.Kind != sniff.FirmwareImage {
		return nil, fmt.Errorf("%s is not a firmware image but %s: it holds no UEFI volume or capsule, flash descriptor, FMAP or CBFS, and no ACPI table past its start", path, d.Evidence)
	}
	return ImageSet(path, b), nil
}

// ImageSet walks the image in b (read from path) and returns a set of the tables found, named by
// signature (numbered when repeated) and carrying their location; what the walk could not read
// is in the set's notes.
func ImageSet(path string, b []byte) *Set {
	im := fwimage.Walk(path, b, fwimage.Limits{})
	s := NewSet(path, SetImage)
	s.Files = []string{path}
	s.ImageKind = im.Kind.String()
	for _, ft := range im.Tables {
		t := NewTable("", path, FromImage, ft.Raw)
		t.Name = t.Signature()
		loc := ft.Loc
		t.Location = &loc
		s.Tables = append(s.Tables, t)
	}
	s.Notes = append(s.Notes, im.Findings()...)
	s.numberDuplicates()
	return s
}
