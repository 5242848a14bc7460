package main

import "github.com/oemact/oemact/harness/agent"

// Run as PID 1 (the /init of a test machine's initramfs), oemact is the guest agent.
func init() { guestMain = agent.Main }
