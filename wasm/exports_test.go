//go:build js && wasm

package main

import (
	"strings"
	"testing"

	"github.com/gqlauth/gqlauth/jsbridge"
	"github.com/gqlauth/gqlauth/jsbridge/jstest"
	"github.com/hack-pad/safejs"
)

// js evaluates a JavaScript expression in the test page.
func js(t *testing.T, expr string) safejs.Value { return jstest.Eval(t, expr) }

// newBinding exports onto a fresh object, as gqlauth.js would hand over.
func newBinding(t *testing.T) safejs.Value {
	t.Helper()
	binding := js(t, "{}")
	b := newBridge(binding, safejs.Undefined())
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

// codeOf returns an AuthError's code, or "" for anything else.
func codeOf(v safejs.Value) string {
	if jsbridge.TypeOf(v) != safejs.TypeObject {
		return ""
	}
	c, _ := v.Get("code")
	s, _ := c.String()
	return s
}

// describe shows an error's code and message, for failure reports.
func describe(v safejs.Value) string {
	if jsbridge.TypeOf(v) != safejs.TypeObject {
		return "not an error"
	}
	m, _ := v.Get("message")
	msg, _ := m.String()
	return codeOf(v) + ": " + msg
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
		{"timeout past setTimeout's limit", "{endpoint: 'https://a.example/', timeoutMs: 2 ** 31}", "INVALID_ARGUMENT"},
		{"leeway over a year", "{endpoint: 'https://a.example/', expiryLeewaySeconds: 1e10}", "INVALID_ARGUMENT"},
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
				handleOf(t, got)
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
	h := handleOf(t, call(t, binding, "newClient", js(t, "{endpoint: 'https://api.example.com/graphql'}"), noop(t), noop(t)))
	tests := []struct {
		name   string
		method string
		args   []any
		want   string
	}{
		{"login without credentials", "beginLogin", []any{h, 1}, "INVALID_ARGUMENT"},
		{"login without an id", "beginLogin", []any{h, js(t, "{username: 'u', password: 'p'}")}, "INVALID_ARGUMENT"},
		{"login with a number", "beginLogin", []any{h, 1, 1}, "INVALID_ARGUMENT"},
		{"login without password", "beginLogin", []any{h, 1, js(t, "{username: 'demo'}")}, "INVALID_ARGUMENT"},
		{"login password not a string", "beginLogin", []any{h, 1, js(t, "{username: 'demo', password: 1}")}, "INVALID_ARGUMENT"},
		{"login getter throws", "beginLogin", []any{h, 1, js(t, "{username: 'demo', get password() { throw 1 }}")}, "INVALID_ARGUMENT"},
		{"login on unknown handle", "beginLogin", []any{99, 1, js(t, "{username: 'u', password: 'p'}")}, "NOT_AUTHENTICATED"},
		{"login without handle", "beginLogin", []any{}, "INVALID_ARGUMENT"},
		{"fetch without handle", "beginFetch", []any{}, "INVALID_ARGUMENT"},
		{"fetch with a string handle", "beginFetch", []any{"1", 1}, "INVALID_ARGUMENT"},
		{"fetch before login", "beginFetch", []any{h, 1}, "NOT_AUTHENTICATED"},
		{"listen not a boolean", "listen", []any{h, 1}, "INVALID_ARGUMENT"},
		{"finish unknown exchange", "finish", []any{12345, 200, nil, "{}"}, "INVALID_ARGUMENT"},
		{"finish without id", "finish", []any{}, "INVALID_ARGUMENT"},
		{"fail unknown exchange", "fail", []any{12345, "network"}, "INVALID_ARGUMENT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c := codeOf(call(t, binding, tt.method, tt.args...)); c != tt.want {
				t.Fatalf("%s code = %q, want %q", tt.method, c, tt.want)
			}
		})
	}
}

func handleOf(t *testing.T, settings safejs.Value) safejs.Value {
	t.Helper()
	h, err := settings.Get("handle")
	if err != nil || jsbridge.TypeOf(h) != safejs.TypeNumber {
		t.Fatalf("newClient did not return a handle: %v", describe(settings))
	}
	return h
}

// loginToken is a JWT as the reference server issues it (sub "1", iat/exp
// in 2030, so still valid for years).
const loginToken = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIiwianRpIjoiYSIsImlhdCI6MTg5MzQ1NjAwMCwiZXhwIjoxODkzNDU5NjAwfQ.c2ln"

func index(t *testing.T, v safejs.Value, i int) safejs.Value {
	t.Helper()
	e, err := v.Index(i)
	if err != nil {
		t.Fatalf("not an array: %v", codeOf(v))
	}
	return e
}

