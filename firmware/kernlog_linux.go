//go:build linux

package firmware

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// syslog(2) actions (linux/syslog.h).
const (
	syslogActionReadAll    = 3
	syslogActionSizeBuffer = 10
)

// ReadKernelLog returns the kernel's log buffer through syslog(2), as dmesg reads it. It needs
// CAP_SYSLOG when kernel.dmesg_restrict is set.
func ReadKernelLog() ([]byte, error) {
	size, err := unix.Klogctl(syslogActionSizeBuffer, nil)
	if err != nil {
		return nil, fmt.Errorf("syslog(2) size: %w", err)
	}
	if size <= 0 {
		size = 1 << 20
	}
	buf := make([]byte, size)
	n, err := unix.Klogctl(syslogActionReadAll, buf)
	if err != nil {
		return nil, fmt.Errorf("syslog(2) read: %w", err)
	}
	return buf[:n], nil
}
