// Package client logs in to a JWT-protected GraphQL API and sends requests
// with the held token. It orchestrates package session (which token to send
// and keep) and package graphql (what to send and what came back) over a
// Transport, and turns every failure into an error CodeOf can classify.
//
// In the browser the Transport is fetch, through package jsbridge; tests use
// a fake one. Login and Do are the whole exchange: encode, send, judge the
// answer, rotate the token, replay once when a rotation raced the request.
//
// It is pure Go: it must not import syscall/js or net/http.
package client

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gqlauth/gqlauth/wasm/graphql"
	"github.com/gqlauth/gqlauth/wasm/session"
)

// Token header names, in the order they are read.
const (
	HeaderXAuthorization = "X-Authorization"
	HeaderAuthorization  = "Authorization"
)

var tokenHeaders = []string{HeaderXAuthorization, HeaderAuthorization}

// DefaultTimeout bounds each request unless WithTimeout says otherwise.
const DefaultTimeout = 30 * time.Second

const loginQuery = `query Login($email: String, $username: String, $password: String!) {
  loginUser(email: $email, username: $username, password: $password) { id }
}`

// Option configures a Client.
type Option func(*Client) error

// WithTimeout bounds each request, from send to the end of the body.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) error {
		if d <= 0 {
			return invalidArg("timeout must be positive, got %v", d)
		}
		c.timeout = d
		return nil
	}
}

// WithLeeway makes a token count as expired d before its exp.
func WithLeeway(d time.Duration) Option {
	return func(c *Client) error {
		if d < 0 {
			return invalidArg("expiry leeway must not be negative, got %v", d)
		}
		c.sessionOpts = append(c.sessionOpts, session.WithLeeway(d))
		return nil
	}
}

// WithClock makes the client read time from clock (tests).
func WithClock(clock session.Clock) Option {
	return func(c *Client) error {
		c.sessionOpts = append(c.sessionOpts, session.WithClock(clock))
		return nil
	}
}

// AllowInsecureHTTP permits a plain http endpoint on a non-loopback host.
func AllowInsecureHTTP() Option {
	return func(c *Client) error { c.allowInsecure = true; return nil }
}

// WithHeaders adds static headers to every request. Names must be HTTP
// tokens; values must be Latin-1 text without control characters (what
// fetch can send); and the headers the client sets itself (Authorization,
// X-Authorization, Content-Type) cannot be overridden.
func WithHeaders(h map[string]string) Option {
	return func(c *Client) error {
		for name, value := range h {
			if err := checkHeader(name, value); err != nil {
				return err
			}
			if strings.EqualFold(name, "Content-Type") {
				return invalidArg("header %q is set by gqlauth and cannot be overridden", name)
			}
			c.headers[name] = value
		}
		return nil
	}
}

// checkHeader checks a header of the app's: a name fetch accepts, a value
// fetch can send (Latin-1 text without control characters), and not one of
// the token's headers, which are gqlauth's to send.
func checkHeader(name, value string) error {
	switch {
	case !isHeaderName(name):
		return invalidArg("header name %q is not a valid HTTP header name", name)
	case !isHeaderValue(value):
		return invalidArg("header %q must be Latin-1 text without control characters", name)
	case isTokenHeader(name):
		return invalidArg("header %q is refused: the token is gqlauth's to send", name)
	}
	return nil
}

// WithRefusalCodes sets the extensions.code values that say an error is a
// refused token, whatever its message (Hasura says "invalid-jwt", for
// instance); the default is graphql.DefaultRefusalCodes, Apollo's
// UNAUTHENTICATED. An error whose message is "Unauthorized" always counts.
func WithRefusalCodes(codes []string) Option {
	return func(c *Client) error {
		if len(codes) > 32 {
			return invalidArg("at most 32 refusal codes, got %d", len(codes))
		}
		for _, code := range codes {
			if code == "" || len(code) > 256 {
				return invalidArg("a refusal code is 1 to 256 characters, got %q", code)
			}
		}
		c.refusalCodes = append([]string{}, codes...)
		return nil
	}
}

// OnEvent registers the function that receives token changes. It is called
// outside any lock, on the goroutine that caused the change (the expiry
// check and keep-alive run on a timer's).
func OnEvent(f func(Event)) Option {
	return func(c *Client) error { c.onEvent = f; return nil }
}

