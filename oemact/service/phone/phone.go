// Package phone defines the installation ID and confirmation ID of oemact's telephone-style
// activation: digit strings a person can read out, with check digits that catch typos.
//
// The formats are this project's own, not Microsoft's; nothing here is accepted by Windows.
//
// # Installation ID (version 1)
//
// 102 digits in 17 groups of six, written with dashes: 12345X-12345X-...; in each group the
// sixth digit X is the Damm check digit of the five before it, so any single wrong digit and any
// swap of two neighbouring digits in a group is caught and reported by group. The 17 five-digit
// halves, read as one 85-digit decimal number, hold 266 bits, most significant first:
//
//	version      4 bits   1
//	key        115 bits   the product key's 25 characters as a base-24 number (productkey.Alphabet)
//	dockable     1 bit    the hardware's dockable flag
//	present     10 bits   one per hwid.Classes entry (nic first): the class has a component
//	digests    120 bits   per class, in hwid.Classes order, the first 12 bits of the class's lowest
//	                      component digest (0 when absent)
//	check       16 bits   the first two bytes of SHA-256 over "oemact iid v1\x00" and the 250 bits
//	                      above as 32 big-endian bytes: catches swapped groups and other damage
//
// The installation ID carries the product key: treat it like the key (the service never stores or
// logs one). Twelve bits per component is a compact hardware hash in the manner of Windows XP's
// (a different component matches by chance once in 4096); the service compares an installation
// ID's hardware with a binding at this precision.
//
// # Confirmation ID (version 1)
//
// 48 digits in 8 groups of six, each group five digits plus its Damm check digit; the 40 digits
// are one decimal number holding 132 bits:
//
//	version      4 bits   1
//	iid         48 bits   the first 6 bytes of SHA-256 over "oemact cid v1\x00" and the installation
//	                      ID's 102 digits: the client checks the confirmation belongs to its ID
//	mac         80 bits   the first 10 bytes of HMAC-SHA256(service secret, "oemact cid v1\x00" and
//	                      the 102 digits): only the service can make it, and only it can check it
package phone

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/oemact/oemact/firmware/productkey"
	"github.com/oemact/oemact/oemact/hwid"
)

// Version is the format version written in both IDs.
const Version = 1

// Sizes of the written forms.
const (
	IIDGroups  = 17
	CIDGroups  = 8
	GroupLen   = 6
	IIDDigits  = IIDGroups * GroupLen // 102
	CIDDigits  = CIDGroups * GroupLen // 48
	DigestBits = 12
)

const (
	keyBits      = 115
	classBits    = DigestBits
	iidCheckBits = 16
	iidBits      = 4 + keyBits + 1 + 10 + 10*classBits + iidCheckBits // 266
)

// Installation is what an installation ID carries.
type Installation struct {
	Key productkey.Key
	// Hardware has at most one component per class, with a 3-hex-digit (12-bit) digest.
	Hardware hwid.Inventory
}

// Error says what is wrong with an ID and where; it never contains the ID's digits.
type Error struct {
	What  string // "installation ID" or "confirmation ID"
	Group int    // 1-based group, or 0 for the whole ID
	Msg   string
}

