// Command oemact reads, checks and synthesizes OEM activation markers, models Windows 7 / Server
// 2008 R2 activation and boots QEMU guests that carry the tables. Run as PID 1 it is the guest agent.
//
// Each verb lives in its own file and registers itself; this file only dispatches.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Exit codes shared by every verb.
const (
	exitOK     = 0
	exitFailed = 1 // checks or expectations failed
	exitUsage  = 2 // usage or environment error
)

// stdio is what a verb may touch of the process, so tests can run verbs in-process.
type stdio struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

type command struct {
	name    string
	summary string // one line for `oemact help`
	run     func(io stdio, args []string) int
}

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("oemact: verb registered twice: " + c.name)
	}
	commands[c.name] = c
}

// guestMain, when set, runs instead of the CLI when the process is PID 1 (the guest's /init).
var guestMain func() int

func main() {
	if os.Getpid() == 1 && guestMain != nil {
		os.Exit(guestMain())
	}
	os.Exit(run(stdio{os.Stdin, os.Stdout, os.Stderr}, os.Args[1:]))
}

func run(io stdio, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return c.run(io, []string{"-h"})
			}
		}
		usage(io.stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(io.stderr, "oemact: unknown command %q; run 'oemact help' for the list\n", args[0])
		return exitUsage
	}
	return c.run(io, args[1:])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: oemact <command> [flags] [args]")
	fmt.Fprintln(w, "")
	fmt.Fprintln(w, "commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "")
	fmt.Fprintln(w, "Run 'oemact help <command>' for a command's flags.")
}

// newFlagSet returns a FlagSet that reports errors on io.stderr and never exits the process.
// The usage line is "oemact NAME ARGS".
func newFlagSet(io stdio, name, args string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.stderr)
	fs.Usage = func() {
		fmt.Fprintf(io.stderr, "usage: oemact %s %s\n", name, strings.TrimSpace(args))
		fs.PrintDefaults()
	}
	return fs
}

// writeJSON prints v as indented JSON: every verb's --json output.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// parseFlags parses args and returns (exit code, done). done is true when the caller must return
// the code: -h was asked for (exit 0) or the flags were wrong (exit 2).
func parseFlags(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitOK, true
		}
		return exitUsage, true
	}
	return exitOK, false
}
