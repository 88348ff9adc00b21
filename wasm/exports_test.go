//go:build js && wasm

package main

import (
	"context"
	"strings"
	"testing"

	"github.com/gqlauth/gqlauth/jsbridge"
	"github.com/hack-pad/safejs"
)

// js evaluates a JavaScript expression in the test page (test-only: the
// module itself never evaluates code).
func js(t *testing.T, expr string) safejs.Value {
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

// newBinding exports onto a fresh object, as gqlauth.js would hand over.
func newBinding(t *testing.T) safejs.Value {
	t.Helper()
	binding := js(t, "{}")
	b := &bridge{binding: binding, clients: map[int]*entry{}}
	if err := b.export(); err != nil {
		t.Fatal(err)
	}
	return binding
}

func call(t *testing.T, binding safejs.Value, name string, args ...any) safejs.Value {
	t.Helper()
	v, err := binding.Call(name, args...)
	if err != nil {
		t.Fatalf("%s threw: %v", name, err)
	}
	return v
}

func codeOf(v safejs.Value) string {
	if jsbridge.TypeOf(v) != safejs.TypeObject {
		return ""
	}
	c, _ := v.Get("code")
	s, _ := c.String()
	return s
}

func noop(t *testing.T) safejs.Value { return js(t, "() => {}") }

func TestNewClientRejectsBadOptions(t *testing.T) {
	binding := newBinding(t)
	tests := []struct {
		name    string
		options string
		want    string
	}{
		{"undefined", "undefined", "INVALID_ARGUMENT"},
		{"null", "null", "INVALID_ARGUMENT"},
		{"a string", "'https://api.example.com'", "INVALID_ARGUMENT"},
		{"no endpoint", "{}", "INVALID_ARGUMENT"},
		{"endpoint a number", "{endpoint: 5}", "INVALID_ARGUMENT"},
		{"relative endpoint", "{endpoint: '/graphql'}", "INVALID_ARGUMENT"},
		{"plain http remote", "{endpoint: 'http://api.example.com/graphql'}", "INSECURE_ENDPOINT"},
		{"huge endpoint", "{endpoint: 'https://a.example/' + 'x'.repeat(1 << 22)}", ""},
		{"getter throws", "{get endpoint() { throw new Error('trap') }}", "INVALID_ARGUMENT"},
		{"proxy throws", "new Proxy({}, {get() { throw new Error('trap') }})", "INVALID_ARGUMENT"},
		{"timeout NaN", "{endpoint: 'https://a.example/', timeoutMs: NaN}", "INVALID_ARGUMENT"},
		{"timeout a string", "{endpoint: 'https://a.example/', timeoutMs: '5'}", "INVALID_ARGUMENT"},
		{"negative leeway", "{endpoint: 'https://a.example/', expiryLeewaySeconds: -1}", "INVALID_ARGUMENT"},
		{"header not a string", "{endpoint: 'https://a.example/', headers: {'X-A': 1}}", "INVALID_ARGUMENT"},
		{"header CRLF", "{endpoint: 'https://a.example/', headers: {'X-A': 'a\\r\\nb'}}", "INVALID_ARGUMENT"},
		{"zero maxResponseBytes", "{endpoint: 'https://a.example/', maxResponseBytes: 0}", "INVALID_ARGUMENT"},
		{"maxResponseBytes", "{endpoint: 'https://a.example/', maxResponseBytes: 1024}", ""},
		{"bad credentials", "{endpoint: 'https://a.example/', credentials: 'always'}", "INVALID_ARGUMENT"},
		{"insecure allowed", "{endpoint: 'http://api.example.com/', allowInsecureHTTP: true}", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := call(t, binding, "newClient", js(t, tt.options), noop(t), noop(t))
			if tt.want == "" {
				if jsbridge.TypeOf(got) != safejs.TypeNumber {
					t.Fatalf("newClient(%s) = %v, want a handle", tt.name, codeOf(got))
				}
				return
			}
			if c := codeOf(got); c != tt.want {
				t.Fatalf("newClient(%s) code = %q, want %q", tt.name, c, tt.want)
			}
		})
	}
}