func (e *Error) Error() string {
	if e.Group > 0 {
		return fmt.Sprintf("%s: group %d: %s", e.What, e.Group, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.What, e.Msg)
}

// dammTable is the order-10 quasigroup of H. Michael Damm's check digit algorithm: it catches
// every single-digit error and every transposition of adjacent digits.
var dammTable = [10][10]byte{
	{0, 3, 1, 7, 5, 9, 8, 6, 4, 2},
	{7, 0, 9, 2, 1, 5, 4, 8, 6, 3},
	{4, 2, 0, 6, 8, 7, 1, 3, 5, 9},
	{1, 7, 5, 0, 9, 8, 3, 4, 2, 6},
	{6, 1, 2, 3, 0, 4, 5, 9, 7, 8},
	{3, 6, 7, 4, 2, 0, 9, 5, 8, 1},
	{5, 8, 6, 9, 7, 2, 0, 1, 3, 4},
	{8, 9, 4, 5, 3, 6, 2, 0, 1, 7},
	{9, 4, 3, 8, 6, 1, 7, 2, 0, 5},
	{2, 5, 8, 1, 4, 3, 6, 7, 9, 0},
}

// Damm returns the check digit of a string of ASCII digits.
func Damm(digits string) byte {
	var x byte
	for i := 0; i < len(digits); i++ {
		x = dammTable[x][digits[i]-'0']
	}
	return '0' + x
}

// MinDigests returns, per class, the lowest digest of an inventory: the one an installation ID
// carries.
func MinDigests(inv hwid.Inventory) map[hwid.Class]string {
	out := map[hwid.Class]string{}
	for _, c := range inv.Components {
		if cur, ok := out[c.Class]; !ok || c.Digest < cur {
			out[c.Class] = c.Digest
		}
	}
	return out
}

// NewInstallationID writes the installation ID of a key and hardware. Component digests must be
// hex (hwid.Digest's form) of at least 3 digits; classes outside hwid.Classes are left out.
func NewInstallationID(key productkey.Key, inv hwid.Inventory) (string, error) {
	if key.IsZero() {
		return "", errors.New("installation ID: no product key")
	}
	v := new(big.Int).SetUint64(Version)
	kv, err := keyValue(key.Reveal())
	if err != nil {
		return "", err
	}
	v.Lsh(v, keyBits).Or(v, kv)
	v.Lsh(v, 1)
	if inv.Dockable {
		v.Or(v, big.NewInt(1))
	}
	mins := MinDigests(inv)
	var present uint64
	digests := make([]uint64, len(hwid.Classes))
	for i, c := range hwid.Classes {
		d, ok := mins[c]
		if !ok {
			continue
		}
		x, err := digestBits(d)
		if err != nil {
			return "", fmt.Errorf("installation ID: %s component: %w", c, err)
		}
		present |= 1 << (len(hwid.Classes) - 1 - i)
		digests[i] = x
	}
	v.Lsh(v, 10).Or(v, new(big.Int).SetUint64(present))
	for _, d := range digests {
		v.Lsh(v, classBits).Or(v, new(big.Int).SetUint64(d))
	}
	sum := iidCheck(v)
	v.Lsh(v, iidCheckBits).Or(v, new(big.Int).SetUint64(uint64(sum)))
	return writeGroups(v, IIDGroups), nil
}

// ParseInstallationID reads an installation ID, checking every group's check digit and the
// checksum. Dashes and spaces between digits are ignored.
func ParseInstallationID(s string) (Installation, error) {
	const what = "installation ID"
	v, err := readGroups(s, IIDGroups, what)
	if err != nil {
		return Installation{}, err
	}
	if v.BitLen() > iidBits {
		return Installation{}, &Error{What: what, Msg: "value too large for the format: not an oemact installation ID"}
	}
	check := uint16(new(big.Int).And(v, mask(iidCheckBits)).Uint64())
	body := new(big.Int).Rsh(v, iidCheckBits)
	if iidCheck(body) != check {
		return Installation{}, &Error{What: what, Msg: "checksum does not match: groups swapped or mistyped"}
	}
	var inv hwid.Inventory
	digests := make([]uint64, len(hwid.Classes))
	for i := len(hwid.Classes) - 1; i >= 0; i-- {
		digests[i] = new(big.Int).And(body, mask(classBits)).Uint64()
		body.Rsh(body, classBits)
	}
	present := new(big.Int).And(body, mask(10)).Uint64()
	body.Rsh(body, 10)
	inv.Dockable = body.Bit(0) == 1
	body.Rsh(body, 1)
	kv := new(big.Int).And(body, mask(keyBits))
	body.Rsh(body, keyBits)
	if ver := body.Uint64(); ver != Version {
		return Installation{}, &Error{What: what, Msg: fmt.Sprintf("version %d, this service reads version %d", ver, Version)}
	}
	key, err := keyFromValue(kv)
	if err != nil {
		return Installation{}, &Error{What: what, Msg: err.Error()}
	}
	for i, c := range hwid.Classes {
		if present&(1<<(len(hwid.Classes)-1-i)) == 0 {
			if digests[i] != 0 {
				return Installation{}, &Error{What: what, Msg: fmt.Sprintf("class %s is absent but has a digest", c)}
			}
			continue
		}
		inv.Components = append(inv.Components, hwid.Component{Class: c, Digest: fmt.Sprintf("%03x", digests[i])})
	}
	return Installation{Key: key, Hardware: inv}, nil
}

// Confirm makes the confirmation ID of an installation ID (given as ParseInstallationID accepts
// it) with the service's secret.
func Confirm(iid string, secret []byte) (string, error) {
	canon, err := canonical(iid, IIDGroups, "installation ID")
	if err != nil {
		return "", err
	}
	v := new(big.Int).SetUint64(Version)
	h := sha256.Sum256([]byte("oemact cid v1\x00" + canon))
	v.Lsh(v, 48).Or(v, new(big.Int).SetBytes(h[:6]))
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("oemact cid v1\x00" + canon))
	v.Lsh(v, 80).Or(v, new(big.Int).SetBytes(m.Sum(nil)[:10]))
	return writeGroups(v, CIDGroups), nil
}