func TestExchangeLoginThenFetch(t *testing.T) {
	binding := newBinding(t)
	settings := call(t, binding, "newClient", js(t, "{endpoint: 'https://api.example.com/graphql', expiryLeewaySeconds: 0}"), noop(t), noop(t))
	h := handleOf(t, settings)
	headers, _ := settings.Get("headers")
	if ct, _ := headers.Get("Content-Type"); jsbridge.TypeOf(ct) != safejs.TypeString {
		t.Fatal("settings.headers has no Content-Type")
	}

	begun := call(t, binding, "beginLogin", h, 100, js(t, "{username: 'demo', password: 'pw'}"))
	if body, _ := begun.String(); !strings.Contains(body, `"password":"pw"`) {
		t.Fatalf("login body = %s (%s)", body, describe(begun))
	}
	if c := codeOf(call(t, binding, "beginLogin", h, 100, js(t, "{username: 'demo', password: 'pw'}"))); c != "INVALID_ARGUMENT" {
		t.Errorf("a login with an exchange id in use: code = %q", c)
	}
	user := call(t, binding, "finish", 100, 200, loginToken, `{"data":{"loginUser":{"id":"1"}}}`)
	if u, _ := user.Get("user"); jsbridge.TypeOf(u) != safejs.TypeString {
		t.Fatalf("finish(login) = %v", codeOf(user))
	}
	if v := call(t, binding, "isAuthenticated", h); jsbridge.TypeOf(v) != safejs.TypeBoolean {
		t.Fatal("isAuthenticated is not a boolean")
	} else if ok, _ := v.Bool(); !ok {
		t.Fatal("not authenticated after login")
	}
	// The exchange is gone once finished.
	if c := codeOf(call(t, binding, "finish", 100, 200, nil, "{}")); c != "INVALID_ARGUMENT" {
		t.Errorf("finishing twice: code = %q", c)
	}

	auth := call(t, binding, "beginFetch", h, 1)
	if s, _ := auth.String(); s != loginToken {
		t.Fatalf("authorization = %q, want the login token", s)
	}
	if c := codeOf(call(t, binding, "beginFetch", h, 1)); c != "INVALID_ARGUMENT" {
		t.Errorf("an exchange id in use: code = %q", c)
	}
	ok := call(t, binding, "finish", 1, 200, nil, true)
	if jsbridge.TypeOf(ok) != safejs.TypeBoolean {
		t.Fatalf("finish(query) = %v, want true", codeOf(ok))
	}

	call(t, binding, "beginFetch", h, 2)
	if c := codeOf(call(t, binding, "fail", 2, "timeout")); c != "TIMEOUT" {
		t.Errorf("fail(timeout) code = %q", c)
	}
	call(t, binding, "beginFetch", h, 3)
	notJSON := call(t, binding, "finish", 3, 502, nil, nil, "the body is not JSON")
	if c := codeOf(notJSON); c != "HTTP_ERROR" {
		t.Errorf("finish(502, not JSON) code = %q, want HTTP_ERROR", c)
	}
	call(t, binding, "beginFetch", h, 4)
	if c := codeOf(call(t, binding, "finish", 4, 200, nil, nil, "the body is empty")); c != "BAD_RESPONSE" {
		t.Errorf("finish(200, empty) code = %q, want BAD_RESPONSE", c)
	}
	call(t, binding, "beginFetch", h, 5)
	unauth := call(t, binding, "finish", 5, 200, nil,
		`{"errors":[{"message":"Unauthorized","locations":[{"line":2,"column":3}],"customer_facing":false}]}`)
	if c := codeOf(unauth); c != "UNAUTHORIZED" {
		t.Fatalf("finish(Unauthorized) code = %q", c)
	}
	gqlErrs, _ := unauth.Get("graphQLErrors")
	if n, _ := gqlErrs.Length(); n != 1 {
		t.Errorf("graphQLErrors has %d entries", n)
	}
	if c := codeOf(call(t, binding, "beginFetch", h, 6)); c != "NOT_AUTHENTICATED" {
		t.Fatalf("after UNAUTHORIZED, beginFetch code = %q", c)
	}
}

func TestFailKinds(t *testing.T) {
	binding := newBinding(t)
	h := handleOf(t, call(t, binding, "newClient", js(t, "{endpoint: 'https://api.example.com/graphql'}"), noop(t), noop(t)))
	id := 0
	for kind, want := range map[string]string{"aborted": "ABORTED", "timeout": "TIMEOUT", "too-large": "BAD_RESPONSE", "network": "NETWORK_ERROR", "": "NETWORK_ERROR"} {
		id++
		begun := call(t, binding, "beginLogin", h, id, js(t, "{email: 'a@b', password: 'p'}"))
		if c := codeOf(call(t, binding, "fail", id, kind, "TypeError: Failed to fetch")); c != want {
			t.Errorf("fail(%q) code = %q, want %q (%s)", kind, c, want, describe(begun))
		}
	}
}

