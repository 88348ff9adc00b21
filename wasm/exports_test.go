//go:build js && wasm

package main

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gqlauth/gqlauth/jsbridge"
	"github.com/gqlauth/gqlauth/jsbridge/jstest"
	"github.com/hack-pad/safejs"
)

// The module takes fetch when it starts; the tests' fetch hands each
// request to globalThis.answer(url, init), which a test sets, and records
// the requests in globalThis.requests.
func TestMain(m *testing.M) {
	global := safejs.Global()
	fetch, _ := jstest.Evaluate(`(url, init) => {
		globalThis.requests.push({url, init, body: new TextDecoder().decode(init.body)});
		return globalThis.answer(url, init);
	}`)
	global.Set("fetch", fetch)
	global.Set("requests", []any{})
	os.Exit(m.Run())
}

// js evaluates a JavaScript expression in the test page.
func js(t *testing.T, expr string) safejs.Value { return jstest.Eval(t, expr) }

// answer makes the test fetch answer with the JavaScript function src.
func answer(t *testing.T, src string) {
	t.Helper()
	safejs.Global().Set("answer", js(t, src))
	safejs.Global().Set("requests", []any{})
}

// newBinding exports onto a fresh object, as gqlauth.worker.js would hand over.
func newBinding(t *testing.T) safejs.Value {
	t.Helper()
	binding := js(t, "{}")
	b := &bridge{}
	live = b
	if err := b.export(binding); err != nil {
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

// settle awaits an async export's Promise: its value, or the Error it
// rejected with.
func settle(t *testing.T, p safejs.Value) (value, rejected safejs.Value) {
	t.Helper()
	caught, err := js(t, "(p) => p.then((value) => ({value}), (error) => ({error}))").Invoke(p)
	if err != nil {
		t.Fatalf("not a promise: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := jsbridge.Await(ctx, caught)
	if err != nil {
		t.Fatal(err)
	}
	value, _ = out.Get("value")
	rejected, _ = out.Get("error")
	return value, rejected
}

// codeOf returns an error's code, or "" for anything else.
func codeOf(v safejs.Value) string {
	if jsbridge.TypeOf(v) != safejs.TypeObject {
		return ""
	}
	c, _ := v.Get("code")
	s, _ := c.String()
	return s
}

func describe(v safejs.Value) string {
	if jsbridge.TypeOf(v) != safejs.TypeObject {
		return "not an error"
	}
	m, _ := v.Get("message")
	msg, _ := m.String()
	return codeOf(v) + ": " + msg
}

func newClient(t *testing.T, binding safejs.Value, options string) safejs.Value {
	t.Helper()
	h := call(t, binding, "newClient", js(t, options))
	if jsbridge.TypeOf(h) != safejs.TypeNumber {
		t.Fatalf("newClient(%s) = %s, want a handle", options, describe(h))
	}
	return h
}

// A JWT as the reference server issues them (sub "1"; iat and exp in 2030,
// so valid for years), and a second one issued a second later.
const (
	loginToken   = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIiwianRpIjoiYSIsImlhdCI6MTg5MzQ1NjAwMCwiZXhwIjoxODkzNDU5NjAwfQ.c2ln"
	rotatedToken = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIiwianRpIjoiYiIsImlhdCI6MTg5MzQ1NjAwMSwiZXhwIjoxODkzNDU5NjAxfQ.c2ln"
)

// respond is the source of an answer function: a Response with body and
// headers.
func respond(status int, body string, headers string) string {
	return "() => Promise.resolve(new Response(" + jsString(body) + ", {status: " + strconv.Itoa(status) + ", headers: " + headers + "}))"
}

func jsString(s string) string { return "`" + strings.ReplaceAll(s, "`", "\\`") + "`" }

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
		{"header outside Latin-1", "{endpoint: 'https://a.example/', headers: {'X-Name': 'Zoë ✓'}}", "INVALID_ARGUMENT"},
		{"header in Latin-1", "{endpoint: 'https://a.example/', headers: {'X-Name': 'Zoë'}}", ""},
		{"zero maxResponseBytes", "{endpoint: 'https://a.example/', maxResponseBytes: 0}", "INVALID_ARGUMENT"},
		{"maxResponseBytes", "{endpoint: 'https://a.example/', maxResponseBytes: 1024}", ""},
		{"bad credentials", "{endpoint: 'https://a.example/', credentials: 'always'}", "INVALID_ARGUMENT"},
		{"keep-alive", "{endpoint: 'https://a.example/', keepAlive: {query: '{ __typename }', beforeExpiryMs: 60000}}", ""},
		{"keep-alive without query", "{endpoint: 'https://a.example/', keepAlive: {beforeExpiryMs: 60000}}", "INVALID_ARGUMENT"},
		{"keep-alive without time", "{endpoint: 'https://a.example/', keepAlive: {query: '{ a }'}}", "INVALID_ARGUMENT"},
		{"keep-alive a string", "{endpoint: 'https://a.example/', keepAlive: '{ a }'}", "INVALID_ARGUMENT"},
		{"insecure allowed", "{endpoint: 'http://api.example.com/', allowInsecureHTTP: true}", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := call(t, binding, "newClient", js(t, tt.options))
			if tt.want == "" {
				if jsbridge.TypeOf(got) != safejs.TypeNumber {
					t.Fatalf("newClient(%s) = %s, want a handle", tt.name, describe(got))
				}
				return
			}
			if c := codeOf(got); c != tt.want {
				t.Fatalf("newClient(%s) code = %q (%s), want %q", tt.name, c, describe(got), tt.want)
			}
		})
	}
}

func TestLoginRotationAndEvents(t *testing.T) {
	binding := newBinding(t)
	h := newClient(t, binding, "{endpoint: 'https://api.example.com/graphql', expiryLeewaySeconds: 0, headers: {'X-App': '1'}}")
	events := js(t, "[]")
	recorder, _ := js(t, "(events) => (...args) => events.push(args)").Invoke(events)
	unsubscribe := call(t, binding, "onTokenChange", h, recorder)

	answer(t, respond(200, `{"data":{"loginUser":{"id":"1"}}}`, "{'X-Authorization': 'Bearer "+loginToken+"'}"))
	value, rejected := settle(t, call(t, binding, "login", h, js(t, "({username: 'demo', password: 'pw\"1'})")))
	if !rejected.IsUndefined() {
		t.Fatalf("login rejected: %s", describe(rejected))
	}
	if u, _ := value.Get("user"); jsbridge.TypeOf(u) != safejs.TypeString {
		t.Fatal("login resolved without the user")
	}
	sent, _ := js(t, "globalThis.requests[0]").Get("body")
	if body, _ := sent.String(); !strings.Contains(body, `"password":"pw\"1"`) || !strings.Contains(body, "loginUser") {
		t.Fatalf("login sent %s", body)
	}
	if v, _ := js(t, "globalThis.requests[0].init.headers['X-App']").String(); v != "1" {
		t.Errorf("the static header was not sent: %q", v)
	}
	if ok, _ := call(t, binding, "isAuthenticated", h).Bool(); !ok {
		t.Fatal("not authenticated after login")
	}

	answer(t, respond(200, `{"data":{"me":{"id":"1"}}}`, "{'X-Authorization': 'Bearer "+rotatedToken+"'}"))
	value, rejected = settle(t, call(t, binding, "fetchWithAuth", h, "{ me { id } }", `{"a":1}`, js(t, "({operationName: 'Me', cause: 'tab-1'})")))
	if !rejected.IsUndefined() {
		t.Fatalf("fetchWithAuth rejected: %s", describe(rejected))
	}
	if body, _ := js(t, "(u8) => new TextDecoder().decode(u8)").Invoke(value); !strings.Contains(mustString(body), `"me"`) {
		t.Fatalf("fetchWithAuth resolved with %v", mustString(body))
	}
	if auth, _ := js(t, "globalThis.requests[0].init.headers.Authorization").String(); auth != "Bearer "+loginToken {
		t.Errorf("the query carried %q, want the login token", auth)
	}
	if body := mustString(js(t, "globalThis.requests[0].body")); !strings.Contains(body, `"variables":{"a":1}`) || !strings.Contains(body, `"operationName":"Me"`) {
		t.Errorf("the query sent %s", body)
	}
	if got := mustString(js(t, "(e) => e.map((args) => args[0] + ':' + args[4]).join(',')").Invoke(events)); got != "login:,rotate:tab-1" {
		t.Fatalf("events %q, want login (no cause given), then rotate caused by tab-1", got)
	}
	// Read one after the other, some time may pass between them on a busy machine.
	if in, usable := call(t, binding, "tokenExpiresIn", h), call(t, binding, "tokenUsableFor", h); mustInt(in)-mustInt(usable) > 100 || mustInt(usable) > mustInt(in) || mustInt(usable) <= 0 {
		t.Errorf("tokenUsableFor = %d, tokenExpiresIn = %d: with no leeway they agree", mustInt(usable), mustInt(in))
	}
	// The rotate event carries the new token's exp and the time left.
	last, _ := js(t, "(e) => e[1]").Invoke(events)
	if exp, _ := last.Index(1); mustInt(exp) != 1893459601000 {
		t.Errorf("rotate event expiresAt = %v", mustInt(exp))
	}
	if in, _ := last.Index(2); mustInt(in) <= 0 {
		t.Errorf("rotate event expiresIn = %v", mustInt(in))
	}
	if exp := call(t, binding, "tokenExpiresAt", h); mustInt(exp) != 1893459601000 {
		t.Errorf("tokenExpiresAt = %v", mustInt(exp))
	}

	unsubscribe.Invoke()
	call(t, binding, "logout", h)
	if n, _ := events.Length(); n != 2 {
		t.Errorf("an unsubscribed listener heard %d events", n)
	}
	_, rejected = settle(t, call(t, binding, "fetchWithAuth", h, "{ me { id } }"))
	if codeOf(rejected) != "NOT_AUTHENTICATED" {
		t.Fatalf("after logout: %s", describe(rejected))
	}
}

func TestPassPassesTheAnswerOnWithoutTokenHeaders(t *testing.T) {
	binding := newBinding(t)
	h := newClient(t, binding, "{endpoint: 'https://api.example.com/graphql?v=1', expiryLeewaySeconds: 0, headers: {'X-App': '1'}}")
	answer(t, respond(200, `{"data":{"loginUser":{"id":"1"}}}`, "{'X-Authorization': 'Bearer "+loginToken+"'}"))
	if _, rejected := settle(t, call(t, binding, "login", h, js(t, "({username: 'demo', password: 'pw'})"))); !rejected.IsUndefined() {
		t.Fatalf("login rejected: %s", describe(rejected))
	}
	answer(t, `() => Promise.resolve(new Response(new ReadableStream({
		start(c) { for (const part of ['{"data":', '{"me":', '{"id":"1"}}}']) c.enqueue(new TextEncoder().encode(part)); c.close(); },
	}), {status: 200, statusText: 'Fine', headers: {'Content-Type': 'application/json', 'X-Authorization': 'Bearer `+rotatedToken+`', 'Authorization': 'Bearer `+rotatedToken+`'}}))`)
	seen := js(t, "({heads: [], chunks: []})")
	onHead, _ := js(t, "(seen) => (...head) => seen.heads.push(head)").Invoke(seen)
	onChunk, _ := js(t, "(seen) => (u8) => seen.chunks.push(new TextDecoder().decode(u8))").Invoke(seen)
	req := js(t, `({method: 'POST', headers: '{"content-type":"application/json","x-trace":"7"}', body: new TextEncoder().encode('{"query":"{ me { id } }"}')})`)
	if _, rejected := settle(t, call(t, binding, "pass", h, req, js(t, "({cause: 'tab-1'})"), onHead, onChunk)); !rejected.IsUndefined() {
		t.Fatalf("pass rejected: %s", describe(rejected))
	}
	if got := mustString(js(t, "(s) => JSON.stringify(s)").Invoke(seen)); got !=
		`{"heads":[[200,"Fine","[[\"content-type\",\"application/json\"]]"]],"chunks":["{\"data\":","{\"me\":","{\"id\":\"1\"}}}"]}` {
		t.Errorf("passed on %s", got)
	}
	if got := mustString(js(t, `(r => JSON.stringify([r.url, r.init.method, r.body, r.init.headers.Authorization === 'Bearer `+loginToken+`', r.init.headers['x-trace'], r.init.headers['X-App']]))(globalThis.requests[0])`)); got !=
		`["https://api.example.com/graphql?v=1","POST","{\"query\":\"{ me { id } }\"}",true,"7","1"]` {
		t.Errorf("sent %s", got)
	}
	if exp := call(t, binding, "tokenExpiresAt", h); mustInt(exp) != 1893459601000 {
		t.Errorf("the token did not rotate from the answer: exp %v", mustInt(exp))
	}
	// A GET goes to the endpoint, with the app's query string in place of its own.
	answer(t, respond(200, `{"data":{}}`, "{}"))
	get := js(t, `({method: 'GET', query: '?query=%7B%20me%20%7D'})`)
	if _, rejected := settle(t, call(t, binding, "pass", h, get, nil, onHead, onChunk)); !rejected.IsUndefined() {
		t.Fatalf("pass GET rejected: %s", describe(rejected))
	}
	if got := mustString(js(t, `JSON.stringify([globalThis.requests[0].url, globalThis.requests[0].init.method, globalThis.requests[0].init.body === undefined])`)); got !=
		`["https://api.example.com/graphql?query=%7B%20me%20%7D","GET",true]` {
		t.Errorf("sent %s", got)
	}
}

func mustString(v safejs.Value, _ ...error) string {
	s, _ := v.String()
	return s
}

func mustInt(v safejs.Value, _ ...error) int {
	n, _ := v.Int()
	return n
}

func TestRejectionsCarryCodeStatusAndServerErrors(t *testing.T) {
	binding := newBinding(t)
	h := newClient(t, binding, "{endpoint: 'https://api.example.com/graphql'}")
	tests := []struct {
		name   string
		answer string
		code   string
		status int
	}{
		{"refused", respond(200, `{"errors":[{"message":"Unauthorized","locations":[{"line":2,"column":3}],"customer_facing":false}]}`, "{}"), "UNAUTHORIZED", 200},
		{"not JSON, 502", respond(502, `<html>`, "{}"), "HTTP_ERROR", 502},
		{"too deep", respond(200, `{"errors":`+strings.Repeat("[", 5000)+strings.Repeat("]", 5000)+`}`, "{}"), "BAD_RESPONSE", 200},
		{"network", "() => Promise.reject(new TypeError('Failed to fetch'))", "NETWORK_ERROR", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answer(t, respond(200, `{"data":{"loginUser":{"id":"1"}}}`, "{'X-Authorization': 'Bearer "+loginToken+"'}"))
			settle(t, call(t, binding, "login", h, js(t, "({email: 'a@b', password: 'p'})")))
			answer(t, tt.answer)
			_, rejected := settle(t, call(t, binding, "fetchWithAuth", h, "{ me { id } }"))
			if codeOf(rejected) != tt.code {
				t.Fatalf("rejected with %s, want %s", describe(rejected), tt.code)
			}
			status, _ := rejected.Get("status")
			if tt.status != 0 && mustInt(status) != tt.status || tt.status == 0 && !status.IsUndefined() {
				t.Errorf("status = %v, want %d", mustInt(status), tt.status)
			}
			if tt.code == "UNAUTHORIZED" {
				errs, _ := rejected.Get("graphQLErrors")
				if n, _ := errs.Length(); n != 1 {
					t.Errorf("graphQLErrors has %d entries, want the server's one", n)
				}
			}
		})
	}
}

