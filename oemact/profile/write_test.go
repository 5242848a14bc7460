package profile

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
)

var (
	commentRe = regexp.MustCompile(`(?s)<!--.*?-->\n`)
	sysinfoRe = regexp.MustCompile(`(?s)<sysinfo.*?</sysinfo>`)
	osRe      = regexp.MustCompile(`(?s)<os>(.*?)</os>`)
	cmdlineRe = regexp.MustCompile(`(?s)<qemu:commandline.*?</qemu:commandline>`)
	sysUUIDRe = regexp.MustCompile(`<entry name="uuid">([^<]*)</entry>`)
)

// libvirtDomain puts the fragments of a libvirt.xml in a minimal domain as its comment says:
// <sysinfo> and <qemu:commandline> under a <domain> that declares the qemu namespace, <os>
// merged into the domain's <os>, the domain <uuid> the sysinfo's.
func libvirtDomain(t *testing.T, fragments string) string {
	t.Helper()
	x := commentRe.ReplaceAllString(fragments, "")
	uuid := "0e6a3ad8-2a5d-4d34-8f4e-6c1b50f1e2a7"
	if m := sysUUIDRe.FindStringSubmatch(x); m != nil {
		uuid = m[1]
	}
	osm := osRe.FindStringSubmatch(x)
	require.NotNil(t, osm, "no <os> in %s", fragments)
	return fmt.Sprintf(`<domain type="qemu" xmlns:qemu="%s">
  <name>oemact-test</name>
  <uuid>%s</uuid>
  <memory unit="MiB">256</memory>
  %s
  <os>
    <type arch="x86_64" machine="q35">hvm</type>
    %s
  </os>
  %s
</domain>
`, QEMUNamespace, uuid, sysinfoRe.FindString(x), osm[1], cmdlineRe.FindString(x))
}

func virtXMLValidate(t *testing.T, tool, domain string) (string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "domain.xml")
	require.NoError(t, os.WriteFile(path, []byte(domain), 0o644))
	out, err := exec.Command(tool, path, "domain").CombinedOutput()
	return string(out), err
}

// Every fixture profile's libvirt fragments, put in a domain as their comment says, validate
// against this machine's libvirt schema (virt-xml-validate); the validator refuses what that
// schema lacks, such as <table type='msdm'>.
func TestLibvirtXMLValidates(t *testing.T) {
	tool := hosttooltest.Require(t, "virt-xml-validate")
	hosttooltest.Require(t, "xmllint") // virt-xml-validate runs it
	profiles, err := filepath.Glob(filepath.Join(fixtures(t), "profiles", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, profiles)
	var sawMSDM bool
	for _, path := range profiles {
		p, err := Load(path)
		require.NoError(t, err, path)
		tables, err := p.Synthesize()
		require.NoError(t, err, path)
		files, err := tables.Write(t.TempDir())
		require.NoError(t, err, path)
		x := string(mustRead(t, files.Libvirt))
		domain := libvirtDomain(t, x)
		out, err := virtXMLValidate(t, tool, domain)
		require.NoError(t, err, "%s: %s\n%s", path, out, domain)
		assert.Contains(t, out, "validates", path)
		if files.MSDM != "" {
			sawMSDM = true
			assert.Contains(t, x, `<qemu:arg value="file=`+files.MSDM+`"></qemu:arg>`, path)
			assert.Contains(t, x, "has no <table type='msdm'>", path)
			bad := strings.Replace(domain, "</acpi>", "<table type=\"msdm\">"+files.MSDM+"</table></acpi>", 1)
			out, err := virtXMLValidate(t, tool, bad)
			assert.Error(t, err, "this libvirt's schema takes an MSDM table after all: %s", out)
		}
	}
	assert.True(t, sawMSDM, "a fixture profile has an MSDM")
}

// The fragments carry what <sysinfo> accepts and list what it cannot take.
func TestLibvirtXMLCarriesAndLists(t *testing.T) {
	p := variant(t, func(y string) string {
		y = strings.Replace(y, "release_date: 06/15/2011", "release_date: 2011-06-15", 1)
		return strings.Replace(y, "    release: win7\n", "    release: win7\n  msdm:\n    key_label: oem-dm/win8-pro\n", 1)
	})
	tables, err := p.Synthesize()
	require.NoError(t, err)
	files, err := tables.Write(t.TempDir())
	require.NoError(t, err)
	x := string(mustRead(t, files.Libvirt))
	for _, want := range []string{
		`<entry name="serial">TST7100-000417</entry>`,
		`<entry name="uuid">7d3f1a62-5c0e-4b7e-9a51-2f8e6c4d0b17</entry>`,
		`<entry name="asset">NONE-TEST</entry>`,
		"<chassis>\n    <entry name=\"manufacturer\">TSTOEM Computers (TEST)</entry>",
		`<entry name="serial">TCH-000417</entry>`,
		`<entry name="asset">TEST-ASSET-0417</entry>`,
		"<oemStrings>\n    <entry>TSTOEM TEST platform - not a real machine</entry>",
		`<table type="slic">` + files.SLIC + `</table>`,
		"the chassis type (3, Desktop), lock and states (type 3)",
		"1 processor structure (type 4): QEMU writes its own",
		"1 memory device structure (type 17): QEMU writes its own",
		`the BIOS release date "2011-06-15": libvirt takes mm/dd/yy or mm/dd/yyyy only`,
		"the SMBIOS version 2.8 and its _SM_ entry point",
	} {
		assert.Contains(t, x, want)
	}
	assert.NotContains(t, x, `<entry name="date">`, "a date libvirt refuses is left out")
	assert.True(t, filepath.IsAbs(files.SLIC) || strings.Contains(x, "<table type=\"slic\">/"), "paths are absolute")
}
