//go:build js && wasm

package jsbridge

import (
	"github.com/hack-pad/safejs"
)

// NewError builds a JS error: new ctor(message), then each field set on it.
// ctor is an Error subclass such as the app's AuthError; when it is not a
// function, the global Error is used. Field values are converted with
// safejs.ValueOf; nil values are left unset.
func NewError(ctor safejs.Value, message string, fields map[string]any) safejs.Value {
	if TypeOf(ctor) != safejs.TypeFunction {
		if Init() != nil {
			return safejs.Null()
		}
		ctor = builtins.error
	}
	e, err := ctor.New(message)
	if err != nil {
		return safejs.Null()
	}
	for k, v := range fields {
		if v != nil {
			e.Set(k, v)
		}
	}
	return e
}

// ParseJSON returns JSON.parse(text), or undefined if text is not JSON.
func ParseJSON(text string) safejs.Value {
	if Init() != nil {
		return safejs.Undefined()
	}
	v, err := builtins.json.Call("parse", text)
	if err != nil {
		return safejs.Undefined()
	}
	return v
}
