// Package client logs in to a JWT-protected GraphQL API and sends requests
// with the held token, without doing any I/O itself: each call is an
// Exchange, which says what to send (Request), and is told what came back
// (Head, Chunk, End), and decides what that means. Whoever drives it (the
// module's glue in the browser, a loop over a fake server in tests) sends
// the requests and reports the answers. It orchestrates package session
// (which token to send and keep) and package graphql (what to send, and the
// judgement of what came back), and turns every failure into an error
// CodeOf can classify.
//
// One exchange serves every call: a login, a query whose body is collected
// (fetchWithAuth) and an app's own request whose answer is passed on as it
// arrives (the drop-in fetch) differ only in how the answer is used. Time
// is read from the session's clock and never waited on: Wake says when Tick
// has work to do (the token's expiry, the keep-alive), and the driver calls
// it then.
//
// It is pure Go: it must not import syscall/js, net/http or fmt.
package client

import (
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gqlauth/gqlauth/wasm/graphql"
	"github.com/gqlauth/gqlauth/wasm/internal/fault"
	"github.com/gqlauth/gqlauth/wasm/session"
)

// Token header names, in the order they are read.
const (
	HeaderXAuthorization = "X-Authorization"
	HeaderAuthorization  = "Authorization"
)

var tokenHeaders = []string{HeaderXAuthorization, HeaderAuthorization}

// Defaults and bounds of the options.
const (
	// DefaultTimeout bounds each request unless WithTimeout says otherwise.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxResponseBytes bounds a response body unless
	// WithMaxResponseBytes says otherwise.
	DefaultMaxResponseBytes = 32 << 20
	// MaxTimeout is the longest timeout: the browser's timers fire at once
	// past it.
	MaxTimeout = (1<<31 - 1) * time.Millisecond
	// MaxLeeway is the longest expiry leeway.
	MaxLeeway = 366 * 24 * time.Hour
	// MaxKeepAliveQuery bounds a keep-alive query, which a client keeps for
	// its life.
	MaxKeepAliveQuery = 64 << 10
	// MaxRefusalCodes bounds the list of WithRefusalCodes.
	MaxRefusalCodes = 32
)

const loginQuery = `query Login($email: String, $username: String, $password: String!) {
  loginUser(email: $email, username: $username, password: $password) { id }
}`

// Option configures a Client.
type Option func(*Client) error

// WithTimeout bounds each attempt of a request, from send to the end of the
// body, at most MaxTimeout.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) error {
		if d <= 0 || d > MaxTimeout {
			return invalidArg("timeoutMs must be between 1 and " + strconv.FormatInt(MaxTimeout.Milliseconds(), 10))
		}
		c.timeout = d
		return nil
	}
}

// WithLeeway makes a token count as expired d before its exp (at most
// MaxLeeway).
func WithLeeway(d time.Duration) Option {
	return func(c *Client) error {
		if d < 0 || d > MaxLeeway {
			return invalidArg("expiryLeewaySeconds must be between 0 and " + strconv.FormatInt(int64(MaxLeeway/time.Second), 10))
		}
		c.sessionOpts = append(c.sessionOpts, session.WithLeeway(d))
		return nil
	}
}

// WithClock makes the client read time from clock (tests).
func WithClock(clock session.Clock) Option {
	return func(c *Client) error {
		c.clock = clock
		c.sessionOpts = append(c.sessionOpts, session.WithClock(clock))
		return nil
	}
}

// AllowInsecureHTTP permits a plain http endpoint on a non-loopback host.
func AllowInsecureHTTP() Option {
	return func(c *Client) error { c.allowInsecure = true; return nil }
}

// WithCredentials sets fetch's credentials mode: omit, same-origin or
// include ("" is fetch's default).
func WithCredentials(mode string) Option {
	return func(c *Client) error {
		switch mode {
		case "", "omit", "same-origin", "include":
			c.credentials = mode
			return nil
		}
		return invalidArg("credentials must be omit, same-origin or include, got " + strconv.Quote(mode))
	}
}

