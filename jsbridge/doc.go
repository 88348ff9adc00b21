//go:build js && wasm

// Package jsbridge is a thin, safe skin over hack-pad/safejs for what a Go
// module needs to serve JavaScript: functions that return Promises, awaiting
// a Promise with a context, fetch, and Go errors as JS Errors.
//
// It knows nothing of authentication or GraphQL. Every file is built only for
// js/wasm (a native test enforces the tag). A panic in Go code called from
// JavaScript would kill the whole module, so every callback recovers in one
// place, Recover, and a panic becomes an error. It must not import net/http,
// which would add megabytes to the module.
package jsbridge
