package profile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/oemact/oemact/firmware"
	"github.com/oemact/oemact/firmware/fileio"
	"github.com/oemact/oemact/smbios"
	"go.yaml.in/yaml/v3"
)

// CaptureOptions say where to read a machine's tables from. Empty sources mean the running
// machine (/sys/firmware/acpi/tables with the kernel log, /sys/firmware/dmi/tables).
type CaptureOptions struct {
	ACPI []string // table folders or files, as firmware.Load takes them
	// Image is a firmware image (UEFI volume or capsule, flash image, coreboot ROM) whose
	// markers are captured instead of ACPI; the running machine's SMBIOS is then not read (an
	// image holds none at rest: firmware builds it at boot), only SMBIOS when given.
	Image  string
	SMBIOS string // an SMBIOS source, as smbios.Read takes it
	Name   string // profile name; default "captured"
	Now    time.Time
}

// Capture is what was copied and what could not be.
type Capture struct {
	Dir     string
	Profile string   // path of profile.yaml
	Files   []string // files written, in order
	Notes   []string // what was not captured and why
}

// CaptureTo copies a machine's activation-relevant tables into dir, unaltered, and writes a
// profile.yaml that uses them (markers.slic.file, markers.msdm.file, smbios.file), so that
// synth and the harness accept the folder as it is. VM hardware gets the profile defaults: a
// host's NIC MACs and disk serials are not copied into a VM.
func CaptureTo(dir string, opts CaptureOptions) (*Capture, error) {
	if opts.Name == "" {
		opts.Name = "captured"
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	c := &Capture{Dir: dir}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	p := Profile{Name: opts.Name}
	source := "this machine"
	switch {
	case opts.Image != "" && len(opts.ACPI) > 0:
		return nil, fmt.Errorf("capture: a firmware image and ACPI tables were both given; capture one machine at a time")
	case opts.Image != "":
		source = "the firmware image " + filepath.Base(opts.Image)
	case len(opts.ACPI) > 0:
		source = strings.Join(opts.ACPI, ", ")
	}
	p.Description = fmt.Sprintf("captured from %s on %s", source, opts.Now.UTC().Format("2006-01-02"))

	if opts.Image != "" {
		if err := c.captureImage(dir, opts.Image, &p); err != nil {
			return nil, err
		}
	} else if err := c.captureACPI(dir, opts.ACPI, &p); err != nil {
		return nil, err
	}
	switch {
	case opts.Image != "" && opts.SMBIOS == "":
		c.Notes = append(c.Notes, "no SMBIOS: a firmware image holds none at rest (firmware builds it at boot); the profile leaves SMBIOS to QEMU's defaults (give --smbios to capture one)")
	default:
		if err := c.captureSMBIOS(dir, opts.SMBIOS, &p); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&p); err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	b := buf.Bytes()
	head := "# Captured by 'oemact capture'. The table files beside this profile are copies of real\n" +
		"# firmware, used byte for byte. MSDM product keys are in MSDM as the firmware holds them.\n"
	c.Profile = filepath.Join(dir, "profile.yaml")
	if err := os.WriteFile(c.Profile, append([]byte(head), b...), 0o644); err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	c.Files = append(c.Files, c.Profile)
	// What was written must load and synthesize as it is.
	loaded, err := Load(c.Profile)
	if err != nil {
		return c, fmt.Errorf("capture: the written profile does not load: %w", err)
	}
	if _, err := loaded.Synthesize(); err != nil {
		return c, fmt.Errorf("capture: the written profile does not synthesize: %w", err)
	}
	return c, nil
}

func (c *Capture) write(dir, name string, b []byte) error {
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	c.Files = append(c.Files, path)
	return nil
}

// table returns the bytes of a table exactly as long as its header says, or nil when they are
// not all there.
func table(t *firmware.Table) []byte {
	if t == nil || t.HeaderOnly || t.Raw == nil || int(t.Header.Length) > len(t.Raw) || t.Header.Length < firmware.HeaderSize {
		return nil
	}
	return t.Raw[:t.Header.Length]
}

func (c *Capture) captureACPI(dir string, sources []string, p *Profile) error {
	sets, err := firmware.Load(sources...)
	var fe *fileio.Error
	if errors.As(err, &fe) {
		return fmt.Errorf("capture: %w", err) // a file given that is no table file, or too large
	}
	if err != nil {
		c.Notes = append(c.Notes, fmt.Sprintf("ACPI tables not captured: %v", err))
		return nil
	}
	if len(sets) != 1 {
		return fmt.Errorf("capture: the ACPI sources make %d table sets; capture one machine at a time", len(sets))
	}
	return c.captureSet(dir, sets[0], p)
}

// captureImage copies the markers found in a firmware image.
func (c *Capture) captureImage(dir, path string, p *Profile) error {
	set, err := firmware.LoadImage(path)
	if err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	if err := c.captureSet(dir, set, p); err != nil {
		return err
	}
	for _, sig := range firmware.MarkerSignatures() {
		if t := set.First(sig); t != nil && t.Location != nil {
			c.Notes = append(c.Notes, fmt.Sprintf("%s copied from %s", sig, t.Location))
		}
	}
	return nil
}

// captureSet copies the activation tables of one set and takes the platform OEM IDs from it.
func (c *Capture) captureSet(dir string, set *firmware.Set, p *Profile) error {
	for _, sig := range []string{"SLIC", "MSDM", "FACP", "RSDT", "XSDT"} {
		ts := set.Lookup(sig)
		if len(ts) == 0 {
			if firmware.IsMarker(sig) {
				c.Notes = append(c.Notes, fmt.Sprintf("no %s table in %s", sig, set.Name))
			}
			continue
		}
		if len(ts) > 1 {
			c.Notes = append(c.Notes, fmt.Sprintf("%d %s tables; the first (%s) was captured", len(ts), sig, ts[0].Name))
		}
		b := table(ts[0])
		if b == nil {
			if ts[0].HeaderOnly {
				continue // a kernel log header: used for the OEM IDs below
			}
			c.Notes = append(c.Notes, fmt.Sprintf("%s (%s) is shorter than its length field: not captured", sig, ts[0].Name))
			continue
		}
		if err := c.write(dir, sig, b); err != nil {
			return err
		}
		switch sig {
		case "SLIC":
			p.Markers.SLIC = &SLIC{File: sig}
		case "MSDM":
			p.Markers.MSDM = &MSDM{File: sig}
		}
	}
	// The platform OEM IDs: the root table's when known (sysfs lacks it; the kernel log gives it),
	// else the FADT's. QEMU replaces them with the SLIC header's when a SLIC is supplied.
	for _, sig := range []string{"XSDT", "RSDT", "FACP"} {
		if t := set.First(sig); t != nil {
			p.ACPI.OEMID = strings.TrimRight(firmware.KernelLogID(t.Header.OEMID[:]), " ")
			p.ACPI.OEMTableID = strings.TrimRight(firmware.KernelLogID(t.Header.OEMTableID[:]), " ")
			if asciiID(p.ACPI.OEMID, 6) != nil || asciiID(p.ACPI.OEMTableID, 8) != nil {
				c.Notes = append(c.Notes, fmt.Sprintf("the %s OEM IDs are not printable ASCII; the profile leaves them to QEMU", sig))
				p.ACPI.OEMID, p.ACPI.OEMTableID = "", ""
			}
			p.ACPI.OEMRevision = t.Header.OEMRevision
			break
		}
	}
	for _, n := range set.Notes {
		c.Notes = append(c.Notes, n.Message)
	}
	return nil
}

func (c *Capture) captureSMBIOS(dir, source string, p *Profile) error {
	var in *smbios.Info
	var err error
	if source == "" {
		in, err = smbios.ReadLive()
	} else {
		in, err = smbios.Read(source)
		var fe *fileio.Error
		if errors.As(err, &fe) {
			return fmt.Errorf("capture: %w", err)
		}
	}
	if in == nil {
		c.Notes = append(c.Notes, fmt.Sprintf("SMBIOS not captured: %v", err))
		return nil
	}
	if err != nil {
		var fe *smbios.FormatError
		if !errors.As(err, &fe) {
			return fmt.Errorf("capture: %w", err)
		}
		c.Notes = append(c.Notes, fmt.Sprintf("SMBIOS has problems (kept as read): %v", err))
	}
	b, err := in.DumpBin()
	if err != nil {
		c.Notes = append(c.Notes, fmt.Sprintf("SMBIOS not captured: %v", err))
		return nil
	}
	if err := c.write(dir, "smbios.bin", b); err != nil {
		return err
	}
	p.SMBIOS.File = "smbios.bin"
	return nil
}