func TestExportsRejectBadArguments(t *testing.T) {
	binding := newBinding(t)
	h := call(t, binding, "newClient", js(t, "{endpoint: 'https://api.example.com/graphql'}"), noop(t), noop(t))
	tests := []struct {
		name string
		args []any
		want string
	}{
		{"login without credentials", []any{h}, "INVALID_ARGUMENT"},
		{"login with a number", []any{h, 1}, "INVALID_ARGUMENT"},
		{"login without password", []any{h, js(t, "{username: 'demo'}")}, "INVALID_ARGUMENT"},
		{"login password not a string", []any{h, js(t, "{username: 'demo', password: 1}")}, "INVALID_ARGUMENT"},
		{"login getter throws", []any{h, js(t, "{username: 'demo', get password() { throw 1 }}")}, "INVALID_ARGUMENT"},
		{"login signal not a signal", []any{h, js(t, "{username: 'u', password: 'p'}"), 5}, "INVALID_ARGUMENT"},
		{"login on unknown handle", []any{99, js(t, "{username: 'u', password: 'p'}")}, "NOT_AUTHENTICATED"},
		{"login without handle", []any{}, "INVALID_ARGUMENT"},
		{"query not a string", []any{h, 42}, "INVALID_ARGUMENT"},
		{"query empty", []any{h, ""}, "INVALID_ARGUMENT"},
		{"variables not JSON", []any{h, "{ me { id } }", "{oops"}, "INVALID_ARGUMENT"},
		{"variables an array", []any{h, "{ me { id } }", "[1]"}, "INVALID_ARGUMENT"},
		{"operationName a number", []any{h, "{ me { id } }", nil, 3}, "INVALID_ARGUMENT"},
		{"query before login", []any{h, "{ me { id } }"}, "NOT_AUTHENTICATED"},
		{"aborted before start", []any{h, js(t, "{username: 'u', password: 'p'}"), js(t, "AbortSignal.abort()")}, "ABORTED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := "fetchWithAuth"
			if strings.HasPrefix(tt.name, "login") || strings.HasPrefix(tt.name, "aborted") {
				method = "login"
			}
			p := call(t, binding, method, tt.args...)
			_, err := jsbridge.Await(context.Background(), p)
			if err == nil {
				t.Fatalf("%s resolved, want code %s", method, tt.want)
			}
			reason := rejection(t, p)
			if c := codeOf(reason); c != tt.want {
				t.Fatalf("%s code = %q (%v), want %q", method, c, err, tt.want)
			}
		})
	}
}

// rejection returns a settled promise's rejection reason.
func rejection(t *testing.T, p safejs.Value) safejs.Value {
	t.Helper()
	caught := js(t, "(p) => p.then(() => undefined, (e) => e)")
	v, err := caught.Invoke(p)
	if err != nil {
		t.Fatal(err)
	}
	reason, err := jsbridge.Await(context.Background(), v)
	if err != nil {
		t.Fatal(err)
	}
	return reason
}

func TestSyncExportsOnClosedClientAnswerLoggedOut(t *testing.T) {
	binding := newBinding(t)
	h := call(t, binding, "newClient", js(t, "{endpoint: 'https://api.example.com/graphql'}"), noop(t), noop(t))
	call(t, binding, "close", h)
	call(t, binding, "close", h) // twice is a no-op
	if v := call(t, binding, "tokenExpiresAt", h); !v.IsNull() {
		t.Errorf("tokenExpiresAt(closed) = %v, want null", codeOf(v))
	}
	if v := call(t, binding, "tokenExpiresIn", h); jsbridge.TypeOf(v) != safejs.TypeNumber {
		t.Errorf("tokenExpiresIn(closed) = %v, want 0", codeOf(v))
	}
	if v := call(t, binding, "isAuthenticated", h); jsbridge.TypeOf(v) != safejs.TypeBoolean {
		t.Errorf("isAuthenticated(closed) = %v, want false", codeOf(v))
	}
	for _, name := range []string{"tokenExpiresAt", "tokenExpiresIn", "isAuthenticated", "logout"} {
		if c := codeOf(call(t, binding, name, "x")); c != "INVALID_ARGUMENT" {
			t.Errorf("%s('x') code = %q", name, c)
		}
	}
	if c := codeOf(rejection(t, call(t, binding, "fetchWithAuth", h, "{ me { id } }"))); c != "NOT_AUTHENTICATED" {
		t.Errorf("fetchWithAuth(closed) code = %q", c)
	}
}

