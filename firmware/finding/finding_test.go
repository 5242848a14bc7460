package finding

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSeverityJSONRoundTrip(t *testing.T) {
	for _, s := range []Severity{Info, Warning, Error} {
		b, err := json.Marshal(s)
		require.NoError(t, err)
		var back Severity
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, s, back)
	}
	var s Severity
	assert.Error(t, json.Unmarshal([]byte(`"fatal"`), &s))
	assert.Equal(t, "severity(9)", Severity(9).String())
}

func TestListFailedAndSort(t *testing.T) {
	l := List{
		{Code: "b", Severity: Warning, Table: "SLIC", Offset: 8},
		{Code: "a", Severity: Info, Table: "MSDM", Offset: NoOffset},
	}
	assert.False(t, l.Failed())
	l = append(l, Finding{Code: "c", Severity: Error, Table: "SLIC", Offset: 0})
	assert.True(t, l.Failed())
	assert.True(t, l.Has("c"))
	assert.False(t, l.Has("d"))
	l.Sort()
	assert.Equal(t, []string{"a", "c", "b"}, l.Codes())
	assert.Equal(t, "error   c SLIC+0x0: ", l[1].String())
}
