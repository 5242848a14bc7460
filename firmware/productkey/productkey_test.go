package productkey

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	k, err := Parse(" 9jj67-k4w72-9dg28-gj348-2qxyg ")
	require.NoError(t, err)
	assert.Equal(t, "9JJ67-K4W72-9DG28-GJ348-2QXYG", k.Reveal())
	assert.Equal(t, "XXXXX-XXXXX-XXXXX-XXXXX-2QXYG", k.Masked())
	assert.Equal(t, "XXXXX-XXXXX-XXXXX-XXXXX-2QXYG", k.String())
	assert.Equal(t, "XXXXX-XXXXX-XXXXX-XXXXX-2QXYG", fmt.Sprintf("%v", k))
	assert.NotContains(t, fmt.Sprintf("%#v", k), "9JJ67")
	assert.Equal(t, "2QXYG", k.LastFive())
	b, err := json.Marshal(struct{ K Key }{k})
	require.NoError(t, err)
	assert.Equal(t, `{"K":"XXXXX-XXXXX-XXXXX-XXXXX-2QXYG"}`, string(b))
	assert.Equal(t, k.Reveal(), k.Show(true))
	assert.Equal(t, k.Masked(), k.Show(false))

	for _, tc := range []struct{ in, want string }{
		{"", "length 0, want 29"},
		{"9JJ67-K4W72-9DG28-GJ348-2QXY", "length 28"},
		{"9JJ67K4W72-9DG28-GJ348-2QXYGG", "character 6: want '-'"},
		{"AJJ67-K4W72-9DG28-GJ348-2QXYG", `character 1: "A" is not in the key alphabet`},
		{"9JJ67-K4W72-9DG28-GJ348-2QXY0", `character 29: "0" is not in the key alphabet`},
		{"9JJ67-K4W72-9DG28-GJ348-2QXY\x00", `character 29: "\\x00"`},
	} {
		_, err := Parse(tc.in)
		require.Error(t, err, tc.in)
		assert.Contains(t, err.Error(), tc.want, tc.in)
		var fe *FormatError
		assert.ErrorAs(t, err, &fe)
	}
}

func TestCheckShape(t *testing.T) {
	// The pattern of a key in an MSDM table (fwts): letters and digits, dashed. The real tables'
	// redacted keys are all X.
	assert.NoError(t, CheckShape("XXXXX-XXXXX-XXXXX-XXXXX-XXXXX"))
	assert.NoError(t, CheckShape("ABCDE-01234-ZZZZZ-LLLLL-SSSSS"))
	assert.Error(t, CheckShape("abcde-01234-ZZZZZ-LLLLL-SSSSS"))
	assert.Error(t, CheckShape(strings.Repeat("\xff", 29)))
}

func TestDeriveIsStableAndWellFormed(t *testing.T) {
	a := Derive("x")
	assert.Equal(t, a, Derive("x"))
	assert.NotEqual(t, a, Derive("y"))
	for i := 0; i < 200; i++ {
		_, err := Parse(Derive(fmt.Sprint(i)).Reveal())
		require.NoError(t, err)
	}
}
