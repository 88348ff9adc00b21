// Package api is gqlauth's reference GraphQL API: a small protected schema
// served at POST /graphql that behaves like the API described in
// seed/authentication.txt.
//
// Login is the loginUser query; a successful login answers with the same
// "Bearer <jwt>" value in the X-Authorization and Authorization response
// headers. Every other field needs that token in the Authorization request
// header, and every response to a request with a valid token carries a fresh
// one. A protected field asked for without a valid token makes the whole
// answer the seed's error:
//
//	{"errors":[{"message":"Unauthorized","locations":[{"line":2,"column":3}],"customer_facing":false}]}
//
// The Server answers only requests whose Host header names loopback or a
// host in Config.Hosts (421 Misdirected Request otherwise, against DNS
// rebinding). It also does CORS with an origin allow-list, serves static
// files for the demo, and, when Config.TestHooks is set, offers fault
// injection and a token log for the browser end-to-end tests.
//
// One request, with or without a token, costs bounded time and memory:
// Config.Limits bounds the query's length, depth, number of selections and
// the validation work of repeated fields, all checked before any field
// runs, and the size of the answer.
package api

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"
	"unicode"
)

// Defaults used when the corresponding Config field is left zero.
const (
	// DefaultTokenTTL is the token lifetime the seed documents.
	DefaultTokenTTL = 60 * time.Minute
	// DefaultDemoPassword is the password of the built-in demo user.
	DefaultDemoPassword = "demo-password"
)

// Limits enforced by the API.
const (
	// MaxBodyBytes is the largest request body accepted on /graphql.
	MaxBodyBytes = 1 << 20
	// MaxBlobBytes is the largest string one blob field returns; all of a
	// request's blob fields together are bounded by Limits.AnswerBytes.
	MaxBlobBytes = 16 << 20
)

// Config configures a Server. The zero value is a working server with the
// demo user, 60-minute tokens, no CORS origins and no static files.
type Config struct {
	// Origins is the CORS allow-list: exact origins such as
	// "http://127.0.0.1:5000". "*" is refused because the API is used with
	// credentials.
	Origins []string
	// TokenTTL is the lifetime of issued tokens; zero means DefaultTokenTTL.
	TokenTTL time.Duration
	// HideTokenHeaders leaves out Access-Control-Expose-Headers, so that a
	// browser cannot read the token headers: a deliberately misconfigured
	// server for tests.
	HideTokenHeaders bool
	// Users are the accounts that can log in. Empty means one demo user:
	// ID "1", username "demo", email "demo@example.com", password
	// DemoPassword.
	Users []User
	// DemoPassword is the demo user's password; empty means
	// DefaultDemoPassword. It is ignored when Users is set.
	DemoPassword string
	// Hosts are the host names, besides the loopback ones, that the server
	// answers for: DNS names or IP addresses, without ports. Loopback names
	// (localhost, *.localhost, 127.0.0.0/8, ::1) are always served. A
	// request whose Host header names any other host, whatever its port, is
	// answered 421 Misdirected Request and nothing else: a defence against
	// DNS rebinding, where a page from another site reaches a loopback
	// server under its own host name. CheckHost tells which names can be
	// listed.
	Hosts []string
	// StaticDirs are directories served at / for GET and HEAD, searched in
	// order; the first one holding the file wins. Empty serves nothing.
	StaticDirs []string
	// ContentSecurityPolicy, when set, is sent as the
	// Content-Security-Policy header of every answer of the static file
	// server (not of /graphql or the test endpoints).
	ContentSecurityPolicy string
	// TestHooks enables the ?delay= and ?fault= query parameters on
	// /graphql and the /test/tokens and /test/reset endpoints. The token log
	// holds raw tokens: never enable it outside tests.
	TestHooks bool
	// StrictRotation rejects a token as soon as a newer one has been issued
	// in the same session (the chain of tokens started by one login).
	StrictRotation bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// SigningKey is the HS256 key; nil means 32 random bytes.
	SigningKey []byte
	// Limits bound what one /graphql request can cost; its zero fields take
	// their defaults.
	Limits Limits
	// Logger gets one line per request (method, path, status, duration);
	// nil discards them.
	Logger *slog.Logger
}

