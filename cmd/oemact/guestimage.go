package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"

	"github.com/oemact/oemact/harness/guestimage"
)

func init() {
	register(&command{name: "guest-image", summary: "build the Debian test image that the harness boots from its own boot loader, or show it", run: runGuestImage})
}

const guestImageUsage = `build|path [flags]

  build   build the Debian test disk image into the cache when it is not there (as root; about
          a minute and a half): mmdebstrap with this machine's apt sources, the cloud kernel,
          systemd and qemu-guest-agent, syslinux for BIOS and GRUB for UEFI, assembled without
          mounting anything
  path    print the cached image (exit 2 when it is not built)

--link PATH makes PATH name the image too (a hard link, else a symbolic link): 'make guest-image'
links fixtures/images/debian.img, the file the fixture image profiles boot.

The cache is $OEMACT_CACHE, else $XDG_CACHE_HOME/oemact, else .cache in the working directory.`

func runGuestImage(io stdio, args []string) int {
	if len(args) == 0 || (args[0] != "build" && args[0] != "path") {
		fmt.Fprintf(io.stderr, "usage: oemact guest-image %s\n", guestImageUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return exitOK
		}
		return exitUsage
	}
	sub := args[0]
	fs := newFlagSet(io, "guest-image "+sub, "[--cache DIR] [--sources FILE] [--link PATH] [--json]")
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
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
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
		b, _ := json.MarshalIndent(im, "", "  ")
		fmt.Fprintln(io.stdout, string(b))
		return exitOK
	}
	fmt.Fprintln(io.stdout, im.Path)
	return exitOK
}
