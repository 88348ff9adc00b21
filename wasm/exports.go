//go:build js && wasm

package main

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/gqlauth/gqlauth/jsbridge"
	"github.com/gqlauth/gqlauth/wasm/client"
	"github.com/gqlauth/gqlauth/wasm/graphql"
	"github.com/gqlauth/gqlauth/wasm/session"
	"github.com/hack-pad/safejs"
)

// bridge owns the exports and the clients they serve. Clients are named by a
// number handed to JavaScript, so no Go function is made per client.
type bridge struct {
	binding   safejs.Value
	authError safejs.Value

	mu      sync.Mutex
	next    int
	clients map[int]*entry
}

// entry is one client and the JS functions it reports to.
type entry struct {
	c           *client.Client
	credentials string // fetch credentials mode
}

// testHook runs at the start of every export (name) and of every async
// export's work (name + ".work"). It does nothing unless tests or the
// gqlauth_testhooks build replace it.
var testHook = func(name string) {}

// export puts every export on the binding object. The functions live for
// the life of the module.
func (b *bridge) export() error {
	syncFns := map[string]func([]safejs.Value) (any, error){
		"newClient":       b.newClient,
		"tokenExpiresAt":  b.tokenExpiresAt,
		"tokenExpiresIn":  b.tokenExpiresIn,
		"isAuthenticated": b.isAuthenticated,
		"logout":          b.logout,
		"close":           b.close,
	}
	asyncFns := map[string]func([]safejs.Value) (jsbridge.Work, error){
		"login":         b.login,
		"fetchWithAuth": b.fetchWithAuth,
	}
	for name, fn := range syncFns {
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
	for name, fn := range asyncFns {
		f, err := jsbridge.AsyncFunc(func(_ safejs.Value, args []safejs.Value) (jsbridge.Work, error) {
			testHook(name)
			work, err := fn(args)
			if work == nil {
				return nil, err
			}
			return func() (any, error) { testHook(name + ".work"); return work() }, err
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

// newClient(options, emit, warn) returns a client handle. emit(reason,
// expiresAtMs|null) reports token changes; warn(message) reports tokens that
// were not installed.
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
	opts := []client.Option{
		client.OnEvent(func(e session.Event) {
			var exp any
			if !e.ExpiresAt.IsZero() {
				exp = float64(e.ExpiresAt.UnixMilli())
			}
			emit.Invoke(string(e.Reason), exp)
		}),
		client.OnWarning(func(err error) { warn.Invoke(err.Error()) }),
		client.WithLeeway(session.DefaultLeeway),
	}
	if v, ok, err := numberField(o, "expiryLeewaySeconds"); err != nil {
		return nil, err
	} else if ok {
		opts = append(opts, client.WithLeeway(time.Duration(v*float64(time.Second))))
	}
	if v, ok, err := numberField(o, "timeoutMs"); err != nil {
		return nil, err
	} else if ok {
		opts = append(opts, client.WithTimeout(time.Duration(v*float64(time.Millisecond))))
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
	transport := &fetchTransport{credentials: creds, maxBytes: DefaultMaxResponseBytes}
	if v, ok, err := numberField(o, "maxResponseBytes"); err != nil {
		return nil, err
	} else if ok {
		if v < 1 {
			return nil, invalid("maxResponseBytes must be at least 1")
		}
		transport.maxBytes = int64(v)
	}
	e := &entry{credentials: creds}
	if e.c, err = client.New(endpoint, transport, opts...); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.next++
	b.clients[b.next] = e
	return b.next, nil
}

// clientAt returns the client for the handle in args[0].
func (b *bridge) clientAt(args []safejs.Value) (*client.Client, error) {
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
	return e.c, nil
}

// login(handle, {username?, email?, password}, signal?) → {user, expiresAt}
// where user is the JSON text of the loginUser object and expiresAt is in
// milliseconds since the epoch.
func (b *bridge) login(args []safejs.Value) (jsbridge.Work, error) {
	c, err := b.clientAt(args)
	if err != nil {
		return nil, err
	}
	o := argAt(args, 1)
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
	ctx, done, err := signalContext(argAt(args, 2))
	if err != nil {
		return nil, err
	}
	return func() (any, error) {
		defer done()
		res, err := c.Login(ctx, cr)
		if err != nil {
			return nil, err
		}
		return map[string]any{"user": res.User, "expiresAt": float64(res.ExpiresAt.UnixMilli())}, nil
	}, nil
}

// fetchWithAuth(handle, query, variablesJSON?, operationName?, signal?) →
// the response body as a Uint8Array holding a GraphQL response.
func (b *bridge) fetchWithAuth(args []safejs.Value) (jsbridge.Work, error) {
	c, err := b.clientAt(args)
	if err != nil {
		return nil, err
	}
	var r graphql.Request
	if r.Query, err = stringArg(args, 1, "query"); err != nil {
		return nil, err
	}
	if r.Variables, err = optionalStringArg(args, 2, "variables"); err != nil {
		return nil, err
	}
	if r.OperationName, err = optionalStringArg(args, 3, "operationName"); err != nil {
		return nil, err
	}
	ctx, done, err := signalContext(argAt(args, 4))
	if err != nil {
		return nil, err
	}
	return func() (any, error) {
		defer done()
		res, err := c.Do(ctx, r)
		if err != nil {
			return nil, err
		}
		return res.Native, nil
	}, nil
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

// signalContext returns a context cancelled with client.ErrAborted when the
// AbortSignal v fires. v may be undefined. done releases the listener.
func signalContext(v safejs.Value) (context.Context, func(), error) {
	if v.IsUndefined() || v.IsNull() {
		return context.Background(), func() {}, nil
	}
	if jsbridge.TypeOf(v) != safejs.TypeObject {
		return nil, nil, invalid("signal must be an AbortSignal")
	}
	aborted, err := jsbridge.Get(v, "aborted")
	if err != nil || jsbridge.TypeOf(aborted) != safejs.TypeBoolean {
		return nil, nil, invalid("signal must be an AbortSignal")
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	if yes, _ := aborted.Bool(); yes {
		cancel(client.ErrAborted)
		return ctx, func() {}, nil
	}
	listener, err := jsbridge.FuncOf(func(safejs.Value, []safejs.Value) (any, error) {
		cancel(client.ErrAborted)
		return nil, nil
	}, func(error) any { return nil })
	if err != nil {
		cancel(nil)
		return nil, nil, err
	}
	if _, err := v.Call("addEventListener", "abort", listener.Value()); err != nil {
		listener.Release()
		cancel(nil)
		return nil, nil, invalid("signal must be an AbortSignal")
	}
	done := func() {
		v.Call("removeEventListener", "abort", listener.Value())
		listener.Release()
		cancel(nil)
	}
	return ctx, done, nil
}

func argAt(args []safejs.Value, i int) safejs.Value {
	if i < len(args) {
		return args[i]
	}
	return safejs.Undefined()
}

func invalid(format string, a ...any) error {
	return errorf(client.ErrInvalidArgument, format, a...)
}

func stringArg(args []safejs.Value, i int, name string) (string, error) {
	v := argAt(args, i)
	if jsbridge.TypeOf(v) != safejs.TypeString {
		return "", invalid("%s must be a string", name)
	}
	return v.String()
}

func optionalStringArg(args []safejs.Value, i int, name string) (string, error) {
	if v := argAt(args, i); v.IsUndefined() || v.IsNull() {
		return "", nil
	}
	return stringArg(args, i, name)
}

// field reads o[name]; a getter that throws is an invalid argument.
func field(o safejs.Value, name string) (safejs.Value, error) {
	v, err := jsbridge.Get(o, name)
	if err != nil {
		return safejs.Value{}, invalid("%v", err)
	}
	return v, nil
}

func stringField(o safejs.Value, name string, required bool) (string, error) {
	v, err := field(o, name)
	if err != nil {
		return "", err
	}
	switch {
	case jsbridge.TypeOf(v) == safejs.TypeString:
		return v.String()
	case (v.IsUndefined() || v.IsNull()) && !required:
		return "", nil
	}
	return "", invalid("%s must be a string", name)
}

func numberField(o safejs.Value, name string) (float64, bool, error) {
	v, err := field(o, name)
	if err != nil || v.IsUndefined() || v.IsNull() {
		return 0, false, err
	}
	if jsbridge.TypeOf(v) != safejs.TypeNumber {
		return 0, false, invalid("%s must be a number", name)
	}
	f, err := v.Float()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e12 {
		return 0, false, invalid("%s must be a finite, non-negative number", name)
	}
	return f, true, nil
}

func boolField(o safejs.Value, name string) (bool, bool, error) {
	v, err := field(o, name)
	if err != nil || v.IsUndefined() || v.IsNull() {
		return false, false, err
	}
	if jsbridge.TypeOf(v) != safejs.TypeBoolean {
		return false, false, invalid("%s must be a boolean", name)
	}
	b, err := v.Bool()
	return b, true, err
}

// headersField reads options.headers, a plain object of string values.
func headersField(o safejs.Value) (map[string]string, error) {
	h, err := field(o, "headers")
	if err != nil || h.IsUndefined() || h.IsNull() {
		return nil, err
	}
	if jsbridge.TypeOf(h) != safejs.TypeObject {
		return nil, invalid("headers must be an object of strings")
	}
	names, err := jsbridge.Keys(h, 100)
	if err != nil {
		return nil, invalid("headers must be a plain object of at most 100 strings: %v", err)
	}
	out := make(map[string]string, len(names))
	for _, name := range names {
		if out[name], err = stringField(h, name, true); err != nil {
			return nil, invalid("header %q must be a string", name)
		}
	}
	return out, nil
}
