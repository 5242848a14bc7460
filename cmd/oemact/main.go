// Command oemact reads, checks and synthesizes OEM activation markers, models Windows 7 / Server
// 2008 R2 activation and boots QEMU guests that carry the tables. Run as PID 1 it is the guest agent.
//
// Each verb lives in its own file and registers itself; this file only dispatches.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/pflag"
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
	summary string   // one line for `oemact help`
	subs    []string // sub-verbs with flag sets of their own, shown one after another by `oemact help NAME`
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
	if len(args) == 0 {
		usage(io.stdout)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "--help":
		if len(args) == 1 {
			usage(io.stdout)
			return exitOK
		}
		if len(args) > 2 {
			fmt.Fprintf(io.stderr, "oemact help: one verb at a time, got %q\n", strings.Join(args[1:], " "))
			return exitUsage
		}
		return help(io, args[1])
	case "--version", "version":
		fmt.Fprintln(io.stdout, version())
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(io.stderr, "oemact: unknown command %q; run 'oemact help' for the list\n", args[0])
		return exitUsage
	}
	return c.run(io, args[1:])
}

// help prints a verb's usage and every flag, of each sub-verb too, on stdout.
func help(io stdio, name string) int {
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(io.stderr, "oemact help: unknown command %q; run 'oemact help' for the list\n", name)
		return exitUsage
	}
	if len(c.subs) == 0 {
		return c.run(io, []string{"--help"})
	}
	return helpSubs(io, c)
}

// helpSubs prints the help of every sub-verb of c, one after another.
func helpSubs(io stdio, c *command) int {
	for i, sub := range c.subs {
		if i > 0 {
			fmt.Fprintln(io.stdout)
		}
		if code := c.run(io, []string{sub, "--help"}); code != exitOK {
			return code
		}
	}
	return exitOK
}

// version names the build: the module version and, when built from a git checkout, the commit.
func version() string {
	v := "oemact (unknown build)"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	v = "oemact " + bi.Main.Version
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev != "" {
		v += " commit " + rev
		if modified == "true" {
			v += " (modified)"
		}
	}
	return v + " " + bi.GoVersion + " " + runtime.GOOS + "/" + runtime.GOARCH
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: oemact <command> [flags] [args]")
	fmt.Fprintln(w, "       oemact --version")
	fmt.Fprintln(w, "")
	fmt.Fprintln(w, "commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s %s\n", width, n, commands[n].summary)
	}
	fmt.Fprintln(w, "")
	fmt.Fprintln(w, "Flags may come before or after the arguments (oemact inspect DIR --json); -- ends them.")
	fmt.Fprintln(w, "Run 'oemact help <command>' for a command's flags.")
}

// flagSet is a verb's flags: GNU-style (--name, -n for the few with a short form), accepted
// anywhere among the arguments.
type flagSet struct {
	*pflag.FlagSet
	stdout io.Writer
}

// newFlagSet returns a flagSet that reports errors on io.stderr and never exits the process. The
// usage line is "oemact NAME ARGS"; the usage text goes where the flag set's output is (stdout
// when asked for with --help, stderr after a usage error).
func newFlagSet(io stdio, name, args string) *flagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SortFlags = false
	fs.SetOutput(io.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: oemact %s %s\n\nflags:\n", name, strings.TrimSpace(args))
		printFlags(fs)
	}
	return &flagSet{FlagSet: fs, stdout: io.stdout}
}

// printFlags lists the flags of fs on its output, one a line, in the order they were defined:
// "  -o, --output string   text (default x)". A word in `backquotes` in the text names the value.
func printFlags(fs *pflag.FlagSet) {
	type line struct{ name, text string }
	var lines []line
	width := 0
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		name := "    --" + f.Name
		if f.Shorthand != "" {
			name = "-" + f.Shorthand + ", --" + f.Name
		}
		varname, text := pflag.UnquoteUsage(f)
		switch f.Value.Type() {
		case "bool":
			varname = ""
		case "stringArray":
			varname = "string"
			if !strings.Contains(text, "repeat") {
				text += " (repeatable)"
			}
		}
		if varname != "" {
			name += " " + varname
		}
		if d := f.DefValue; d != "" && d != "false" && d != "0" && d != "[]" && d != "0s" {
			text += fmt.Sprintf(" (default %s)", d)
		}
		width = max(width, len(name))
		lines = append(lines, line{name, text})
	})
	for _, l := range lines {
		fmt.Fprintf(fs.Output(), "  %-*s   %s\n", width, l.name, l.text)
	}
}

// writeJSON prints v as indented JSON: every verb's --json output.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// parseFlags parses args and returns (exit code, done). done is true when the caller must return
// the code: --help was asked for (usage on stdout, exit 0) or the flags were wrong (the error and
// the usage on stderr, exit 2).
func parseFlags(fs *flagSet, args []string) (int, bool) {
	errw := fs.Output()
	fs.SetOutput(fs.stdout) // pflag prints the usage itself on --help: that is the answer, not an error
	err := fs.Parse(args)
	fs.SetOutput(errw)
	switch {
	case err == nil:
		return exitOK, false
	case errors.Is(err, pflag.ErrHelp):
		return exitOK, true
	}
	fmt.Fprintf(errw, "oemact %s: %v\n", fs.Name(), err)
	fs.Usage()
	return exitUsage, true
}

// signalContext returns a context that ends at the first SIGINT or SIGTERM, for a verb that runs
// long or starts processes of its own (mmdebstrap, make): CI cancels a job with SIGTERM, and the
// verb must stop them then, not leave them running.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// stdoutName is the file name that means standard output where a verb writes a file.
const stdoutName = "-"

// writeOutput writes b to the named file, or to stdout when the name is "-".
func writeOutput(io stdio, path string, b []byte, perm os.FileMode) error {
	if path == stdoutName {
		_, err := io.stdout.Write(b)
		return err
	}
	return os.WriteFile(path, b, perm)
}