// WithKeepAlive makes the client send r when its session has been idle and
// the token is about to stop being usable: before that moment (exp minus
// the leeway), if no answer has installed a newer token since the held one
// came, r is sent once, and its answer rotates the token. Each new token
// arms it again; a logout, a refusal, the token's expiry or Close stops it.
// A keep-alive that fails changes nothing: the token then expires as it
// would have. Its events have the cause CauseKeepAlive.
func WithKeepAlive(r graphql.Request, before time.Duration) Option {
	return func(c *Client) error {
		if r.Query == "" {
			return invalidArg("keep-alive needs a query")
		}
		if before <= 0 {
			return invalidArg("keep-alive needs a positive time before expiry, got %v", before)
		}
		if _, err := r.Encode(); err != nil {
			return fmt.Errorf("%w: keep-alive: %w", ErrInvalidArgument, err)
		}
		c.keepAlive, c.keepAliveBefore = &r, before
		return nil
	}
}

// Event is a change of the held token and what caused it.
type Event struct {
	session.Event
	// Cause is the cause given, with WithCause, to the call whose work made
	// the change; CauseKeepAlive for a keep-alive's; "" for an expiry, which
	// no call makes (whether the timer or a call noticed it first).
	Cause string
}

// CauseKeepAlive is the cause of the changes a keep-alive request makes.
const CauseKeepAlive = "keep-alive"

type causeKey struct{}

// WithCause returns ctx carrying cause: the events that a Login, Do,
// Logout or Close called with it causes carry it too (Event.Cause), so that
// whoever listens can tell its own changes from others'.
func WithCause(ctx context.Context, cause string) context.Context {
	return context.WithValue(ctx, causeKey{}, cause)
}

func causeOf(ctx context.Context) string {
	cause, _ := ctx.Value(causeKey{}).(string)
	return cause
}

// OnWarning registers the function told why a token offered by a response
// was not installed. The error never holds the token.
func OnWarning(f func(error)) Option {
	return func(c *Client) error { c.onWarning = f; return nil }
}

// Client talks to one GraphQL endpoint on behalf of one user session. It is
// safe for concurrent use.
type Client struct {
	endpoint      string
	transport     Transport
	timeout       time.Duration
	headers       map[string]string
	allowInsecure bool
	sessionOpts   []session.Option
	onEvent       func(Event)
	onWarning     func(error)
	keepAlive     *graphql.Request
	// refusalCodes are the extensions.code values that say Unauthorized.
	refusalCodes []string
	// keepAliveBefore is how long before the token stops being usable the
	// keep-alive is sent.
	keepAliveBefore time.Duration
	// afterFunc schedules the expiry check; tests replace it.
	afterFunc func(time.Duration, func()) (stop func() bool)

	sess *session.Session

	mu          sync.Mutex
	closed      bool
	calls       map[uint64]context.CancelCauseFunc // Login and Do calls under way
	lastCall    uint64
	expiryTimer func() bool // stops the pending expiry check
	expiryDue   time.Time   // when it fires
	keepTimer   func() bool // stops the pending keep-alive
	installs    uint64      // tokens installed so far (logins and rotations)
}

// New returns a client for endpoint, an absolute http(s) URL, that sends
// its requests over t. Plain http is accepted only for loopback hosts
// unless AllowInsecureHTTP is given.
func New(endpoint string, t Transport, opts ...Option) (*Client, error) {
	if t == nil {
		return nil, invalidArg("a client needs a Transport")
	}
	c := &Client{
		transport:    t,
		timeout:      DefaultTimeout,
		headers:      map[string]string{},
		onEvent:      func(Event) {},
		onWarning:    func(error) {},
		afterFunc:    func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop },
		calls:        map[uint64]context.CancelCauseFunc{},
		refusalCodes: graphql.DefaultRefusalCodes,
	}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	u, err := checkEndpoint(endpoint, c.allowInsecure)
	if err != nil {
		return nil, err
	}
	c.endpoint = u
	c.sess = session.New(c.sessionOpts...)
	return c, nil
}

