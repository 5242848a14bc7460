//go:build !linux

package firmware

import "errors"

// ReadKernelLog is available on Linux only.
func ReadKernelLog() ([]byte, error) {
	return nil, errors.New("reading the kernel log needs Linux")
}
