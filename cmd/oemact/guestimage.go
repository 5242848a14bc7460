package main

import (
	"fmt"

	"github.com/oemact/oemact/harness/guestimage"
)

func init() {
	register(&command{name: "guest-image", summary: "build the Debian test image that the harness boots from its own boot loader, or show it",
		subs: []string{"build", "path"}, run: runGuestImage})
}

const (
	guestImageArgs  = "[--cache DIR] [--sources FILE] [--link PATH] [--json]"
	guestImageUsage = "usage: oemact guest-image build " + guestImageArgs + "\n       oemact guest-image path " + guestImageArgs

	guestImageCommon = `

The image is the one the apt sources (--sources) give, in the cache: $OEMACT_CACHE, else
$XDG_CACHE_HOME/oemact, else .cache in the working directory.
`
)

// guestImageHelp is what each sub-verb does, after its usage line.
var guestImageHelp = map[string]string{
	"build": `

Build the Debian test disk image into the cache when it is not there (as root; about a minute
and a half), then print its path: mmdebstrap with this machine's apt sources, the cloud kernel,
systemd and qemu-guest-agent, syslinux for BIOS and GRUB for UEFI, assembled without mounting
anything. 'make guest-image' runs it with --link fixtures/images/debian.img, the file the fixture
image profiles boot.`,
	"path": `

Print the cached image's path (exit 2 when it is not built).`,
}

func runGuestImage(io stdio, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(io.stderr, guestImageUsage)
		return exitUsage
	}
	sub := args[0]
	switch sub {
	case "build", "path":
	case "-h", "--help", "help":
		return helpSubs(io, commands["guest-image"])
	default:
		fmt.Fprintf(io.stderr, "oemact guest-image: unknown subcommand %q\n%s\n", sub, guestImageUsage)
		return exitUsage
	}
	fs := newFlagSet(io, "guest-image "+sub, guestImageArgs+guestImageHelp[sub]+guestImageCommon)
	cache := fs.String("cache", "", "cache folder (default $OEMACT_CACHE, $XDG_CACHE_HOME/oemact or ./.cache)")
	sources := fs.String("sources", "", "apt sources file for mmdebstrap (default this machine's: /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list)")
	asJSON := fs.Bool("json", false, "print the image as JSON")
	link := fs.String("link", "", "make PATH name the image too (a hard link, else a symbolic link)")
	if code, done := parseFlags(fs, args[1:]); done {
		return code
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitUsage
	}
	o := guestimage.Options{CacheDir: *cache, Sources: *sources, Log: io.stderr}
	var im *guestimage.Image
	var err error
	if sub == "build" {
		ctx, stop := signalContext()
		defer stop()
		im, err = guestimage.Build(ctx, o)
	} else {
		im, err = guestimage.Locate(o)
	}
	if err != nil {
		// A missing image, tool, root or network: the environment's failure.
		fmt.Fprintf(io.stderr, "oemact guest-image %s: %v\n", sub, err)
		return exitUsage
	}
	if *link != "" {
		how, err := im.Link(*link)
		if err != nil {
			fmt.Fprintf(io.stderr, "oemact guest-image %s: %v\n", sub, err)
			return exitUsage
		}
		fmt.Fprintf(io.stderr, "%s: %s\n", *link, how)
	}
	if *asJSON {
		if err := writeJSON(io.stdout, im); err != nil {
			return fail(io, "guest-image "+sub, "%v", err)
		}
		return exitOK
	}
	fmt.Fprintln(io.stdout, im.Path)
	return exitOK
}
