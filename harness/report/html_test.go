package report

import (
	"encoding/xml"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/runner"
)

func TestHTMLGolden(t *testing.T) {
	got := render(t, htmlOut, fixtureRun())
	golden(t, "report.html", got)
	assert.Equal(t, string(got), string(render(t, htmlOut, fixtureRun())))
}

func TestHTMLContent(t *testing.T) {
	r := fixtureRun()
	out := string(render(t, htmlOut, r))

	// Self-contained: no script, no fetch of any kind, and html/template rejected nothing.
	assert.NotContains(t, out, "<script")
	assert.NotContains(t, out, "ZgotmplZ", "html/template replaced an unsafe value")
	assert.NotRegexp(t, `(?i)\b(src|href)="(https?:)?//`, out)
	assert.NotContains(t, out, "url(")
	assert.NotContains(t, out, "@import")
	for _, u := range regexp.MustCompile(`https?://[^"\s<]+`).FindAllString(out, -1) {
		assert.Equal(t, "http://www.w3.org/2000/svg", u, "the only address is the SVG namespace")
	}

	// The header's totals.
	assert.Contains(t, out, "<title>oemact run: error</title>")
	assert.Contains(t, out, "<b>11.8</b> boots per minute")
	assert.Contains(t, out, "<b>16</b> boots")

	// The matrix: a row per scenario, a linked cell per step with its tooltip.
	matrix := out[strings.Index(out, `<table class="matrix">`):]
	matrix = matrix[:strings.Index(matrix, "</table>")]
	assert.Equal(t, len(r.Scenarios), strings.Count(matrix, `<td class="name">`))
	cells := regexp.MustCompile(`<a class="o-(\w+)" href="#(s\d+-step\d+)" title="([^"]*)"`).FindAllStringSubmatch(matrix, -1)
	require.Len(t, cells, 31)
	outcomes := map[string]int{}
	for _, c := range cells {
		outcomes[c[1]]++
		assert.Contains(t, out, `id="`+c[2]+`"`, "the cell links to its step")
	}
	assert.Equal(t, map[string]int{"passed": 27, "failed": 1, "error": 1, "skipped": 2}, outcomes)
	// The failed cell's tooltip names the step, where it is and the failed check.
	var failedTitle string
	for _, c := range cells {
		if c[1] == "failed" {
			failedTitle = c[3]
		}
	}
	assert.Equal(t, "step 8: boot pc\nfixtures/scenarios/retail-hardware-change.yaml:33\nfailed, day 12.0, 2.3s\n✗ reminders: want 6, got 12\n1 check held", failedTitle)

	// The error's reproduce command and serial log are on the page.
	assert.Contains(t, out, "reproduce:<pre>qemu-system-x86_64 -machine q35,accel=tcg")
	assert.Contains(t, out, "serial log: <code>artifacts/kms-threshold/step-5/serial.log</code>")

	// One timeline per machine that reported a licence state; the one that never booted says so.
	svgs := regexp.MustCompile(`(?s)<svg class="timeline".*?</svg>`).FindAllString(out, -1)
	assert.Len(t, svgs, 5)
	assert.Contains(t, out, "No licence state was reported for this machine (it never booted).")
	// Each drawing is well-formed XML.
	for _, s := range svgs {
		dec := xml.NewDecoder(strings.NewReader(s))
		dec.Strict = true
		for {
			_, err := dec.Token()
			if err == io.EOF {
				break
			}
			require.NoError(t, err)
		}
	}
}

// Names and messages come from scenario files and guests: they are text, never markup.
func TestHTMLEscapes(t *testing.T) {
	r := fixtureRun()
	sc := r.Scenarios[2]
	sc.Name = `<img src=x onerror=alert(1)>`
	sc.Description = `"quoted" & <b>bold</b>`
	st := sc.Steps[4]
	st.Error = `</pre><script>alert(2)</script>`
	st.Checks = append(st.Checks, runner.Check{Name: `x" onmouseover="alert(3)`, Want: "a", Got: "b"})
	sc.Machines[0].Timeline[0].Event = `</title><script>alert(4)</script>`
	out := string(render(t, htmlOut, r))
	assert.NotContains(t, out, "<img")
	assert.NotContains(t, out, "<script")
	assert.NotContains(t, out, `" onmouseover="`)
	assert.Contains(t, out, "&lt;img src=x onerror=alert(1)&gt;")
	assert.Contains(t, out, "&#34;quoted&#34; &amp; &lt;b&gt;bold&lt;/b&gt;")
}
