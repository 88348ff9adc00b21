//go:build js && wasm

package jsbridge

import (
	"context"
	"syscall/js"
	"testing"

	"github.com/hack-pad/safejs"
)

// The unit costs of talking to JavaScript from Go in the browser, side by
// side: what one request of the module is made of.

func BenchmarkCallSyscallJS(b *testing.B) {
	h := js.Global().Get("Headers").New(map[string]any{"X-Authorization": "Bearer x"})
	for b.Loop() {
		h.Call("get", "X-Authorization")
	}
}

func BenchmarkCallSafeJS(b *testing.B) {
	h, _ := safejs.Global().Get("Headers")
	headers, _ := h.New(map[string]any{"X-Authorization": "Bearer x"})
	for b.Loop() {
		if _, err := headers.Call("get", "X-Authorization"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGet(b *testing.B) {
	o, _ := safejs.ValueOf(map[string]any{"status": 200})
	for b.Loop() {
		if _, err := Get(o, "status"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStringToGo(b *testing.B) {
	v, _ := safejs.ValueOf("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIiwianRpIjoiYSIsImlhdCI6MTg5MzQ1NjAwMCwiZXhwIjoxODkzNDU5NjAwfQ.c2ln")
	for b.Loop() {
		if _, err := v.String(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAwaitResolved(b *testing.B) {
	Init()
	p, _ := builtins.promise.Call("resolve", 1)
	ctx := context.Background()
	for b.Loop() {
		if _, err := Await(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewPromise(b *testing.B) {
	Init()
	for b.Loop() {
		if _, _, _, err := newPromise(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAsyncCall(b *testing.B) {
	f, _ := Async(func(safejs.Value, []safejs.Value) (func() (any, error), error) {
		return func() (any, error) { return nil, nil }, nil
	}, func(error) any { return nil })
	defer f.Release()
	ctx := context.Background()
	for b.Loop() {
		p, err := f.Value().Invoke()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Await(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
}
