//go:build js && wasm

package jsbridge

import (
	"github.com/hack-pad/safejs"
)

// Func is a Go function callable from JavaScript. Release it when no JS
// code will call it again.
type Func struct {
	f        safejs.Func
	released bool
}

// FuncOf wraps fn so that JavaScript can call it synchronously. fn returns
// the value to hand back or an error; an error, or a panic in fn, is handed
// back as the JS value toJS(err) instead, so the caller must check for it.
// fn runs on the JS event loop: it must not block.
func FuncOf(fn func(this safejs.Value, args []safejs.Value) (any, error), toJS func(error) any) (*Func, error) {
	f, err := safejs.FuncOf(func(this safejs.Value, args []safejs.Value) (result any) {
		var err error
		defer func() {
			if err != nil {
				result = toJS(err)
			}
		}()
		defer Recover(&err)
		result, err = fn(this, args)
		return result
	})
	if err != nil {
		return nil, err
	}
	liveFuncs.Add(1)
	return &Func{f: f}, nil
}

// Value returns the JS function.
func (f *Func) Value() safejs.Value { return f.f.Value() }

// Release frees the function. Calling it again is a no-op.
func (f *Func) Release() {
	if f.released {
		return
	}
	f.released = true
	liveFuncs.Add(-1)
	f.f.Release()
}
