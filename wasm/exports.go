//go:build js && wasm

package main

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gqlauth/gqlauth/jsbridge"
	"github.com/gqlauth/gqlauth/wasm/client"
	"github.com/gqlauth/gqlauth/wasm/graphql"
	"github.com/gqlauth/gqlauth/wasm/session"
	"github.com/hack-pad/safejs"
)

// DefaultMaxResponseBytes bounds a response body unless the app sets
// maxResponseBytes. gqlauth.js enforces it while reading: a body announced
// larger is not read, one without a length is cut off at the limit.
const DefaultMaxResponseBytes = 32 << 20

// Limits on numeric options.
const (
	maxTimeoutMs     = math.MaxInt32   // setTimeout fires at once past this
	maxLeewaySeconds = 366 * 24 * 3600 // a year
)

// bridge owns the exports, the clients they serve and the exchanges in
// flight. Clients and exchanges are named by numbers handed to JavaScript,
// so no Go function is made per client or per request.
//
// A request is two synchronous calls: begin* returns what to send, gqlauth.js
// runs fetch, and finish (or fail, when fetch did not complete) judges the
// answer. No goroutine, timer or callback lives across the fetch.
type bridge struct {
	binding   safejs.Value
	authError safejs.Value

	mu        sync.Mutex
	next      int // the last client handle
	clients   map[int]*entry
	exchanges map[int]*pending
}

// newBridge returns a bridge that exports onto binding and makes its
// AuthErrors with authError (a class; the global Error when undefined).
func newBridge(binding, authError safejs.Value) *bridge {
	return &bridge{binding: binding, authError: authError, clients: map[int]*entry{}, exchanges: map[int]*pending{}}
}

// entry is one client with its transport settings.
type entry struct {
	c         *client.Client
	maxBytes  int
	listening atomic.Bool // the app has onTokenChange listeners: emit events
}

// pending is one exchange between its begin and its finish or fail.
type pending struct {
	e *entry
	x *client.Exchange
}

// testHook runs at the start of every export. It does nothing unless tests
// or the gqlauth_testhooks build replace it.
var testHook = func(name string) {}

// export puts every export on the binding object. The functions live for
// the life of the module.
func (b *bridge) export() error {
	exports := map[string]func([]safejs.Value) (any, error){
		"newClient":       b.newClient,
		"beginLogin":      b.beginLogin,
		"beginFetch":      b.beginFetch,
		"finish":          b.finish,
		"fail":            b.fail,
		"tokenExpiresAt":  b.tokenExpiresAt,
		"tokenExpiresIn":  b.tokenExpiresIn,
		"isAuthenticated": b.isAuthenticated,
		"logout":          b.logout,
		"close":           b.close,
		"listen":          b.listen,
	}
	for name, fn := range exports {
		f, err := jsbridge.FuncOf(func(_ safejs.Value, args []safejs.Value) (any, error) {
			testHook(name)
			return fn(args)
		}, b.toJS)
		if err != nil {
			return err
		}
		if err := b.binding.Set(name, f.Value()); err != nil {
			return err
		}
	}
	return nil
}

// toJS turns a Go error into the AuthError JavaScript sees.
func (b *bridge) toJS(err error) any {
	code, status, gqlErrors := client.Details(err)
	msg := err.Error()
	if errors.Is(err, jsbridge.ErrPanic) {
		msg, _, _ = strings.Cut(msg, "\n") // keep the panic value, not the stack
		msg = "gqlauth: internal error, please report it (the module keeps working): " + msg
	}
	fields := map[string]any{"code": string(code)}
	if status != 0 {
		fields["status"] = status
	}
	if gqlErrors != "" {
		fields["graphQLErrors"] = jsbridge.ParseJSON(gqlErrors)
	}
	return jsbridge.NewError(b.authError, msg, fields)
}

