package cert

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixture returns the path of a file in fixtures/keys, relative to this source file.
func fixture(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "fixtures", "keys", name)
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(fixture(name))
	require.NoError(t, err)
	return b
}

// The committed TEST keys and certificates: labelled, the right sizes, verifying, and exactly
// what oemact cert issue makes from the committed keys (fixtures/keys/README.md says so).
func TestFixtures(t *testing.T) {
	authPEM := readFixture(t, "authority.pem")
	assert.True(t, IsTestLabelled(authPEM))
	authKey, err := ParsePrivateKeyPEM(authPEM, "authority.pem")
	require.NoError(t, err)
	assert.Equal(t, 2048, authKey.N.BitLen())
	auth, err := NewAuthority(authKey)
	require.NoError(t, err)
	auth.Now = func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

	for _, tc := range []struct {
		oem       string
		ids       OEMIDs
		otherOEM  string
		otherCert string
	}{
		{"TSTOEM", OEMIDs{"TSTOEM", "TSTBOARD"}, "OTHOEM", "oem-OTHOEM.xrm-ms"},
		{"OTHOEM", OEMIDs{"OTHOEM", "OTHBOARD"}, "TSTOEM", "oem-TSTOEM.xrm-ms"},
	} {
		t.Run(tc.oem, func(t *testing.T) {
			keyPEM := readFixture(t, "oem-"+tc.oem+".pem")
			assert.True(t, IsTestLabelled(keyPEM))
			key, err := ParsePrivateKeyPEM(keyPEM, tc.oem)
			require.NoError(t, err)
			assert.Equal(t, OEMKeyBits, key.N.BitLen())

			doc := readFixture(t, "oem-"+tc.oem+".xrm-ms")
			c, err := Parse(doc)
			require.NoError(t, err)
			require.NoError(t, c.Verify(&authKey.PublicKey))
			assert.True(t, c.OEMKey.Equal(&key.PublicKey))
			assert.Equal(t, []OEMIDs{tc.ids}, c.IDs)
			assert.True(t, c.Covers(tc.ids.OEMID, tc.ids.OEMTableID+"  "))

			// The other OEM's certificate verifies too, but carries neither this OEM's key nor IDs.
			other, err := Parse(readFixture(t, tc.otherCert))
			require.NoError(t, err)
			require.NoError(t, other.Verify(&authKey.PublicKey))
			assert.False(t, other.OEMKey.Equal(&key.PublicKey))
			assert.False(t, other.Covers(tc.ids.OEMID, tc.ids.OEMTableID))

			again, err := auth.Issue(&key.PublicKey, []OEMIDs{tc.ids})
			require.NoError(t, err)
			assert.Equal(t, string(doc), string(again), "regenerating the committed certificate")
		})
	}
}
