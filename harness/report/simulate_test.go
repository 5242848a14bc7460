package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The timeline SVG is well-formed XML whatever the names it shows hold, and shows them as they are.
func TestWriteTimelineSVGEscapes(t *testing.T) {
	r := fixtureRun()
	r.Scenarios = r.Scenarios[:1]
	r.Scenarios[0].Name = `a<b & "c" 'd'>`
	var b bytes.Buffer
	require.NoError(t, WriteTimelineSVG(&b, r))
	dec := xml.NewDecoder(&b)
	var texts []string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "the SVG is XML")
		if c, ok := tok.(xml.CharData); ok {
			texts = append(texts, string(c))
		}
	}
	assert.Contains(t, strings.Join(texts, ""), `a<b & "c" 'd'>: pc (profile tstoem-desktop`)
}