func TestAbortAndClose(t *testing.T) {
	binding := newBinding(t)
	h := newClient(t, binding, "{endpoint: 'https://api.example.com/graphql'}")
	answer(t, "(url, init) => new Promise((resolve, reject) => init.signal.addEventListener('abort', () => reject(init.signal.reason)))")

	controller := js(t, "new AbortController()")
	signal, _ := controller.Get("signal")
	withSignal, _ := js(t, "(signal) => ({signal})").Invoke(signal)
	p := call(t, binding, "login", h, js(t, "({username: 'u', password: 'p'})"), withSignal)
	controller.Call("abort")
	if _, rejected := settle(t, p); codeOf(rejected) != "ABORTED" {
		t.Fatalf("an aborted login: %s", describe(rejected))
	}
	if _, rejected := settle(t, call(t, binding, "login", h, js(t, "({username: 'u', password: 'p'})"), js(t, "({signal: AbortSignal.abort()})"))); codeOf(rejected) != "ABORTED" {
		t.Fatalf("a login with an aborted signal: %s", describe(rejected))
	}

	p = call(t, binding, "login", h, js(t, "({username: 'u', password: 'p'})"))
	time.Sleep(10 * time.Millisecond) // let it reach fetch
	if live.inFlight() != 1 {
		t.Fatalf("%d calls in flight, want the login", live.inFlight())
	}
	call(t, binding, "close", h)
	call(t, binding, "close", h) // twice is a no-op
	if _, rejected := settle(t, p); codeOf(rejected) != "NOT_AUTHENTICATED" {
		t.Fatalf("a login under way at close(): %s", describe(rejected))
	}
	if live.inFlight() != 0 {
		t.Errorf("%d calls in flight after close", live.inFlight())
	}
	if v := call(t, binding, "tokenExpiresAt", h); !v.IsNull() {
		t.Errorf("tokenExpiresAt(closed) = %s, want null", describe(v))
	}
	v := call(t, binding, "isAuthenticated", h)
	if authenticated, err := v.Bool(); jsbridge.TypeOf(v) != safejs.TypeBoolean || err != nil || authenticated {
		t.Errorf("isAuthenticated(closed) = %s, want false", describe(v))
	}
}