// newClient(options, emit, warn) → {handle, endpoint, headers, timeoutMs,
// maxResponseBytes, credentials}: the handle and the checked settings the JS
// side sends requests with. emit(reason, expiresAtMs|null) reports token
// changes; warn(message) reports tokens that were not installed.
func (b *bridge) newClient(args []safejs.Value) (any, error) {
	o := argAt(args, 0)
	if jsbridge.TypeOf(o) != safejs.TypeObject {
		return nil, invalid("createClient needs an options object")
	}
	emit, warn := argAt(args, 1), argAt(args, 2)
	if jsbridge.TypeOf(emit) != safejs.TypeFunction || jsbridge.TypeOf(warn) != safejs.TypeFunction {
		return nil, invalid("newClient needs emit and warn functions")
	}
	endpoint, err := stringField(o, "endpoint", true)
	if err != nil {
		return nil, err
	}
	e := &entry{maxBytes: DefaultMaxResponseBytes}
	opts := []client.Option{
		client.OnEvent(func(ev session.Event) {
			// The expiry check calls this from a timer goroutine, outside any
			// export: a panic here must not take the module down.
			defer func() { _ = recover() }()
			if !e.listening.Load() {
				return
			}
			var exp any
			if !ev.ExpiresAt.IsZero() {
				exp = float64(ev.ExpiresAt.UnixMilli())
			}
			emit.Invoke(string(ev.Reason), exp)
		}),
		client.OnWarning(func(err error) { warn.Invoke(err.Error()) }),
	}
	if v, ok, err := numberField(o, "expiryLeewaySeconds"); err != nil {
		return nil, err
	} else if ok {
		if v > maxLeewaySeconds {
			return nil, invalid("expiryLeewaySeconds must be at most %d", maxLeewaySeconds)
		}
		opts = append(opts, client.WithLeeway(time.Duration(v*float64(time.Second))))
	}
	timeout := client.DefaultTimeout
	if v, ok, err := numberField(o, "timeoutMs"); err != nil {
		return nil, err
	} else if ok {
		if v > maxTimeoutMs {
			return nil, invalid("timeoutMs must be at most %d (setTimeout's limit)", maxTimeoutMs)
		}
		timeout = time.Duration(v * float64(time.Millisecond))
		opts = append(opts, client.WithTimeout(timeout))
	}
	if v, ok, err := boolField(o, "allowInsecureHTTP"); err != nil {
		return nil, err
	} else if ok && v {
		opts = append(opts, client.AllowInsecureHTTP())
	}
	headers, err := headersField(o)
	if err != nil {
		return nil, err
	}
	if headers != nil {
		opts = append(opts, client.WithHeaders(headers))
	}
	creds, err := stringField(o, "credentials", false)
	if err != nil {
		return nil, err
	}
	switch creds {
	case "", "omit", "same-origin", "include":
	default:
		return nil, invalid("credentials must be omit, same-origin or include, got %q", creds)
	}
	if v, ok, err := numberField(o, "maxResponseBytes"); err != nil {
		return nil, err
	} else if ok {
		if v < 1 || v > math.MaxInt32 {
			return nil, invalid("maxResponseBytes must be between 1 and %d", math.MaxInt32)
		}
		e.maxBytes = int(v)
	}
	if e.c, err = client.New(endpoint, nil, opts...); err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.next++
	handle := b.next
	b.clients[handle] = e
	b.mu.Unlock()
	header := map[string]any{}
	for k, v := range e.c.Header() {
		header[k] = v
	}
	settings := map[string]any{
		"handle":           handle,
		"endpoint":         e.c.Endpoint(),
		"headers":          header,
		"timeoutMs":        float64(timeout.Milliseconds()),
		"maxResponseBytes": e.maxBytes,
	}
	if creds != "" {
		settings["credentials"] = creds
	}
	return settings, nil
}

// entryAt returns the client for the handle in args[0].
func (b *bridge) entryAt(args []safejs.Value) (*entry, error) {
	h := argAt(args, 0)
	if jsbridge.TypeOf(h) != safejs.TypeNumber {
		return nil, invalid("missing client handle")
	}
	n, err := h.Int()
	if err != nil {
		return nil, invalid("bad client handle")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.clients[n]
	if !ok {
		return nil, client.ErrClosed
	}
	return e, nil
}

func (b *bridge) clientAt(args []safejs.Value) (*client.Client, error) {
	e, err := b.entryAt(args)
	if err != nil {
		return nil, err
	}
	return e.c, nil
}

// inFlight counts the exchanges begun and not yet finished or failed.
func (b *bridge) inFlight() int {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.exchanges)
}

// freeID reads the exchange id gqlauth.js chose: a positive integer not in
// use. It is checked before anything begins, so that a bad id changes
// nothing (a login begun would overtake one in flight).
func (b *bridge) freeID(v safejs.Value) (int, error) {
	if jsbridge.TypeOf(v) != safejs.TypeNumber {
		return 0, invalid("missing exchange id")
	}
	id, err := v.Int()
	if err != nil || id < 1 {
		return 0, invalid("bad exchange id")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, taken := b.exchanges[id]; taken {
		return 0, invalid("exchange id %d is in use", id)
	}
	return id, nil
}

// register records x under id.
func (b *bridge) register(id int, e *entry, x *client.Exchange) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.exchanges[id] = &pending{e: e, x: x}
}

