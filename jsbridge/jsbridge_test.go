//go:build js && wasm

package jsbridge

import (
	"errors"
	"testing"

	"github.com/gqlauth/gqlauth/jsbridge/jstest"
	"github.com/hack-pad/safejs"
)

func eval(t *testing.T, expr string) safejs.Value { return jstest.Eval(t, expr) }

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
	for range 2 { // and the function keeps working
		v, err := f.Value().Invoke()
		if err != nil {
			t.Fatal(err)
		}
		if s, _ := v.String(); s != "recovered" {
			t.Fatalf("call returned %q", s)
		}
	}
}

func TestFuncOfHandsBackErrors(t *testing.T) {
	f, _ := FuncOf(func(_ safejs.Value, args []safejs.Value) (any, error) {
		if len(args) == 0 {
			return nil, errors.New("need an argument")
		}
		return args[0], nil
	}, func(err error) any { return NewError(safejs.Undefined(), err.Error(), nil) })
	defer f.Release()
	v, _ := f.Value().Invoke()
	if ok, _ := v.InstanceOf(builtins.error); !ok {
		t.Fatal("an error did not come back as an Error")
	}
	v, _ = f.Value().Invoke(7)
	if n, _ := v.Int(); n != 7 {
		t.Fatalf("call returned %v", n)
	}
}

func TestNewErrorSetsFields(t *testing.T) {
	e := NewError(safejs.Undefined(), "msg", map[string]any{"code": "C", "status": 502, "skip": nil})
	if ok, _ := e.InstanceOf(builtins.error); !ok {
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

func TestNewErrorUsesTheGivenClass(t *testing.T) {
	ctor := eval(t, "class AuthError extends Error {}")
	e := NewError(ctor, "m", nil)
	if ok, _ := e.InstanceOf(ctor); !ok {
		t.Fatal("not an instance of the given class")
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
	if v := ParseJSON(`{"a":[1]}`); TypeOf(v) != safejs.TypeObject {
		t.Fatal("ParseJSON did not give an object")
	}
	if v := ParseJSON(`{`); !v.IsUndefined() {
		t.Fatal("ParseJSON of bad JSON is not undefined")
	}
}

func TestGetAndKeysSurviveHostileObjects(t *testing.T) {
	hostile := eval(t, "new Proxy({}, {get() { throw new Error('get') }, ownKeys() { throw new Error('keys') }})")
	if _, err := Get(hostile, "x"); !errors.Is(err, ErrThrew) {
		t.Errorf("Get(proxy) error = %v, want ErrThrew", err)
	}
	if _, err := Keys(hostile, 10); !errors.Is(err, ErrThrew) {
		t.Errorf("Keys(proxy) error = %v, want ErrThrew", err)
	}
	getter := eval(t, "({ get a() { throw new Error('no') } })")
	if _, err := Get(getter, "a"); !errors.Is(err, ErrThrew) {
		t.Errorf("Get(throwing getter) error = %v, want ErrThrew", err)
	}
	if v := eval(t, "10n"); TypeOf(v) != TypeOther {
		t.Errorf("TypeOf(10n) = %v, want TypeOther", TypeOf(v))
	}
	keys, err := Keys(eval(t, "({b: 1, a: 2})"), 10)
	if err != nil || len(keys) != 2 || keys[0] != "b" {
		t.Errorf("Keys() = %v, %v", keys, err)
	}
	if _, err := Keys(eval(t, "({a: 1, b: 2, c: 3})"), 2); err == nil {
		t.Error("Keys() over the limit succeeded")
	}
}
