// Package client logs in to a JWT-protected GraphQL API and sends requests
// with the held token. It orchestrates package session (which token to send
// and keep) and package graphql (what to send and what came back), and turns
// every failure into an error CodeOf can classify.
//
// A request is an Exchange: begun (BeginLogin, BeginDo, BeginProtected),
// sent by someone, and finished (FinishLogin, FinishDo). Login and Do run
// exchanges over a Transport; the browser glue sends them with fetch in
// JavaScript and drives the same exchanges itself.
//
// It is pure Go: it must not import syscall/js or net/http.
package client

import (
	"context"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gqlauth/gqlauth/wasm/graphql"
	"github.com/gqlauth/gqlauth/wasm/session"
)

// Request is one HTTP request a Transport sends: always a POST of JSON.
type Request struct {
	URL string
	// Header holds the request headers, canonical names as keys.
	Header map[string]string
	Body   []byte
	// ResponseHeaders names the response headers the client reads; a
	// Transport need not return any others.
	ResponseHeaders []string
}

// Response is what a Transport returns for a request that got an answer.
type Response struct {
	Status int
	// Header maps the requested response header names, as spelled in
	// Request.ResponseHeaders, to their values; a missing header is absent.
	Header map[string]string
	Body   []byte
	// BodyError, when set, says the transport already found that the body
	// is not a JSON object (and why); Body is then not read. It wraps
	// graphql.ErrBadResponse.
	BodyError error
}

// Transport sends one request. It returns an error wrapping ErrNetwork when
// no answer arrived, ErrResponseTooLarge when the body is over the limit,
// and the context's error or cause when ctx ended first.
type Transport interface {
	RoundTrip(ctx context.Context, req *Request) (*Response, error)
}

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
// tokens, values must not hold control characters, and the headers the
// client sets itself (Authorization, Content-Type) cannot be overridden.
func WithHeaders(h map[string]string) Option {
	return func(c *Client) error {
		for name, value := range h {
			if !isHeaderName(name) {
				return invalidArg("header name %q is not a valid HTTP header name", name)
			}
			if !isHeaderValue(value) {
				return invalidArg("header %q has a value with control characters", name)
			}
			switch strings.ToLower(name) {
			case "authorization", "content-type", "x-authorization":
				return invalidArg("header %q is set by gqlauth and cannot be overridden", name)
			}
			c.headers[name] = value
		}
		return nil
	}
}

// OnEvent registers the function that receives token changes. It is called
// outside any lock, on the goroutine that caused the change.
func OnEvent(f func(session.Event)) Option {
	return func(c *Client) error { c.onEvent = f; return nil }
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
	onEvent       func(session.Event)
	onWarning     func(error)
	// afterFunc schedules the expiry check; tests replace it.
	afterFunc func(time.Duration, func()) (stop func() bool)

	sess *session.Session

	mu          sync.Mutex
	closed      bool
	expiryTimer func() bool // stops the pending expiry check
	expiryDue   time.Time   // when it fires
}

// New returns a client for endpoint, an absolute http(s) URL. Plain http is
// accepted only for loopback hosts unless AllowInsecureHTTP is given. With a
// nil Transport the client only prepares and judges exchanges (BeginDo,
// FinishDo): the caller does the I/O.
func New(endpoint string, t Transport, opts ...Option) (*Client, error) {
	c := &Client{
		transport: t,
		timeout:   DefaultTimeout,
		headers:   map[string]string{},
		onEvent:   func(session.Event) {},
		onWarning: func(error) {},
		afterFunc: func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop },
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

func checkEndpoint(endpoint string, allowInsecure bool) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return "", invalidArg("endpoint must be an absolute http(s) URL, got %q", endpoint)
	}
	if u.User != nil {
		return "", invalidArg("endpoint must not carry user:password; log in with login()")
	}
	u.Fragment = ""
	switch u.Scheme {
	case "https":
	case "http":
		if !allowInsecure && !isLoopback(u.Hostname()) {
			return "", fmt.Errorf("%w: %s would send credentials in clear text; use https, or pass allowInsecureHTTP: true", ErrInsecureEndpoint, u.Redacted())
		}
	default:
		return "", invalidArg("endpoint scheme must be http or https, got %q", u.Scheme)
	}
	return u.String(), nil
}

func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// Credentials identify the user: a password, and a username or an email.
type Credentials struct {
	Username string `json:"username,omitempty"`
	Email    string `json:"email,omitempty"`
	Password string `json:"password"`
}

// LoginResult is what a successful login returns.
type LoginResult struct {
	// User is the raw JSON of data.loginUser.
	User string
	// ExpiresAt is the new token's exp.
	ExpiresAt time.Time
}

