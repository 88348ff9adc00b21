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

// await is Await for tests, with a deadline.
func await(t *testing.T, p safejs.Value) (safejs.Value, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return Await(ctx, p)
}

func errorMessage(v safejs.Value) string {
	m, _ := Get(v, "message")
	s, _ := m.String()
	return s
}

// rejection awaits p and returns the message of the Error it rejects with.
func rejection(t *testing.T, p safejs.Value) string {
	t.Helper()
	catcher := eval(t, "(p) => p.then(() => 'resolved', (e) => ({rejected: e}))")
	settled, err := catcher.Invoke(p)
	if err != nil {
		t.Fatal(err)
	}
	v, err := await(t, settled)
	if err != nil {
		t.Fatal(err)
	}
	if TypeOf(v) == safejs.TypeString {
		t.Fatal("the promise resolved, want a rejection")
	}
	e, _ := Get(v, "rejected")
	return errorMessage(e)
}

func asyncFunc(t *testing.T, prepare func(safejs.Value, []safejs.Value) (func() (any, error), error)) safejs.Value {
	t.Helper()
	f, err := Async(prepare, func(err error) any { return NewError(safejs.Undefined(), err.Error(), nil) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Release)
	return f.Value()
}

func TestAsyncResolvesWithTheWorksResult(t *testing.T) {
	f := asyncFunc(t, func(_ safejs.Value, args []safejs.Value) (func() (any, error), error) {
		n, err := args[0].Int() // read now: the work runs later
		return func() (any, error) { return n * 2, err }, nil
	})
	p, err := f.Invoke(21)
	if err != nil {
		t.Fatal(err)
	}
	v, err := await(t, p)
	if n, _ := v.Int(); err != nil || n != 42 {
		t.Fatalf("resolved %v, %v; want 42", n, err)
	}
}

func TestAsyncRejects(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(safejs.Value, []safejs.Value) (func() (any, error), error)
		want    string
	}{
		{"prepare fails", func(safejs.Value, []safejs.Value) (func() (any, error), error) {
			return nil, errors.New("bad argument")
		}, "bad argument"},
		{"the work fails", func(safejs.Value, []safejs.Value) (func() (any, error), error) {
			return func() (any, error) { return nil, errors.New("it broke") }, nil
		}, "it broke"},
		{"prepare panics", func(safejs.Value, []safejs.Value) (func() (any, error), error) {
			panic("in prepare")
		}, "in prepare"},
		{"the work panics", func(safejs.Value, []safejs.Value) (func() (any, error), error) {
			return func() (any, error) { var m map[int]int; m[1] = 1; return nil, nil }, nil
		}, "nil map"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := asyncFunc(t, tt.prepare).Invoke()
			if err != nil {
				t.Fatalf("the call threw: %v", err)
			}
			if msg := rejection(t, p); !strings.Contains(msg, tt.want) {
				t.Fatalf("rejected with %q, want it to say %q", msg, tt.want)
			}
		})
	}
}

func TestAwait(t *testing.T) {
	if v, err := await(t, eval(t, "Promise.resolve('yes')")); err != nil {
		t.Fatal(err)
	} else if s, _ := v.String(); s != "yes" {
		t.Fatalf("resolved %q", s)
	}
	if v, err := await(t, eval(t, "7")); err != nil {
		t.Fatal(err)
	} else if n, _ := v.Int(); n != 7 {
		t.Fatalf("a plain value came back as %d", n)
	}
	_, err := await(t, eval(t, "Promise.reject(new TypeError('Failed to fetch'))"))
	if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "TypeError: Failed to fetch") {
		t.Fatalf("rejection: %v", err)
	}
	_, err = await(t, eval(t, "Promise.reject({toString() { throw new Error('hostile') }})"))
	if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "cannot be shown") {
		t.Fatalf("hostile rejection: %v", err)
	}
	_, err = await(t, eval(t, "({ get then() { throw new Error('no') } })"))
	if !errors.Is(err, ErrRejected) {
		t.Fatalf("a thenable whose then throws: %v", err)
	}
}

func TestAwaitGivesUpWhenTheContextEnds(t *testing.T) {
	before := Stats().Waits
	cause := errors.New("gave up")
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(20*time.Millisecond, func() { cancel(cause) })
	_, err := Await(ctx, eval(t, "new Promise(() => {})"))
	if !errors.Is(err, cause) {
		t.Fatalf("Await on a promise that never settles: %v, want the context's cause", err)
	}
	if after := Stats().Waits; after != before {
		t.Errorf("waits %d → %d: a wait that gave up is still listed", before, after)
	}
}

