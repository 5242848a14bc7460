// Package runner runs scenarios: for each step it synthesizes the machine's tables, boots it in
// QEMU with the guest agent, relays the agent's activation requests to the emulated activation
// service, and checks the agent's report against the step's expectations.
//
// It decides no licence question itself: the guest runs the activation model, the service runs
// its rules; the runner only compares what they said with what the scenario expects.
package runner