// WithMaxResponseBytes bounds each response body: a larger one fails the
// call with ErrResponseTooLarge.
func WithMaxResponseBytes(n int) Option {
	return func(c *Client) error {
		if n < 1 || n > 1<<31-1 {
			return invalidArg("maxResponseBytes must be between 1 and 2147483647")
		}
		c.maxBytes = n
		return nil
	}
}

// WithHeaders adds static headers to every request. Names must be HTTP
// tokens; values must be Latin-1 text without control characters (what
// fetch can send); and the headers the client sets itself (Authorization,
// X-Authorization, Content-Type) cannot be overridden.
func WithHeaders(h map[string]string) Option {
	return func(c *Client) error {
		if len(h) > 100 {
			return invalidArg("headers must be an object of at most 100 strings")
		}
		for name, value := range h {
			if err := checkHeader(name, value); err != nil {
				return err
			}
			if strings.EqualFold(name, "Content-Type") {
				return invalidArg("header " + strconv.Quote(name) + " is set by gqlauth and cannot be overridden")
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
		return invalidArg("header name " + strconv.Quote(name) + " is not a valid HTTP header name")
	case !isHeaderValue(value):
		return invalidArg("header " + strconv.Quote(name) + " must be Latin-1 text without control characters")
	case isTokenHeader(name):
		return invalidArg("header " + strconv.Quote(name) + " is refused: the token is gqlauth's to send")
	}
	return nil
}

// WithRefusalCodes sets the extensions.code values that say an error is a
// refused token, whatever its message (Hasura says "invalid-jwt", for
// instance); the default is graphql.DefaultRefusalCodes, Apollo's
// UNAUTHENTICATED. An error whose message is "Unauthorized" always counts.
func WithRefusalCodes(codes []string) Option {
	return func(c *Client) error {
		if len(codes) > MaxRefusalCodes {
			return invalidArg("refusalCodes must be a list of at most " + strconv.Itoa(MaxRefusalCodes) + " strings")
		}
		for _, code := range codes {
			if code == "" || len(code) > 256 {
				return invalidArg("a refusal code is 1 to 256 characters, got " + strconv.Quote(code))
			}
		}
		c.codes = append([]string{}, codes...)
		return nil
	}
}

// OnEvent registers the function that receives token changes. It is called
// on the call that caused the change, outside any lock.
func OnEvent(f func(Event)) Option {
	return func(c *Client) error { c.onEvent = f; return nil }
}

// OnWarning registers the function told why a token offered by a response
// was not installed, or why a keep-alive failed. The error never holds the
// token.
func OnWarning(f func(error)) Option {
	return func(c *Client) error { c.onWarning = f; return nil }
}

// WithKeepAlive makes the client send r when its session has been idle and
// the token is about to stop being usable: before that moment (exp minus
// the leeway), if no answer has installed a newer token since the held one
// came, r is sent once, and its answer rotates the token. Each new token
// arms it again; a logout, a refusal, the token's expiry or Close stops it.
// A keep-alive that fails changes nothing: the token then expires as it
// would have. Its events have the cause CauseKeepAlive; Tick starts it.
func WithKeepAlive(r graphql.Request, before time.Duration) Option {
	return func(c *Client) error {
		switch {
		case r.Query == "":
			return invalidArg("keepAlive needs a query")
		case len(r.Query) > MaxKeepAliveQuery:
			return invalidArg("keepAlive.query is longer than 64 KiB: it is a short query that rotates the token")
		case before <= 0 || before > MaxTimeout:
			return invalidArg("keepAlive.beforeExpiryMs must be a number of milliseconds from 1 to " + strconv.FormatInt(MaxTimeout.Milliseconds(), 10))
		}
		if _, err := r.Encode(); err != nil {
			return fault.Wrap(ErrInvalidArgument, "keepAlive", err)
		}
		c.keepAlive, c.keepAliveBefore = &r, before
		return nil
	}
}

// Event is a change of the held token and what caused it.
type Event struct {
	session.Event
	// Cause is the cause given to the call whose work made the change;
	// CauseKeepAlive for a keep-alive's; CauseExpiry for an expiry, which
	// no call makes (whether Tick or a call noticed it first).
	Cause Cause
}

// Cause says which call made a change: the driver's own numbering of its
// callers (the worker's ports), or one of the causes below.
type Cause int32

// Causes of changes that no caller made.
const (
	CauseExpiry    Cause = 0
	CauseKeepAlive Cause = -1
	// CauseRemote is a change a caller makes on behalf of someone else (a
	// logout that follows another tab's).
	CauseRemote Cause = -2
)

// Client talks to one GraphQL endpoint on behalf of one user session. It is
// safe for concurrent use.
type Client struct {
	endpoint        string
	timeout         time.Duration
	maxBytes        int
	credentials     string
	headers         map[string]string
	allowInsecure   bool
	codes           []string
	sessionOpts     []session.Option
	clock           session.Clock
	onEvent         func(Event)
	onWarning       func(error)
	keepAlive       *graphql.Request
	keepAliveBefore time.Duration // how long before the token stops being usable the keep-alive is sent

	sess *session.Session

	mu          sync.Mutex
	closed      bool
	calls       map[*Exchange]struct{} // under way
	installs    uint64                 // tokens installed so far (logins and rotations)
	keepAliveAt time.Time              // when the keep-alive is due; zero when none is armed
}

// New returns a client for endpoint, an absolute http(s) URL. Plain http is
// accepted only for loopback hosts unless AllowInsecureHTTP is given.
func New(endpoint string, opts ...Option) (*Client, error) {
	c := &Client{
		timeout:   DefaultTimeout,
		maxBytes:  DefaultMaxResponseBytes,
		headers:   map[string]string{},
		codes:     graphql.DefaultRefusalCodes,
		clock:     systemClock{},
		onEvent:   func(Event) {},
		onWarning: func(error) {},
		calls:     map[*Exchange]struct{}{},
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

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

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
	notURL := invalidArg("endpoint must be an absolute http(s) URL, got " + strconv.Quote(endpoint))
	for i := 0; i < len(endpoint); i++ {
		if c := endpoint[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return "", invalidArg("endpoint must be a URL without spaces, control characters, backslashes or non-ASCII characters (percent-encode them), got " + strconv.Quote(endpoint))
		}
		if endpoint[i] == '%' && (i+2 >= len(endpoint) || !isHex(endpoint[i+1]) || !isHex(endpoint[i+2])) {
			return "", invalidArg("endpoint has a % not followed by two hex digits: " + strconv.Quote(endpoint))
		}
	}
	scheme, rest, ok := strings.Cut(endpoint, "://")
	if !ok {
		return "", notURL
	}
	scheme = strings.ToLower(scheme)
	if scheme != "https" && scheme != "http" {
		return "", invalidArg("endpoint scheme must be http or https, got " + strconv.Quote(scheme))
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
		return "", fault.New(ErrInsecureEndpoint, "http://"+authority+" would send credentials in clear text; use https, or pass allowInsecureHTTP: true")
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
	// login has begun; Login copies it only into the request body, which
	// the exchange zeroes when it ends.
	Password []byte
}

// Login begins a login: the loginUser query, whose answer's token the
// exchange installs. It loses, installing nothing (ErrOvertaken), when a
// logout or a newer login's install came first, or a newer login is still
// under way; a login that fails or is given up gives up its place (see
// session.BeginLogin).
func (c *Client) Login(cr Credentials, cause Cause) (*Exchange, error) {
	switch {
	case len(cr.Password) == 0:
		return nil, invalidArg("password is required")
	case cr.Username == "" && cr.Email == "":
		return nil, invalidArg("a username or an email is required")
	}
	body, err := loginBody(cr)
	if err != nil {
		return nil, fault.Wrap(ErrInvalidArgument, "credentials", err)
	}
	x := &Exchange{c: c, kind: kindLogin, cause: cause, body: body}
	if err := c.begin(x); err != nil {
		clear(body)
		return nil, err
	}
	x.ticket, x.sent = c.sess.BeginLogin(), 1
	return x, nil
}

// loginBody encodes the loginUser request for cr. The password is copied
// straight from cr.Password into the body, which the exchange zeroes, and
// into the variables, zeroed here. Both buffers are made large enough from
// the start (escaping at most sextuples a byte): a buffer that grew would
// leave its first copy behind, where nobody could zero it.
func loginBody(cr Credentials) ([]byte, error) {
	vars := make([]byte, 0, 6*(len(cr.Username)+len(cr.Email)+len(cr.Password))+48)
	vars = append(vars, '{')
	if cr.Username != "" {
		vars = append(vars, `"username":`...)
		vars = graphql.AppendString(vars, cr.Username)
		vars = append(vars, ',')
	}
	if cr.Email != "" {
		vars = append(vars, `"email":`...)
		vars = graphql.AppendString(vars, cr.Email)
		vars = append(vars, ',')
	}
	vars = append(vars, `"password":`...)
	vars = graphql.AppendBytes(vars, cr.Password)
	vars = append(vars, '}')
	defer clear(vars)
	return graphql.Request{Query: loginQuery, Variables: vars, OperationName: "Login"}.Encode()
}

// Query begins a protected request whose answer is collected whole
// (fetchWithAuth). Without a token it fails with
// session.ErrNotAuthenticated, with an expired one with session.ErrExpired,
// and nothing is to be sent.
func (c *Client) Query(r graphql.Request, cause Cause) (*Exchange, error) {
	if r.Query == "" {
		return nil, invalidArg("query must be a non-empty string")
	}
	body, err := r.Encode()
	if err != nil {
		return nil, fault.Wrap(ErrInvalidArgument, "", err)
	}
	return c.protected(&Exchange{c: c, kind: kindQuery, cause: cause, body: body})
}

// PassRequest is a GraphQL request the app encoded itself (the drop-in
// fetch), less the URL, which is always the client's endpoint.
type PassRequest struct {
	// Method is GET or POST.
	Method string
	// Query is a GET's query string ("?query=…"), which takes the place of
	// the endpoint's; "" for a POST.
	Query string
	// Header holds the app's request headers. Authorization and
	// X-Authorization are refused: the token is the client's to send.
	Header map[string]string
	// Body is a POST's body, sent as it is.
	Body []byte
}

// Pass begins the app's own request r, whose answer is passed on as it
// arrives, without its token headers (see Exchange.Head). The session's
// rules are Query's.
func (c *Client) Pass(r PassRequest, cause Cause) (*Exchange, error) {
	req, err := c.passRequest(r)
	if err != nil {
		return nil, err
	}
	return c.protected(&Exchange{c: c, kind: kindPass, cause: cause, pass: req})
}

// passRequest checks r and makes the request to send, less its token.
func (c *Client) passRequest(r PassRequest) (*Request, error) {
	req := &Request{Method: r.Method, URL: c.endpoint, Body: r.Body, AllHeaders: true}
	switch {
	case r.Method != "GET" && r.Method != "POST":
		return nil, invalidArg("the method must be GET or POST, not " + strconv.Quote(r.Method))
	case r.Method == "GET" && len(r.Body) > 0:
		return nil, invalidArg("a GET request has no body")
	case r.Method == "POST" && r.Query != "":
		return nil, invalidArg("a POST request goes to the endpoint itself, without another query string")
	case r.Query != "" && (r.Query[0] != '?' || strings.ContainsAny(r.Query, "#\r\n")):
		return nil, invalidArg("the query string must start with '?' and hold no fragment")
	case len(r.Header) > 100:
		return nil, invalidArg("a request has at most 100 headers")
	case r.Method == "GET":
		base, _, _ := strings.Cut(c.endpoint, "?")
		base, _, _ = strings.Cut(base, "#")
		req.URL = base + r.Query
	}
	req.Header = make(map[string]string, len(c.headers)+len(r.Header)+2)
	for name, value := range c.headers {
		req.Header[name] = value
	}
	for name, value := range r.Header {
		if err := checkHeader(name, value); err != nil {
			return nil, err
		}
		deleteHeader(req.Header, name) // the app's value takes the place of the client's
		req.Header[name] = value
	}
	if r.Method == "POST" && !hasHeader(req.Header, "Content-Type") {
		req.Header["Content-Type"] = "application/json"
	}
	if !hasHeader(req.Header, "Accept") {
		req.Header["Accept"] = acceptGraphQL
	}
	return req, nil
}

// protected registers x, a protected request, and lends it the held token.
func (c *Client) protected(x *Exchange) (*Exchange, error) {
	if err := c.begin(x); err != nil {
		return nil, err
	}
	if err := c.lend(x); err != nil {
		x.finish(Outcome{})
		return nil, err
	}
	return x, nil
}

// begin registers x as under way, so that Close can end it. It fails with
// ErrClosed on a closed client.
func (c *Client) begin(x *Exchange) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return fault.New(ErrClosed, "create a new client")
	}
	c.calls[x] = struct{}{}
	return nil
}

// lend gives x the held token for its next attempt.
func (c *Client) lend(x *Exchange) error {
	ticket, ev, err := c.sess.Begin()
	c.changed(ev, x.cause)
	if err != nil {
		return err
	}
	x.ticket = ticket
	x.sent++
	return nil
}

// InFlight is the number of exchanges under way.
func (c *Client) InFlight() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.calls)
}