func TestWithSignal(t *testing.T) {
	cause := errors.New("aborted by the caller")
	ctx, stop, err := WithSignal(context.Background(), eval(t, "AbortSignal.abort()"), cause)
	if err != nil || !errors.Is(context.Cause(ctx), cause) {
		t.Fatalf("an aborted signal: %v, %v", context.Cause(ctx), err)
	}
	stop()

	controller := eval(t, "new AbortController()")
	signal, _ := Get(controller, "signal")
	ctx, stop, err = WithSignal(context.Background(), signal, cause)
	if err != nil || ctx.Err() != nil {
		t.Fatalf("a live signal: %v, %v", ctx.Err(), err)
	}
	controller.Call("abort")
	select {
	case <-ctx.Done():
	case <-time.After(time.Second):
		t.Fatal("abort() did not end the context")
	}
	if !errors.Is(context.Cause(ctx), cause) {
		t.Fatalf("cause %v", context.Cause(ctx))
	}
	stop()

	ctx, _, err = WithSignal(context.Background(), safejs.Undefined(), cause)
	if err != nil || ctx.Err() != nil {
		t.Fatalf("no signal: %v, %v", ctx.Err(), err)
	}
	for _, forged := range []string{"({aborted: false, addEventListener() {}})", "Object.create(AbortSignal.prototype)", "42", "new Proxy({}, {get() { throw 1 }})"} {
		if _, _, err := WithSignal(context.Background(), eval(t, forged), cause); !errors.Is(err, ErrNotASignal) {
			t.Errorf("WithSignal(%s) error = %v, want ErrNotASignal", forged, err)
		}
	}
}

func TestBytes(t *testing.T) {
	b, err := Bytes(eval(t, "'pässword ✓'"), 13)
	if err != nil || string(b) != "pässword ✓" {
		t.Fatalf("Bytes = %q, %v", b, err)
	}
	for _, v := range []string{"42", "null", "new String('x')", "10n", "Symbol('s')"} {
		if _, err := Bytes(eval(t, v), 100); !errors.Is(err, ErrNotString) {
			t.Errorf("Bytes(%s) error = %v, want ErrNotString", v, err)
		}
	}
	u8, err := BytesToJS([]byte{1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := u8.Length(); n != 3 {
		t.Fatalf("BytesToJS length %d", n)
	}
}

// The limits hold in UTF-8 bytes, and a value far over one is refused from
// its length alone (a 3e9-byte allocation would be fatal, not a panic).
func TestLimits(t *testing.T) {
	// 'pässword ✓' is 10 UTF-16 units and 13 UTF-8 bytes.
	if _, err := Bytes(eval(t, "'pässword ✓'"), 12); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Bytes over its limit in UTF-8 only: %v, want ErrTooLarge", err)
	}
	if _, err := String(eval(t, "'pässword ✓'"), 12); !errors.Is(err, ErrTooLarge) {
		t.Errorf("String over its limit in UTF-8 only: %v, want ErrTooLarge", err)
	}
	if s, err := String(eval(t, "'pässword ✓'"), 13); err != nil || s != "pässword ✓" {
		t.Errorf("String = %q, %v", s, err)
	}
	if _, err := String(eval(t, "'x'.repeat(1 << 20)"), 1<<10); !errors.Is(err, ErrTooLarge) {
		t.Errorf("String of 1 MiB under a 1 KiB limit: %v, want ErrTooLarge", err)
	}
	if b, err := CopyBytes(eval(t, "new Uint8Array([1, 2, 3])"), 3); err != nil || string(b) != "\x01\x02\x03" {
		t.Errorf("CopyBytes = %v, %v", b, err)
	}
	if _, err := CopyBytes(eval(t, "new Uint8Array(4)"), 3); !errors.Is(err, ErrTooLarge) {
		t.Errorf("CopyBytes over its limit: %v, want ErrTooLarge", err)
	}
	for _, forged := range []string{"({byteLength: 3e9})", "({byteLength: -1, length: -1})", "new Uint16Array(2)", "new ArrayBuffer(2)", "'abc'", "null"} {
		if _, err := CopyBytes(eval(t, forged), 1<<20); !errors.Is(err, ErrNotBytes) {
			t.Errorf("CopyBytes(%s) error = %v, want ErrNotBytes", forged, err)
		}
	}
	if _, err := Keys(eval(t, "({['k'.repeat(5000)]: 1})"), 10); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Keys with a 5000-byte key: %v, want ErrTooLarge", err)
	}
}
