//go:build js && wasm

package jsbridge

import (
	"errors"

	"github.com/hack-pad/safejs"
)

// ErrNotString means a value read with String or Bytes is not a string,
// and ErrNotBytes that a value read with CopyBytes is not a Uint8Array.
var (
	ErrNotString = errors.New("not a string")
	ErrNotBytes  = errors.New("not a Uint8Array")
)

// String returns the JS string v when its UTF-8 form has at most max bytes,
// and ErrTooLarge otherwise. Its length in UTF-16 units, read first, is
// never more than that, so a string far too long is refused before Go
// allocates for it: in WebAssembly, running out of memory is a fatal error,
// not a panic that could be recovered.
func String(v safejs.Value, max int) (string, error) {
	if err := Init(); err != nil {
		return "", err
	}
	if TypeOf(v) != safejs.TypeString {
		return "", ErrNotString
	}
	if err := checkLength(v, max); err != nil {
		return "", err
	}
	s, err := v.String()
	if err == nil && len(s) > max {
		return "", ErrTooLarge
	}
	return s, err
}

// Bytes returns the UTF-8 bytes of the JS string v, at most max of them,
// without making a Go string of them: the text is encoded into a JS
// Uint8Array, copied into a new Go slice, and the JS copy is zeroed. A
// secret read this way lives in Go memory only in the returned slice, which
// the caller can clear. (A Go string could not be cleared.)
func Bytes(v safejs.Value, max int) ([]byte, error) {
	if err := Init(); err != nil {
		return nil, err
	}
	if TypeOf(v) != safejs.TypeString {
		return nil, ErrNotString
	}
	if err := checkLength(v, max); err != nil {
		return nil, err
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
	if n > max {
		return nil, ErrTooLarge
	}
	b := make([]byte, n)
	if _, err := safejs.CopyBytesToGo(b, encoded); err != nil {
		clear(b)
		return nil, err
	}
	return b, nil
}

// CopyBytes returns a copy of the bytes of the Uint8Array v, at most max.
// The length is read from the array itself: an object that only claims a
// byteLength is refused.
func CopyBytes(v safejs.Value, max int) ([]byte, error) {
	if err := Init(); err != nil {
		return nil, err
	}
	if ok, err := v.InstanceOf(builtins.uint8Array); err != nil || !ok {
		return nil, ErrNotBytes
	}
	n, err := v.Length()
	if err != nil {
		return nil, err
	}
	if n > max {
		return nil, ErrTooLarge
	}
	b := make([]byte, n)
	if _, err := safejs.CopyBytesToGo(b, v); err != nil {
		return nil, err
	}
	return b, nil
}

// checkLength refuses the string v when it is longer than max UTF-16
// units: its UTF-8 form is at least as long. (syscall/js reads the length
// of objects only; s.lastIndexOf("") is s.length, in one call.)
func checkLength(v safejs.Value, max int) error {
	n, err := builtins.reflect.Call("apply", builtins.lastIndexOf, v, builtins.emptyString)
	if err != nil {
		return err
	}
	if f, err := n.Float(); err != nil || f > float64(max) {
		return ErrTooLarge
	}
	return nil
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
