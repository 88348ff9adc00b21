//go:build js && wasm

// Package jsbridge is a thin, safe skin over hack-pad/safejs for what a Go
// module needs to serve JavaScript: Go functions JS can call that never
// crash the module (FuncOf), functions that return Promises and do their
// work on a goroutine (Async), waiting for a JS Promise with a context
// (Await), an AbortSignal as a context (WithSignal), the browser's fetch as
// a Go call (Fetch), reads of values the caller does not control (Get,
// Keys, TypeOf), bytes across the boundary without Go strings (Bytes,
// BytesToJS), and Go errors as JS Errors (NewError).
//
// It knows nothing of authentication or GraphQL. Every file is built only for
// js/wasm (a native test enforces the tag). A panic in Go code called from
// JavaScript would kill the whole module, so every callback and every
// goroutine Async starts recovers in one place, Recover, and a panic becomes
// an error. It must not import net/http, which would add megabytes to the
// module.
package jsbridge
