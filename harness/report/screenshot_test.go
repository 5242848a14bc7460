package report

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
)

// screenshot opens an HTML file in headless Chromium and returns the PNG of the window. The flags
// keep Chromium off the network (no component updates, sync or QUIC) and out of the user's profile.
func screenshot(t *testing.T, chromium, page string, w, h int) []byte {
	t.Helper()
	dir := t.TempDir()
	out := filepath.Join(dir, "screenshot.png")
	abs, err := filepath.Abs(page)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--screenshot="+out,
		"--window-size="+itoa(w)+","+itoa(h), "file://"+abs)
	cmd.Env = append(os.Environ(), "HOME="+dir) // Chromium writes caches under HOME
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "chromium: %s", msg)
	b, err := os.ReadFile(out)
	require.NoError(t, err, "chromium wrote no screenshot: %s", msg)
	return b
}

// The HTML report of the fixture run, rendered by a real browser: a picture of the window's size
// with the report's colours in it, not a blank or one-colour page. Set OEMACT_SCREENSHOT to a path
// to keep the PNG.
func TestHTMLScreenshot(t *testing.T) {
	chromium := hosttooltest.Require(t, "chromium")
	page := filepath.Join(t.TempDir(), "report.html")
	var b bytes.Buffer
	require.NoError(t, WriteHTML(&b, fixtureRun()))
	require.NoError(t, os.WriteFile(page, b.Bytes(), 0o644))

	shot := screenshot(t, chromium, page, 1400, 2000)
	if keep := os.Getenv("OEMACT_SCREENSHOT"); keep != "" {
		require.NoError(t, os.WriteFile(keep, shot, 0o644))
	}
	img, err := png.Decode(bytes.NewReader(shot))
	require.NoError(t, err)
	assert.Equal(t, image.Rect(0, 0, 1400, 2000), img.Bounds())

	// Count the pixels of the colours the report draws in the first 2000 pixels: the outcome
	// badges and matrix cells, and the Licensed band of the first timeline (the same green).
	want := map[string][3]uint8{
		"passed and Licensed green": {0x2e, 0x7d, 0x32}, "failed red": {0xc6, 0x28, 0x28}, "error orange": {0xff, 0x6f, 0x00},
	}
	seen := map[string]int{}
	colours := map[[3]uint8]bool{}
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y += 2 {
		for x := bounds.Min.X; x < bounds.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			c := [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8)}
			colours[c] = true
			for name, w := range want {
				if near(c, w) {
					seen[name]++
				}
			}
		}
	}
	assert.Greater(t, len(colours), 50, "the page is not one colour")
	for name := range want {
		assert.Greater(t, seen[name], 100, "%s is on the page", name)
	}
}

func near(a, b [3]uint8) bool {
	d := func(x, y uint8) int {
		if x > y {
			return int(x - y)
		}
		return int(y - x)
	}
	return d(a[0], b[0])+d(a[1], b[1])+d(a[2], b[2]) <= 12
}
