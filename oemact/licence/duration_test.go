package licence

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDuration(t *testing.T) {
	good := map[string]time.Duration{
		"30d":        30 * Day,
		"1.5d":       36 * time.Hour,
		"72h":        72 * time.Hour,
		"90m":        90 * time.Minute,
		"2h0m0s":     2 * time.Hour,
		"500ms":      500 * time.Millisecond,
		"0":          0,
		"0s":         0,
		"29d4h":      29*Day + 4*time.Hour,
		"1d12h30m":   Day + 12*time.Hour + 30*time.Minute,
		"1.5d30m":    36*time.Hour + 30*time.Minute,
		" 2d ":       2 * Day,
		"-1d2h":      -(Day + 2*time.Hour),
		"+3h":        3 * time.Hour,
		"36500d":     MaxDuration,
		"36499d24h":  MaxDuration,
		"876000h":    MaxDuration,
		"0d876000h":  MaxDuration,
		"-36500d":    -MaxDuration,
		"1d1.5h":     Day + 90*time.Minute,
		"10d10m10s":  10*Day + 10*time.Minute + 10*time.Second,
		"3d0h0m0.5s": 3*Day + 500*time.Millisecond,
	}
	for in, want := range good {
		got, err := ParseDuration(in)
		if assert.NoError(t, err, in) {
			assert.Equal(t, want, got, in)
		}
	}
	bad := map[string]string{
		"":                      "want days",
		"d":                     "want days",
		"1dd":                   "want days",
		"4h1d":                  "want days", // days come first
		"1d-2h":                 "want days",
		"1e3d":                  "want days",
		"infd":                  "want days",
		"NaNd":                  "want days",
		"1w":                    "want days",
		"ten days":              "want days",
		"1d 2h":                 "want days",
		"--1d":                  "want days",
		"36501d":                "at most 36500 days",
		"36500d1ns":             "at most 36500 days",
		"1000000d":              "at most 36500 days",
		"999999999d":            "at most 36500 days",
		"876001h":               "at most 36500 days",
		"9223372036854775808ns": "at most 36500 days", // one past time.Duration's range
		"99999999999999999999h": "at most 36500 days",
	}
	for in, msg := range bad {
		_, err := ParseDuration(in)
		if assert.Error(t, err, in) {
			assert.Contains(t, err.Error(), msg, in)
		}
	}
}

// Every duration a config writes reads back as itself.
func TestFormatDurationReadsBack(t *testing.T) {
	for _, d := range []time.Duration{Day, 30 * Day, 2 * time.Hour, 90 * time.Minute, 36 * time.Hour, 15 * time.Minute, time.Second, MaxPeriod, MaxDuration} {
		got, err := ParseDuration(formatDuration(d))
		require.NoError(t, err, formatDuration(d))
		assert.Equal(t, d, got, formatDuration(d))
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"30d", "1.5d", "29d4h", "1d12h30m", "72h", "-2h", "36500d", "9223372036854775807ns", "0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		if d > MaxDuration || d < -MaxDuration {
			t.Fatalf("ParseDuration(%q) = %s, beyond the bound", s, d)
		}
		back, err := ParseDuration(formatDuration(d))
		if err != nil || back != d {
			t.Fatalf("ParseDuration(%q) = %s, which reads back as %s (%v)", s, d, back, err)
		}
	})
}
