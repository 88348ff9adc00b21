//go:build js && wasm

// Package jstest helps Go tests that run in a browser (wasmbrowsertest) make
// JavaScript values, hostile ones included. Only tests import it: the
// module itself never evaluates code.
package jstest

import (
	"testing"

	"github.com/hack-pad/safejs"
)

// Eval returns the value of the JavaScript expression expr, failing the
// test if it does not compile or throws.
func Eval(t testing.TB, expr string) safejs.Value {
	t.Helper()
	fn, err := safejs.Global().Get("Function")
	if err != nil {
		t.Fatal(err)
	}
	f, err := fn.New("return (" + expr + ");")
	if err != nil {
		t.Fatalf("compiling %s: %v", expr, err)
	}
	v, err := f.Invoke()
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}
