package bench

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// GuestTimes is what the guest's console says about a boot, in the guest's clock: what the agent
// (or the benchmark's power-off init) logs about itself, and when the kernel powered off.
type GuestTimes struct {
	// Init is from the kernel's start to /init's main starting (the kernel's own boot and the Go
	// runtime's start).
	Init time.Duration `json:"init_ns"`
	// Agent is from /init starting to the agent being done (before powering off); zero for the
	// power-off init.
	Agent time.Duration `json:"agent_ns"`
	Steps []StepTime    `json:"steps"`
	// PowerOff is from the kernel's start to its "reboot: Power down" line; zero if absent. It
	// comes from the log's time stamps (the scheduler clock), Init from /proc/uptime (the boot
	// time clock): the two may differ by a few milliseconds.
	PowerOff time.Duration `json:"power_off_ns,omitempty"`
}

// StepTime is one agent step.
type StepTime struct {
	Name string        `json:"name"`
	Took time.Duration `json:"took_ns"`
}

// The console lines the benchmark reads: the agent's (harness/agent), the power-off init's
// (internal/poweroff), the kernel's.
const (
	initPrefix     = "oemact-agent: init started " // "1.532s after the kernel"
	powerOffPrefix = "poweroff: init started "     // the same, from the power-off init
	donePrefix     = "oemact-agent: done in "      // "312ms (modules=250.1ms channel=0.4ms ...)"
	powerDownLine  = "reboot: Power down"          // "[    0.959792] reboot: Power down"
)

// ReadGuestTimes reads the agent's timing lines from a serial log.
func ReadGuestTimes(path string) (*GuestTimes, error) {
	g, agent, err := readGuestTimes(path)
	if err != nil {
		return nil, err
	}
	if !agent {
		return nil, fmt.Errorf("%s: no agent timing lines (an agent older than the benchmark?)", path)
	}
	return g, nil
}

// ReadPowerOffTimes reads the power-off init's line and the kernel's power-off time from a serial
// log.
func ReadPowerOffTimes(path string) (*GuestTimes, error) {
	g, _, err := readGuestTimes(path)
	if err != nil {
		return nil, err
	}
	if g.Init == 0 {
		return nil, fmt.Errorf("%s: no %q line", path, strings.TrimSpace(powerOffPrefix))
	}
	return g, nil
}

// readGuestTimes reads what it finds; agent says the agent's two lines were both there.
func readGuestTimes(path string) (*GuestTimes, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	g := &GuestTimes{}
	var seenInit, seenDone bool
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		for _, p := range []string{initPrefix, powerOffPrefix} {
			if i := strings.Index(line, p); i >= 0 {
				v, _, _ := strings.Cut(line[i+len(p):], " ")
				if d, err := time.ParseDuration(v); err == nil {
					g.Init, seenInit = d, p == initPrefix
				}
			}
		}
		if strings.HasSuffix(line, powerDownLine) && strings.HasPrefix(line, "[") {
			ts, _, _ := strings.Cut(strings.TrimPrefix(line, "["), "]")
			if s, err := strconv.ParseFloat(strings.TrimSpace(ts), 64); err == nil {
				g.PowerOff = time.Duration(s * float64(time.Second))
			}
		}
		if i := strings.Index(line, donePrefix); i >= 0 {
			rest := line[i+len(donePrefix):]
			v, steps, _ := strings.Cut(rest, " ")
			d, err := time.ParseDuration(v)
			if err != nil {
				continue
			}
			g.Agent, seenDone = d, true
			g.Steps = nil
			for _, w := range strings.Fields(strings.Trim(steps, "()")) {
				name, ms, ok := strings.Cut(w, "=")
				if !ok {
					continue
				}
				n, err := strconv.ParseFloat(strings.TrimSuffix(ms, "ms"), 64)
				if err != nil {
					continue
				}
				g.Steps = append(g.Steps, StepTime{Name: name, Took: time.Duration(n * float64(time.Millisecond))})
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, false, err
	}
	return g, seenInit && seenDone, nil
}