func TestBigIntArgumentsAreInvalid(t *testing.T) {
	binding := newBinding(t)
	if c := codeOf(call(t, binding, "newClient", js(t, "{endpoint: 'https://a.example/', timeoutMs: 5n}"), noop(t), noop(t))); c != "INVALID_ARGUMENT" {
		t.Errorf("timeoutMs: 5n code = %q", c)
	}
	h := call(t, binding, "newClient", js(t, "{endpoint: 'https://a.example/'}"), noop(t), noop(t))
	if c := codeOf(rejection(t, call(t, binding, "login", h, js(t, "{username: 'u', password: 1n}")))); c != "INVALID_ARGUMENT" {
		t.Errorf("password: 1n code = %q", c)
	}
	if c := codeOf(call(t, binding, "tokenExpiresIn", js(t, "1n"))); c != "INVALID_ARGUMENT" {
		t.Errorf("handle 1n code = %q", c)
	}
}

func TestThousandHostileCallsLeaveModuleWorking(t *testing.T) {
	binding := newBinding(t)
	h := call(t, binding, "newClient", js(t, "{endpoint: 'https://api.example.com/graphql'}"), noop(t), noop(t))
	before := jsbridge.Stats()
	hostile := []safejs.Value{
		safejs.Null(), safejs.Undefined(), js(t, "new Proxy({}, {get() { throw new Error('x') }})"),
		js(t, "{get username() { throw new Error('x') }}"), js(t, "Symbol('s')"), js(t, "'x'.repeat(1 << 16)"),
		js(t, "10n"), js(t, "{username: 'u', password: 2n}"),
	}
	var pending []safejs.Value
	for i := range 1000 {
		arg := hostile[i%len(hostile)]
		switch i % 4 {
		case 0:
			call(t, binding, "newClient", arg, noop(t), noop(t))
		case 1:
			pending = append(pending, call(t, binding, "login", h, arg, arg))
		case 2:
			pending = append(pending, call(t, binding, "fetchWithAuth", h, arg, arg, arg, arg))
		case 3:
			call(t, binding, "tokenExpiresIn", arg)
		}
	}
	for _, p := range pending {
		rejection(t, p)
	}
	if v := call(t, binding, "isAuthenticated", h); jsbridge.TypeOf(v) != safejs.TypeBoolean {
		t.Fatalf("isAuthenticated after hostile calls = %v", codeOf(v))
	}
	after := jsbridge.Stats()
	if after.Promises != before.Promises {
		t.Errorf("pending promises %d → %d", before.Promises, after.Promises)
	}
	if after.Funcs != before.Funcs {
		t.Errorf("live funcs %d → %d", before.Funcs, after.Funcs)
	}
}

func TestPanicInsideExportBecomesRejection(t *testing.T) {
	binding := newBinding(t)
	h := call(t, binding, "newClient", js(t, "{endpoint: 'https://api.example.com/graphql'}"), noop(t), noop(t))
	for _, where := range []string{"fetchWithAuth", "fetchWithAuth.work"} {
		testHook = func(name string) {
			if name == where {
				panic("forced")
			}
		}
		p := call(t, binding, "fetchWithAuth", h, "{ me { id } }")
		testHook = func(string) {}
		reason := rejection(t, p)
		if c := codeOf(reason); c != "INTERNAL" {
			t.Fatalf("panic in %s: code = %q, want INTERNAL", where, c)
		}
		// The module keeps working.
		if c := codeOf(rejection(t, call(t, binding, "fetchWithAuth", h, "{ me { id } }"))); c != "NOT_AUTHENTICATED" {
			t.Fatalf("call after the panic: code = %q, want NOT_AUTHENTICATED", c)
		}
	}
	testHook = func(name string) {
		if name == "tokenExpiresIn" {
			panic("forced")
		}
	}
	v := call(t, binding, "tokenExpiresIn", h)
	testHook = func(string) {}
	if c := codeOf(v); c != "INTERNAL" {
		t.Fatalf("panic in a sync export: code = %q, want INTERNAL", c)
	}
}
