//go:build js && wasm

// Command gqlauth is the WebAssembly module. gqlauth.worker.js starts it
// with the name of a private binding object as its only argument; the
// module takes the object off globalThis, puts its exports on it, calls its
// ready method, and then serves calls until its worker goes away.
//
// The exports (all per client, named by the handle newClient returns):
//
//	newClient(options, onWarning?) → handle
//	login(handle, {username?, email?, password}, signal?) → Promise<{user, expiresAt}>
//	fetchWithAuth(handle, query, variables?, operationName?, signal?) → Promise<ArrayBuffer or Uint8Array>
//	tokenExpiresAt(handle) → milliseconds since the epoch, or null
//	tokenExpiresIn(handle) → milliseconds
//	isAuthenticated(handle) → boolean
//	onTokenChange(handle, listener) → unsubscribe()
//	logout(handle)
//	close(handle)
//
// login and fetchWithAuth call fetch themselves. The synchronous exports
// return an Error instead of throwing (a Go function cannot throw into
// JavaScript); the Promises reject with one. Errors carry code, and status
// and graphQLErrors when there was a response. See exports.go.
//
// This package is glue only: it reads JS arguments, calls package client,
// and turns results and errors into JS values through package jsbridge.
package main

import (
	"fmt"
	"os"
	"runtime/debug"

	"github.com/gqlauth/gqlauth/jsbridge"
	"github.com/hack-pad/safejs"
)

// live is the module's bridge, for the test build's counters.
var live *bridge

func main() {
	// The module's live heap is small; a tight GC target keeps the wasm
	// memory (which never shrinks) and the JS values Go holds (released only
	// when Go collects) small too.
	debug.SetGCPercent(25)
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gqlauth:", err)
		os.Exit(1)
	}
	select {} // serve calls from JavaScript for the life of the worker
}

func run() (err error) {
	defer jsbridge.Recover(&err)
	if len(os.Args) < 2 {
		return fmt.Errorf("start the module through gqlauth.worker.js, not directly")
	}
	if err := jsbridge.Init(); err != nil {
		return err
	}
	global := safejs.Global()
	binding, err := global.Get(os.Args[1])
	if err != nil || binding.Type() != safejs.TypeObject {
		return fmt.Errorf("binding object %q not found", os.Args[1])
	}
	if err := global.Delete(os.Args[1]); err != nil {
		return err
	}
	b := &bridge{}
	live = b
	if err := b.export(binding); err != nil {
		return err
	}
	_, err = binding.Call("ready")
	return err
}
