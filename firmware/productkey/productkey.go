// Package productkey is the Windows-style 5x5 product key format: its alphabet and shape, parsing,
// masking, and the derivation of TEST keys from labels. The MSDM table carries such a key.
//
// It knows nothing of editions or channels (the catalog in oemact/catalog maps TEST keys to them)
// and never decodes or validates real Windows keys beyond their shape.
package productkey

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Alphabet is the 24 characters that Windows product keys use (no vowels, no 0, 1, 5, L, N, S, Z).
const Alphabet = "BCDFGHJKMPQRTVWXY2346789"

// Len is the length of a key in its dashed form: five groups of five characters.
const Len = 29

// Key is a product key in canonical form (upper case, dashed). Its String and JSON forms are
// masked, so a key never reaches a log or a report whole by accident; use Reveal for the whole key.
type Key struct{ s string }

// FormatError says where a key string breaks the 5x5 format.
type FormatError struct {
	Pos int // 0-based character position, or -1 for the whole string
	Msg string
}

func (e *FormatError) Error() string {
	if e.Pos < 0 {
		return "product key: " + e.Msg
	}
	return fmt.Sprintf("product key: character %d: %s", e.Pos+1, e.Msg)
}

// Parse reads a key in the form AAAAA-BBBBB-CCCCC-DDDDD-EEEEE. Lower case is accepted; leading and
// trailing spaces are trimmed. Error messages never contain the key.
func Parse(s string) (Key, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if err := check(s, Alphabet); err != nil {
		return Key{}, err
	}
	return Key{s}, nil
}

// CheckShape checks the 5x5 dashed shape with any upper-case letter or digit in the groups: the
// pattern fwts applies to the key in an MSDM table. It is looser than Parse, which also demands the
// product-key alphabet.
func CheckShape(s string) error {
	return check(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
}

func check(s, alphabet string) error {
	if len(s) != Len {
		return &FormatError{Pos: -1, Msg: fmt.Sprintf("length %d, want %d (five groups of five, dashed)", len(s), Len)}
	}
	for i := 0; i < Len; i++ {
		c := s[i]
		if i%6 == 5 {
			if c != '-' {
				return &FormatError{Pos: i, Msg: fmt.Sprintf("want '-', got %q", printable(c))}
			}
			continue
		}
		if strings.IndexByte(alphabet, c) < 0 {
			return &FormatError{Pos: i, Msg: fmt.Sprintf("%q is not in the key alphabet", printable(c))}
		}
	}
	return nil
}

func printable(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return string(c)
	}
	return fmt.Sprintf("\\x%02x", c)
}

// Masked returns the key with all but the last group hidden, as `slmgr /dli` shows it.
func Mask(s string) string {
	if len(s) != Len {
		return strings.Repeat("X", 5) + "-XXXXX-XXXXX-XXXXX-XXXXX"
	}
	return "XXXXX-XXXXX-XXXXX-XXXXX-" + s[24:]
}

// IsZero reports whether k is the zero Key.
func (k Key) IsZero() bool { return k.s == "" }

// Reveal returns the whole key. Call it only where the user asked to see keys.
func (k Key) Reveal() string { return k.s }

// Masked returns the masked form, XXXXX-XXXXX-XXXXX-XXXXX-LAST5.
func (k Key) Masked() string {
	if k.s == "" {
		return ""
	}
	return Mask(k.s)
}

// LastFive is the last group, which Windows shows as the "partial product key".
func (k Key) LastFive() string {
	if k.s == "" {
		return ""
	}
	return k.s[24:]
}

// String returns the masked form.
func (k Key) String() string { return k.Masked() }

// GoString keeps %#v from printing the key whole.
func (k Key) GoString() string { return fmt.Sprintf("productkey.Key(%q)", k.Masked()) }

// MarshalJSON writes the masked form.
func (k Key) MarshalJSON() ([]byte, error) { return json.Marshal(k.Masked()) }

// Show returns the key whole when reveal is true, masked otherwise: the one switch behind every
// --show-keys flag.
func (k Key) Show(reveal bool) string {
	if reveal {
		return k.Reveal()
	}
	return k.Masked()
}
