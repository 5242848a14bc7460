package productkey

import (
	"crypto/sha256"
	"math/big"
	"strings"
)

// Derive makes a well-formed TEST key from a label, the same key for the same label on every
// machine. The catalog's keys and the MSDM keys of synthesized profiles come from here; such a key
// is random-looking but carries no Windows key structure, so no Windows would accept it.
func Derive(label string) Key {
	sum := sha256.Sum256([]byte("oemact TEST product key\x00" + label))
	n := new(big.Int).SetBytes(sum[:])
	base := big.NewInt(int64(len(Alphabet)))
	var b strings.Builder
	mod := new(big.Int)
	for i := 0; i < 25; i++ {
		if i > 0 && i%5 == 0 {
			b.WriteByte('-')
		}
		n.DivMod(n, base, mod)
		b.WriteByte(Alphabet[mod.Int64()])
	}
	return Key{b.String()}
}
