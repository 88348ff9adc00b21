//go:build js && wasm && gqlauth_testhooks

package main

import (
	"runtime"
	"strconv"

	"github.com/gqlauth/gqlauth/jsbridge"
)

// This file exists only in the test build of the module (make testbuild):
// it adds exports for the browser suites, which web/test/fixtures/
// test-worker.js calls: counts of what the module holds, the worker's view
// of each client, a forced panic in an export, and a crash.

// panicNext is the export whose next call panics once ("" for none).
var panicNext string

func init() {
	testHook = func(name string) {
		if panicNext == name {
			panicNext = ""
			panic("forced by testPanicNext(" + name + ")")
		}
	}
}

// testPanicNext makes the next call of the export named in the inbox panic.
//
//go:wasmexport testPanicNext
func testPanicNext(n int32) { panicNext = string(jsbridge.Inbox(n)) }

// testStats answers {inFlight, clients, goroutines, heapBytes, sysBytes}.
//
//go:wasmexport testStats
func testStats() int32 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	b := []byte(`{"inFlight":`)
	b = strconv.AppendInt(b, int64(module.InFlight()), 10)
	b = append(b, `,"clients":`...)
	b = strconv.AppendInt(b, int64(len(module.Handles())), 10)
	b = append(b, `,"goroutines":`...)
	b = strconv.AppendInt(b, int64(runtime.NumGoroutine()), 10)
	b = append(b, `,"heapBytes":`...)
	b = strconv.AppendUint(b, m.HeapAlloc, 10)
	b = append(b, `,"sysBytes":`...)
	b = strconv.AppendUint(b, m.Sys, 10)
	return jsbridge.Answer(append(b, '}'))
}

// testState answers, for each client, what the worker's side says of it:
// [{handle, isAuthenticated, tokenExpiresAt, tokenExpiresIn}].
//
//go:wasmexport testState
func testState() int32 {
	b := []byte{'['}
	for i, h := range module.Handles() {
		if i > 0 {
			b = append(b, ',')
		}
		st := module.State(h)
		b = append(b, `{"handle":`...)
		b = strconv.AppendInt(b, int64(h), 10)
		b = append(b, `,"isAuthenticated":`...)
		b = strconv.AppendBool(b, st.Authenticated)
		b = append(b, `,"tokenExpiresAt":`...)
		if st.ExpiresAt.IsZero() {
			b = append(b, "null"...)
		} else {
			b = strconv.AppendInt(b, st.ExpiresAt.UnixMilli(), 10)
		}
		b = append(b, `,"tokenExpiresIn":`...)
		b = strconv.AppendInt(b, st.ExpiresIn.Milliseconds(), 10)
		b = append(b, '}')
	}
	return jsbridge.Answer(append(b, ']'))
}

// testCrash ends the module as a Go runtime failure would: a panic no
// export recovers.
//
//go:wasmexport testCrash
func testCrash() { panic("crash forced by testCrash") }
