//go:build js && wasm

package jsbridge

import "unsafe"

// inbox is where the worker writes a call's record. It grows as needed and
// is reused; it is zeroed when it grows, so that no record (a login's holds
// a password) is left behind in a buffer Go no longer holds.
var inbox []byte

// reserve returns the address of an inbox of at least n bytes, for the
// worker to write a record into before it calls the export that takes it.
//
//go:wasmexport inbox
func reserve(n int32) unsafe.Pointer {
	if n < 0 {
		n = 0
	}
	if int(n) > cap(inbox) {
		clear(inbox[:cap(inbox)])
		inbox = make([]byte, n)
	}
	inbox = inbox[:cap(inbox)]
	return unsafe.Pointer(unsafe.SliceData(inbox))
}

// Inbox returns the n bytes the worker wrote into the inbox, valid until
// the export returns. They are the caller's to zero when they hold a
// secret.
func Inbox(n int32) []byte {
	if n <= 0 || int(n) > len(inbox) {
		return nil
	}
	return inbox[:n]
}

// InboxAfter returns the m bytes written after the first n.
func InboxAfter(n, m int32) []byte {
	if n < 0 || m <= 0 || int(n)+int(m) > len(inbox) {
		return nil
	}
	return inbox[n : n+m]
}

// answer is the output record of the last export.
var answer []byte

// Answer makes b the output record the worker reads after the export
// returns, and returns its length, which the export returns.
func Answer(b []byte) int32 {
	answer = b
	return int32(len(b))
}

// output returns the address of the last export's output record.
//
//go:wasmexport output
func output() unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(answer)) }
