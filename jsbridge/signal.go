//go:build js && wasm

package jsbridge

import (
	"context"
	"errors"
	"sync"

	"github.com/hack-pad/safejs"
)

// WithSignal returns a context that is canceled, with cause, when the
// AbortSignal signal fires (or at once, if it already has), and a stop
// function that must be called when the work is over: it removes the
// listener. An undefined or null signal gives parent's context unchanged.
// Anything else must be a real AbortSignal, or WithSignal returns an error.
func WithSignal(parent context.Context, signal safejs.Value, cause error) (context.Context, func(), error) {
	if signal.IsUndefined() || signal.IsNull() {
		return parent, func() {}, nil
	}
	aborted, err := signalAborted(signal)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancelCause(parent)
	if aborted {
		cancel(cause)
		return ctx, func() {}, nil
	}
	id, listener, err := aborts.add(cancel, cause)
	if err == nil {
		_, err = signal.Call("addEventListener", "abort", listener)
	}
	if err != nil {
		aborts.remove(id)
		cancel(nil)
		return nil, nil, err
	}
	return ctx, func() {
		aborts.remove(id)
		_, _ = signal.Call("removeEventListener", "abort", listener)
		cancel(nil)
	}, nil
}

// ErrNotASignal means a value given as an AbortSignal is not one.
var ErrNotASignal = errors.New("not an AbortSignal")

// signalAborted reads v.aborted with AbortSignal's own getter, which throws
// for anything but a real AbortSignal (an object merely made from its
// prototype included).
func signalAborted(v safejs.Value) (bool, error) {
	if err := Init(); err != nil {
		return false, err
	}
	if TypeOf(builtins.abortedGetter) != safejs.TypeFunction {
		return false, ErrNotASignal
	}
	aborted, err := builtins.reflect.Call("apply", builtins.abortedGetter, v, builtins.noArgs)
	if err != nil || TypeOf(aborted) != safejs.TypeBoolean {
		return false, ErrNotASignal
	}
	return aborted.Bool()
}

// abortList holds the cancel functions of the signals being listened to.
type abortList struct {
	mu       sync.Mutex
	last     int
	pending  map[int]func()
	callback *Func // abort(id), bound per signal; made by Init
}

var aborts abortList

func (a *abortList) add(cancel context.CancelCauseFunc, cause error) (int, safejs.Value, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.last++
	a.pending[a.last] = func() { cancel(cause) }
	listener, err := a.callback.Value().Call("bind", nil, a.last)
	return a.last, listener, err
}

func (a *abortList) remove(id int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.pending, id)
}

func fireAbort(_ safejs.Value, args []safejs.Value) (any, error) {
	if len(args) < 1 {
		return nil, nil
	}
	id, err := args[0].Int()
	if err != nil {
		return nil, nil
	}
	aborts.mu.Lock()
	cancel := aborts.pending[id]
	delete(aborts.pending, id)
	aborts.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	return nil, nil
}
