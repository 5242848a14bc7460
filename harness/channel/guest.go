package channel

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// DefaultPortName is the virtserialport name the harness gives the channel
// (-device virtserialport,name=...). Reverse-DNS, as virtio-serial port names usually are.
const DefaultPortName = "org.oemact.channel.0"

// FindPort returns the device node of the virtio-serial port called name: the entry of
// SYSFS/class/virtio-ports whose name file holds it, under DEV ("/sys" and "/dev" in the guest).
func FindPort(sysfs, dev, name string) (string, error) {
	dir := filepath.Join(sysfs, "class", "virtio-ports")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("channel: no virtio-serial ports (%v): is virtio_console loaded and the virtserialport device on the QEMU command line?", err)
	}
	var seen []string
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name(), "name"))
		if err != nil {
			continue
		}
		n := strings.TrimSpace(string(b))
		if n == name {
			return filepath.Join(dev, e.Name()), nil
		}
		seen = append(seen, fmt.Sprintf("%s=%q", e.Name(), n))
	}
	sort.Strings(seen)
	return "", fmt.Errorf("channel: no virtio-serial port named %q (ports: %s)", name, strings.Join(seen, ", "))
}

// OpenPort waits up to timeout for the port called name to appear (virtio devices are probed
// asynchronously after the module loads) and opens it for reading and writing.
func OpenPort(sysfs, dev, name string, timeout time.Duration) (*os.File, error) {
	deadline := time.Now().Add(timeout)
	for {
		p, err := FindPort(sysfs, dev, name)
		if err == nil {
			f, oerr := os.OpenFile(p, os.O_RDWR, 0)
			if oerr == nil {
				return f, nil
			}
			err = fmt.Errorf("channel: opening %s: %w", p, oerr)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%w (waited %s)", err, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