// checkEndpoint accepts an absolute http(s) URL, without its fragment.
// Plain http only goes to a loopback host unless allowInsecure.
//
// It reads the URL by hand, strictly, rather than with net/url, which with
// what it brings (net/netip, unique, internal/godebug) would add 190 KB to
// the module. It fails safe: what it does not recognise is refused, never
// reinterpreted; a loopback address written in an unusual form (octal,
// decimal, IPv6 other than [::1]) is not recognised as loopback, so plain
// http to it needs allowInsecureHTTP. FuzzEndpointAgreesWithNetURL holds it
// to net/url.
func checkEndpoint(endpoint string, allowInsecure bool) (string, error) {
	notURL := invalidArg("endpoint must be an absolute http(s) URL, got %q", endpoint)
	for i := 0; i < len(endpoint); i++ {
		if c := endpoint[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return "", invalidArg("endpoint must be a URL without spaces, control characters, backslashes or non-ASCII characters (percent-encode them), got %q", endpoint)
		}
		if endpoint[i] == '%' && (i+2 >= len(endpoint) || !isHex(endpoint[i+1]) || !isHex(endpoint[i+2])) {
			return "", invalidArg("endpoint has a %% not followed by two hex digits: %q", endpoint)
		}
	}
	scheme, rest, ok := strings.Cut(endpoint, "://")
	if !ok {
		return "", notURL
	}
	scheme = strings.ToLower(scheme)
	if scheme != "https" && scheme != "http" {
		return "", invalidArg("endpoint scheme must be http or https, got %q", scheme)
	}
	rest, _, _ = strings.Cut(rest, "#")
	authority := rest
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		authority = rest[:i]
	}
	if strings.Contains(authority, "@") {
		return "", invalidArg("endpoint must not carry user:password; log in with login()")
	}
	host, ok := hostOf(authority)
	if !ok {
		return "", notURL
	}
	if scheme == "http" && !allowInsecure && !isLoopback(host) {
		return "", fmt.Errorf("%w: http://%s would send credentials in clear text; use https, or pass allowInsecureHTTP: true", ErrInsecureEndpoint, authority)
	}
	return scheme + "://" + rest, nil
}

// hostOf returns the host of an authority (host, host:port, [v6]:port),
// lower-cased, and whether the authority has that form, with a host of the
// plain characters hosts are written in.
func hostOf(authority string) (string, bool) {
	host, port := authority, ""
	if strings.HasPrefix(authority, "[") {
		end := strings.IndexByte(authority, ']')
		if end < 0 {
			return "", false
		}
		host, port = authority[:end+1], authority[end+1:]
		if port != "" && port[0] != ':' {
			return "", false
		}
		port = strings.TrimPrefix(port, ":")
	} else if i := strings.LastIndexByte(authority, ':'); i >= 0 {
		host, port = authority[:i], authority[i+1:]
	}
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return "", false
		}
	}
	if host == "" {
		return "", false
	}
	// A name of letters, digits, '-', '.' and '_' (internationalized names
	// come punycoded), or an IPv6 address in brackets.
	allowed := "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._"
	inside := host
	if strings.HasPrefix(host, "[") {
		allowed, inside = "0123456789abcdefABCDEF:.", host[1:len(host)-1]
	}
	for i := 0; i < len(inside); i++ {
		if strings.IndexByte(allowed, inside[i]) < 0 {
			return "", false
		}
	}
	return strings.ToLower(host), true
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// isLoopback reports whether host names the local machine: localhost or a
// name under .localhost, 127.x.y.z in plain dotted decimal, or [::1].
func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || host == "[::1]" {
		return true
	}
	parts := strings.Split(host, ".")
	if len(parts) != 4 || parts[0] != "127" {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 3 || len(p) > 1 && p[0] == '0' {
			return false
		}
		n := 0
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return false
			}
			n = n*10 + int(p[i]-'0')
		}
		if n > 255 {
			return false
		}
	}
	return true
}

// Endpoint is the URL requests go to, as New normalized it.
func (c *Client) Endpoint() string { return c.endpoint }

// Credentials identify the user: a password, and a username or an email.
type Credentials struct {
	Username string
	Email    string
	// Password is a byte slice so that its owner can zero it once the
	// login is over; Login copies it only into the request body, which it
	// zeroes itself.
	Password []byte
}

// LoginResult is what a successful login returns.
type LoginResult struct {
	// User is the raw JSON of data.loginUser.
	User string
	// ExpiresAt is the new token's exp.
	ExpiresAt time.Time
}

// Result is the answer to a protected request that was not refused. GraphQL
// errors in the body (partial data) are part of a Result, not an error.
type Result struct {
	Status int
	// Body is the response body: a GraphQL response.
	Body []byte
	// Native is the transport's handle on Body (Response.Native), or nil.
	Native any
}

