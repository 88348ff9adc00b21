//go:build js && wasm

package jsbridge

import (
	"context"
	"errors"
	"fmt"

	"github.com/hack-pad/safejs"
)

// Work is the part of an async call that runs in its own goroutine. It may
// block: await promises, fetch. Its result resolves the call's Promise.
type Work func() (any, error)

// AsyncFunc wraps start as a JS function that returns a Promise. start runs
// synchronously on the JS event loop, so it reads and checks the arguments
// as they are at the time of the call; it must not block. The Work it returns
// runs in a goroutine and settles the Promise. An error from start or from
// the Work, or a panic in either, rejects the Promise with toJS(err).
func AsyncFunc(start func(this safejs.Value, args []safejs.Value) (Work, error), toJS func(error) any) (*Func, error) {
	return FuncOf(func(this safejs.Value, args []safejs.Value) (any, error) {
		work, err := startSafely(start, this, args)
		if err != nil {
			work = func() (any, error) { return nil, err }
		}
		return newPromise(work, toJS)
	}, toJS)
}

// startSafely runs start, turning a panic into an error so that the caller
// still gets a Promise.
func startSafely(start func(safejs.Value, []safejs.Value) (Work, error), this safejs.Value, args []safejs.Value) (work Work, err error) {
	defer Recover(&err)
	return start(this, args)
}

// newPromise returns a Promise settled by work, run in a goroutine.
func newPromise(work Work, toJS func(error) any) (safejs.Value, error) {
	var resolve, reject safejs.Value
	executor, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		resolve, reject = args[0], args[1]
		return nil
	})
	if err != nil {
		return safejs.Value{}, err
	}
	defer executor.Release()
	if err := Init(); err != nil {
		return safejs.Value{}, err
	}
	p, err := builtins.promise.New(executor.Value())
	if err != nil {
		return safejs.Value{}, err
	}
	pendingPromises.Add(1)
	settle := func(result any, err error) {
		defer pendingPromises.Add(-1)
		if err == nil {
			if _, err = resolve.Invoke(result); err == nil {
				return
			}
		}
		if _, rerr := reject.Invoke(toJS(err)); rerr != nil {
			// toJS produced something JS cannot take; reject with a plain string.
			reject.Invoke(fmt.Sprint(err))
		}
	}
	Go(func() { settle(work()) }, func(err error) { settle(nil, err) })
	return p, nil
}

// JSError is a JavaScript exception or rejection reason seen from Go.
type JSError struct {
	// Name is the error's name, e.g. "TypeError" or "AbortError"; empty when
	// the value thrown was not an Error.
	Name string
	// Message is the error's message, or the value as a string.
	Message string
}

func (e *JSError) Error() string {
	if e.Name == "" {
		return e.Message
	}
	return e.Name + ": " + e.Message
}

// errorFromJS describes a rejection reason without keeping a JS reference.
func errorFromJS(v safejs.Value) *JSError {
	e := &JSError{}
	if TypeOf(v) == safejs.TypeObject {
		name, _ := Get(v, "name")
		msg, _ := Get(v, "message")
		if TypeOf(name) == safejs.TypeString {
			e.Name, _ = name.String()
		}
		if TypeOf(msg) == safejs.TypeString {
			e.Message, _ = msg.String()
			return e
		}
	}
	if Init() == nil {
		if str, err := builtins.string.Invoke(v); err == nil {
			e.Message, _ = str.String()
		}
	}
	return e
}

// Await waits for the JS promise p to settle and returns its value, or a
// *JSError for a rejection. If ctx ends first it returns context.Cause(ctx);
// the promise is left to settle on its own. Await blocks: never call it on
// the JS event loop (from FuncOf's function), only from Work.
func Await(ctx context.Context, p safejs.Value) (safejs.Value, error) {
	type outcome struct {
		v   safejs.Value
		err error
	}
	done := make(chan outcome, 1)
	var onOK, onErr *Func
	release := func() { onOK.Release(); onErr.Release() }
	settle := func(o outcome) (any, error) {
		release()
		done <- o
		return nil, nil
	}
	var err error
	noValue := func(error) any { return nil }
	onOK, err = FuncOf(func(_ safejs.Value, args []safejs.Value) (any, error) {
		return settle(outcome{v: arg(args, 0)})
	}, noValue)
	if err != nil {
		return safejs.Value{}, err
	}
	onErr, err = FuncOf(func(_ safejs.Value, args []safejs.Value) (any, error) {
		return settle(outcome{err: errorFromJS(arg(args, 0))})
	}, noValue)
	if err != nil {
		onOK.Release()
		return safejs.Value{}, err
	}
	if _, err := p.Call("then", onOK.Value(), onErr.Value()); err != nil {
		release()
		return safejs.Value{}, fmt.Errorf("not a promise: %w", err)
	}
	select {
	case o := <-done:
		return o.v, o.err
	case <-ctx.Done():
		return safejs.Value{}, context.Cause(ctx)
	}
}

func arg(args []safejs.Value, i int) safejs.Value {
	if i < len(args) {
		return args[i]
	}
	return safejs.Undefined()
}

// IsAbort reports whether err is a JS AbortError or TimeoutError.
func IsAbort(err error) bool {
	var je *JSError
	return errors.As(err, &je) && (je.Name == "AbortError" || je.Name == "TimeoutError")
}
