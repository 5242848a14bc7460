# oemact: see README.md. `make demo` and `make test` install what they need on Debian (as root).
GO        ?= go
BIN       := bin/oemact
AGENT_BIN := bin/oemact-agent
FUZZTIME  ?= 30s
# The cache (guest kernels, runs): oemact's own default, $OEMACT_CACHE, else
# $XDG_CACHE_HOME/oemact, else ~/.cache/oemact, so that make, oemact and every checkout share one
# cache and the guest kernel is built once per user, not once per working directory.
CACHE     ?= $(or $(OEMACT_CACHE),$(if $(XDG_CACHE_HOME),$(XDG_CACHE_HOME)/oemact,$(HOME)/.cache/oemact))
export OEMACT_CACHE := $(CACHE)

.PHONY: all build deps kernel kernel-background guest-image test test-short vet demo fuzz bench bench-each clean

all: build

# Both binaries are static. oemact-agent (cmd/oemact-agent, the same agent code without the
# host's verbs: 6 MB instead of 18) is what the harness copies into the guest as /init when it
# finds it beside oemact from the same build; oemact itself is the agent otherwise. Without the
# symbol table and DWARF (-s -w; panics still print file:line) the guest kernel unpacks less at
# every boot: the boot benchmark's floor x 0.90 for oemact, and the agent-only build's verdict
# boot 40-60 ms sooner again (harness/bench/README.md).
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o $(BIN) ./cmd/oemact
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o $(AGENT_BIN) ./cmd/oemact-agent

deps:
	.ci/install-deps

# The guest kernels for the QEMU harness, in $(OEMACT_CACHE), with apt-get download (no root):
# Debian's cloud kernel (the boot benchmark's naive boot, and the harness's when no kernel is
# built), then the harness's own, compiled once from Debian's kernel source with every driver
# built in (minutes; see README). Each does nothing when it is cached or OEMACT_KERNEL names one.
kernel: build
	./$(BIN) kernel fetch
	./$(BIN) kernel build

# The Debian test image the harness boots from its own boot loader (harness/guestimage), in
# $(OEMACT_CACHE): mmdebstrap with this machine's apt sources, as root, a few minutes once; nothing
# to do when it is cached (the hash of its recipe and the sources file names it). It is linked to
# fixtures/images/debian.img, the file the image scenarios (fixtures/images/scenarios) boot.
guest-image: build
	./$(BIN) guest-image build --link fixtures/images/debian.img

# Debian's cloud kernel now (seconds), the harness's own kernel compiled in the background (minutes;
# its log is in $(OEMACT_CACHE)/kernel/build.log): runs boot the cloud kernel until the build is in
# the cache, so a fresh machine reaches its first verdict without waiting for the compiler. A build
# already running is left alone; two never run at once.
kernel-background: build
	./$(BIN) kernel fetch
	./$(BIN) kernel build --background

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }

# Every test, the ones that boot QEMU and use swtpm included. cgo is on for the TPM simulator tests.
test: deps build kernel guest-image vet
	CGO_ENABLED=1 $(GO) test -count=1 -timeout 30m ./...
	# The concurrent parts again under the race detector (the MAK race test among them).
	CGO_ENABLED=1 $(GO) test -count=1 -race -timeout 15m ./oemact/service/... ./harness/channel/... ./oemact/licence/...
	# Machines kept running across steps: the session's rounds, Stop and timeouts.
	CGO_ENABLED=1 $(GO) test -count=1 -race -timeout 10m -run 'Resume' ./harness/boot/
	# The in-process engine: the agent's session, the channel and the service in one process.
	CGO_ENABLED=1 $(GO) test -count=1 -race -short -timeout 10m ./harness/engine/... ./oemact/activation/
	CGO_ENABLED=1 $(GO) test -count=1 -race -timeout 10m -run 'InProcess|EveryStepKind' ./harness/runner/

# Quick loop for development: no tests that need QEMU.
test-short: build
	$(GO) test -short ./...

demo: deps build kernel-background
	./$(BIN) inspect fixtures/acpi/dell-inspiron-14-3462 fixtures/smbios/uroot_Lenovo-ThinkPad-T480.bin
	./$(BIN) run --html $(CACHE)/demo/report.html --junit $(CACHE)/demo/junit.xml fixtures/scenarios

# Runs each fuzz target for FUZZTIME.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list 'Fuzz.*' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# inspect --each over 1,000 inputs made from the fixtures (SMBIOS dumps in every container, ACPI
# tables, table folders): time per run and the largest heap in use during it.
bench-each:
	$(GO) test -run '^$$' -bench BenchmarkInspectEach -benchmem -benchtime 5x ./cmd/oemact

clean:
	rm -rf bin

# The emulated activation service's load benchmark: durable activations per second at 1, 8 and 64
# clients beside a plain net/http handler, three runs (compare the medians; the machine is shared).
.PHONY: bench-service
bench-service:
	$(GO) test -run '^$$' -bench BenchmarkLoad -benchtime 2s -count 3 ./oemact/service/

# How long the QEMU harness takes to reach a verdict, beside the boot people script by hand:
# RUNS boots each of (n) q35 + SeaBIOS + the guest kernel + an init that powers off at once,
# (a) the harness's own machine with that init, (b) a runner boot of the default profile to a
# verdict, alternating; medians, min/max, (b)/(n) and (b)/(a); then one run of the default matrix
# (JOBS scenarios at once; auto = the CPUs this process may use). See harness/bench/README.md.
RUNS ?= 10
JOBS ?= 1
.PHONY: bench-boot
bench-boot: build kernel
	$(GO) run ./harness/bench/cmd/bench-boot -agent $(AGENT_BIN) -runs $(RUNS) -matrix -j $(JOBS)