func TestSyncExportsOnClosedClientAnswerLoggedOut(t *testing.T) {
	binding := newBinding(t)
	h := handleOf(t, call(t, binding, "newClient", js(t, "{endpoint: 'https://api.example.com/graphql'}"), noop(t), noop(t)))
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
	if c := codeOf(call(t, binding, "beginFetch", h, 7)); c != "NOT_AUTHENTICATED" {
		t.Errorf("beginFetch(closed) code = %q", c)
	}
}

func TestBigIntArgumentsAreInvalid(t *testing.T) {
	binding := newBinding(t)
	if c := codeOf(call(t, binding, "newClient", js(t, "{endpoint: 'https://a.example/', timeoutMs: 5n}"), noop(t), noop(t))); c != "INVALID_ARGUMENT" {
		t.Errorf("timeoutMs: 5n code = %q", c)
	}
	h := handleOf(t, call(t, binding, "newClient", js(t, "{endpoint: 'https://a.example/'}"), noop(t), noop(t)))
	if c := codeOf(call(t, binding, "beginLogin", h, 1, js(t, "{username: 'u', password: 1n}"))); c != "INVALID_ARGUMENT" {
		t.Errorf("password: 1n code = %q", c)
	}
	if c := codeOf(call(t, binding, "tokenExpiresIn", js(t, "1n"))); c != "INVALID_ARGUMENT" {
		t.Errorf("handle 1n code = %q", c)
	}
}

func TestThousandHostileCallsLeaveModuleWorking(t *testing.T) {
	binding := newBinding(t)
	h := handleOf(t, call(t, binding, "newClient", js(t, "{endpoint: 'https://api.example.com/graphql'}"), noop(t), noop(t)))
	before := jsbridge.Stats()
	hostile := []safejs.Value{
		safejs.Null(), safejs.Undefined(), js(t, "new Proxy({}, {get() { throw new Error('x') }})"),
		js(t, "{get username() { throw new Error('x') }}"), js(t, "Symbol('s')"), js(t, "'x'.repeat(1 << 16)"),
		js(t, "10n"), js(t, "{username: 'u', password: 2n}"),
	}
	for i := range 1000 {
		arg := hostile[i%len(hostile)]
		switch i % 5 {
		case 0:
			call(t, binding, "newClient", arg, noop(t), noop(t))
		case 1:
			call(t, binding, "beginLogin", h, i, arg)
		case 2:
			call(t, binding, "beginFetch", arg)
		case 3:
			call(t, binding, "finish", arg, arg, arg, arg)
		case 4:
			call(t, binding, "tokenExpiresIn", arg)
		}
	}
	if v := call(t, binding, "isAuthenticated", h); jsbridge.TypeOf(v) != safejs.TypeBoolean {
		t.Fatalf("isAuthenticated after hostile calls = %v", codeOf(v))
	}
	if after := jsbridge.Stats(); after.Funcs != before.Funcs {
		t.Errorf("live funcs %d → %d", before.Funcs, after.Funcs)
	}
}

func TestPanicInsideExportBecomesError(t *testing.T) {
	binding := newBinding(t)
	h := handleOf(t, call(t, binding, "newClient", js(t, "{endpoint: 'https://api.example.com/graphql'}"), noop(t), noop(t)))
	for _, where := range []string{"beginFetch", "tokenExpiresIn", "finish"} {
		testHook = func(name string) {
			if name == where {
				panic("forced")
			}
		}
		v := call(t, binding, where, h)
		testHook = func(string) {}
		if c := codeOf(v); c != "INTERNAL" {
			t.Fatalf("panic in %s: code = %q, want INTERNAL", where, c)
		}
		// The module keeps working.
		if c := codeOf(call(t, binding, "beginFetch", h, 7)); c != "NOT_AUTHENTICATED" {
			t.Fatalf("call after the panic: code = %q, want NOT_AUTHENTICATED", c)
		}
	}
}

func TestFailKeepsTheStatusOfABegunResponse(t *testing.T) {
	binding := newBinding(t)
	h := handleOf(t, call(t, binding, "newClient", js(t, "{endpoint: 'https://api.example.com/graphql'}"), noop(t), noop(t)))
	call(t, binding, "beginLogin", h, 1, js(t, "{email: 'a@b', password: 'p'}"))
	e := call(t, binding, "fail", 1, "too-large", "", 200)
	status, _ := e.Get("status")
	if n, _ := status.Int(); codeOf(e) != "BAD_RESPONSE" || n != 200 {
		t.Fatalf("fail(too-large, 200) = %s with status %d", describe(e), n)
	}
}
