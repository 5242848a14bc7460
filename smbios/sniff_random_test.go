package smbios

import (
	"math/rand"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Random bytes are not a structure table, however large: a firmware blob with a SLIC somewhere in
// it must reach the image scan, not the SMBIOS reader.
func TestRandomBlobsDoNotChain(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	chained := 0
	for i := 0; i < 200; i++ {
		b := make([]byte, 1<<20)
		r.Read(b)
		if TableChains(b) {
			chained++
		}
	}
	assert.Zero(t, chained, "random 1 MiB blobs taken for structure tables")
}
