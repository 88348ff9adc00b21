//go:build js && wasm

// Package jsbridge is a thin, safe skin over hack-pad/safejs for what a Go
// module needs to serve JavaScript: Go functions JS can call that never
// crash the module, reads of values the caller does not control, and Go
// errors as JS Errors.
//
// There is deliberately no fetch or Promise machinery here: the module's
// JavaScript side does the I/O and calls Go synchronously before and after
// it, which measured more than twice as cheap per request as awaiting fetch
// from a goroutine (see the README, "Size and speed").
//
// It knows nothing of authentication or GraphQL. Every file is built only for
// js/wasm (a native test enforces the tag). A panic in Go code called from
// JavaScript would kill the whole module, so every callback recovers in one
// place, Recover, and a panic becomes an error. It must not import net/http,
// which would add megabytes to the module.
package jsbridge
