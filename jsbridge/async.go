//go:build js && wasm

package jsbridge

import (
	"sync"

	"github.com/hack-pad/safejs"
)

// Async wraps a Go function so that JavaScript can call it and get a
// Promise. Each call runs prepare synchronously, with the call's arguments:
// it reads and checks them (JS values may change once the call returns) and
// returns the work to do. The work then runs on a new goroutine, and the
// Promise resolves with its result or rejects with toJS(err). An error from
// prepare rejects the Promise at once; nothing runs. A panic in prepare or
// in the work becomes an ErrPanic error: the call fails, the module goes on.
//
// The Promise is made with Promise.withResolvers, or one executor function
// shared by all calls, so a call costs no js.Func.
func Async(prepare func(this safejs.Value, args []safejs.Value) (work func() (any, error), err error), toJS func(error) any) (*Func, error) {
	if err := Init(); err != nil {
		return nil, err
	}
	return FuncOf(func(this safejs.Value, args []safejs.Value) (_ any, err error) {
		promise, resolve, reject, err := newPromise()
		if err != nil {
			return nil, err
		}
		settle := func(v any, err error) {
			if err != nil {
				_, _ = reject.Invoke(toJS(err))
				return
			}
			if _, err := resolve.Invoke(v); err != nil {
				_, _ = reject.Invoke(toJS(err))
			}
		}
		work, err := prepareSafely(prepare, this, args)
		if err != nil {
			settle(nil, err)
			return promise, nil
		}
		go func() {
			var v any
			var err error
			func() {
				defer Recover(&err)
				v, err = work()
			}()
			settle(v, err)
		}()
		return promise, nil
	}, toJS)
}

func prepareSafely(prepare func(safejs.Value, []safejs.Value) (func() (any, error), error), this safejs.Value, args []safejs.Value) (work func() (any, error), err error) {
	defer Recover(&err)
	return prepare(this, args)
}

// promises holds the one executor every Promise is made with where
// Promise.withResolvers is missing (Node 20). JavaScript
// runs an executor synchronously inside new Promise(), on the goroutine
// that called it (syscall/js runs a callback made during a Go-to-JS call on
// the calling goroutine), so it hands resolve and reject over through these
// fields; the mutex keeps two goroutines from making Promises at once.
var promises struct {
	mu              sync.Mutex
	executor        *Func // made by Init, where there is no withResolvers
	resolve, reject safejs.Value
}

// executor is the function new Promise() calls.
func executor(_ safejs.Value, args []safejs.Value) (any, error) {
	if len(args) >= 2 {
		promises.resolve, promises.reject = args[0], args[1]
	}
	return nil, nil
}

func newPromise() (promise, resolve, reject safejs.Value, err error) {
	if TypeOf(builtins.withResolvers) == safejs.TypeFunction {
		// Promise.withResolvers: no call back into Go, which costs more than
		// the three property reads.
		r, err := builtins.withResolvers.Call("call", builtins.promise)
		if err == nil {
			promise, _ = r.Get("promise")
			resolve, _ = r.Get("resolve")
			reject, err = r.Get("reject")
		}
		return promise, resolve, reject, err
	}
	promises.mu.Lock()
	defer promises.mu.Unlock()
	promise, err = builtins.promise.New(promises.executor.Value())
	resolve, reject = promises.resolve, promises.reject
	promises.resolve, promises.reject = safejs.Undefined(), safejs.Undefined()
	return
}
