//go:build js && wasm

package jsbridge

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hack-pad/safejs"
)

func global(t *testing.T, name string) safejs.Value {
	t.Helper()
	v, err := safejs.Global().Get(name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func resolved(t *testing.T, v any) safejs.Value {
	t.Helper()
	p, err := global(t, "Promise").Call("resolve", v)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAwaitResolved(t *testing.T) {
	v, err := Await(context.Background(), resolved(t, 42))
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := v.Int(); n != 42 {
		t.Fatalf("Await() = %v, want 42", n)
	}
}

func TestAwaitRejectedGivesJSError(t *testing.T) {
	e, _ := global(t, "TypeError").New("nope")
	p, _ := global(t, "Promise").Call("reject", e)
	_, err := Await(context.Background(), p)
	var je *JSError
	if !errors.As(err, &je) || je.Name != "TypeError" || je.Message != "nope" {
		t.Fatalf("Await() error = %#v, want TypeError: nope", err)
	}
}

func TestAwaitRejectedWithNonError(t *testing.T) {
	p, _ := global(t, "Promise").Call("reject", "just a string")
	_, err := Await(context.Background(), p)
	if err == nil || err.Error() != "just a string" {
		t.Fatalf("Await() error = %v", err)
	}
}

func TestAwaitStopsAtContextEnd(t *testing.T) {
	f, _ := FuncOf(func(safejs.Value, []safejs.Value) (any, error) { return nil, nil }, func(error) any { return nil })
	defer f.Release()
	pending, err := global(t, "Promise").New(f.Value()) // an executor that never settles
	if err != nil {
		t.Fatal(err)
	}
	cause := errors.New("gave up")
	ctx, cancel := context.WithTimeoutCause(context.Background(), 10*time.Millisecond, cause)
	defer cancel()
	if _, err := Await(ctx, pending); !errors.Is(err, cause) {
		t.Fatalf("Await() error = %v, want the context's cause", err)
	}
}

func TestAwaitNonPromise(t *testing.T) {
	if _, err := Await(context.Background(), safejs.Null()); err == nil {
		t.Fatal("Await(null) succeeded")
	}
}

func TestFuncOfRecoversPanics(t *testing.T) {
	f, err := FuncOf(func(safejs.Value, []safejs.Value) (any, error) {
		var m map[string]int
		m["boom"] = 1 // panics
		return nil, nil
	}, func(err error) any {
		if !errors.Is(err, ErrPanic) {
			t.Errorf("toJS got %v, want ErrPanic", err)
		}
		return "recovered"
	})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Release()
	v, err := f.Value().Invoke()
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := v.String(); s != "recovered" {
		t.Fatalf("call returned %q", s)
	}
}

func asyncCall(t *testing.T, work Work, startErr error) (safejs.Value, error) {
	t.Helper()
	f, err := AsyncFunc(func(safejs.Value, []safejs.Value) (Work, error) { return work, startErr }, func(err error) any {
		return NewError(safejs.Undefined(), err.Error(), map[string]any{"code": "X"})
	})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Release()
	p, err := f.Value().Invoke()
	if err != nil {
		t.Fatal(err)
	}
	return Await(context.Background(), p)
}

func TestAsyncFuncResolves(t *testing.T) {
	v, err := asyncCall(t, func() (any, error) { return map[string]any{"a": "b"}, nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := v.Get("a"); a.Type() != safejs.TypeString {
		t.Fatalf("resolved with %v", v)
	}
}

func TestAsyncFuncRejectsErrorsAndPanics(t *testing.T) {
	tests := []struct {
		name     string
		work     Work
		startErr error
		want     string
	}{
		{"start error", nil, errors.New("bad argument"), "bad argument"},
		{"work error", func() (any, error) { return nil, errors.New("failed") }, nil, "failed"},
		{"work panic", func() (any, error) { panic("kaboom") }, nil, "kaboom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := asyncCall(t, tt.work, tt.startErr)
			var je *JSError
			if !errors.As(err, &je) || je.Name != "Error" || !strings.Contains(je.Message, tt.want) {
				t.Fatalf("rejection = %v, want an Error with %q", err, tt.want)
			}
		})
	}
	// The module still works after a panic.
	if _, err := asyncCall(t, func() (any, error) { return 1, nil }, nil); err != nil {
		t.Fatal(err)
	}
}

func TestNewErrorSetsFields(t *testing.T) {
	e := NewError(safejs.Undefined(), "msg", map[string]any{"code": "C", "status": 502, "skip": nil})
	if ok, _ := e.InstanceOf(global(t, "Error")); !ok {
		t.Fatal("not an Error")
	}
	code, _ := e.Get("code")
	status, _ := e.Get("status")
	skip, _ := e.Get("skip")
	if s, _ := code.String(); s != "C" {
		t.Errorf("code = %q", s)
	}
	if n, _ := status.Int(); n != 502 {
		t.Errorf("status = %d", n)
	}
	if !skip.IsUndefined() {
		t.Error("nil field was set")
	}
}

func TestFetchDataURL(t *testing.T) {
	resp, err := Fetch(context.Background(), FetchRequest{
		URL: `data:application/json,{"data":{"a":1}}`, Method: "GET",
		ResponseHeaders: []string{"Content-Type", "X-Missing"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 || string(resp.Body) != `{"data":{"a":1}}` {
		t.Fatalf("Fetch() = %d %q", resp.Status, resp.Body)
	}
	if resp.Header["Content-Type"] != "application/json" {
		t.Errorf("Content-Type = %q", resp.Header["Content-Type"])
	}
	if _, ok := resp.Header["X-Missing"]; ok {
		t.Error("a missing header was reported")
	}
	if n, _ := resp.BodyJS.Length(); n != len(resp.Body) {
		t.Errorf("BodyJS has %d bytes, Body %d", n, len(resp.Body))
	}
}

func TestFetchRefusesLargeBody(t *testing.T) {
	_, err := Fetch(context.Background(), FetchRequest{
		URL: "data:text/plain," + strings.Repeat("x", 2048), Method: "GET", MaxBytes: 1024,
	})
	if !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("Fetch() error = %v, want ErrBodyTooLarge", err)
	}
}

func TestFetchUnreachable(t *testing.T) {
	_, err := Fetch(context.Background(), FetchRequest{URL: "http://127.0.0.1:1/", Method: "POST", Body: []byte("{}")})
	if !errors.Is(err, ErrFetch) {
		t.Fatalf("Fetch() error = %v, want ErrFetch", err)
	}
}

func TestFetchCancelledBeforeStart(t *testing.T) {
	cause := errors.New("stop")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(cause)
	if _, err := Fetch(ctx, FetchRequest{URL: "data:,x", Method: "GET"}); !errors.Is(err, cause) {
		t.Fatalf("Fetch() error = %v, want the cause", err)
	}
}

func TestBytesToJS(t *testing.T) {
	v, err := BytesToJS([]byte{0, 1, 255})
	if err != nil {
		t.Fatal(err)
	}
	back := make([]byte, 3)
	if _, err := safejs.CopyBytesToGo(back, v); err != nil || back[2] != 255 {
		t.Fatalf("round trip = %v, %v", back, err)
	}
}

func TestStatsCountFuncs(t *testing.T) {
	before := Stats().Funcs
	f, _ := FuncOf(func(safejs.Value, []safejs.Value) (any, error) { return nil, nil }, func(error) any { return nil })
	if got := Stats().Funcs; got != before+1 {
		t.Fatalf("Funcs = %d, want %d", got, before+1)
	}
	f.Release()
	f.Release()
	if got := Stats().Funcs; got != before {
		t.Fatalf("Funcs after Release = %d, want %d", got, before)
	}
}

func TestParseJSON(t *testing.T) {
	if v := ParseJSON(`{"a":[1]}`); v.Type() != safejs.TypeObject {
		t.Fatal("ParseJSON did not give an object")
	}
	if v := ParseJSON(`{`); !v.IsUndefined() {
		t.Fatal("ParseJSON of bad JSON is not undefined")
	}
}

func TestFetchIgnoresAFetchReplacedAfterInit(t *testing.T) {
	if err := Init(); err != nil {
		t.Fatal(err)
	}
	g := safejs.Global()
	original, _ := g.Get("fetch")
	defer g.Set("fetch", original)
	called := false
	spy, _ := FuncOf(func(safejs.Value, []safejs.Value) (any, error) { called = true; return nil, nil }, func(error) any { return nil })
	defer spy.Release()
	g.Set("fetch", spy.Value())
	if _, err := Fetch(context.Background(), FetchRequest{URL: "data:,ok", Method: "GET"}); err != nil {
		t.Fatal(err)
	}
	if called {
		t.Fatal("Fetch called a fetch installed after Init: a page script could read the Authorization header")
	}
}

func TestGetAndKeysSurviveHostileObjects(t *testing.T) {
	fn, _ := safejs.Global().Get("Function")
	mk, _ := fn.New("return new Proxy({}, {get() { throw new Error('get') }, ownKeys() { throw new Error('keys') }});")
	hostile, _ := mk.Invoke()
	if _, err := Get(hostile, "x"); !errors.Is(err, ErrThrew) {
		t.Errorf("Get(proxy) error = %v, want ErrThrew", err)
	}
	if _, err := Keys(hostile, 10); !errors.Is(err, ErrThrew) {
		t.Errorf("Keys(proxy) error = %v, want ErrThrew", err)
	}
	big, _ := fn.New("return 10n;")
	if v, _ := big.Invoke(); TypeOf(v) != TypeOther {
		t.Errorf("TypeOf(10n) = %v, want TypeOther", TypeOf(v))
	}
}
