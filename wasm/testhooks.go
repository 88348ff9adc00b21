//go:build js && wasm && gqlauth_testhooks

package main

import (
	"runtime"
	"sync"

	"github.com/gqlauth/gqlauth/jsbridge"
	"github.com/hack-pad/safejs"
)

// This file exists only in the test build of the module (make testbuild):
// it puts __gqlauthTest on the worker's globalThis so that browser tests,
// through gqlauth.worker.js's test operation, can count what the bridge
// holds and force a panic inside an export.

var (
	panicMu   sync.Mutex
	panicNext string // export name (or name + ".work", its goroutine) that panics once
)

func init() {
	testHook = func(name string) {
		panicMu.Lock()
		hit := panicNext == name
		if hit {
			panicNext = ""
		}
		panicMu.Unlock()
		if hit {
			panic("forced by __gqlauthTest.panicNext(" + name + ")")
		}
	}
	toJS := func(err error) any { return err.Error() }
	stats, _ := jsbridge.FuncOf(func(safejs.Value, []safejs.Value) (any, error) {
		s := jsbridge.Stats()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return map[string]any{
			"funcs": s.Funcs, "goroutines": s.Goroutines, "waits": s.Waits, "inFlight": live.inFlight(),
			"heapBytes": float64(m.HeapAlloc), "sysBytes": float64(m.Sys),
		}, nil
	}, toJS)
	arm, _ := jsbridge.FuncOf(func(_ safejs.Value, args []safejs.Value) (any, error) {
		name, err := argAt(args, 0).String()
		panicMu.Lock()
		panicNext = name
		panicMu.Unlock()
		return nil, err
	}, toJS)
	// state() → [{handle, isAuthenticated, tokenExpiresAt, tokenExpiresIn}]:
	// what the worker's side says of each client, to hold the page's mirror
	// to it.
	state, _ := jsbridge.FuncOf(func(safejs.Value, []safejs.Value) (any, error) {
		out := []any{}
		for h, e := range live.clients.All() {
			var exp any
			if t := e.c.ExpiresAt(); !t.IsZero() {
				exp = float64(t.UnixMilli())
			}
			out = append(out, map[string]any{
				"handle": h, "isAuthenticated": e.c.Authenticated(),
				"tokenExpiresAt": exp, "tokenExpiresIn": float64(e.c.ExpiresIn().Milliseconds()),
			})
		}
		return out, nil
	}, toJS)
	// crash() ends the module as a Go runtime failure would: a panic no
	// export recovers, on a goroutine of its own.
	crash, _ := jsbridge.FuncOf(func(safejs.Value, []safejs.Value) (any, error) {
		go func() { panic("crash forced by __gqlauthTest.crash") }()
		return nil, nil
	}, toJS)
	hooks, _ := safejs.ValueOf(map[string]any{})
	hooks.Set("crash", crash.Value())
	hooks.Set("stats", stats.Value())
	hooks.Set("panicNext", arm.Value())
	hooks.Set("state", state.Value())
	safejs.Global().Set("__gqlauthTest", hooks)
}