// Logout drops the token. Answers to requests in flight no longer install
// theirs, and a login in flight fails with ErrOvertaken.
func (c *Client) Logout(cause Cause) {
	c.changed(c.sess.Logout(), cause)
}

// Close logs out, ends the exchanges under way and returns them (their
// driver stops their requests and fails their calls with ErrClosed), stops
// the keep-alive, and makes every later call fail with ErrClosed.
func (c *Client) Close(cause Cause) []*Exchange {
	c.mu.Lock()
	c.closed = true
	c.keepAliveAt = time.Time{}
	ended := make([]*Exchange, 0, len(c.calls))
	for x := range c.calls {
		ended = append(ended, x)
	}
	c.mu.Unlock()
	for _, x := range ended {
		x.finish(Outcome{})
	}
	c.Logout(cause)
	return ended
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

// Wake returns how long until Tick has something to do (the token becomes
// unusable, or the keep-alive is due), and false when nothing is due.
func (c *Client) Wake() (time.Duration, bool) {
	d, ok := c.sess.ExpiryDue()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, false
	}
	if !c.keepAliveAt.IsZero() {
		k := max(c.keepAliveAt.Sub(c.clock.Now()), 0)
		if !ok || k < d {
			d, ok = k, true
		}
	}
	return d, ok
}

