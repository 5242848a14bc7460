package report

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
	"github.com/oemact/oemact/harness/runner"
)

var styleElement = regexp.MustCompile(`(?s)<style>(.*?)</style>`)

// strictPolicy is a strict Content-Security-Policy for a page, made here from the page itself
// (not from the report's own code): nothing may load or run, and the only style allowed is the
// page's one <style> element, by the SHA-256 hash of its text.
func strictPolicy(t *testing.T, page string) string {
	t.Helper()
	m := styleElement.FindAllStringSubmatch(page, -1)
	require.Len(t, m, 1, "one <style> element")
	sum := sha256.Sum256([]byte(m[0][1]))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// mergedWithProblems is a merged run that shows every part of the page: the shards table with a
// missing shard, and a run-level error.
func mergedWithProblems(t *testing.T) *runner.Run {
	_, shards := splitFixture(t, [][]int{{0, 3}, {1, 4}, {2}})
	m := Merge(inputs(shards[0], shards[1]))
	m.Error = "the shards were given 4 scenarios between them, the selection held 5"
	return m
}

// The page declares the same strict policy for itself, so that it reads in full when opened as a
// file too; and it has no style attribute, which such a policy blocks.
func TestHTMLDeclaresItsPolicy(t *testing.T) {
	for _, r := range []*runner.Run{fixtureRun(), mergedWithProblems(t)} {
		out := string(render(t, htmlOut, r))
		want := strictPolicy(t, out)
		assert.Contains(t, out, `<meta http-equiv="Content-Security-Policy" content="`+want+`; base-uri 'none'; form-action 'none'">`)
		assert.Equal(t, want+"; base-uri 'none'; form-action 'none'", ContentSecurityPolicy())
		assert.Less(t, strings.Index(out, "Content-Security-Policy"), strings.Index(out, "<style>"), "the policy comes before the style it allows")
		assert.NotRegexp(t, `\sstyle=`, out)
	}
}

// Under a policy that blocks the stylesheet too (Jenkins' default, style-src 'self'), the page
// still says every outcome: each badge and matrix cell carries a symbol and a word, not a colour
// alone.
func TestHTMLOutcomesWithoutStyles(t *testing.T) {
	out := string(render(t, htmlOut, mergedWithProblems(t)))
	badges := regexp.MustCompile(`<span class="badge o-(\w+)">([^<]*)</span>`).FindAllStringSubmatch(out, -1)
	require.NotEmpty(t, badges)
	for _, b := range badges {
		sym := outcomeSymbol[runner.Outcome(b[1])]
		require.NotEmpty(t, sym, b[0])
		assert.True(t, strings.HasPrefix(b[2], sym+" "), "badge %q starts with its symbol %s", b[2], sym)
	}
	cells := regexp.MustCompile(`<a class="o-(\w+)" href="#[^"]*" title="[^"]*">([^<]*)</a>`).FindAllStringSubmatch(out, -1)
	require.Len(t, cells, 24) // 31 steps, less the 7 of the missing shard's scenario
	for _, c := range cells {
		assert.True(t, strings.HasPrefix(c[2], outcomeSymbol[runner.Outcome(c[1])]+" "), "cell %q", c[2])
	}
	assert.Contains(t, out, "<b>⚠ error:</b> no report for shard 3/3")
	assert.Contains(t, out, "<b>⚠ Infrastructure error</b> (the run stopped before it booted a machine): the shards were given 4")
}

// chromiumLoad loads a page in headless Chromium and returns its DOM as loaded and what the page
// logged to its console, where Chromium reports every Content-Security-Policy violation.
func chromiumLoad(t *testing.T, chromium, url string) (dom string, console []string) {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--enable-logging=stderr", "--v=0", "--dump-dom", url)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "chromium: %s", stderr.String())
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(l, ":CONSOLE") {
			console = append(console, l)
		}
	}
	return stdout.String(), console
}

// The HTML report in a real browser, served with a strict Content-Security-Policy header: nothing
// on the page is blocked. The same page with one style attribute added is blocked, which shows
// the browser's reports are seen.
func TestHTMLUnderStrictCSP(t *testing.T) {
	chromium := hosttooltest.Require(t, "chromium")
	pages := map[string]string{
		"/run.html":    string(render(t, htmlOut, fixtureRun())),
		"/merged.html": string(render(t, htmlOut, mergedWithProblems(t))),
	}
	pages["/control.html"] = strings.Replace(pages["/run.html"], "<h2>Scenario matrix</h2>", `<h2 style="color:red">Scenario matrix</h2>`, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Security-Policy", strictPolicy(t, page))
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	}))
	defer srv.Close()

	for _, p := range []string{"/run.html", "/merged.html"} {
		dom, console := chromiumLoad(t, chromium, srv.URL+p)
		assert.Contains(t, dom, "Scenario matrix", "%s loaded", p)
		assert.Contains(t, dom, "timeline", "%s loaded to its end", p)
		assert.Empty(t, console, "%s: nothing blocked, nothing logged", p)
	}
	_, console := chromiumLoad(t, chromium, srv.URL+"/control.html")
	require.NotEmpty(t, console, "the control page's style attribute is reported")
	assert.Contains(t, console[0], "Content Security Policy")
}
