//go:build js && wasm

package main

import (
	"sync"

	"github.com/gqlauth/gqlauth/jsbridge"
	"github.com/gqlauth/gqlauth/wasm/client"
	"github.com/hack-pad/safejs"
)

// entry is one client and the JS functions listening to its token changes.
type entry struct {
	c *client.Client

	mu        sync.Mutex
	listeners map[*jsbridge.Func]safejs.Value // unsubscribe function → listener
}

// listen adds listener and returns the function that removes it.
func (e *entry) listen(listener safejs.Value) (any, error) {
	var unsubscribe *jsbridge.Func
	unsubscribe, err := jsbridge.FuncOf(func(safejs.Value, []safejs.Value) (any, error) {
		e.mu.Lock()
		_, listening := e.listeners[unsubscribe]
		delete(e.listeners, unsubscribe)
		e.mu.Unlock()
		if listening {
			unsubscribe.Release()
		}
		return nil, nil
	}, toJS)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	if e.listeners == nil {
		e.listeners = map[*jsbridge.Func]safejs.Value{}
	}
	e.listeners[unsubscribe] = listener
	e.mu.Unlock()
	return unsubscribe.Value(), nil
}

// publish tells every listener about ev, with the session's state after
// it. It runs on whichever goroutine changed the token, the expiry timer's
// included, outside any export: a listener that throws or a panic here
// must not take the module down.
func (e *entry) publish(ev client.Event) {
	defer func() { _ = recover() }()
	e.mu.Lock()
	listeners := make([]safejs.Value, 0, len(e.listeners))
	for _, l := range e.listeners {
		listeners = append(listeners, l)
	}
	e.mu.Unlock()
	if len(listeners) == 0 {
		return
	}
	st := e.c.State()
	var expiresAt any
	if !st.ExpiresAt.IsZero() {
		expiresAt = float64(st.ExpiresAt.UnixMilli())
	}
	expiresIn := float64(st.ExpiresIn.Milliseconds())
	usableFor := float64(st.UsableFor.Milliseconds())
	for _, l := range listeners {
		_, _ = l.Invoke(string(ev.Reason), expiresAt, expiresIn, usableFor, ev.Cause)
	}
}

// release frees the unsubscribe functions of a closed client.
func (e *entry) release() {
	e.mu.Lock()
	listeners := e.listeners
	e.listeners = nil
	e.mu.Unlock()
	for f := range listeners {
		f.Release()
	}
}
