//go:build js && wasm

// Command gqlauth is the WebAssembly module. gqlauth.worker.js instantiates
// it with wasm_exec.js and the import gqlauth.fetch, starts it, and then
// calls its exports, one at a time:
//
//	inbox(n) → address          memory for the next record (jsbridge)
//	output() → address          the last export's output record (jsbridge)
//	open(call, n) → length                      createClient's options record
//	login(call, client, cause, n, 0) → length   {username?, email?, password}
//	fetchWithAuth(call, client, cause, n, 0) → length
//	fetch(call, client, cause, n, bodyLength) → length
//	logout(call, client, cause) → length
//	close(call, client, cause) → length
//	refuse(call, why) → length                  a record it could not take: too long, a body not bytes
//	head(call, n) → length                      the head of an answer
//	chunk(call, n) → 0 (or a length)            the next piece of its body
//	end(call, failure, n) → length              its end, or why it did not come
//	tick(client) → length                       the token's expiry, the keep-alive
//	tokenExpiresAt(client) → ms since the epoch, or -1
//	tokenExpiresIn(client), tokenUsableFor(client) → ms
//	isAuthenticated(client) → 0 or 1
//
// Records are JSON text the worker writes at inbox; every export that
// returns a length answers with an output record that long at output (see
// package seam, which reads and writes them). Causes number the worker's
// ports; 0 is the token's expiry, -1 the keep-alive, -2 another tab.
//
// A panic in an export is recovered: the call fails with INTERNAL, and the
// module keeps working. Its code calls neither syscall/js nor fmt (only
// package time links syscall/js, for the local time zone).
package main

import (
	"time"

	"github.com/gqlauth/gqlauth/jsbridge"
	"github.com/gqlauth/gqlauth/wasm/client"
	"github.com/gqlauth/gqlauth/wasm/seam"
)

// module serves every client of this instance.
var module = seam.New(jsbridge.Fetch)

// testHook runs at the start of every export; the gqlauth_testhooks build
// replaces it.
var testHook = func(name string) {}

func main() {
	select {} // the exports serve the worker for the life of the instance
}

// recovered, deferred by every export of a call, turns a panic into the
// call's INTERNAL failure.
func recovered(call uint32, n *int32) {
	if r := recover(); r != nil {
		*n = jsbridge.Answer(module.Panicked(call, r))
	}
}

//go:wasmexport open
func open(call uint32, n int32) (out int32) {
	defer recovered(call, &out)
	testHook("open")
	return jsbridge.Answer(module.Open(call, jsbridge.Inbox(n)))
}

//go:wasmexport login
func login(call uint32, h, cause, n, _ int32) (out int32) {
	defer recovered(call, &out)
	testHook("login")
	return jsbridge.Answer(module.Login(call, int(h), client.Cause(cause), jsbridge.Inbox(n)))
}

//go:wasmexport fetchWithAuth
func fetchWithAuth(call uint32, h, cause, n, _ int32) (out int32) {
	defer recovered(call, &out)
	testHook("fetchWithAuth")
	return jsbridge.Answer(module.FetchWithAuth(call, int(h), client.Cause(cause), jsbridge.Inbox(n)))
}

//go:wasmexport fetch
func fetch(call uint32, h, cause, n, body int32) (out int32) {
	defer recovered(call, &out)
	testHook("fetch")
	return jsbridge.Answer(module.Fetch(call, int(h), client.Cause(cause), jsbridge.Inbox(n), jsbridge.InboxAfter(n, body)))
}

//go:wasmexport logout
func logout(call uint32, h, cause int32) (out int32) {
	defer recovered(call, &out)
	testHook("logout")
	return jsbridge.Answer(module.Logout(call, int(h), client.Cause(cause)))
}

//go:wasmexport close
func closeClient(call uint32, h, cause int32) (out int32) {
	defer recovered(call, &out)
	testHook("close")
	return jsbridge.Answer(module.Close(call, int(h), client.Cause(cause)))
}

//go:wasmexport refuse
func refuse(call uint32, why int32) (out int32) {
	defer recovered(call, &out)
	testHook("refuse")
	return jsbridge.Answer(module.Refuse(call, seam.Refusal(why)))
}

//go:wasmexport head
func head(call uint32, n int32) (out int32) {
	defer recovered(call, &out)
	testHook("head")
	return jsbridge.Answer(module.Head(call, jsbridge.Inbox(n)))
}

//go:wasmexport chunk
func chunk(call uint32, n int32) (out int32) {
	defer recovered(call, &out) // 0, unless it panicked: then the call's failure
	testHook("chunk")
	module.Chunk(call, jsbridge.Inbox(n))
	return 0
}

//go:wasmexport end
func end(call uint32, failure, n int32) (out int32) {
	defer recovered(call, &out)
	testHook("end")
	return jsbridge.Answer(module.End(call, seam.Failure(failure), string(jsbridge.Inbox(n))))
}

//go:wasmexport tick
func tick(h int32) (out int32) {
	defer recovered(0, &out)
	testHook("tick")
	return jsbridge.Answer(module.Tick(int(h)))
}

// The state reads answer as for a client with no token if they panic.

//go:wasmexport tokenExpiresAt
func tokenExpiresAt(h int32) (ms float64) {
	ms = -1
	defer ignorePanic()
	testHook("tokenExpiresAt")
	if at := module.State(int(h)).ExpiresAt; !at.IsZero() {
		ms = float64(at.UnixMilli())
	}
	return ms
}

//go:wasmexport tokenExpiresIn
func tokenExpiresIn(h int32) (ms float64) {
	defer ignorePanic()
	testHook("tokenExpiresIn")
	return millis(module.State(int(h)).ExpiresIn)
}

//go:wasmexport tokenUsableFor
func tokenUsableFor(h int32) (ms float64) {
	defer ignorePanic()
	testHook("tokenUsableFor")
	return millis(module.State(int(h)).UsableFor)
}

//go:wasmexport isAuthenticated
func isAuthenticated(h int32) (yes int32) {
	defer ignorePanic()
	testHook("isAuthenticated")
	if module.State(int(h)).Authenticated {
		yes = 1
	}
	return yes
}

// ignorePanic, deferred, keeps a panic from stopping the module; the
// export returns what its result holds.
func ignorePanic() { _ = recover() }

func millis(d time.Duration) float64 { return float64(d.Milliseconds()) }
