package catalog

import (
	"fmt"
	"strings"

	"github.com/oemact/oemact/firmware/productkey"
	"github.com/oemact/oemact/oemact/edition"
)

// Label is a catalog label read by the label grammar:
//
//	CHANNEL/EDITION[/TAG]            retail, oem-coa, oem-dm, gvlk, mak
//	oem-slp/OEMID/EDITION[/TAG]      OEM:SLP keys name the OEM whose marker they go with
//
// CHANNEL is one of the channel words (see ChannelWords), lower case. OEMID is 1 to 6 characters
// as an ACPI OEM ID holds them: printable ASCII except '/', no leading or trailing space (the
// padding of the table field is not part of the ID), compared byte for byte with the SLIC
// marker's OEM ID, so case matters. EDITION is an edition ID exactly as 'oemact editions' lists
// it (lower case), and the edition must be sold through the channel. TAG (a-z, 0-9 and '-')
// tells apart several keys of one channel and edition, such as retail/win7-ultimate/blocked.
//
// The key of a label is productkey.Derive of the label as written, so the grammar admits one
// spelling of each label: the parser refuses other cases rather than fold them.
type Label struct {
	Channel edition.Channel
	OEMID   string // OEM:SLP only
	Edition edition.Edition
	Tag     string
	text    string
}

// String returns the label as written.
func (l Label) String() string { return l.text }

// Key returns the TEST key derived from the label.
func (l Label) Key() productkey.Key { return productkey.Derive(l.text) }

// channelWords are the grammar's channel words, in edition.Channels order.
var channelWords = []struct {
	word string
	ch   edition.Channel
}{
	{"retail", edition.Retail},
	{"oem-slp", edition.OEMSLP},
	{"oem-coa", edition.OEMCOA},
	{"oem-dm", edition.OEMDM},
	{"gvlk", edition.VolumeGVLK},
	{"mak", edition.VolumeMAK},
}

// ChannelWords returns the channel words of the grammar and the channel each stands for.
func ChannelWords() map[string]edition.Channel {
	out := make(map[string]edition.Channel, len(channelWords))
	for _, w := range channelWords {
		out[w.word] = w.ch
	}
	return out
}

// ChannelWord returns the grammar's word for a channel ("oem-slp" for OEM:SLP).
func ChannelWord(ch edition.Channel) string {
	for _, w := range channelWords {
		if w.ch == ch {
			return w.word
		}
	}
	return ""
}

func wordList() string {
	ws := make([]string, len(channelWords))
	for i, w := range channelWords {
		ws[i] = w.word
	}
	return strings.Join(ws, ", ")
}

// MaxLabel bounds a label's length; no label of the grammar comes near it.
const MaxLabel = 128

// ParseLabel reads a label by the grammar (see Label). Errors say which part is wrong; they
// quote the parts of the label, which is never a key (a string shaped like a product key is
// refused without being repeated).
func ParseLabel(s string) (Label, error) {
	if looksLikeKey(s) {
		return Label{}, fmt.Errorf("%s is a product key, not a label (keys are named by label, e.g. oem-slp/TSTOEM/win7-professional)", productkey.Mask(strings.ToUpper(strings.TrimSpace(s))))
	}
	if s == "" {
		return Label{}, fmt.Errorf("empty label")
	}
	if len(s) > MaxLabel {
		return Label{}, fmt.Errorf("label is %d bytes long, at most %d", len(s), MaxLabel)
	}
	parts := strings.Split(s, "/")
	l := Label{text: s}
	var ok bool
	l.Channel, ok = ChannelWords()[parts[0]]
	if !ok {
		if _, lower := ChannelWords()[strings.ToLower(parts[0])]; lower {
			return Label{}, fmt.Errorf("channel word %q: write it in lower case, %q", parts[0], strings.ToLower(parts[0]))
		}
		return Label{}, fmt.Errorf("%q is not a channel word (%s)", parts[0], wordList())
	}
	rest := parts[1:]
	if l.Channel == edition.OEMSLP {
		if len(rest) < 2 || len(rest) > 3 {
			return Label{}, fmt.Errorf("an oem-slp label is oem-slp/OEMID/EDITION[/TAG]")
		}
		if err := checkLabelOEMID(rest[0]); err != nil {
			return Label{}, err
		}
		l.OEMID, rest = rest[0], rest[1:]
	} else if len(rest) < 1 || len(rest) > 2 {
		return Label{}, fmt.Errorf("a %s label is %s/EDITION[/TAG]", parts[0], parts[0])
	}
	ed, err := edition.Lookup(rest[0])
	if err != nil {
		return Label{}, err
	}
	if ed.ID != rest[0] {
		return Label{}, fmt.Errorf("edition %q: write it as %s", rest[0], ed.ID)
	}
	if !ed.Allows(l.Channel) {
		return Label{}, fmt.Errorf("%s is not sold through %s (its channels: %s)", ed.ID, l.Channel, channelNames(ed.Channels))
	}
	l.Edition = ed
	if len(rest) == 2 {
		if err := checkTag(rest[1]); err != nil {
			return Label{}, err
		}
		l.Tag = rest[1]
	}
	return l, nil
}

func checkLabelOEMID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("empty OEM ID (an ACPI OEM ID has 1 to 6 characters)")
	case len(id) > 6:
		return fmt.Errorf("OEM ID %q is %d characters; an ACPI OEM ID has 1 to 6", id, len(id))
	case id[0] == ' ' || id[len(id)-1] == ' ':
		return fmt.Errorf("OEM ID %q: no leading or trailing spaces (the ACPI field's padding is not part of the ID)", id)
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] > 0x7e {
			return fmt.Errorf("OEM ID %q: character %d is not printable ASCII", id, i+1)
		}
	}
	return nil
}

func checkTag(tag string) error {
	if tag == "" || len(tag) > 32 {
		return fmt.Errorf("tag %q: want 1 to 32 of a-z, 0-9 and -", tag)
	}
	for i := 0; i < len(tag); i++ {
		c := tag[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("tag %q: want 1 to 32 of a-z, 0-9 and -", tag)
		}
	}
	return nil
}

func channelNames(chs []edition.Channel) string {
	s := make([]string, len(chs))
	for i, c := range chs {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}

// looksLikeKey reports whether s may be a product key, whole or mistyped: the shape of one, or
// 20 characters or more with no '/' (every label of the grammar has one). Such a string is never
// repeated in an error.
func looksLikeKey(s string) bool {
	t := strings.ToUpper(strings.TrimSpace(s))
	return productkey.CheckShape(t) == nil || len(t) >= 20 && !strings.Contains(t, "/")
}

// quoteLabel quotes what was typed as a label for an error, unless it has a product key's shape.
func quoteLabel(s string) string {
	if looksLikeKey(s) {
		return productkey.Mask(strings.ToUpper(strings.TrimSpace(s)))
	}
	return fmt.Sprintf("%q", s)
}