func TestExportsRejectBadArguments(t *testing.T) {
	binding := newBinding(t)
	h := newClient(t, binding, "{endpoint: 'https://api.example.com/graphql'}")
	noop := js(t, "() => {}")
	sync := []struct {
		name   string
		method string
		args   []any
		want   string
	}{
		{"getter without handle", "tokenExpiresIn", nil, "INVALID_ARGUMENT"},
		{"getter with a string handle", "isAuthenticated", []any{"1"}, "INVALID_ARGUMENT"},
		{"getter with a BigInt handle", "tokenExpiresAt", []any{js(t, "1n")}, "INVALID_ARGUMENT"},
		{"onTokenChange without a function", "onTokenChange", []any{h, "alert(1)"}, "INVALID_ARGUMENT"},
		{"onTokenChange on an unknown handle", "onTokenChange", []any{999, js(t, "() => {}")}, "NOT_AUTHENTICATED"},
		{"logout with junk", "logout", []any{js(t, "({})")}, "INVALID_ARGUMENT"},
		{"logout with a cause not a string", "logout", []any{h, 7}, "INVALID_ARGUMENT"},
	}
	for _, tt := range sync {
		t.Run(tt.name, func(t *testing.T) {
			if c := codeOf(call(t, binding, tt.method, tt.args...)); c != tt.want {
				t.Fatalf("%s code = %q, want %q", tt.method, c, tt.want)
			}
		})
	}
	async := []struct {
		name   string
		method string
		args   []any
		want   string
	}{
		{"login without credentials", "login", []any{h}, "INVALID_ARGUMENT"},
		{"login with a number", "login", []any{h, 1}, "INVALID_ARGUMENT"},
		{"login without password", "login", []any{h, js(t, "({username: 'demo'})")}, "INVALID_ARGUMENT"},
		{"login password not a string", "login", []any{h, js(t, "({username: 'demo', password: 1})")}, "INVALID_ARGUMENT"},
		{"login password a BigInt", "login", []any{h, js(t, "({username: 'demo', password: 1n})")}, "INVALID_ARGUMENT"},
		{"login getter throws", "login", []any{h, js(t, "({username: 'demo', get password() { throw 1 }})")}, "INVALID_ARGUMENT"},
		{"login with a forged signal", "login", []any{h, js(t, "({username: 'u', password: 'p'})"), js(t, "({signal: Object.create(AbortSignal.prototype)})")}, "INVALID_ARGUMENT"},
		{"login with options a string", "login", []any{h, js(t, "({username: 'u', password: 'p'})"), "fast"}, "INVALID_ARGUMENT"},
		{"login with a cause not a string", "login", []any{h, js(t, "({username: 'u', password: 'p'})"), js(t, "({cause: 7})")}, "INVALID_ARGUMENT"},
		{"login on an unknown handle", "login", []any{99, js(t, "({username: 'u', password: 'p'})")}, "NOT_AUTHENTICATED"},
		{"login without handle", "login", nil, "INVALID_ARGUMENT"},
		{"query not a string", "fetchWithAuth", []any{h, 42}, "INVALID_ARGUMENT"},
		{"variables not JSON text", "fetchWithAuth", []any{h, "{ me { id } }", js(t, "({})")}, "INVALID_ARGUMENT"},
		{"variables an array", "fetchWithAuth", []any{h, "{ me { id } }", "[1]"}, "INVALID_ARGUMENT"},
		{"operationName a number", "fetchWithAuth", []any{h, "{ me { id } }", nil, js(t, "({operationName: 5})")}, "INVALID_ARGUMENT"},
		{"fetch before login", "fetchWithAuth", []any{h, "{ me { id } }"}, "NOT_AUTHENTICATED"},
		{"pass without a request", "pass", []any{h, nil, nil, noop, noop}, "INVALID_ARGUMENT"},
		{"pass without a method", "pass", []any{h, js(t, "({})"), nil, noop, noop}, "INVALID_ARGUMENT"},
		{"pass with PUT", "pass", []any{h, js(t, "({method: 'PUT'})"), nil, noop, noop}, "INVALID_ARGUMENT"},
		{"pass headers not JSON", "pass", []any{h, js(t, "({method: 'POST', headers: '{a'})"), nil, noop, noop}, "INVALID_ARGUMENT"},
		{"pass headers nested", "pass", []any{h, js(t, "({method: 'POST', headers: '{\"a\":{\"b\":\"c\"}}'})"), nil, noop, noop}, "INVALID_ARGUMENT"},
		{"pass headers deep", "pass", []any{h, js(t, "({method: 'POST', headers: '{\"a\":' + '['.repeat(5000) + ']'.repeat(5000) + '}'})"), nil, noop, noop}, "INVALID_ARGUMENT"},
		{"pass header a number", "pass", []any{h, js(t, "({method: 'POST', headers: '{\"a\":1}'})"), nil, noop, noop}, "INVALID_ARGUMENT"},
		{"pass with an Authorization", "pass", []any{h, js(t, "({method: 'POST', headers: '{\"authorization\":\"Bearer x\"}'})"), nil, noop, noop}, "INVALID_ARGUMENT"},
		{"pass body a number", "pass", []any{h, js(t, "({method: 'POST', body: 5})"), nil, noop, noop}, "INVALID_ARGUMENT"},
		{"pass body an object", "pass", []any{h, js(t, "({method: 'POST', body: {length: 3}})"), nil, noop, noop}, "INVALID_ARGUMENT"},
		{"pass body a forged byteLength", "pass", []any{h, js(t, "({method: 'POST', body: {byteLength: 3e9}})"), nil, noop, noop}, "INVALID_ARGUMENT"},
		{"pass body over 32 MiB", "pass", []any{h, js(t, "({method: 'POST', body: new Uint8Array(33 << 20)})"), nil, noop, noop}, "INVALID_ARGUMENT"},
		{"query over 32 MiB", "fetchWithAuth", []any{h, js(t, "'{'.padEnd(33 << 20, ' ') + '}'")}, "INVALID_ARGUMENT"},
		{"variables over 32 MiB", "fetchWithAuth", []any{h, "{ me { id } }", js(t, "'{\"a\":\"' + 'é'.repeat(17 << 20) + '\"}'")}, "INVALID_ARGUMENT"},
		{"login password over 32 MiB", "login", []any{h, js(t, "({username: 'demo', password: 'x'.repeat(33 << 20)})")}, "INVALID_ARGUMENT"},
		{"pass without its functions", "pass", []any{h, js(t, "({method: 'POST'})")}, "INVALID_ARGUMENT"},
		{"pass query not a string", "pass", []any{h, js(t, "({method: 'GET', query: 5})"), nil, noop, noop}, "INVALID_ARGUMENT"},
		{"pass before login", "pass", []any{h, js(t, "({method: 'POST', body: '{}'})"), nil, noop, noop}, "NOT_AUTHENTICATED"},
	}
	for _, tt := range async {
		t.Run(tt.name, func(t *testing.T) {
			_, rejected := settle(t, call(t, binding, tt.method, tt.args...))
			if c := codeOf(rejected); c != tt.want {
				t.Fatalf("%s rejected with %s, want %s", tt.method, describe(rejected), tt.want)
			}
		})
	}
}

