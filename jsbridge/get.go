//go:build js && wasm

package jsbridge

import (
	"errors"
	"fmt"

	"github.com/hack-pad/safejs"
)

// ErrThrew means JavaScript threw while Go read a value it does not control.
var ErrThrew = errors.New("JavaScript threw")

// Get reads o[name] for an object the caller does not control. It goes
// through Reflect.get with a method call, so that a getter or Proxy trap that
// throws becomes ErrThrew. A plain safejs or syscall/js Get does not catch:
// in wasm_exec.js only method calls, invocations and constructions run in a
// try block, and an exception from a property read unwinds straight through
// the Go stack and kills the module. The thrown value is not read either, as
// it may be hostile too.
func Get(o safejs.Value, name string) (safejs.Value, error) {
	reflect, err := safejs.Global().Get("Reflect")
	if err != nil {
		return safejs.Value{}, err
	}
	v, err := reflect.Call("get", o, name)
	if err != nil {
		return safejs.Value{}, fmt.Errorf("%w reading %s", ErrThrew, name)
	}
	return v, nil
}

// TypeOther is what TypeOf reports for a value syscall/js has no Type for
// (a BigInt).
const TypeOther safejs.Type = -1

// TypeOf returns v's type without panicking: syscall/js panics on a BigInt,
// which any caller can pass in.
func TypeOf(v safejs.Value) (t safejs.Type) {
	defer func() {
		if recover() != nil {
			t = TypeOther
		}
	}()
	return v.Type()
}
