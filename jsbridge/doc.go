//go:build js && wasm

// Package jsbridge is the module's skin over WebAssembly's seam with the
// worker: the memory the worker writes a call's record into (Inbox, the
// "inbox" export), the record each export answers with (Answer, the
// "output" export), and the one import, fetch (Fetch). Bytes cross as an
// address and a length in the module's memory, read and written by the
// worker; Go holds no JavaScript value, makes no syscall/js call and no
// js.FuncOf, and arms no timer for a call.
//
// It knows nothing of authentication or GraphQL. Every file is built only for
// js/wasm (a native test enforces the tag). It must not import syscall/js,
// net/http or fmt.
package jsbridge