func TestThousandHostileCallsLeaveModuleWorking(t *testing.T) {
	binding := newBinding(t)
	h := newClient(t, binding, "{endpoint: 'https://api.example.com/graphql'}")
	before := jsbridge.Stats()
	hostile := []safejs.Value{
		safejs.Null(), safejs.Undefined(), js(t, "new Proxy({}, {get() { throw new Error('x') }})"),
		js(t, "({get username() { throw new Error('x') }})"), js(t, "Symbol('s')"), js(t, "'x'.repeat(1 << 16)"),
		js(t, "10n"), js(t, "({username: 'u', password: 2n})"),
	}
	var pending []safejs.Value
	for i := range 1000 {
		arg := hostile[i%len(hostile)]
		switch i % 5 {
		case 0:
			call(t, binding, "newClient", arg)
		case 1:
			pending = append(pending, call(t, binding, "login", h, arg, arg))
		case 2:
			pending = append(pending, call(t, binding, "fetchWithAuth", arg, arg, arg))
			pending = append(pending, call(t, binding, "pass", h, arg, arg, arg, arg))
		case 3:
			call(t, binding, "onTokenChange", arg, arg)
		case 4:
			call(t, binding, "tokenExpiresIn", arg)
		}
	}
	for _, p := range pending {
		if _, rejected := settle(t, p); codeOf(rejected) == "" {
			t.Fatalf("a hostile call settled without an error: %s", describe(rejected))
		}
	}
	v := call(t, binding, "isAuthenticated", h)
	if authenticated, err := v.Bool(); jsbridge.TypeOf(v) != safejs.TypeBoolean || err != nil || authenticated {
		t.Fatalf("isAuthenticated after hostile calls = %s", describe(v))
	}
	if after := jsbridge.Stats(); after.Funcs != before.Funcs || after.Waits != before.Waits {
		t.Errorf("funcs %d → %d, waits %d → %d", before.Funcs, after.Funcs, before.Waits, after.Waits)
	}
}

