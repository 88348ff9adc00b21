//go:build js && wasm

// Package jstest helps Go tests that run in a browser (wasmbrowsertest) make
// JavaScript values, hostile ones included. Only tests import it: the
// module itself never evaluates code.
package jstest

import (
	"fmt"
	"testing"

	"github.com/hack-pad/safejs"
)

// Eval returns the value of the JavaScript expression expr, failing the
// test if it does not compile or throws.
func Eval(t testing.TB, expr string) safejs.Value {
	t.Helper()
	v, err := Evaluate(expr)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Evaluate returns the value of the JavaScript expression expr, for code
// with no test at hand (TestMain).
func Evaluate(expr string) (safejs.Value, error) {
	fn, err := safejs.Global().Get("Function")
	if err != nil {
		return safejs.Value{}, err
	}
	f, err := fn.New("return (" + expr + ");")
	if err != nil {
		return safejs.Value{}, fmt.Errorf("compiling %s: %w", expr, err)
	}
	v, err := f.Invoke()
	if err != nil {
		return safejs.Value{}, fmt.Errorf("evaluating %s: %w", expr, err)
	}
	return v, nil
}