// Login sends the loginUser query over the client's Transport and installs
// the token from the response headers. A newer Login or a Logout while it
// runs makes it fail with ErrOvertaken and install nothing.
func (c *Client) Login(ctx context.Context, cr Credentials) (LoginResult, error) {
	x, err := c.BeginLogin(cr)
	if err != nil {
		return LoginResult{}, err
	}
	defer x.Close()
	resp, err := c.send(ctx, x)
	if err != nil {
		return LoginResult{}, err
	}
	return c.FinishLogin(x, resp)
}

// Do sends a protected request over the client's Transport with the held
// token, rotates the token from the response, and returns the GraphQL
// response. If the server refuses a token that was superseded while the
// request was in flight, the request is sent once more with the current
// token.
func (c *Client) Do(ctx context.Context, r graphql.Request) (Result, error) {
	x, err := c.BeginDo(r)
	if err != nil {
		return Result{}, err
	}
	defer x.Close()
	for {
		resp, err := c.send(ctx, x)
		if err != nil {
			return Result{}, err
		}
		res, retry, err := c.FinishDo(x, resp)
		if !retry {
			return res, err
		}
	}
}

// tokenFrom reads the token from X-Authorization, else Authorization.
func tokenFrom(resp *Response) (session.Token, error) {
	for _, name := range tokenHeaders {
		if v := resp.Header[name]; strings.TrimSpace(v) != "" {
			return session.ParseHeader(v)
		}
	}
	return session.Token{}, session.ErrNoToken
}

// send performs x over the Transport, bounded by the client's timeout.
func (c *Client) send(ctx context.Context, x *Exchange) (*Response, error) {
	if c.transport == nil {
		return nil, invalidArg("this client has no transport: send Exchange requests yourself")
	}
	ctx, cancel := context.WithTimeoutCause(ctx, c.timeout, ErrTimeout)
	defer cancel()
	resp, err := c.transport.RoundTrip(ctx, c.Request(x))
	if err != nil {
		if cause := context.Cause(ctx); cause != nil && ctx.Err() != nil {
			return nil, cause
		}
		return nil, err
	}
	return resp, nil
}

// Logout drops the token. Answers to requests in flight no longer install
// theirs, and a login in flight fails with ErrOvertaken.
func (c *Client) Logout() {
	c.changed(c.sess.Logout())
}

// Close logs out and makes every later call fail with ErrClosed.
func (c *Client) Close() {
	c.mu.Lock()
	c.closed = true
	if c.expiryTimer != nil {
		c.expiryTimer()
		c.expiryTimer = nil
	}
	c.mu.Unlock()
	c.Logout()
}

// ExpiresAt returns the held token's exp as the server set it, or the zero
// time when no token is held.
func (c *Client) ExpiresAt() time.Time { return c.sess.ExpiresAt() }

// ExpiresIn returns the time left until exp on the server's clock, or zero.
func (c *Client) ExpiresIn() time.Duration { return c.sess.ExpiresIn() }

// Timeout is how long a request may take.
func (c *Client) Timeout() time.Duration { return c.timeout }

// Authenticated reports whether a request now would be sent with a token.
func (c *Client) Authenticated() bool { return c.sess.Usable() }

func (c *Client) checkOpen() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return fmt.Errorf("%w: create a new client", ErrClosed)
	}
	return nil
}

// changed publishes ev, if any, and re-arms the expiry timer.
func (c *Client) changed(ev *session.Event) {
	if ev == nil {
		return
	}
	c.mu.Lock()
	c.armExpiryLocked()
	c.mu.Unlock()
	c.onEvent(*ev)
	if ev.Reason == session.ReasonLogin || ev.Reason == session.ReasonRotate {
		// A token unusable from the start (the leeway is longer than its
		// life) gets no timer: say at once that it expired.
		if expired := c.sess.CheckExpiry(); expired != nil {
			c.onEvent(*expired)
		}
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
	c.mu.Lock()
	c.expiryTimer = nil
	c.mu.Unlock()
	if ev := c.sess.CheckExpiry(); ev != nil {
		c.onEvent(*ev)
		return
	}
	c.mu.Lock()
	c.armExpiryLocked()
	c.mu.Unlock()
}

func ok2xx(status int) bool { return status >= 200 && status <= 299 }

// refusesCredentials reports whether a login answered with status is a
// refusal of the credentials (some servers say so with 401 or 403) rather
// than a failure of the server.
func refusesCredentials(status int) bool { return status == 401 || status == 403 }

// statusOr explains a response that is not a usable GraphQL answer: by its
// status when that is not 2xx, else by the parse error.
func statusOr(status int, parseErr error) error {
	if !ok2xx(status) {
		return fmt.Errorf("%w: the server answered %d", ErrHTTPStatus, status)
	}
	return parseErr
}

func firstMessage(r *graphql.Response, fallback string) string {
	if errs := r.Errors(); len(errs) > 0 && errs[0].Message != "" {
		return errs[0].Message
	}
	return fallback
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

// isHeaderValue reports whether s has no control characters (tab allowed).
func isHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