// take removes the exchange named by args[0] from the registry.
func (b *bridge) take(args []safejs.Value) (int, *pending, error) {
	v := argAt(args, 0)
	if jsbridge.TypeOf(v) != safejs.TypeNumber {
		return 0, nil, invalid("missing exchange id")
	}
	id, err := v.Int()
	if err != nil {
		return 0, nil, invalid("bad exchange id")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.exchanges[id]
	if !ok {
		return 0, nil, invalid("unknown exchange %d: it was already finished", id)
	}
	delete(b.exchanges, id)
	return id, p, nil
}

// beginLogin(handle, id, {username?, email?, password}) → the request body,
// for the exchange numbered id. A login begun later, or a logout, makes this
// one fail when it finishes.
func (b *bridge) beginLogin(args []safejs.Value) (any, error) {
	e, err := b.entryAt(args)
	if err != nil {
		return nil, err
	}
	o := argAt(args, 2)
	if jsbridge.TypeOf(o) != safejs.TypeObject {
		return nil, invalid("login needs {username or email, password}")
	}
	var cr client.Credentials
	for _, f := range []struct {
		name string
		dst  *string
	}{{"username", &cr.Username}, {"email", &cr.Email}, {"password", &cr.Password}} {
		if *f.dst, err = stringField(o, f.name, false); err != nil {
			return nil, err
		}
	}
	id, err := b.freeID(argAt(args, 1))
	if err != nil {
		return nil, err
	}
	x, err := e.c.BeginLogin(cr)
	if err != nil {
		return nil, err
	}
	b.register(id, e, x)
	return string(x.Body()), nil
}

// beginFetch(handle, id) → authorization: the token to send a protected
// request with, for the exchange numbered id. gqlauth.js encodes the body
// itself. Without a usable token it fails and nothing is to be sent.
func (b *bridge) beginFetch(args []safejs.Value) (any, error) {
	e, err := b.entryAt(args)
	if err != nil {
		return nil, err
	}
	id, err := b.freeID(argAt(args, 1))
	if err != nil {
		return nil, err
	}
	x, err := e.c.BeginProtected()
	if err != nil {
		return nil, err
	}
	b.register(id, e, x)
	return x.Authorization(), nil
}

// finish(id, status, token|null, summary, why?) judges an answer. token is
// the X-Authorization header, else the Authorization header. gqlauth.js has
// parsed the body already (it is the only parser of the whole body), and
// summary says what the module needs of it: true for a JSON object with data
// and no errors (the usual answer), a JSON text of the response with data
// elided to {} when it has errors (kept whole for a login), or null when the
// body is not a JSON object, why then saying what it is. For a login finish
// returns {user, expiresAt}; for a query, true, or [authorization] when the
// request must be sent again with the current token under the same id.
func (b *bridge) finish(args []safejs.Value) (any, error) {
	id, p, err := b.take(args)
	if err != nil {
		return nil, err
	}
	resp, err := answer(args)
	if err != nil {
		p.x.Close()
		return nil, err
	}
	if p.x.Login() {
		defer p.x.Close()
		res, err := p.e.c.FinishLogin(p.x, resp)
		if err != nil {
			return nil, err
		}
		return map[string]any{"user": res.User, "expiresAt": float64(res.ExpiresAt.UnixMilli())}, nil
	}
	_, retry, err := p.e.c.FinishDo(p.x, resp)
	if retry {
		b.mu.Lock()
		b.exchanges[id] = p
		b.mu.Unlock()
		return p.x.Authorization(), nil
	}
	p.x.Close()
	if err != nil {
		return nil, err
	}
	return true, nil
}

// answer reads the response finish was given.
func answer(args []safejs.Value) (*client.Response, error) {
	status := argAt(args, 1)
	if jsbridge.TypeOf(status) != safejs.TypeNumber {
		return nil, invalid("finish needs the HTTP status")
	}
	resp := &client.Response{Header: map[string]string{}}
	resp.Status, _ = status.Int()
	if v := argAt(args, 2); jsbridge.TypeOf(v) == safejs.TypeString {
		resp.Header[client.HeaderXAuthorization], _ = v.String()
	}
	switch summary := argAt(args, 3); jsbridge.TypeOf(summary) {
	case safejs.TypeBoolean:
		resp.Body = dataOnly
	case safejs.TypeString:
		text, err := summary.String()
		if err != nil {
			return nil, err
		}
		resp.Body = []byte(text)
	default:
		why, _ := optionalStringArg(args, 4, "why")
		if why == "" {
			why = "the body is not a JSON object"
		}
		resp.BodyError = fmt.Errorf("%w: %s", graphql.ErrBadResponse, why)
	}
	return resp, nil
}

// dataOnly stands for a response with data and no errors.
var dataOnly = []byte(`{"data":{}}`)

// fail(id, kind, message?, status?) ends an exchange whose fetch did not
// complete and returns the AuthError to reject with. kind is "aborted" (the
// caller's signal), "timeout", "too-large" or "network"; status is the HTTP
// status when a response had begun.
func (b *bridge) fail(args []safejs.Value) (any, error) {
	_, p, err := b.take(args)
	if err != nil {
		return nil, err
	}
	p.x.Close()
	kind, _ := optionalStringArg(args, 1, "kind")
	detail, _ := optionalStringArg(args, 2, "message")
	var cause error
	switch kind {
	case "aborted":
		cause = errorf(client.ErrAborted, "the request was aborted by its signal")
	case "timeout":
		cause = errorf(client.ErrTimeout, "no complete answer within %v", p.e.c.Timeout())
	case "too-large":
		cause = errorf(client.ErrResponseTooLarge, "the response is larger than maxResponseBytes (%d bytes); "+
			"it was not read further", p.e.maxBytes)
	default:
		cause = errorf(client.ErrNetwork, "%s (the server is down, unreachable, or its CORS headers do not allow this origin)", detail)
	}
	if v := argAt(args, 3); jsbridge.TypeOf(v) == safejs.TypeNumber {
		status, _ := v.Int()
		cause = &client.ResponseError{Status: status, Err: cause}
	}
	return b.toJS(cause), nil
}

// tokenExpiresAt(handle) → milliseconds since the epoch, or null. The
// getters answer for a closed client as for a logged-out one.
func (b *bridge) tokenExpiresAt(args []safejs.Value) (any, error) {
	c, err := b.clientAt(args)
	if errors.Is(err, client.ErrClosed) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if t := c.ExpiresAt(); !t.IsZero() {
		return float64(t.UnixMilli()), nil
	}
	return nil, nil
}

// tokenExpiresIn(handle) → milliseconds left, 0 without a valid token.
func (b *bridge) tokenExpiresIn(args []safejs.Value) (any, error) {
	c, err := b.clientAt(args)
	if errors.Is(err, client.ErrClosed) {
		return 0, nil
	}
	if err != nil {
		return nil, err
	}
	return float64(c.ExpiresIn().Milliseconds()), nil
}

func (b *bridge) isAuthenticated(args []safejs.Value) (any, error) {
	c, err := b.clientAt(args)
	if errors.Is(err, client.ErrClosed) {
		return false, nil
	}
	if err != nil {
		return nil, err
	}
	return c.Authenticated(), nil
}

func (b *bridge) logout(args []safejs.Value) (any, error) {
	c, err := b.clientAt(args)
	if errors.Is(err, client.ErrClosed) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c.Logout()
	return nil, nil
}

// listen(handle, on) says whether the app has onTokenChange listeners; events
// are only sent to JavaScript while it has.
func (b *bridge) listen(args []safejs.Value) (any, error) {
	e, err := b.entryAt(args)
	if errors.Is(err, client.ErrClosed) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	v := argAt(args, 1)
	if jsbridge.TypeOf(v) != safejs.TypeBoolean {
		return nil, invalid("listen needs a boolean")
	}
	on, err := v.Bool()
	if err != nil {
		return nil, err
	}
	e.listening.Store(on)
	return nil, nil
}

// close(handle) logs out and forgets the client; closing twice is a no-op.
func (b *bridge) close(args []safejs.Value) (any, error) {
	c, err := b.clientAt(args)
	if errors.Is(err, client.ErrClosed) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	n, _ := args[0].Int()
	b.mu.Lock()
	delete(b.clients, n)
	b.mu.Unlock()
	c.Close()
	return nil, nil
}

// errorf wraps sentinel with a message.
func errorf(sentinel error, format string, a ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, a...))
}