// VerifyConfirmation is the client's check: the confirmation ID is well formed and was made for
// this installation ID. It cannot tell a forged one; VerifyConfirmationMAC can, with the secret.
func VerifyConfirmation(iid, cid string) error {
	canon, err := canonical(iid, IIDGroups, "installation ID")
	if err != nil {
		return err
	}
	v, err := readGroups(cid, CIDGroups, "confirmation ID")
	if err != nil {
		return err
	}
	if v.BitLen() > 132 || new(big.Int).Rsh(v, 128).Uint64() != Version {
		return &Error{What: "confirmation ID", Msg: fmt.Sprintf("not a version %d confirmation ID", Version)}
	}
	h := sha256.Sum256([]byte("oemact cid v1\x00" + canon))
	got := new(big.Int).And(new(big.Int).Rsh(v, 80), mask(48))
	if got.Cmp(new(big.Int).SetBytes(h[:6])) != 0 {
		return &Error{What: "confirmation ID", Msg: "belongs to another installation ID"}
	}
	return nil
}

// VerifyConfirmationMAC checks a confirmation ID fully, with the service's secret.
func VerifyConfirmationMAC(iid, cid string, secret []byte) error {
	if err := VerifyConfirmation(iid, cid); err != nil {
		return err
	}
	want, err := Confirm(iid, secret)
	if err != nil {
		return err
	}
	if c, _ := canonical(cid, CIDGroups, "confirmation ID"); !hmac.Equal([]byte(c), []byte(strings.ReplaceAll(want, "-", ""))) {
		return &Error{What: "confirmation ID", Msg: "not issued by this service"}
	}
	return nil
}

func iidCheck(body *big.Int) uint16 {
	var buf [32]byte
	body.FillBytes(buf[:])
	h := sha256.Sum256(append([]byte("oemact iid v1\x00"), buf[:]...))
	return uint16(h[0])<<8 | uint16(h[1])
}

func mask(bits uint) *big.Int {
	m := new(big.Int).Lsh(big.NewInt(1), bits)
	return m.Sub(m, big.NewInt(1))
}

