package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/oemact/oemact/fixtures"
	"github.com/oemact/oemact/oemact/service"
	"github.com/oemact/oemact/oemact/service/geo"
	"github.com/oemact/oemact/oemact/service/rules"
)

func init() {
	register(&command{name: "serve", summary: "run the emulated activation service (online, telephone, MAK proxy, KMS host) over HTTP", run: runServe})
}

// serveContext returns the context serve runs under: until SIGTERM or SIGINT. Tests replace it.
var serveContext = signalContext

const serveHelp = `
The service answers HTTP/JSON under /v1 (see package oemact/service/api): POST /v1/activate,
/v1/phone, /v1/mak/batches, /v1/kms; GET /v1/stats, /v1/health; admin: POST /v1/admin/keys,
PATCH /v1/admin/keys/{key_id}. GET /v1 lists the routes; GET /v1/openapi.json describes them as
an OpenAPI 3 document. It prints "listening on http://ADDR" once ready (--listen with port
0 picks a free port; --listen unix:PATH listens on a unix socket only this user can connect to, and
prints "listening on unix:PATH") and stops gracefully on SIGTERM or SIGINT: requests in flight are answered and
their decisions committed, then it exits 0.

Tokens (--admin-token-file, $OEMACT_ADMIN_TOKEN, --token-file) have at least 16 characters; token
files must not be readable by others. With --token-file every request needs
"Authorization: Bearer TOKEN" (for hosts where other local users reach 127.0.0.1).

The database keeps keys only as HMAC-SHA256 under a secret created beside it (FILE.hmac-secret,
mode 0600) on first start; keep the two together. Catalog keys missing from the database are added
at start; stored keys keep their settings (change them with the admin API).

--trust-client-time is for tests and the harness: KMS requests' request_time becomes the time of
the decision, so a run can simulate days passing. --trust-client-ip is for them too: an activation
request's client_ip becomes the address its geography (Windows 7 Starter's markets) is judged by,
so a run can place machines in other countries (the default table maps the documentation ranges
192.0.2.0/24 IN, 198.51.100.0/24 BR, 203.0.113.0/24 US, 2001:db8::/32 DE). Never use them for
anything else.`

func runServe(io stdio, args []string) int {
	fs := newFlagSet(io, "serve", "[--listen ADDR|unix:PATH] [--db FILE] [--catalog FILE] [--geo FILE] [--admin-token-file F] [--token-file F] [flags]")
	listen := fs.String("listen", service.DefaultListen, "address to listen on: HOST:PORT (loopback by default; port 0 picks a free port) or unix:PATH")
	db := fs.String("db", "oemact-service.db", "SQLite database (created with its secret on first start)")
	catFiles := fs.StringArray("catalog", nil, "key catalog (YAML) added with the built-in TEST catalog to the database at start (repeatable; none: add no keys)")
	geoFile := fs.String("geo", "", "table of 'CIDR COUNTRY' lines laid over the default table (loopback, private and documentation ranges)")
	country := fs.String("default-country", geo.DefaultCountry, "country of loopback and private addresses in the default table")
	adminFile := fs.String("admin-token-file", "", "file holding the admin token that guards catalog changes (default $"+service.EnvAdminToken+"; none disables them)")
	tokenFile := fs.String("token-file", "", "file holding a token every request must carry (Authorization: Bearer); the admin token opens every route too")
	trust := fs.Bool("trust-client-time", false, "use KMS requests' request_time as the time (tests only)")
	trustIP := fs.Bool("trust-client-ip", false, "judge activation requests' geography by their client_ip (tests only)")
	moves := fs.Int("retail-online-moves", 0, "online moves a retail or OEM:COA key gets to out-of-tolerance hardware (0: telephone only)")
	timeout := fs.Duration("request-timeout", 10*time.Second, "how long a request waits for its decision before answering 503")
	logJSON := fs.Bool("log-json", false, "write the log (stderr) as JSON lines")
	logRequests := fs.Bool("log-requests", false, "log every answered request (route, status, duration; never a body, key or address)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: oemact serve [--listen ADDR|unix:PATH] [--db FILE] [--catalog FILE] [--geo FILE] [--admin-token-file F] [--token-file F] [flags]\n\nflags:\n")
		printFlags(fs.FlagSet)
		fmt.Fprintln(fs.Output(), serveHelp)
	}
	if code, done := parseFlags(fs, args); done {
		return code
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(io.stderr, "oemact serve: "+format+"\n", a...)
		return exitUsage
	}
	if fs.NArg() != 0 {
		return fail("unexpected argument %q; serve takes flags only", fs.Arg(0))
	}
	if !strings.HasPrefix(*listen, service.UnixPrefix) {
		host, _, err := net.SplitHostPort(*listen)
		if err != nil {
			return fail("--listen %q: want HOST:PORT or unix:PATH, e.g. %s", *listen, service.DefaultListen)
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			fmt.Fprintf(io.stderr, "oemact serve: warning: listening on %s, beyond loopback: anyone who reaches it can use the service\n", host)
		}
	}
	rc := rules.DefaultConfig()
	rc.RetailOnlineMoves = *moves
	if err := rc.Validate(); err != nil {
		return fail("--retail-online-moves: %v", err)
	}
	if *timeout <= 0 {
		return fail("--request-timeout must be positive, got %s", *timeout)
	}
	table, err := geo.Default(*country)
	if err != nil {
		return fail("--default-country: %v", strings.TrimPrefix(err.Error(), "default country: "))
	}
	if *geoFile != "" {
		if table, err = geo.Load(*geoFile, table); err != nil {
			return fail("--geo: %v", err)
		}
	}
	cfg := service.Config{DBPath: *db, Geo: table, Rules: &rc, TrustClientTime: *trust, TrustClientIP: *trustIP, RequestTimeout: *timeout}
	if len(*catFiles) != 1 || (*catFiles)[0] != "none" {
		if cfg.Catalog, err = fixtures.CatalogWith(*catFiles...); err != nil {
			return fail("--catalog: %v", err)
		}
	}
	if cfg.AdminToken, err = service.AdminToken(*adminFile, os.Getenv); err != nil {
		if *adminFile != "" {
			return fail("--admin-token-file: %v", err)
		}
		return fail("%v", err)
	}
	if *tokenFile != "" {
		if cfg.Token, err = service.ReadTokenFile(*tokenFile); err != nil {
			return fail("--token-file: %v", err)
		}
	}
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if *logRequests {
		opts.Level = slog.LevelDebug
	}
	var h slog.Handler = slog.NewTextHandler(io.stderr, opts)
	if *logJSON {
		h = slog.NewJSONHandler(io.stderr, opts)
	}
	cfg.Log = slog.New(h)
	if *trust {
		cfg.Log.Warn("trusting clients' request_time: for tests only")
	}
	if cfg.AdminToken == "" {
		cfg.Log.Info("admin endpoints disabled: no --admin-token-file and no " + service.EnvAdminToken)
	}
	ctx, stop := serveContext()
	defer stop()
	if err := service.Run(ctx, cfg, *listen, io.stdout); err != nil {
		fmt.Fprintf(io.stderr, "oemact serve: %v\n", err)
		return exitUsage
	}
	return exitOK
}
