package report

import (
	"os"

	"golang.org/x/sys/unix"
)

// terminalInfo reports whether f is a terminal (it answers the terminal attributes ioctl: /dev/null
// is a character device too, so the file mode is not enough) and its width in columns (0 when
// unknown).
func terminalInfo(f *os.File) (bool, int) {
	fd := int(f.Fd())
	if _, err := unix.IoctlGetTermios(fd, unix.TCGETS); err != nil {
		return false, 0
	}
	ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ)
	if err != nil {
		return true, 0
	}
	return true, int(ws.Col)
}
