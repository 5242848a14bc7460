//go:build linux

// Command poweroff is the smallest useful /init: it powers the machine off at once. The boot
// benchmark boots it to measure a machine with nothing running in it: the plain QEMU boot people
// script by hand, and the floor of the harness's own machine.
package main

import (
	"os"
	"syscall"
	"time"
)

func main() {
	if err := syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF); err != nil {
		os.Stderr.WriteString("poweroff: " + err.Error() + "\n")
	}
	// Powering off does not return. If it failed, PID 1 must still not exit (the kernel would
	// panic): wait for the host's timeout, with the reason on the console.
	for {
		time.Sleep(time.Hour)
	}
}