// Login sends the loginUser query and installs the token from the response
// headers. It fails with ErrOvertaken, installing nothing, when a logout or
// a newer login's install came first, or a newer login is still under way;
// a login that fails or is aborted gives up its place (see
// session.BeginLogin). Canceling ctx with a cause (ErrAborted) aborts it.
func (c *Client) Login(ctx context.Context, cr Credentials) (LoginResult, error) {
	if len(cr.Password) == 0 {
		return LoginResult{}, invalidArg("password is required")
	}
	if cr.Username == "" && cr.Email == "" {
		return LoginResult{}, invalidArg("a username or an email is required")
	}
	ctx, done, err := c.begin(ctx)
	if err != nil {
		return LoginResult{}, err
	}
	defer done()
	body, err := loginBody(cr)
	if err != nil {
		return LoginResult{}, invalidArg("credentials: %v", err)
	}
	defer clear(body)
	x := &exchange{login: true, body: body, ticket: c.sess.BeginLogin(), sent: 1, cause: causeOf(ctx)}
	defer c.sess.EndLogin(x.ticket)
	resp, err := c.send(ctx, x)
	if err != nil {
		return LoginResult{}, err
	}
	return c.finishLogin(x, resp)
}

// Do sends a protected request with the held token, rotates the token from
// the response, and returns the GraphQL response. Without a token it fails
// with session.ErrNotAuthenticated, with an expired one with
// session.ErrExpired, and sends nothing. If the server refuses a token that
// was superseded while the request was in flight, the request is sent once
// more with the current token.
func (c *Client) Do(ctx context.Context, r graphql.Request) (Result, error) {
	if r.Query == "" {
		return Result{}, invalidArg("query must be a non-empty string")
	}
	body, err := r.Encode()
	if err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	ctx, done, err := c.begin(ctx)
	if err != nil {
		return Result{}, err
	}
	defer done()
	x := &exchange{body: body, cause: causeOf(ctx)}
	if err := c.lend(x); err != nil {
		return Result{}, err
	}
	for {
		resp, err := c.send(ctx, x)
		if err != nil {
			return Result{}, err
		}
		res, retry, err := c.finishDo(x, resp)
		if !retry {
			return res, err
		}
	}
}

// begin registers a call under way, so that Close can end it. It fails with
// ErrClosed on a closed client.
func (c *Client) begin(ctx context.Context) (context.Context, func(), error) {
	ctx, cancel := context.WithCancelCause(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		cancel(nil)
		return nil, nil, fmt.Errorf("%w: create a new client", ErrClosed)
	}
	c.lastCall++
	id := c.lastCall
	c.calls[id] = cancel
	return ctx, func() {
		c.mu.Lock()
		delete(c.calls, id)
		c.mu.Unlock()
		cancel(nil)
	}, nil
}

// InFlight is the number of Login and Do calls under way.
func (c *Client) InFlight() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.calls)
}

// lend gives x the held token for its next attempt.
func (c *Client) lend(x *exchange) error {
	ticket, ev, err := c.sess.Begin()
	c.changed(ev, x.cause)
	if err != nil {
		return err
	}
	x.ticket = ticket
	x.sent++
	return nil
}

// send performs x over the Transport, bounded by the client's timeout. When
// ctx ends first the error is its cause: ErrTimeout, the caller's
// (ErrAborted), or ErrClosed.
func (c *Client) send(ctx context.Context, x *exchange) (*Response, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	resp, err := c.transport.RoundTrip(ctx, c.request(x))
	if err != nil && ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	return resp, err
}

// withTimeout bounds one attempt of a request by the client's timeout.
func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, c.timeout, fmt.Errorf("%w: no complete answer within %v", ErrTimeout, c.timeout))
}

// Logout drops the token. Answers to requests in flight no longer install
// theirs, and a login in flight fails with ErrOvertaken. ctx carries the
// cause of its event (WithCause).
func (c *Client) Logout(ctx context.Context) {
	c.changed(c.sess.Logout(), causeOf(ctx))
}

// Close logs out, ends the calls under way (they fail with ErrClosed), stops
// the timers, and makes every later call fail with ErrClosed.
func (c *Client) Close(ctx context.Context) {
	c.mu.Lock()
	c.closed = true
	for _, stop := range []*func() bool{&c.expiryTimer, &c.keepTimer} {
		if *stop != nil {
			(*stop)()
			*stop = nil
		}
	}
	calls := c.calls
	c.calls = map[uint64]context.CancelCauseFunc{}
	c.mu.Unlock()
	for _, cancel := range calls {
		cancel(fmt.Errorf("%w: close() ended the request", ErrClosed))
	}
	c.Logout(ctx)
}

// ExpiresAt returns the held token's exp as the server set it, or the zero
// time when no token is held.
func (c *Client) ExpiresAt() time.Time { return c.sess.ExpiresAt() }

// ExpiresIn returns the time left until exp on the server's clock, or zero.
func (c *Client) ExpiresIn() time.Duration { return c.sess.ExpiresIn() }

// State returns the held token's expiry, the time left and how long it
// stays usable, read at one instant.
func (c *Client) State() session.State { return c.sess.State() }

