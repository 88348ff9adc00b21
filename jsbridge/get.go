//go:build js && wasm

package jsbridge

import (
	"errors"
	"fmt"
	"sync"

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
	if err := Init(); err != nil {
		return safejs.Value{}, err
	}
	return get(o, name, name)
}

// getOwn is Get for the bridge's own property names (status, headers, body,
// ...), whose JS strings are made once.
func getOwn(o safejs.Value, name string) (safejs.Value, error) {
	if err := Init(); err != nil {
		return safejs.Value{}, err
	}
	return get(o, jsString(name), name)
}

func get(o safejs.Value, key any, name string) (safejs.Value, error) {
	v, err := builtins.reflect.Call("get", o, key)
	if err != nil {
		return safejs.Value{}, fmt.Errorf("%w reading %s", ErrThrew, name)
	}
	return v, nil
}

// names keeps the JS strings of names the bridge passes to JavaScript again
// and again (property and header names): a Go string argument becomes a new
// JS string, with a finalizer to release it, on every call.
var names sync.Map // string -> safejs.Value

// jsString returns the JS string s, made once. Only for the bridge's own
// names, a small fixed set, never for data.
func jsString(s string) safejs.Value {
	if v, ok := names.Load(s); ok {
		return v.(safejs.Value)
	}
	v, err := safejs.ValueOf(s)
	if err != nil {
		return v
	}
	names.Store(s, v)
	return v
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

const maxKeyBytes = 4 << 10

// Keys returns Object.keys(o) for an object the caller does not control;
// a Proxy trap that throws becomes ErrThrew. At most limit keys are read,
// each of at most maxKeyBytes.
func Keys(o safejs.Value, limit int) ([]string, error) {
	if err := Init(); err != nil {
		return nil, err
	}
	keys, err := builtins.object.Call("keys", o)
	if err != nil {
		return nil, fmt.Errorf("%w listing keys", ErrThrew)
	}
	n, err := keys.Length() // a real Array, whatever o is
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, fmt.Errorf("%d keys, more than %d", n, limit)
	}
	out := make([]string, 0, n)
	for i := range n {
		k, err := keys.Index(i)
		if err != nil {
			return nil, err
		}
		s, err := String(k, maxKeyBytes)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// Describe returns String(v) for a value the caller does not control, or a
// placeholder when even that throws.
func Describe(v safejs.Value) string {
	if Init() == nil {
		if s, err := builtins.string.Invoke(v); err == nil {
			if text, err := s.String(); err == nil {
				return text
			}
		}
	}
	return "a value that cannot be shown"
}
