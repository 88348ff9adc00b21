//go:build js && wasm

package jsbridge

import (
	"errors"
	"fmt"
	"runtime/debug"
	"syscall/js"

	"github.com/hack-pad/safejs"
)

// ErrPanic wraps a panic recovered in Go code called from JavaScript.
var ErrPanic = errors.New("recovered panic")

// Recover turns a panic into an error stored in *err. Use it deferred:
//
//	defer jsbridge.Recover(&err)
//
// The error keeps the stack, for Go-side debugging; callers that hand the
// error to JavaScript should show only its first line.
func Recover(err *error) {
	r := recover()
	if r == nil {
		return
	}
	switch v := r.(type) {
	case js.Value:
		*err = fmt.Errorf("%w: JavaScript threw %s\n%s", ErrPanic, Describe(safejs.Safe(v)), debug.Stack())
	case error:
		*err = fmt.Errorf("%w: %s\n%s", ErrPanic, errorText(v), debug.Stack())
	default:
		*err = fmt.Errorf("%w: %v\n%s", ErrPanic, v, debug.Stack())
	}
}
