// Package hosttool finds the host programs oemact drives (QEMU, swtpm, iasl, dmidecode...) and,
// when one is missing, says which Debian package or environment variable provides it.
//
// It only locates programs; running them is the caller's business.
package hosttool

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
)

// Tool describes a host program.
type Tool struct {
	Name    string // executable name looked up in PATH
	Package string // Debian package that provides it
	Env     string // environment variable that overrides the path, if any
}

var known = map[string]Tool{
	"qemu-system-x86_64": {Name: "qemu-system-x86_64", Package: "qemu-system-x86", Env: "OEMACT_QEMU"},
	"swtpm":              {Name: "swtpm", Package: "swtpm", Env: "OEMACT_SWTPM"},
	"swtpm_setup":        {Name: "swtpm_setup", Package: "swtpm-tools"},
	"iasl":               {Name: "iasl", Package: "acpica-tools"},
	"acpixtract":         {Name: "acpixtract", Package: "acpica-tools"},
	"acpidump":           {Name: "acpidump", Package: "acpica-tools"},
	"dmidecode":          {Name: "dmidecode", Package: "dmidecode"},
	"apt-get":            {Name: "apt-get", Package: "apt"},
	"apt-cache":          {Name: "apt-cache", Package: "apt"},
	"dpkg-deb":           {Name: "dpkg-deb", Package: "dpkg"},
	"chromium":           {Name: "chromium", Package: "chromium", Env: "OEMACT_CHROMIUM"},
	"gcc":                {Name: "gcc", Package: "gcc"},
	"openssl":            {Name: "openssl", Package: "openssl"},
	"virt-xml-validate":  {Name: "virt-xml-validate", Package: "libvirt-clients"},
	"xmllint":            {Name: "xmllint", Package: "libxml2-utils"},
	"qemu-ga":            {Name: "qemu-ga", Package: "qemu-guest-agent"},
	"qemu-img":           {Name: "qemu-img", Package: "qemu-utils"},
	// Building the Debian guest image (harness/guestimage) and checking it.
	"mmdebstrap":        {Name: "mmdebstrap", Package: "mmdebstrap"},
	"mkfs.ext4":         {Name: "mkfs.ext4", Package: "e2fsprogs"},
	"e2fsck":            {Name: "e2fsck", Package: "e2fsprogs"},
	"debugfs":           {Name: "debugfs", Package: "e2fsprogs"},
	"mkfs.vfat":         {Name: "mkfs.vfat", Package: "dosfstools"},
	"fsck.vfat":         {Name: "fsck.vfat", Package: "dosfstools"},
	"mmd":               {Name: "mmd", Package: "mtools"},
	"mcopy":             {Name: "mcopy", Package: "mtools"},
	"mdir":              {Name: "mdir", Package: "mtools"},
	"mtype":             {Name: "mtype", Package: "mtools"},
	"syslinux":          {Name: "syslinux", Package: "syslinux"},
	"grub-mkstandalone": {Name: "grub-mkstandalone", Package: "grub-common"},
	"sfdisk":            {Name: "sfdisk", Package: "fdisk"},
	"UEFIExtract":       {Name: "UEFIExtract", Package: "uefitool-cli"},
	"cbfstool":          {Name: "cbfstool", Package: "coreboot-utils"},
	"fmaptool":          {Name: "fmaptool", Package: "coreboot-utils"},
	"ifdtool":           {Name: "ifdtool", Package: "coreboot-utils"},
}

// Lookup returns the description of a known tool, or a bare one for an unknown name.
func Lookup(name string) Tool {
	if t, ok := known[name]; ok {
		return t
	}
	return Tool{Name: name}
}

// Known lists the tools this package knows, sorted by name.
func Known() []Tool {
	out := make([]Tool, 0, len(known))
	for _, t := range known {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// NotFoundError says a tool is missing and how to get it.
type NotFoundError struct {
	Tool Tool
	Err  error
}

func (e *NotFoundError) Error() string {
	var fix []string
	if e.Tool.Package != "" {
		fix = append(fix, fmt.Sprintf("install the %s package (apt-get install %s)", e.Tool.Package, e.Tool.Package))
	}
	if e.Tool.Env != "" {
		fix = append(fix, "set "+e.Tool.Env+" to its path")
	}
	msg := e.Tool.Name + " not found"
	if e.Err != nil && !strings.Contains(e.Err.Error(), "executable file not found") {
		msg += ": " + e.Err.Error()
	}
	if len(fix) > 0 {
		msg += ": " + strings.Join(fix, " or ")
	}
	return msg
}

func (e *NotFoundError) Unwrap() error { return e.Err }

// Find returns the path of a tool: its environment override when set, else the PATH entry.
// /usr/sbin and /sbin are searched too, where Debian puts dmidecode, even when PATH lacks them.
func Find(name string) (string, error) {
	t := Lookup(name)
	if t.Env != "" {
		if p := os.Getenv(t.Env); p != "" {
			if st, err := os.Stat(p); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
				if err == nil {
					err = fmt.Errorf("%s=%s is not an executable file", t.Env, p)
				}
				return "", &NotFoundError{Tool: t, Err: err}
			}
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := dir + "/" + name
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", &NotFoundError{Tool: t}
}

// GoCommand returns the go command that builds the guest binaries: $GOROOT/bin/go when the
// environment names a GOROOT (go test sets it for the tests it runs), else go on PATH, else the
// official install's /usr/local/go/bin/go.
func GoCommand() (string, error) {
	if root := os.Getenv("GOROOT"); root != "" {
		if p := root + "/bin/go"; isExecutable(p) {
			return p, nil
		}
	}
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	if p := "/usr/local/go/bin/go"; isExecutable(p) {
		return p, nil
	}
	return "", &NotFoundError{Tool: Tool{Name: "go", Package: "golang-go"}}
}

// BuildStatic builds package pkg of the module in dir into out the way the Makefile builds
// oemact and oemact-agent: CGO_ENABLED=0, -trimpath, stripped (-ldflags=-s -w), for linux/amd64,
// the guest's platform, whatever the host's GOOS and GOARCH say. The result runs as an x86-64
// guest's /init.
func BuildStatic(ctx context.Context, dir, pkg, out string) error {
	gobin, err := GoCommand()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, gobin, "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building %s as a static binary (in %s): %v\n%s", pkg, dir, err, b)
	}
	return nil
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}
