//go:build js && wasm

package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gqlauth/gqlauth/jsbridge"
	"github.com/gqlauth/gqlauth/wasm/client"
	"github.com/gqlauth/gqlauth/wasm/graphql"
	"github.com/gqlauth/gqlauth/wasm/handles"
	"github.com/hack-pad/safejs"
)

// bridge owns the exports and the clients they serve, by handle.
type bridge struct {
	clients handles.Table[*entry]
}

// testHook runs at the start of every export, and as the work of login and
// fetchWithAuth begins on its goroutine (name + ".work"), after the work has
// set up its cleanup. It does nothing unless tests or the gqlauth_testhooks
// build replace it.
var testHook = func(name string) {}

// export puts every export on the binding object. The functions live for
// the life of the module.
func (b *bridge) export(binding safejs.Value) error {
	sync := map[string]func([]safejs.Value) (any, error){
		"newClient":       b.newClient,
		"tokenExpiresAt":  b.tokenExpiresAt,
		"tokenExpiresIn":  b.tokenExpiresIn,
		"tokenUsableFor":  b.tokenUsableFor,
		"isAuthenticated": b.isAuthenticated,
		"onTokenChange":   b.onTokenChange,
		"logout":          b.logout,
		"close":           b.close,
	}
	async := map[string]func([]safejs.Value) (func() (any, error), error){
		"login":         b.login,
		"fetchWithAuth": b.fetchWithAuth,
		"pass":          b.pass,
	}
	for name, fn := range sync {
		f, err := jsbridge.FuncOf(func(_ safejs.Value, args []safejs.Value) (any, error) {
			testHook(name)
			return fn(args)
		}, toJS)
		if err != nil {
			return err
		}
		if err := binding.Set(name, f.Value()); err != nil {
			return err
		}
	}
	for name, prepare := range async {
		f, err := jsbridge.Async(func(_ safejs.Value, args []safejs.Value) (func() (any, error), error) {
			testHook(name)
			return prepare(args)
		}, toJS)
		if err != nil {
			return err
		}
		if err := binding.Set(name, f.Value()); err != nil {
			return err
		}
	}
	return nil
}