// Tick does what is due: publishes the expired event once the token has
// become unusable, and returns the keep-alive's exchange, to send, when it
// is due, or nil.
func (c *Client) Tick() *Exchange {
	if ev := c.sess.CheckExpiry(); ev != nil {
		c.changed(ev, CauseExpiry)
	}
	c.mu.Lock()
	due := !c.closed && !c.keepAliveAt.IsZero() && !c.clock.Now().Before(c.keepAliveAt)
	if due {
		c.keepAliveAt = time.Time{}
	}
	c.mu.Unlock()
	if !due || !c.sess.Usable() {
		return nil
	}
	x, err := c.Query(*c.keepAlive, CauseKeepAlive)
	if err != nil {
		c.onWarning(fault.Wrap(errKeepAlive, "", err))
		return nil
	}
	return x
}

// changed publishes ev, if any, with its cause, and arms or stops the
// keep-alive.
func (c *Client) changed(ev *session.Event, cause Cause) {
	if ev == nil {
		return
	}
	installed := ev.Reason == session.ReasonLogin || ev.Reason == session.ReasonRotate
	c.mu.Lock()
	c.keepAliveAt = time.Time{}
	if installed && c.keepAlive != nil && !c.closed {
		// Before the token stops being usable, but not before half of its
		// usable life: a keepAliveBefore as long as the tokens' life would
		// otherwise send one keep-alive after another.
		if usable := c.sess.UsableFor(); usable > 0 {
			c.keepAliveAt = c.clock.Now().Add(max(usable-c.keepAliveBefore, usable/2))
		}
	}
	c.mu.Unlock()
	if ev.Reason == session.ReasonExpired {
		cause = CauseExpiry
	}
	c.onEvent(Event{Event: *ev, Cause: cause})
	if installed {
		// A token unusable from the start (the leeway is longer than its
		// life): say at once that it expired.
		if expired := c.sess.CheckExpiry(); expired != nil {
			c.onEvent(Event{Event: *expired, Cause: CauseExpiry})
		}
	}
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
