//go:build js && wasm

package jsbridge

import (
	"runtime"
	"sync/atomic"
)

var liveFuncs atomic.Int64

// Counts is a snapshot of what the bridge holds, for leak tests.
type Counts struct {
	// Funcs is the number of Go functions currently callable from JS.
	Funcs int64
	// Goroutines is runtime.NumGoroutine.
	Goroutines int
	// Waits is the number of Awaits waiting for a promise.
	Waits int
}

// Stats returns the current counts.
func Stats() Counts {
	return Counts{Funcs: liveFuncs.Load(), Goroutines: runtime.NumGoroutine(), Waits: waits.pendingCount()}
}
