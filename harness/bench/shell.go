package bench

import (
	"fmt"
	"strings"
)

// SplitCommand splits a command printed by qemu.CommandLine ("cd DIR && PROGRAM ARGS...", words
// quoted for a POSIX shell by qemu.Quote) back into the folder and the words.
func SplitCommand(cmd string) ([]string, error) {
	words, err := splitWords(cmd)
	if err != nil {
		return nil, err
	}
	if len(words) >= 3 && words[0] == "cd" && words[2] == "&&" {
		words = words[3:]
	}
	return words, nil
}

// splitWords splits on unquoted spaces; it knows single quotes and the '\” idiom, which is all
// qemu.Quote writes.
func splitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted:
			if c == '\'' {
				quoted = false
			} else {
				cur.WriteByte(c)
			}
		case c == '\'':
			quoted, inWord = true, true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == ' ':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