// User is an account that can log in.
type User struct {
	ID       string
	Username string
	Email    string
	Password string
}

// Server is the API as an http.Handler. It is safe for concurrent use.
type Server struct {
	cfg     Config
	now     func() time.Time
	log     *slog.Logger
	users   *store
	tokens  *tokenIssuer
	ledger  *ledger // nil unless TestHooks or StrictRotation
	cors    *corsPolicy
	hosts   *hostPolicy
	gql     *engine
	handler http.Handler
}

// New checks cfg and returns a Server. It fails on an unusable origin list
// (including "*") or host list, a static directory that does not exist, a
// content security policy with control characters, a short signing key, or
// a negative limit.
func New(cfg Config) (*Server, error) {
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.TokenTTL < 0 {
		return nil, fmt.Errorf("token TTL must be positive, got %v", cfg.TokenTTL)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if len(cfg.Users) == 0 {
		password := cfg.DemoPassword
		if password == "" {
			password = DefaultDemoPassword
		}
		cfg.Users = []User{{ID: "1", Username: "demo", Email: "demo@example.com", Password: password}}
	}
	if cfg.SigningKey == nil {
		cfg.SigningKey = make([]byte, 32)
		rand.Read(cfg.SigningKey)
	}
	if len(cfg.SigningKey) < 32 {
		return nil, errors.New("signing key must be at least 32 bytes")
	}
	for _, dir := range cfg.StaticDirs {
		info, err := os.Stat(dir)
		if err != nil {
			return nil, fmt.Errorf("static directory: %w", err)
		}
		if !info.IsDir() {
			return nil, fmt.Errorf("static directory %s is not a directory", dir)
		}
	}
	if strings.ContainsFunc(cfg.ContentSecurityPolicy, unicode.IsControl) {
		return nil, errors.New("content security policy must not hold control characters")
	}
	cors, err := newCORSPolicy(cfg.Origins, !cfg.HideTokenHeaders)
	if err != nil {
		return nil, err
	}
	hosts, err := newHostPolicy(cfg.Hosts)
	if err != nil {
		return nil, err
	}
	if cfg.Limits, err = cfg.Limits.withDefaults(); err != nil {
		return nil, err
	}
	users := newStore(cfg.Users)
	gql, err := newEngine(users, cfg.Limits)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:    cfg,
		now:    cfg.Now,
		log:    cfg.Logger,
		users:  users,
		tokens: newTokenIssuer(cfg.SigningKey, cfg.TokenTTL, cfg.Now),
		cors:   cors,
		hosts:  hosts,
		gql:    gql,
	}
	if cfg.TestHooks || cfg.StrictRotation {
		s.ledger = newLedger(cfg.TestHooks)
	}
	s.handler = s.routes()
	return s, nil
}

// ServeHTTP serves the API, the test endpoints and the static files.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/graphql", s.withCORS(graphqlMethods, noStore(http.HandlerFunc(s.serveGraphQL))))
	if s.cfg.TestHooks {
		mux.Handle("/test/tokens", s.withCORS("GET, OPTIONS", noStore(http.HandlerFunc(s.serveTokenLog))))
		mux.Handle("/test/reset", s.withCORS("POST, OPTIONS", noStore(http.HandlerFunc(s.serveReset))))
	}
	mux.Handle("/", withCSP(s.cfg.ContentSecurityPolicy, staticFiles(s.cfg.StaticDirs)))
	return s.logRequests(s.recoverPanics(s.checkHost(mux)))
}

// noStore marks API answers as never cacheable and not to be sniffed.
func noStore(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

// recoverPanics turns a panic into a 500 with a GraphQL-style body, when
// nothing has been written yet.
func (s *Server) recoverPanics(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic while serving request", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v))
			if sw, ok := w.(*statusWriter); ok && sw.status != 0 {
				return
			}
			writeError(w, http.StatusInternalServerError, "internal server error")
		}()
		h.ServeHTTP(w, r)
	})
}

// logRequests logs method, path, status and duration; never headers, query
// strings or bodies, which may hold passwords or tokens.
func (s *Server) logRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		s.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", status, "duration", time.Since(start))
	})
}

// statusWriter remembers the status code written through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader records code and passes it on.
func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200 and passes b on.
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush and Hijack.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
