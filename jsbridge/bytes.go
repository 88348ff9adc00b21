//go:build js && wasm

package jsbridge

import (
	"errors"

	"github.com/hack-pad/safejs"
)

// ErrNotString means a value read with Bytes is not a string.
var ErrNotString = errors.New("not a string")

// Bytes returns the UTF-8 bytes of the JS string v without making a Go
// string of them: the text is encoded into a JS Uint8Array, copied into a
// new Go slice, and the JS copy is zeroed. A secret read this way lives in
// Go memory only in the returned slice, which the caller can clear. (A Go
// string could not be cleared.)
func Bytes(v safejs.Value) ([]byte, error) {
	if err := Init(); err != nil {
		return nil, err
	}
	if TypeOf(v) != safejs.TypeString {
		return nil, ErrNotString
	}
	encoded, err := builtins.textEncoder.Call("encode", v)
	if err != nil {
		return nil, err
	}
	defer func() { _, _ = encoded.Call("fill", 0) }()
	n, err := encoded.Length()
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if _, err := safejs.CopyBytesToGo(b, encoded); err != nil {
		clear(b)
		return nil, err
	}
	return b, nil
}

// CopyBytes returns a copy of the bytes of the Uint8Array v.
func CopyBytes(v safejs.Value) ([]byte, error) {
	if err := Init(); err != nil {
		return nil, err
	}
	n, err := intProperty(v, "byteLength")
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if _, err := safejs.CopyBytesToGo(b, v); err != nil {
		return nil, err
	}
	return b, nil
}

// BytesToJS returns a new Uint8Array holding a copy of b.
func BytesToJS(b []byte) (safejs.Value, error) {
	if err := Init(); err != nil {
		return safejs.Value{}, err
	}
	u8, err := builtins.uint8Array.New(len(b))
	if err != nil {
		return safejs.Value{}, err
	}
	if _, err := safejs.CopyBytesToJS(u8, b); err != nil {
		return safejs.Value{}, err
	}
	return u8, nil
}