func TestPanicInsideExportBecomesError(t *testing.T) {
	binding := newBinding(t)
	h := newClient(t, binding, "{endpoint: 'https://api.example.com/graphql'}")
	defer func() { testHook = func(string) {} }()
	force := func(where string) {
		testHook = func(name string) {
			if name == where {
				panic("forced")
			}
		}
	}
	for _, where := range []string{"tokenExpiresIn", "tokenUsableFor", "isAuthenticated", "tokenExpiresAt", "logout", "close", "onTokenChange", "newClient"} {
		force(where)
		args := []any{h}
		if where == "onTokenChange" {
			args = append(args, js(t, "() => {}"))
		}
		v := call(t, binding, where, args...)
		testHook = func(string) {}
		if c := codeOf(v); c != "INTERNAL" || !strings.Contains(describe(v), "internal error") {
			t.Fatalf("panic in %s: %s, want INTERNAL", where, describe(v))
		}
	}
	for _, where := range []string{"login", "login.work", "fetchWithAuth", "fetchWithAuth.work", "pass", "pass.work"} {
		force(where)
		method, _, _ := strings.Cut(where, ".")
		args := []any{h, js(t, "({username: 'u', password: 'p'})")}
		switch method {
		case "fetchWithAuth":
			args = []any{h, "{ me { id } }"}
		case "pass":
			args = []any{h, js(t, "({method: 'POST', body: '{}'})"), nil, js(t, "() => {}"), js(t, "() => {}")}
		}
		_, rejected := settle(t, call(t, binding, method, args...))
		testHook = func(string) {}
		if c := codeOf(rejected); c != "INTERNAL" {
			t.Fatalf("panic in %s: %s, want INTERNAL", where, describe(rejected))
		}
	}
	// The module keeps working.
	if _, rejected := settle(t, call(t, binding, "fetchWithAuth", h, "{ me { id } }")); codeOf(rejected) != "NOT_AUTHENTICATED" {
		t.Fatalf("a call after the panics: %s, want NOT_AUTHENTICATED", describe(rejected))
	}
}
