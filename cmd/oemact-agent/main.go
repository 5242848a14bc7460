// Command oemact-agent is the guest agent alone: the /init the QEMU harness boots, built from the
// same packages as oemact (harness/agent and the decoders and activation model it calls) but
// without the host's verbs, so it is a third of oemact's size and the guest kernel unpacks and
// starts it sooner. `make build` puts it beside bin/oemact, where the harness finds it; without it
// the harness boots oemact itself, which runs the same agent as PID 1.
//
// It runs only as PID 1: the agent mounts file systems and powers the machine off when done.
package main

import (
	"fmt"
	"os"

	"github.com/oemact/oemact/harness/agent"
)

func main() {
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "oemact-agent: the guest agent runs only as PID 1 (/init) of a test machine; "+
			"the harness boots it (oemact run). It does nothing here.")
		os.Exit(2)
	}
	os.Exit(agent.Main())
}
