package main

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Every verb answers help VERB, VERB -h and VERB --help alike: the same usage, with each sub-verb's
// flags, on stdout, nothing on stderr, exit 0.
func TestEveryVerbHelp(t *testing.T) {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			var want string
			for i, args := range [][]string{{"help", name}, {name, "-h"}, {name, "--help"}} {
				var stdout, stderr bytes.Buffer
				code := run(stdio{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr}, args)
				cmd := "oemact " + strings.Join(args, " ")
				assert.Equal(t, exitOK, code, cmd)
				assert.Empty(t, stderr.String(), cmd)
				out := stdout.String()
				assert.True(t, strings.HasPrefix(out, "usage: oemact "+name), "%s: %q", cmd, out)
				assert.Equal(t, max(len(commands[name].subs), 1), strings.Count(out, "\nflags:\n"), "%s: a flags section for each sub-verb", cmd)
				for _, sub := range commands[name].subs {
					assert.Contains(t, out, fmt.Sprintf("usage: oemact %s %s ", name, sub), cmd)
				}
				if i == 0 {
					want = out
				} else {
					assert.Equal(t, want, out, "%s prints what oemact help %s does", cmd, name)
				}
			}
		})
	}
}