func keyValue(k string) (*big.Int, error) {
	v := new(big.Int)
	base := big.NewInt(int64(len(productkey.Alphabet)))
	n := 0
	for i := 0; i < len(k); i++ {
		if k[i] == '-' {
			continue
		}
		d := strings.IndexByte(productkey.Alphabet, k[i])
		if d < 0 {
			return nil, errors.New("installation ID: the product key has a character outside the key alphabet")
		}
		v.Mul(v, base).Add(v, big.NewInt(int64(d)))
		n++
	}
	if n != 25 {
		return nil, errors.New("installation ID: the product key does not have 25 characters")
	}
	return v, nil
}

func keyFromValue(v *big.Int) (productkey.Key, error) {
	base := big.NewInt(int64(len(productkey.Alphabet)))
	limit := new(big.Int).Exp(base, big.NewInt(25), nil)
	if v.Cmp(limit) >= 0 {
		return productkey.Key{}, errors.New("the key field is out of range: not an oemact installation ID")
	}
	chars := make([]byte, 25)
	x := new(big.Int).Set(v)
	mod := new(big.Int)
	for i := 24; i >= 0; i-- {
		x.DivMod(x, base, mod)
		chars[i] = productkey.Alphabet[mod.Int64()]
	}
	s := string(chars[0:5]) + "-" + string(chars[5:10]) + "-" + string(chars[10:15]) + "-" + string(chars[15:20]) + "-" + string(chars[20:25])
	return productkey.Parse(s)
}

func digestBits(d string) (uint64, error) {
	if len(d) < 3 {
		return 0, fmt.Errorf("digest has %d hex digits, need at least 3", len(d))
	}
	var x uint64
	for i := 0; i < 3; i++ {
		c := d[i]
		switch {
		case c >= '0' && c <= '9':
			x = x<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			x = x<<4 | uint64(c-'a'+10)
		default:
			return 0, fmt.Errorf("digest is not lower-case hex")
		}
	}
	return x, nil
}

func writeGroups(v *big.Int, groups int) string {
	data := v.Text(10)
	width := groups * (GroupLen - 1)
	data = strings.Repeat("0", width-len(data)) + data
	var b strings.Builder
	for g := 0; g < groups; g++ {
		if g > 0 {
			b.WriteByte('-')
		}
		part := data[g*(GroupLen-1) : (g+1)*(GroupLen-1)]
		b.WriteString(part)
		b.WriteByte(Damm(part))
	}
	return b.String()
}

// canonical returns the digits of an ID with separators removed, after checking its shape and
// every group's check digit.
func canonical(s string, groups int, what string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if b.Len() >= groups*GroupLen {
				return "", &Error{What: what, Msg: fmt.Sprintf("more than %d digits", groups*GroupLen)}
			}
			b.WriteByte(c)
		case c == '-' || c == ' ':
			if b.Len()%GroupLen != 0 {
				return "", &Error{What: what, Group: b.Len()/GroupLen + 1, Msg: fmt.Sprintf("a separator inside a group; groups have %d digits", GroupLen)}
			}
		default:
			return "", &Error{What: what, Msg: fmt.Sprintf("character %d is not a digit, a dash or a space", i+1)}
		}
	}
	d := b.String()
	if len(d) != groups*GroupLen {
		return "", &Error{What: what, Msg: fmt.Sprintf("%d digits, want %d (%d groups of %d)", len(d), groups*GroupLen, groups, GroupLen)}
	}
	for g := 0; g < groups; g++ {
		part := d[g*GroupLen : (g+1)*GroupLen]
		if Damm(part) != '0' {
			return "", &Error{What: what, Group: g + 1, Msg: "check digit does not match: a digit is mistyped"}
		}
	}
	return d, nil
}

func readGroups(s string, groups int, what string) (*big.Int, error) {
	d, err := canonical(s, groups, what)
	if err != nil {
		return nil, err
	}
	var data strings.Builder
	for g := 0; g < groups; g++ {
		data.WriteString(d[g*GroupLen : g*GroupLen+GroupLen-1])
	}
	v, ok := new(big.Int).SetString(data.String(), 10)
	if !ok {
		return nil, &Error{What: what, Msg: "not a number"}
	}
	return v, nil
}
