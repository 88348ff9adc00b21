// Command server runs gqlauth's reference GraphQL API (package api) on
// loopback, optionally serving the demo's static files next to it.
//
// Once listening it prints one line to stdout,
//
//	gqlauth-server listening on http://127.0.0.1:8080
//
// with the real port (useful with -addr 127.0.0.1:0); logs go to stderr.
// It stops gracefully on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gqlauth/gqlauth/web/server/api"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gqlauth-server:", err)
		os.Exit(1)
	}
}

// options are the command-line flags.
type options struct {
	addr               string
	allowPublic        bool
	origins            string
	tokenTTL           time.Duration
	exposeTokenHeaders bool
	demoPassword       string
	hosts              []string
	static             string
	csp                string
	testHooks          bool
	strictRotation     bool
	limits             api.Limits
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("gqlauth-server", flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen address; must be loopback unless -allow-public")
	fs.BoolVar(&o.allowPublic, "allow-public", false, "allow a non-loopback -addr (this is a demo server with a demo password)")
	fs.StringVar(&o.origins, "origins", "", "comma-separated CORS allow-list of exact origins, e.g. http://127.0.0.1:5000,http://localhost:5173")
	fs.DurationVar(&o.tokenTTL, "token-ttl", api.DefaultTokenTTL, "token lifetime")
	fs.BoolVar(&o.exposeTokenHeaders, "expose-token-headers", true, "send Access-Control-Expose-Headers: Authorization, X-Authorization (false simulates a misconfigured server)")
	fs.StringVar(&o.demoPassword, "demo-password", api.DefaultDemoPassword, "password of the demo user")
	hosts := fs.String("hosts", "", "comma-separated host names (no ports) to answer for besides loopback names (localhost, *.localhost, 127.0.0.0/8, ::1) and the -addr host; "+
		"a request whose Host header names any other host gets 421 Misdirected Request (DNS rebinding protection)")
	fs.StringVar(&o.static, "static", "", "comma-separated directories served at /, searched in order")
	fs.StringVar(&o.csp, "csp", "", "Content-Security-Policy header sent with every static file answer (not with /graphql), e.g. \"default-src 'self'\"")
	fs.BoolVar(&o.testHooks, "test-hooks", false, "enable ?delay=, ?fault=, GET /test/tokens and POST /test/reset (tests only: exposes tokens)")
	fs.BoolVar(&o.strictRotation, "strict-rotation", false, "reject a token once a newer one was issued in its session")
	// Limits of one /graphql request (api.Limits).
	limitFlags := []struct {
		name  string
		value *int
		def   int
		usage string
	}{
		{"max-query-bytes", &o.limits.QueryBytes, api.DefaultMaxQueryBytes, "longest query document accepted, in bytes; a longer one gets a GraphQL error"},
		{"max-depth", &o.limits.Depth, api.DefaultMaxDepth, "deepest nesting of fields in an operation ({ me { id } } is 2 deep); a deeper one gets a GraphQL error"},
		{"max-selections", &o.limits.Selections, api.DefaultMaxSelections, "most selections (fields, aliases included, and fragments) an operation may expand to once its fragments are spread; checked before any field runs"},
		{"max-overlap-pairs", &o.limits.OverlapPairs, api.DefaultMaxOverlapPairs,
			"most pairs of fields with the same response name that validation compares (a field repeated n times makes n*n/2 pairs)"},
		{"max-answer-bytes", &o.limits.AnswerBytes, api.DefaultMaxAnswerBytes,
			fmt.Sprintf("budget of each answer, in bytes, drawn by blob fields (each at most %d bytes) and items pages; a field past it fails with a GraphQL error", api.MaxBlobBytes)},
	}
	for _, f := range limitFlags {
		fs.IntVar(f.value, f.name, f.def, f.usage)
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	o.hosts = splitList(*hosts)
	for _, h := range o.hosts {
		if err := api.CheckHost(h); err != nil {
			return o, fmt.Errorf("-hosts: %w", err)
		}
	}
	for _, f := range limitFlags {
		if *f.value <= 0 {
			return o, fmt.Errorf("-%s must be positive, got %d (the default is %d)", f.name, *f.value, f.def)
		}
	}
	if o.tokenTTL <= 0 {
		return o, fmt.Errorf("-token-ttl must be positive, got %v", o.tokenTTL)
	}
	if !o.allowPublic {
		if err := requireLoopback(o.addr); err != nil {
			return o, err
		}
	}
	return o, nil
}

// requireLoopback refuses a listen address reachable from other machines.
func requireLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("-addr %q is not a loopback address: use 127.0.0.1 or [::1], or pass -allow-public", addr)
}

// servedHosts is Config.Hosts: the -hosts names and the host of -addr,
// unless that is empty or a wildcard address such as 0.0.0.0, which names
// no host.
func servedHosts(o options) []string {
	hosts := slices.Clone(o.hosts)
	host, _, err := net.SplitHostPort(o.addr)
	if ip := net.ParseIP(host); err == nil && host != "" && (ip == nil || !ip.IsUnspecified()) && api.CheckHost(host) == nil {
		hosts = append(hosts, host)
	}
	return hosts
}

// splitList splits a comma-separated flag value, dropping empty entries.
func splitList(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func run(args []string) error {
	o, err := parseFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	srv, err := api.New(api.Config{
		Origins:               splitList(o.origins),
		TokenTTL:              o.tokenTTL,
		HideTokenHeaders:      !o.exposeTokenHeaders,
		DemoPassword:          o.demoPassword,
		Hosts:                 servedHosts(o),
		StaticDirs:            splitList(o.static),
		ContentSecurityPolicy: o.csp,
		TestHooks:             o.testHooks,
		StrictRotation:        o.strictRotation,
		Limits:                o.limits,
		Logger:                logger,
	})
	if err != nil {
		return err
	}
	if o.testHooks {
		logger.Warn("test hooks enabled: /test/tokens exposes every token; never use this outside tests")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	fmt.Printf("gqlauth-server listening on http://%s\n", ln.Addr())

	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return hs.Shutdown(shutdownCtx)
}
