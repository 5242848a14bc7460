package bench

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// The targets for the medians.
const (
	// TargetVsNaive: a verdict in at most half the time of the naive boot.
	TargetVsNaive = 0.5
	// TargetVsFloor: a verdict at most 15% above the floor of the harness's own machine.
	TargetVsFloor = 1.15
)

// Summarize gives the median, min and max of walls (the median of an even count is the mean of
// the middle two).
func Summarize(walls []time.Duration) Stats {
	if len(walls) == 0 {
		return Stats{}
	}
	s := append([]time.Duration(nil), walls...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return Stats{N: n, Median: med, Min: s[0], Max: s[n-1]}
}

// LoadAvg is the host's load average over 1, 5 and 15 minutes.
type LoadAvg [3]float64

func (l LoadAvg) String() string { return fmt.Sprintf("%.2f %.2f %.2f", l[0], l[1], l[2]) }

// ReadLoadAvg reads /proc/loadavg; zeros where it cannot.
func ReadLoadAvg() LoadAvg {
	var l LoadAvg
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Sscanf(string(b), "%f %f %f", &l[0], &l[1], &l[2])
	}
	return l
}

func secs(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

// Print writes the report for people.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "oemact boot benchmark, %s\n", r.Started.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "accel       %s\n", r.Accel)
	fmt.Fprintf(w, "host        %d CPUs, load average %s at the start, %s at the end\n", r.CPUs, r.Load[0], r.Load[1])
	fmt.Fprintf(w, "kernel      %s\n", r.Kernel)
	if r.NaiveKernel != "" {
		fmt.Fprintf(w, "naive boot  %s\n", r.NaiveKernel)
	}
	fmt.Fprintf(w, "agent       %s (%.1f MB)\n", r.Agent, r.AgentMB)
	fmt.Fprintf(w, "runs        %d of each kind, alternating (%s)\n\n", r.Runs, kindList(r.Kinds))
	fmt.Fprintf(w, "%-46s %8s %8s %8s\n", "kind", "median", "min", "max")
	for _, k := range r.Kinds {
		s := r.Stats[k]
		fmt.Fprintf(w, "%-46s %8s %8s %8s\n", k.Label(), secs(s.Median), secs(s.Min), secs(s.Max))
	}
	fmt.Fprintln(w)
	if v := r.Ratio(Verdict, Naive); v > 0 {
		fmt.Fprintf(w, "(b)/(n)     %.2f   (target <= %.2f)\n", v, TargetVsNaive)
	}
	if v := r.Ratio(Verdict, Floor); v > 0 {
		fmt.Fprintf(w, "(b)/(a)     %.2f   (target <= %.2f)\n", v, TargetVsFloor)
	}
	if v := r.Ratio(Floor, Naive); v > 0 {
		fmt.Fprintf(w, "(a)/(n)     %.2f\n", v)
	}
	for _, k := range r.Kinds {
		if strings.HasPrefix(string(k), string(Floor)+"+") { // the -try variants
			fmt.Fprintf(w, "%s / (a)  %.3f\n", k.Label(), r.Ratio(k, Floor))
		}
	}
	r.printGuest(w)
	if len(r.Steps) > 0 {
		names := make([]string, 0, len(r.Steps))
		for n := range r.Steps {
			names = append(names, n)
		}
		sort.Slice(names, func(i, j int) bool { return r.Steps[names[i]].Median > r.Steps[names[j]].Median })
		var parts []string
		for _, n := range names {
			parts = append(parts, fmt.Sprintf("%s %.1fms", n, float64(r.Steps[n].Median.Microseconds())/1000))
		}
		fmt.Fprintf(w, "agent steps: %s\n", strings.Join(parts, ", "))
	}
	if m := r.Matrix; m != nil {
		fmt.Fprintf(w, "\nmatrix      %d scenarios, %d passed, %d boots in %s with %d job(s): %.1f boots per minute\n",
			m.Scenarios, m.Passed, m.Boots, m.Wall.Round(100*time.Millisecond), m.Jobs, m.BootsPerMinute)
		for _, f := range m.Failures {
			fmt.Fprintf(w, "  not passed: %s\n", f)
		}
	}
	fmt.Fprintf(w, "\ncommands (one of each kind):\n")
	for _, k := range r.Kinds {
		if c := r.Command[k]; c != "" {
			fmt.Fprintf(w, "%s\n  %s\n", k.Label(), c)
		}
	}
	fmt.Fprintf(w, "\ntook %s\n", r.Duration.Round(time.Second))
}

// printGuest splits the boots in the guest's clock (medians of the boots whose console said so):
// the kernel's start to /init's main, the agent's work, the kernel's power-off.
func (r *Report) printGuest(w io.Writer) {
	header := false
	for _, k := range r.Kinds {
		var init, agent, off, rest []time.Duration
		for _, s := range r.Samples {
			if s.Kind != k || s.Guest == nil {
				continue
			}
			init = append(init, s.Guest.Init)
			if s.Guest.Agent > 0 {
				agent = append(agent, s.Guest.Agent)
			}
			if s.Guest.PowerOff > 0 {
				off = append(off, s.Guest.PowerOff)
				rest = append(rest, s.Wall-s.Guest.PowerOff)
			}
		}
		if len(init) == 0 {
			continue
		}
		if !header {
			fmt.Fprintf(w, "\nguest side, kernel clock (medians)             %8s %8s %8s %8s\n", "init", "agent", "off", "rest")
			header = true
		}
		col := func(d []time.Duration) string {
			if len(d) == 0 {
				return "-"
			}
			return secs(Summarize(d).Median)
		}
		fmt.Fprintf(w, "%-46s %8s %8s %8s %8s\n", k.Label(), col(init), col(agent), col(off), col(rest))
	}
	if header {
		fmt.Fprintln(w, "  init: the kernel's start to /init's main; agent: main to done; off: the kernel's start to its")
		fmt.Fprintln(w, "  power-off; rest: the wall time outside the guest kernel's clock (QEMU's start, its firmware")
		fmt.Fprintln(w, "  and exit; for (b) also the runner's work on the host)")
	}
}

func kindList(ks []Kind) string {
	var s []string
	for _, k := range ks {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}
