//go:build !linux

package agent

import (
	"fmt"
	"os"
)

// Main is the guest's /init; the guest is always Linux.
func Main() int {
	fmt.Fprintln(os.Stderr, "oemact agent: the guest agent runs only as PID 1 of a Linux guest")
	return 2
}
