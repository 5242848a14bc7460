//go:build linux

// Command poweroff is the smallest useful /init: it powers the machine off at once. The boot
// benchmark boots it to measure a machine with nothing running in it: the plain QEMU boot people
// script by hand, and the floor of the harness's own machine.
//
// Before powering off it logs one line, as the agent does, saying when it started counted from
// the kernel's start, so that the benchmark can split the floor's boot as it splits a verdict's.
package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	start := time.Now()
	logStart(start)
	if err := syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF); err != nil {
		os.Stderr.WriteString("poweroff: " + err.Error() + "\n")
	}
	// Powering off does not return. If it failed, PID 1 must still not exit (the kernel would
	// panic): wait for the host's timeout, with the reason on the console.
	for {
		time.Sleep(time.Hour)
	}
}

// logStart writes "poweroff: init started 612ms after the kernel" (harness/bench reads it), from
// /proc/uptime; nothing if /proc cannot be read.
func logStart(start time.Time) {
	os.Mkdir("/proc", 0o755)
	if err := syscall.Mount("proc", "/proc", "proc", syscall.MS_NOSUID|syscall.MS_NOEXEC, ""); err != nil && err != syscall.EBUSY {
		return
	}
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return
	}
	f, _, _ := strings.Cut(string(b), " ")
	up, err := strconv.ParseFloat(f, 64)
	if err != nil {
		return
	}
	at := time.Duration(up*float64(time.Second)) - time.Since(start)
	os.Stderr.WriteString("poweroff: init started " + at.Round(time.Millisecond).String() + " after the kernel\n")
}
