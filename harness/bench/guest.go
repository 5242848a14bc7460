package bench

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// GuestTimes is what the agent logs on the serial console about its own boot.
type GuestTimes struct {
	// Init is from the kernel's start to /init starting (the kernel's own boot).
	Init time.Duration `json:"init_ns"`
	// Agent is from /init starting to the agent being done (before powering off).
	Agent time.Duration `json:"agent_ns"`
	Steps []StepTime    `json:"steps"`
}

// StepTime is one agent step.
type StepTime struct {
	Name string        `json:"name"`
	Took time.Duration `json:"took_ns"`
}

// The agent's console lines the benchmark reads (harness/agent writes them).
const (
	initPrefix = "oemact-agent: init started " // "1.532s after the kernel"
	donePrefix = "oemact-agent: done in "      // "312ms (mount=0.4ms modules=250.1ms ...)"
)

// ReadGuestTimes reads the agent's timing lines from a serial log.
func ReadGuestTimes(path string) (*GuestTimes, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	g := &GuestTimes{}
	var seenInit, seenDone bool
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, initPrefix); i >= 0 {
			v, _, _ := strings.Cut(line[i+len(initPrefix):], " ")
			if d, err := time.ParseDuration(v); err == nil {
				g.Init, seenInit = d, true
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
		return nil, err
	}
	if !seenInit || !seenDone {
		return nil, fmt.Errorf("%s: no agent timing lines (an agent older than the benchmark?)", path)
	}
	return g, nil
}