// Authenticated reports whether a request now would be sent with a token.
func (c *Client) Authenticated() bool { return c.sess.Usable() }

// changed publishes ev, if any, with its cause, and re-arms the timers.
func (c *Client) changed(ev *session.Event, cause string) {
	if ev == nil {
		return
	}
	installed := ev.Reason == session.ReasonLogin || ev.Reason == session.ReasonRotate
	c.mu.Lock()
	c.armExpiryLocked()
	if installed {
		c.installs++
		c.armKeepAliveLocked()
	} else if c.keepTimer != nil { // logged out, refused or expired: nothing to keep alive
		c.keepTimer()
		c.keepTimer = nil
	}
	c.mu.Unlock()
	if ev.Reason == session.ReasonExpired {
		cause = ""
	}
	c.onEvent(Event{Event: *ev, Cause: cause})
	if installed {
		// A token unusable from the start (the leeway is longer than its
		// life) gets no timer: say at once that it expired.
		if expired := c.sess.CheckExpiry(); expired != nil {
			c.onEvent(Event{Event: *expired})
		}
	}
}

// armKeepAliveLocked arms the keep-alive, if there is one, for the token
// just installed: it fires keepAliveBefore before the token stops being
// usable, but not before half of the token's usable life has passed, and
// sends only if no other token was installed meanwhile. (Without that
// floor, a keepAliveBefore as long as the tokens' life would fire at once,
// its answer's token would arm it at once again, and so on without end.)
func (c *Client) armKeepAliveLocked() {
	if c.keepAlive == nil || c.closed {
		return
	}
	if c.keepTimer != nil {
		c.keepTimer()
		c.keepTimer = nil
	}
	usable := c.sess.UsableFor()
	if usable <= 0 {
		return
	}
	installs := c.installs
	c.keepTimer = c.afterFunc(max(usable-c.keepAliveBefore, usable/2), func() { c.sendKeepAlive(installs) })
}

// sendKeepAlive sends the keep-alive request if the token installed as
// install number installs is still the newest: the session has been idle.
func (c *Client) sendKeepAlive(installs uint64) {
	defer c.recoverTimer("the keep-alive")
	c.mu.Lock()
	idle := !c.closed && c.installs == installs
	if idle {
		c.keepTimer = nil // this timer's; a stale one leaves the current alone
	}
	c.mu.Unlock()
	if !idle || !c.sess.Usable() {
		return
	}
	if _, err := c.Do(WithCause(context.Background(), CauseKeepAlive), *c.keepAlive); err != nil {
		c.onWarning(fmt.Errorf("gqlauth: the keep-alive request failed: %w", err))
	}
}

// recoverTimer, deferred by the functions timers run, turns a panic into a
// warning: a timer's goroutine runs outside any export, so nothing else
// would recover it, and in WebAssembly it would end the module.
func (c *Client) recoverTimer(what string) {
	if r := recover(); r != nil {
		c.onWarning(fmt.Errorf("gqlauth: %s failed: %v", what, r))
	}
}

// armExpiryLocked makes sure the expiry check runs no later than the held
// token becomes unusable. A rotation moves that moment later, so the timer
// already armed is kept (it re-arms itself when it fires early): the common
// case costs no timer work.
func (c *Client) armExpiryLocked() {
	d := c.sess.UsableFor()
	if d <= 0 || c.closed {
		return
	}
	due := time.Now().Add(d)
	if c.expiryTimer != nil && !c.expiryDue.After(due) {
		return
	}
	if c.expiryTimer != nil {
		c.expiryTimer()
	}
	c.expiryTimer, c.expiryDue = c.afterFunc(d, c.checkExpiry), due
}

// checkExpiry runs when the token may have become unusable: it publishes
// the expired event, or arms the timer again for the token held now.
func (c *Client) checkExpiry() {
	defer c.recoverTimer("the expiry check")
	c.mu.Lock()
	c.expiryTimer = nil
	c.mu.Unlock()
	if ev := c.sess.CheckExpiry(); ev != nil {
		c.onEvent(Event{Event: *ev})
		return
	}
	c.mu.Lock()
	c.armExpiryLocked()
	c.mu.Unlock()
}

// isHeaderName reports whether s is an HTTP token (RFC 9110 tchar).
func isHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// isHeaderValue reports whether s can be sent as a header value by fetch:
// Latin-1 text (fetch sends a ByteString) with no control characters but
// tab.
func isHeaderValue(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < ' ' && r != '\t' || r == 0x7f || r > 0xff {
			return false
		}
	}
	return true
}
