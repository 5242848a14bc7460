package sniff

import (
	"errors"
	"os"
	"path/filepath"
	"sort"

	"github.com/oemact/oemact/firmware/fileio"
	"github.com/oemact/oemact/firmware/fwimage"
	"github.com/oemact/oemact/smbios"
)

// Sources are a command line's paths sorted by the reader each one goes to.
type Sources struct {
	// ACPI are table folders, table files and acpidump text, for firmware.Load.
	ACPI []string
	// SMBIOS are SMBIOS files and sysfs-style folders (smbios_entry_point and DMI), for
	// smbios.Read.
	SMBIOS []string
	// Images are firmware images.
	Images []string
	// Unrecognized are files nothing recognized, each with a message that says what was looked
	// for.
	Unrecognized []Unrecognized
}

// Unrecognized is a file Classify could not place.
type Unrecognized struct {
	Path    string
	Message string
}

// Classify sorts paths by content:
//   - a folder holding smbios_entry_point and DMI is SMBIOS (a copy of /sys/firmware/dmi/tables);
//   - any other folder is a table folder for firmware.Load (which skips what in it is not ACPI);
//     the SMBIOS data and firmware images in it are listed as such too;
//   - a file goes where Detect says; text that is not acpidump output, and a file nothing
//     recognizes, are Unrecognized.
//
// Errors are for paths that cannot be read at all.
func Classify(paths []string) (*Sources, error) {
	s := &Sources{}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if st.IsDir() {
			if err := s.addDir(p); err != nil {
				return nil, err
			}
			continue
		}
		b, err := ReadFile(p, ImageHead)
		if err != nil {
			return nil, err
		}
		switch d := Detect(b); {
		case d.Kind.IsACPI():
			s.ACPI = append(s.ACPI, p)
		case d.Kind == SMBIOS:
			s.SMBIOS = append(s.SMBIOS, p)
		case d.Kind == FirmwareImage:
			s.Images = append(s.Images, p)
		case d.Kind == Text:
			s.Unrecognized = append(s.Unrecognized, Unrecognized{p,
				"text that is not acpidump output: looked for " + LookedFor})
		default:
			s.Unrecognized = append(s.Unrecognized, Unrecognized{p, UnrecognizedMessage(len(b))})
		}
	}
	sort.Strings(s.SMBIOS)
	return s, nil
}

func (s *Sources) addDir(dir string) error {
	if isFile(filepath.Join(dir, smbios.SysfsEntryPointFile)) && isFile(filepath.Join(dir, smbios.SysfsTableFile)) {
		s.SMBIOS = append(s.SMBIOS, dir)
		return nil
	}
	s.ACPI = append(s.ACPI, dir)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		f := filepath.Join(dir, e.Name())
		b, err := ReadFile(f, ImageHead)
		if err != nil {
			return err
		}
		switch Detect(b).Kind {
		case SMBIOS:
			s.SMBIOS = append(s.SMBIOS, f)
		case FirmwareImage:
			s.Images = append(s.Images, f)
		}
	}
	return nil
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// ImageHead is how much of a file over fileio.TableLimit is read to see whether it is a firmware
// image: its structures start at offset 0 (or its descriptor's regions say where).
const ImageHead = 1 << 20

// ReadFile reads a file handed over as tables, SMBIOS data or acpidump text: a regular file of at
// most fileio.TableLimit bytes (pipes, devices and sockets are refused before a byte is read). A
// larger file is read only when its first ImageHead bytes show a firmware image structure
// (fwimage.DetectStructure), and then up to imageLimit bytes but at least those: ImageHead bytes
// say what the file is, fwimage.DefaultLimits.File reads the image whole. Any other larger file
// is refused with fileio.ErrTooLarge.
func ReadFile(path string, imageLimit int64) ([]byte, error) {
	b, err := fileio.ReadFile(path, fileio.TableLimit)
	if !errors.Is(err, fileio.ErrTooLarge) {
		return b, err
	}
	head, herr := fileio.Head(path, ImageHead)
	if herr != nil {
		return nil, herr
	}
	if _, ok := fwimage.DetectStructure(head); !ok {
		return nil, err
	}
	if imageLimit <= ImageHead {
		return head, nil
	}
	return fileio.ReadFile(path, imageLimit)
}