// toJS turns a Go error into the Error JavaScript sees: its message, and
// code, status and graphQLErrors as properties. gqlauth.js makes an
// AuthError of it in the app's realm.
func toJS(err error) any {
	code, status, gqlErrors := client.Details(err)
	msg := err.Error()
	if errors.Is(err, jsbridge.ErrPanic) {
		code = client.CodeInternal
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
	return jsbridge.NewError(safejs.Undefined(), msg, fields)
}

// entryAt returns the client for the handle in args[0]. A handle that was
// closed, or never issued, is client.ErrClosed.
func (b *bridge) entryAt(args []safejs.Value) (*entry, error) {
	h := argAt(args, 0)
	if jsbridge.TypeOf(h) != safejs.TypeNumber {
		return nil, invalid("missing client handle")
	}
	n, err := h.Int()
	if err != nil {
		return nil, invalid("bad client handle")
	}
	e, ok := b.clients.Get(n)
	if !ok {
		return nil, fmt.Errorf("%w: no client %d: it was closed, or never made", client.ErrClosed, n)
	}
	return e, nil
}

// login(handle, credentials, {signal?, cause?}) logs in. The password is
// read into one byte slice, which is zeroed when the login settles,
// whatever the outcome; the client zeroes the request body it was copied
// into. cause is given back with the events the login causes.
func (b *bridge) login(args []safejs.Value) (func() (any, error), error) {
	e, err := b.entryAt(args)
	if err != nil {
		return nil, err
	}
	cr, err := credentialsArg(argAt(args, 1))
	if err != nil {
		return nil, err
	}
	ctx, stop, err := callContext(argAt(args, 2))
	if err != nil {
		clear(cr.Password)
		return nil, err
	}
	return func() (any, error) {
		defer stop()
		defer clear(cr.Password)
		testHook("login.work")
		res, err := e.c.Login(ctx, cr)
		if err != nil {
			return nil, err
		}
		return map[string]any{"user": res.User, "expiresAt": float64(res.ExpiresAt.UnixMilli())}, nil
	}, nil
}

// fetchWithAuth(handle, query, variables?, {operationName?, signal?,
// cause?}) sends a protected request. variables is the JSON text of an
// object. It resolves with the response body, a GraphQL response: an
// ArrayBuffer, or a Uint8Array when the body came in pieces.
func (b *bridge) fetchWithAuth(args []safejs.Value) (func() (any, error), error) {
	e, err := b.entryAt(args)
	if err != nil {
		return nil, err
	}
	var r graphql.Request
	if r.Query, err = stringArg(args, 1, "query"); err != nil {
		return nil, err
	}
	if v := argAt(args, 2); !v.IsUndefined() && !v.IsNull() {
		r.Variables, err = jsbridge.Bytes(v, maxArgBytes)
		if err = argError(err, "variables", "the JSON text of an object"); err != nil {
			return nil, err
		}
	}
	o := argAt(args, 3)
	if r.OperationName, err = optionalStringField(o, "operationName"); err != nil {
		return nil, err
	}
	ctx, stop, err := callContext(o)
	if err != nil {
		return nil, err
	}
	return func() (any, error) {
		defer stop()
		testHook("fetchWithAuth.work")
		res, err := e.c.Do(ctx, r)
		if err != nil {
			return nil, err
		}
		if buffer, ok := res.Native.(safejs.Value); ok {
			return buffer, nil // the ArrayBuffer the body came in: no copy back
		}
		return jsbridge.BytesToJS(res.Body)
	}, nil
}

// pass(handle, request, {signal?, cause?}, onHead, onChunk) sends a
// request the app encoded itself (the drop-in fetch) with the token, and
// passes the answer on: onHead(status, statusText, headers) once, headers
// the JSON text of a list of [name, value] pairs without the token
// headers, then onChunk(Uint8Array) for each piece of the body, as it
// arrives. request is {method, query?, headers?, body?} (see
// passRequestArg). It resolves once the body has ended, and rejects with
// the call's error, before onHead or after it.
func (b *bridge) pass(args []safejs.Value) (func() (any, error), error) {
	e, err := b.entryAt(args)
	if err != nil {
		return nil, err
	}
	r, err := passRequestArg(argAt(args, 1))
	if err != nil {
		return nil, err
	}
	sink := jsSink{head: argAt(args, 3), chunk: argAt(args, 4)}
	if jsbridge.TypeOf(sink.head) != safejs.TypeFunction || jsbridge.TypeOf(sink.chunk) != safejs.TypeFunction {
		return nil, invalid("pass needs its onHead and onChunk functions")
	}
	ctx, stop, err := callContext(argAt(args, 2))
	if err != nil {
		return nil, err
	}
	return func() (any, error) {
		defer stop()
		testHook("pass.work")
		return nil, e.c.Pass(ctx, r, sink)
	}, nil
}

// jsSink passes an answer on to the two functions of a pass call.
type jsSink struct{ head, chunk safejs.Value }

func (s jsSink) Head(h client.PassHead) error {
	list := make([]byte, 0, 64*len(h.Header)+2)
	list = append(list, '[')
	for i, kv := range h.Header {
		if i > 0 {
			list = append(list, ',')
		}
		list = append(list, '[')
		list = graphql.AppendString(list, kv[0])
		list = append(list, ',')
		list = graphql.AppendString(list, kv[1])
		list = append(list, ']')
	}
	_, err := s.head.Invoke(h.Status, h.StatusText, string(append(list, ']')))
	return err
}

func (s jsSink) Chunk(c client.Chunk) error {
	piece, ok := c.Native.(safejs.Value) // the Uint8Array fetch gave: no copy
	if !ok {
		var err error
		if piece, err = jsbridge.BytesToJS(c.Bytes); err != nil {
			return err
		}
	}
	_, err := s.chunk.Invoke(piece)
	return err
}

var errAbortedBySignal = errorf(client.ErrAborted, "the request was aborted by its signal")

// callContext reads a call's options, {signal?, cause?}: the caller's
// AbortSignal, if any, becomes the context of the call (aborting it fails
// the call with ABORTED), and the cause goes with the events it causes.
func callContext(o safejs.Value) (context.Context, func(), error) {
	ctx := context.Background()
	if o.IsUndefined() || o.IsNull() {
		return ctx, func() {}, nil
	}
	if jsbridge.TypeOf(o) != safejs.TypeObject {
		return nil, nil, invalid("call options must be an object")
	}
	cause, err := optionalStringField(o, "cause")
	if err != nil {
		return nil, nil, err
	}
	if cause != "" {
		ctx = client.WithCause(ctx, cause)
	}
	signal, err := field(o, "signal")
	if err != nil {
		return nil, nil, err
	}
	ctx, stop, err := jsbridge.WithSignal(ctx, signal, errAbortedBySignal)
	if err != nil {
		return nil, nil, invalid("signal must be an AbortSignal")
	}
	return ctx, stop, nil
}

// causeArg reads the cause a synchronous export is given at index i.
func causeArg(args []safejs.Value, i int) (context.Context, error) {
	cause, err := optionalStringArg(args, i, "cause")
	if err != nil || cause == "" {
		return context.Background(), err
	}
	return client.WithCause(context.Background(), cause), nil
}

// onTokenChange(handle, listener) calls listener(reason, expiresAtMs|null,
// expiresInMs, usableForMs, cause) after every change of the client's
// token: reason is login, rotate, logout, expired or unauthorized; then the
// state of the session right after the change (expiresAt is the held
// token's exp, which an expired token still has; usableFor is how long it
// may still be sent); cause is the cause the call that made the change was
// given, "keep-alive", or "" when the token reached its expiry. It returns
// the function that unsubscribes listener.
func (b *bridge) onTokenChange(args []safejs.Value) (any, error) {
	e, err := b.entryAt(args)
	if err != nil {
		return nil, err
	}
	listener := argAt(args, 1)
	if jsbridge.TypeOf(listener) != safejs.TypeFunction {
		return nil, invalid("onTokenChange needs a function")
	}
	return e.listen(listener)
}

// logout(handle, cause?) drops the client's token.
func (b *bridge) logout(args []safejs.Value) (any, error) {
	e, err := b.entryAt(args)
	if errors.Is(err, client.ErrClosed) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ctx, err := causeArg(args, 1)
	if err != nil {
		return nil, err
	}
	e.c.Logout(ctx)
	return nil, nil
}

// close(handle, cause?) logs out, ends the client's calls under way,
// releases its listeners and forgets it; closing twice is a no-op.
func (b *bridge) close(args []safejs.Value) (any, error) {
	e, err := b.entryAt(args)
	if errors.Is(err, client.ErrClosed) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ctx, err := causeArg(args, 1)
	if err != nil {
		return nil, err
	}
	n, _ := args[0].Int()
	if _, ok := b.clients.Remove(n); ok {
		e.c.Close(ctx)
		e.release()
	}
	return nil, nil
}

// inFlight counts the Login and Do calls under way in all clients.
func (b *bridge) inFlight() int {
	if b == nil {
		return 0
	}
	n := 0
	for _, e := range b.clients.All() {
		n += e.c.InFlight()
	}
	return n
}

// errorf wraps sentinel with a message.
func errorf(sentinel error, format string, a ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, a...))
}
