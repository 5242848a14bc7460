package licence

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/oemact/edition"
)

func TestEditionTerms(t *testing.T) {
	cfg := DefaultConfig()
	terms := EditionTerms(cfg)
	require.Len(t, terms, len(edition.All()))
	by := map[string]Terms{}
	for _, tm := range terms {
		by[tm.ID] = tm
	}
	pro := by["win7-professional"]
	assert.Equal(t, "2.1", pro.SLICVersion)
	assert.Equal(t, "client", pro.KMSClass)
	assert.Equal(t, 25, pro.KMSThreshold)
	assert.Equal(t, 30, pro.GraceDays)
	assert.Equal(t, 3, pro.OOTGraceDays)
	assert.Equal(t, 30, pro.KMSGraceDays)
	assert.Equal(t, 3, pro.MaxRearms)
	assert.Empty(t, pro.Markets)

	srv := by["server2008r2-standard"]
	assert.Equal(t, "server", srv.KMSClass)
	assert.Equal(t, 5, srv.KMSThreshold)
	assert.Equal(t, "2.0", by["vista-business"].SLICVersion)

	ult := by["win7-ultimate"]
	assert.Empty(t, ult.KMSClass, "no KMS client key, no KMS class")
	assert.Zero(t, ult.KMSGraceDays)
	assert.Empty(t, by["win8-pro"].SLICVersion, "OA 3.0 uses the MSDM")
	assert.Equal(t, edition.StarterMarkets, by["win7-starter"].Markets)

	cfg.InitialGrace = 10 * Day
	assert.Equal(t, 10, EditionTerms(cfg)[0].GraceDays, "the terms follow the config")
}
