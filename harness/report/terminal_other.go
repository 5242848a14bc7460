//go:build !linux

package report

import "os"

// terminalInfo guesses from the file mode where the terminal ioctls are not at hand: a character
// device is taken for a terminal, of unknown width.
func terminalInfo(f *os.File) (bool, int) {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0, 0
}
