package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gqlauth/gqlauth/wasm/graphql"
	"github.com/gqlauth/gqlauth/wasm/session"
)

const endpoint = "https://api.example.com/graphql"

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fakeAPI is a Transport that plays the seed's API: it issues a token on
// login and a fresh one on every authenticated request, and records what it
// was sent.
type fakeAPI struct {
	t      testing.TB
	clock  *fakeClock
	issued atomic.Int64

	mu       sync.Mutex
	sent     []*Request // copies, as the server received them
	bodies   [][]byte   // the caller's own body slices
	valid    map[string]bool
	override func(req *Request) (*Response, error) // when set, answers instead
}

func newFakeAPI(t testing.TB, clock *fakeClock) *fakeAPI {
	return &fakeAPI{t: t, clock: clock, valid: map[string]bool{}}
}

func (f *fakeAPI) mint(sub string) string {
	n := f.issued.Add(1)
	iat := f.clock.Now().Add(time.Duration(n) * time.Millisecond)
	raw, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": sub, "jti": fmt.Sprint(n),
		"iat": float64(iat.UnixMilli()) / 1000,
		"exp": float64(iat.Add(time.Hour).UnixMilli()) / 1000,
	}).SignedString([]byte("k"))
	if err != nil {
		f.t.Fatal(err)
	}
	f.valid[raw] = true
	return raw
}

func (f *fakeAPI) RoundTrip(ctx context.Context, req *Request) (*Response, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cp := *req
	cp.Body = append([]byte(nil), req.Body...)
	f.sent = append(f.sent, &cp)
	f.bodies = append(f.bodies, req.Body)
	req = &cp
	if f.override != nil {
		return f.override(req)
	}
	if strings.Contains(string(req.Body), "loginUser") {
		if !strings.Contains(string(req.Body), `"password":"right"`) {
			return jsonResponse(200, `{"data":{"loginUser":null},"errors":[{"message":"invalid username, email or password","customer_facing":true}]}`, nil), nil
		}
		tok := f.mint("1")
		return jsonResponse(200, `{"data":{"loginUser":{"id":"1"}}}`, map[string]string{"X-Authorization": "Bearer " + tok, "Authorization": "Bearer " + tok}), nil
	}
	auth := strings.TrimPrefix(req.Header["Authorization"], "Bearer ")
	if !f.valid[auth] {
		return jsonResponse(200, `{"errors":[{"message":"Unauthorized","locations":[{"line":2,"column":3}],"customer_facing":false}]}`, nil), nil
	}
	tok := f.mint("1")
	return jsonResponse(200, `{"data":{"me":{"id":"1"}}}`, map[string]string{"X-Authorization": "Bearer " + tok}), nil
}

func (f *fakeAPI) requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sent)
}

func (f *fakeAPI) last() *Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sent[len(f.sent)-1]
}

func jsonResponse(status int, body string, header map[string]string) *Response {
	return &Response{Status: status, Body: []byte(body), Header: header}
}

type recorder struct {
	mu       sync.Mutex
	events   []session.Reason
	causes   []string
	warnings []error
}

func (r *recorder) options() []Option {
	return []Option{
		OnEvent(func(e Event) {
			r.mu.Lock()
			r.events = append(r.events, e.Reason)
			r.causes = append(r.causes, e.Cause)
			r.mu.Unlock()
		}),
		OnWarning(func(err error) { r.mu.Lock(); r.warnings = append(r.warnings, err); r.mu.Unlock() }),
	}
}

func (r *recorder) reasons() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s []string
	for _, e := range r.events {
		s = append(s, string(e))
	}
	return strings.Join(s, ",")
}

func newTestClient(t *testing.T, opts ...Option) (*Client, *fakeAPI, *fakeClock, *recorder) {
	t.Helper()
	clock := &fakeClock{now: t0}
	api := newFakeAPI(t, clock)
	rec := &recorder{}
	all := append([]Option{WithClock(clock), WithLeeway(0)}, rec.options()...)
	c, err := New(endpoint, api, append(all, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	c.afterFunc = func(time.Duration, func()) func() bool { return func() bool { return true } }
	return c, api, clock, rec
}

func login(t *testing.T, c *Client) LoginResult {
	t.Helper()
	res, err := c.Login(context.Background(), Credentials{Username: "demo", Password: []byte("right")})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestLoginSendsLoginUserAndInstallsToken(t *testing.T) {
	c, api, _, rec := newTestClient(t)
	res := login(t, c)
	if res.User != `{"id":"1"}` {
		t.Errorf("User = %s, want the loginUser object", res.User)
	}
	if got, want := res.ExpiresAt, c.ExpiresAt(); !got.Equal(want) || got.IsZero() {
		t.Errorf("ExpiresAt = %v, client says %v", got, want)
	}
	req := api.last()
	var body struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	if err := json.Unmarshal(req.Body, &body); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body.Query, "loginUser(") || body.Variables["username"] != "demo" || body.Variables["email"] != nil {
		t.Errorf("login request = %s", req.Body)
	}
	if _, ok := req.Header["Authorization"]; ok {
		t.Error("login sent an Authorization header")
	}
	if !c.Authenticated() || rec.reasons() != "login" {
		t.Errorf("Authenticated() = %t, events %q", c.Authenticated(), rec.reasons())
	}
}

func TestLoginZeroesTheBodyItSent(t *testing.T) {
	c, api, _, _ := newTestClient(t)
	login(t, c)
	if strings.Contains(string(api.bodies[0]), "right") {
		t.Error("the request body still holds the password after login")
	}
}

func TestLoginBodyBuffersNeverGrow(t *testing.T) {
	// Every byte of this password needs escaping, to six bytes at most. A
	// buffer that grew would be a third allocation, and leave a copy of the
	// password behind.
	cr := Credentials{Username: "demo\n", Email: "\x02", Password: []byte(strings.Repeat("\x01\"\xff\u2028", 50))}
	var body []byte
	allocs := testing.AllocsPerRun(20, func() {
		var err error
		if body, err = loginBody(cr); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 2 {
		t.Errorf("loginBody made %v allocations, want 2 (the variables and the body)", allocs)
	}
	if !json.Valid(body) {
		t.Fatalf("the body is not JSON: %q", body)
	}
}

func TestLoginFailures(t *testing.T) {
	tests := []struct {
		name   string
		cr     Credentials
		answer *Response
		want   Code
	}{
		{"no password", Credentials{Username: "demo"}, nil, CodeInvalidArgument},
		{"no username or email", Credentials{Password: []byte("x")}, nil, CodeInvalidArgument},
		{"wrong password", Credentials{Email: "demo@example.com", Password: []byte("wrong")}, nil, CodeLoginFailed},
		{"no token header", Credentials{Username: "demo", Password: []byte("right")}, jsonResponse(200, `{"data":{"loginUser":{"id":"1"}}}`, nil), CodeTokenHeaderMissing},
		{"token not a JWT", Credentials{Username: "demo", Password: []byte("right")}, jsonResponse(200, `{"data":{"loginUser":{"id":"1"}}}`, map[string]string{"Authorization": "Bearer x.y"}), CodeTokenMalformed},
		{"server error page", Credentials{Username: "demo", Password: []byte("right")}, jsonResponse(500, `<html>`, nil), CodeHTTPError},
		{"bad gateway with JSON errors", Credentials{Username: "demo", Password: []byte("right")}, jsonResponse(502, `{"errors":[{"message":"bad gateway"}]}`, nil), CodeHTTPError},
		{"401 with errors", Credentials{Username: "demo", Password: []byte("wrong")}, jsonResponse(401, `{"errors":[{"message":"bad password"}]}`, nil), CodeLoginFailed},
		{"garbage", Credentials{Username: "demo", Password: []byte("right")}, jsonResponse(200, `{"data":`, nil), CodeBadResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, api, _, rec := newTestClient(t)
			if tt.answer != nil {
				api.override = func(*Request) (*Response, error) { return tt.answer, nil }
			}
			_, err := c.Login(context.Background(), tt.cr)
			if got := CodeOf(err); got != tt.want {
				t.Fatalf("Login() code = %s (%v), want %s", got, err, tt.want)
			}
			if c.Authenticated() || rec.reasons() != "" {
				t.Errorf("failed login left Authenticated() = %t, events %q", c.Authenticated(), rec.reasons())
			}
		})
	}
}

func TestLoginFailedKeepsServerErrors(t *testing.T) {
	c, _, _, _ := newTestClient(t)
	_, err := c.Login(context.Background(), Credentials{Username: "demo", Password: []byte("wrong")})
	code, status, gqlErrs := Details(err)
	if code != CodeLoginFailed || status != 200 || !strings.Contains(gqlErrs, `"customer_facing":true`) {
		t.Fatalf("Details() = %s, %d, %s", code, status, gqlErrs)
	}
	if !strings.Contains(err.Error(), "invalid username, email or password") {
		t.Errorf("message %q does not give the server's reason", err)
	}
}

func TestTokenHeaderMissingNamesExposeHeaders(t *testing.T) {
	c, api, _, _ := newTestClient(t)
	api.override = func(*Request) (*Response, error) {
		return jsonResponse(200, `{"data":{"loginUser":{"id":"1"}}}`, nil), nil
	}
	_, err := c.Login(context.Background(), Credentials{Username: "demo", Password: []byte("right")})
	if !strings.Contains(fmt.Sprint(err), "Access-Control-Expose-Headers") {
		t.Fatalf("error %q does not tell what to fix", err)
	}
}

func TestDoSendsBearerAndRotates(t *testing.T) {
	c, api, _, rec := newTestClient(t)
	login(t, c)
	first := api.last()
	if _, err := c.Do(context.Background(), graphql.Request{Query: "{ me { id } }"}); err != nil {
		t.Fatal(err)
	}
	loginTok := api.issued.Load()
	if _, err := c.Do(context.Background(), graphql.Request{Query: "{ me { id } }"}); err != nil {
		t.Fatal(err)
	}
	second := api.last()
	if second.Header["Authorization"] == "" || second.Header["Authorization"] == first.Header["Authorization"] {
		t.Fatal("second request did not carry a token")
	}
	if got, want := rec.reasons(), "login,rotate,rotate"; got != want {
		t.Errorf("events = %q, want %q", got, want)
	}
	if api.issued.Load() != loginTok+1 {
		t.Errorf("issued %d tokens", api.issued.Load())
	}
}

func TestDoWithoutTokenSendsNothing(t *testing.T) {
	c, api, clock, rec := newTestClient(t)
	_, err := c.Do(context.Background(), graphql.Request{Query: "{ me { id } }"})
	if CodeOf(err) != CodeNotAuthenticated || api.requests() != 0 {
		t.Fatalf("Do() before login: %v, %d requests", err, api.requests())
	}
	login(t, c)
	clock.Advance(time.Hour + time.Millisecond)
	sent := api.requests()
	_, err = c.Do(context.Background(), graphql.Request{Query: "{ me { id } }"})
	if CodeOf(err) != CodeTokenExpired || api.requests() != sent {
		t.Fatalf("Do() after expiry: %v, %d new requests", err, api.requests()-sent)
	}
	if got, want := rec.reasons(), "login,expired"; got != want {
		t.Errorf("events = %q, want %q", got, want)
	}
	if c.ExpiresIn() != 0 || c.Authenticated() {
		t.Errorf("expired token: ExpiresIn() = %v, Authenticated() = %t", c.ExpiresIn(), c.Authenticated())
	}
}

func TestDoUnauthorizedDropsTokenAndKeepsServerErrors(t *testing.T) {
	c, api, _, rec := newTestClient(t)
	login(t, c)
	api.mu.Lock()
	clear(api.valid) // the server forgets every token
	api.mu.Unlock()
	_, err := c.Do(context.Background(), graphql.Request{Query: "{\n  me { id }\n}"})
	code, status, gqlErrs := Details(err)
	if code != CodeUnauthorized || status != 200 || !strings.Contains(gqlErrs, `"locations":[{"line":2,"column":3}]`) || !strings.Contains(gqlErrs, `"customer_facing":false`) {
		t.Fatalf("Details() = %s, %d, %s", code, status, gqlErrs)
	}
	if c.Authenticated() || rec.reasons() != "login,unauthorized" {
		t.Errorf("Authenticated() = %t, events %q", c.Authenticated(), rec.reasons())
	}
}

// rotateMeanwhile installs a newer token in c's session, as the answer to
// another request in flight would.
func rotateMeanwhile(t *testing.T, c *Client, api *fakeAPI) {
	ticket, _, err := c.sess.Begin()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := session.ParseHeader(api.mint("1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.sess.Rotate(ticket, tok); err != nil {
		t.Fatal(err)
	}
}

const refusal = `{"errors":[{"message":"Unauthorized","locations":[{"line":1,"column":3}],"customer_facing":false}]}`

func TestDoReplaysOnceWhenTokenWasSuperseded(t *testing.T) {
	c, api, _, _ := newTestClient(t)
	login(t, c)
	var calls int
	api.override = func(req *Request) (*Response, error) {
		calls++
		if calls == 1 {
			// While this request was in flight another answer rotated the token;
			// the server now refuses the superseded one.
			rotateMeanwhile(t, c, api)
			return jsonResponse(200, refusal, nil), nil
		}
		return jsonResponse(200, `{"data":{"me":{"id":"1"}}}`, nil), nil
	}
	res, err := c.Do(context.Background(), graphql.Request{Query: "{ me { id } }"})
	if err != nil || calls != 2 || !strings.Contains(string(res.Body), `"me"`) {
		t.Fatalf("Do() = %s, %v after %d calls; want success after one replay", res.Body, err, calls)
	}
}

func TestDoDoesNotReplayTwice(t *testing.T) {
	c, api, _, _ := newTestClient(t)
	login(t, c)
	var calls int
	api.override = func(req *Request) (*Response, error) {
		calls++
		rotateMeanwhile(t, c, api)
		return jsonResponse(200, refusal, nil), nil
	}
	_, err := c.Do(context.Background(), graphql.Request{Query: "{ me { id } }"})
	if CodeOf(err) != CodeUnauthorized || calls != 2 {
		t.Fatalf("Do() = %v after %d calls; want UNAUTHORIZED after exactly one replay", err, calls)
	}
}

func TestPermissionErrorWithNewTokenKeepsTheSession(t *testing.T) {
	c, api, _, rec := newTestClient(t)
	login(t, c)
	var calls int
	api.override = func(req *Request) (*Response, error) {
		calls++ // a mutation that ran, its answer null as a whole, with a fresh token: authenticated
		return jsonResponse(200, `{"data":null,"errors":[{"message":"Unauthorized","path":["forbiddenStrict"]}]}`,
			map[string]string{"X-Authorization": "Bearer " + api.mint("1")}), nil
	}
	res, err := c.Do(context.Background(), graphql.Request{Query: "mutation { addItem(name: \"a\") { id } forbiddenStrict }"})
	if err != nil || calls != 1 || !strings.Contains(string(res.Body), `"data":null`) {
		t.Fatalf("Do() = %s, %v after %d calls; want the answer, sent once", res.Body, err, calls)
	}
	if got, want := rec.reasons(), "login,rotate"; got != want || !c.Authenticated() {
		t.Errorf("events = %q (want %q), Authenticated() = %t", got, want, c.Authenticated())
	}
}

// TestRefusalIsToldByRotation pins the rule: an answer refuses the token
// when its status is 401 or it has an Unauthorized error (by message or by
// extensions.code), and it brings no new usable token, whatever data holds.
func TestRefusalIsToldByRotation(t *testing.T) {
	const (
		nulledField = `{"data":{"me":null},"errors":[{"message":"Unauthorized","path":["me"]}]}`
		byCode      = `{"data":{"me":null},"errors":[{"message":"You must be logged in","extensions":{"code":"UNAUTHENTICATED"}}]}`
		hasura      = `{"errors":[{"message":"Could not verify JWT: JWTExpired","extensions":{"code":"invalid-jwt","path":"$"}}]}`
		ordinary    = `{"data":{"me":null},"errors":[{"message":"boom","path":["me"]}]}`
	)
	tests := []struct {
		name    string
		status  int
		body    string
		token   string // "new", "same" (the one sent), "old" (an older one), or none
		opts    []Option
		refused bool
	}{
		{"a nulled field, no token", 200, nulledField, "", nil, true},
		{"a nulled field, a new token", 200, nulledField, "new", nil, false},
		{"a nulled field, the token sent, echoed", 200, nulledField, "same", nil, true},
		{"a nulled field, an older token", 200, nulledField, "old", nil, true},
		{"the seed's refusal, no token", 200, refusal, "", nil, true},
		{"UNAUTHENTICATED, no token", 200, byCode, "", nil, true},
		{"UNAUTHENTICATED, a new token", 200, byCode, "new", nil, false},
		{"UNAUTHENTICATED when other codes are named", 200, byCode, "", []Option{WithRefusalCodes([]string{"invalid-jwt"})}, false},
		{"Hasura's code when named", 200, hasura, "", []Option{WithRefusalCodes([]string{"invalid-jwt"})}, true},
		{"Hasura's code by default", 200, hasura, "", nil, false},
		{"401 without a body", 401, ``, "", nil, true},
		{"401 with a new token", 401, `{"errors":[{"message":"nope"}]}`, "new", nil, false},
		{"an ordinary error, no token", 200, ordinary, "", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, api, _, rec := newTestClient(t, tt.opts...)
			login(t, c)
			older := api.mint("1")
			rotateMeanwhile(t, c, api)
			api.override = func(req *Request) (*Response, error) {
				h := map[string]string{}
				switch tt.token {
				case "new":
					h["X-Authorization"] = "Bearer " + api.mint("1")
				case "same":
					h["X-Authorization"] = req.Header["Authorization"]
				case "old":
					h["X-Authorization"] = "Bearer " + older
				}
				return jsonResponse(tt.status, tt.body, h), nil
			}
			_, err := c.Do(context.Background(), graphql.Request{Query: "{ me { id } }"})
			if got := CodeOf(err) == CodeUnauthorized; got != tt.refused {
				t.Fatalf("Do() = %v; refused = %t, want %t", err, got, tt.refused)
			}
			if tt.refused == c.Authenticated() || tt.refused != strings.HasSuffix(rec.reasons(), ",unauthorized") {
				t.Errorf("Authenticated() = %t, events %q", c.Authenticated(), rec.reasons())
			}
		})
	}
}

func TestGraphQLResponseMediaType(t *testing.T) {
	const invalid = `{"errors":[{"message":"Cannot query field \"nope\" on type \"Query\".","extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}]}`
	tests := []struct {
		contentType string
		status      int
		want        Code // "" when it resolves
	}{
		{"application/graphql-response+json; charset=utf-8", 400, ""},
		{"application/graphql-response+json", 422, ""},
		{"application/json", 400, CodeHTTPError},
		{"application/graphql-response+json", 500, CodeHTTPError},
	}
	for _, tt := range tests {
		c, api, _, _ := newTestClient(t)
		login(t, c)
		api.override = func(req *Request) (*Response, error) {
			if got := req.Header["Accept"]; got != "application/graphql-response+json, application/json;q=0.9" {
				t.Errorf("Accept = %q", got)
			}
			return jsonResponse(tt.status, invalid, map[string]string{"Content-Type": tt.contentType, "X-Authorization": "Bearer " + api.mint("1")}), nil
		}
		res, err := c.Do(context.Background(), graphql.Request{Query: "{ nope }"})
		if tt.want == "" && (err != nil || res.Status != tt.status) || tt.want != "" && CodeOf(err) != tt.want {
			t.Errorf("%d %s: Do() = %d, %v; want code %q", tt.status, tt.contentType, res.Status, err, tt.want)
		}
		if !c.Authenticated() {
			t.Errorf("%d %s: the session ended", tt.status, tt.contentType)
		}
	}
}

func TestFieldErrorUnauthorizedWithDataKeepsTheSession(t *testing.T) {
	c, api, _, rec := newTestClient(t)
	login(t, c)
	var calls int
	api.override = func(req *Request) (*Response, error) {
		calls++
		return jsonResponse(200, `{"data":{"addItem":{"id":"51"},"forbidden":null},"errors":[{"message":"Unauthorized","path":["forbidden"]}]}`,
			map[string]string{"X-Authorization": "Bearer " + api.mint("1")}), nil
	}
	res, err := c.Do(context.Background(), graphql.Request{Query: "mutation { addItem(name: \"a\") { id } forbidden }"})
	if err != nil || calls != 1 || !strings.Contains(string(res.Body), `"forbidden"`) {
		t.Fatalf("Do() = %s, %v after %d calls; want the partial data, sent once", res.Body, err, calls)
	}
	if got, want := rec.reasons(), "login,rotate"; got != want || !c.Authenticated() {
		t.Errorf("events = %q (want %q), Authenticated() = %t", got, want, c.Authenticated())
	}
}

func TestTokenHeaderSentTwice(t *testing.T) {
	tests := []struct {
		name   string
		header func(a, b string) map[string]string
		want   Code
		jti    string // of the installed token
	}{
		{"the same token twice", func(a, _ string) map[string]string {
			return map[string]string{"X-Authorization": "Bearer " + a + ", Bearer " + a}
		}, "", "a"},
		{"two tokens, Authorization the fallback", func(a, b string) map[string]string {
			return map[string]string{"X-Authorization": "Bearer " + a + ", Bearer " + b, "Authorization": "Bearer " + b}
		}, "", "b"},
		{"two tokens and no fallback", func(a, b string) map[string]string {
			return map[string]string{"X-Authorization": "Bearer " + a + ", Bearer " + b}
		}, CodeTokenMalformed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, api, _, _ := newTestClient(t)
			var jtis map[string]string
			api.override = func(*Request) (*Response, error) {
				a, b := api.mint("1"), api.mint("1")
				jtis = map[string]string{"a": jtiOf(t, a), "b": jtiOf(t, b)}
				return jsonResponse(200, `{"data":{"loginUser":{"id":"1"}}}`, tt.header(a, b)), nil
			}
			_, err := c.Login(context.Background(), Credentials{Username: "demo", Password: []byte("right")})
			if tt.want != "" {
				if CodeOf(err) != tt.want {
					t.Fatalf("Login() = %v, want %s", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ticket, _, _ := c.sess.Begin()
			if ticket.Token.ID != jtis[tt.jti] {
				t.Errorf("installed jti %s, want token %s (%s)", ticket.Token.ID, tt.jti, jtis[tt.jti])
			}
		})
	}
}

func jtiOf(t *testing.T, raw string) string {
	tok, err := session.ParseHeader(raw)
	if err != nil {
		t.Fatal(err)
	}
	return tok.ID
}

// gatedAPI holds each request until the test lets it through.
type gatedAPI struct {
	*fakeAPI
	arrived chan struct{}
	gates   chan chan struct{}
}

func (g *gatedAPI) RoundTrip(ctx context.Context, req *Request) (*Response, error) {
	gate := make(chan struct{})
	g.gates <- gate
	g.arrived <- struct{}{}
	select {
	case <-gate:
		return g.fakeAPI.RoundTrip(ctx, req)
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

func TestAbortedLoginGivesUpItsPlace(t *testing.T) {
	clock := &fakeClock{now: t0}
	api := &gatedAPI{fakeAPI: newFakeAPI(t, clock), arrived: make(chan struct{}, 2), gates: make(chan chan struct{}, 2)}
	rec := &recorder{}
	c, err := New(endpoint, api, append(rec.options(), WithClock(clock))...)
	if err != nil {
		t.Fatal(err)
	}
	c.afterFunc = func(time.Duration, func()) func() bool { return func() bool { return true } }
	cr := Credentials{Username: "demo", Password: []byte("right")}

	earlier := make(chan error)
	go func() { _, err := c.Login(context.Background(), cr); earlier <- err }()
	<-api.arrived
	firstGate := <-api.gates
	ctx, abort := context.WithCancelCause(context.Background())
	later := make(chan error)
	go func() { _, err := c.Login(ctx, cr); later <- err }()
	<-api.arrived
	<-api.gates // never opened: the later login is aborted while it waits
	abort(ErrAborted)
	if err := <-later; CodeOf(err) != CodeAborted {
		t.Fatalf("the aborted login: %v, want ABORTED", err)
	}
	close(firstGate)
	if err := <-earlier; err != nil {
		t.Fatalf("the earlier login after the later one was aborted: %v, want success", err)
	}
	if !c.Authenticated() || rec.reasons() != "login" {
		t.Errorf("Authenticated() = %t, events %q", c.Authenticated(), rec.reasons())
	}
}

func TestCloseEndsCallsUnderWay(t *testing.T) {
	clock := &fakeClock{now: t0}
	api := &gatedAPI{fakeAPI: newFakeAPI(t, clock), arrived: make(chan struct{}, 1), gates: make(chan chan struct{}, 1)}
	c, err := New(endpoint, api, WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		_, err := c.Login(context.Background(), Credentials{Username: "demo", Password: []byte("right")})
		done <- err
	}()
	<-api.arrived
	<-api.gates
	if c.InFlight() != 1 {
		t.Fatalf("InFlight() = %d during a login, want 1", c.InFlight())
	}
	c.Close(context.Background())
	if err := <-done; !errors.Is(err, ErrClosed) || CodeOf(err) != CodeNotAuthenticated {
		t.Fatalf("a login under way at Close: %v, want ErrClosed (NOT_AUTHENTICATED)", err)
	}
	if c.InFlight() != 0 {
		t.Errorf("InFlight() = %d after Close, want 0", c.InFlight())
	}
}

func TestDoResolvesGraphQLErrorsAsData(t *testing.T) {
	c, api, _, _ := newTestClient(t)
	login(t, c)
	api.override = func(*Request) (*Response, error) {
		return jsonResponse(200, `{"data":{"a":1,"b":null},"errors":[{"message":"b failed","path":["b"]}]}`, nil), nil
	}
	res, err := c.Do(context.Background(), graphql.Request{Query: "{ a b }"})
	if err != nil || !strings.Contains(string(res.Body), "b failed") {
		t.Fatalf("Do() = %s, %v; want the partial data", res.Body, err)
	}
	if !c.Authenticated() {
		t.Error("an ordinary GraphQL error dropped the token")
	}
}

func TestDoFailures(t *testing.T) {
	tests := []struct {
		name    string
		answer  func() (*Response, error)
		want    Code
		status  int
		gqlErrs bool
	}{
		{"500 with HTML", func() (*Response, error) { return jsonResponse(500, "<html>boom</html>", nil), nil }, CodeHTTPError, 500, false},
		{"502 with JSON errors", func() (*Response, error) {
			return jsonResponse(502, `{"errors":[{"message":"upstream down"}]}`, nil), nil
		}, CodeHTTPError, 502, true},
		{"truncated JSON", func() (*Response, error) { return jsonResponse(200, `{"data":{"me":`, nil), nil }, CodeBadResponse, 200, false},
		{"empty body", func() (*Response, error) { return jsonResponse(200, ``, nil), nil }, CodeBadResponse, 200, false},
		{"not JSON", func() (*Response, error) { return jsonResponse(200, `hello`, nil), nil }, CodeBadResponse, 200, false},
		{"too large", func() (*Response, error) { return nil, fmt.Errorf("%w: 40 MiB", ErrResponseTooLarge) }, CodeBadResponse, 0, false},
		{"network", func() (*Response, error) { return nil, fmt.Errorf("%w: connection refused", ErrNetwork) }, CodeNetworkError, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, api, _, _ := newTestClient(t)
			login(t, c)
			api.override = func(*Request) (*Response, error) { return tt.answer() }
			_, err := c.Do(context.Background(), graphql.Request{Query: "{ me { id } }"})
			code, status, gqlErrs := Details(err)
			if code != tt.want || status != tt.status || (gqlErrs != "") != tt.gqlErrs {
				t.Fatalf("Details() = %s, %d, %q; want %s, %d, errors: %t", code, status, gqlErrs, tt.want, tt.status, tt.gqlErrs)
			}
			if !c.Authenticated() {
				t.Error("a transport or protocol fault dropped the session")
			}
		})
	}
}

// blockingAPI answers only when its context ends.
type blockingAPI struct{}

func (blockingAPI) RoundTrip(ctx context.Context, _ *Request) (*Response, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestTimeoutAndAbort(t *testing.T) {
	c, err := New(endpoint, blockingAPI{}, WithTimeout(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Login(context.Background(), Credentials{Username: "u", Password: []byte("p")})
	if CodeOf(err) != CodeTimeout {
		t.Fatalf("Login() past the timeout: %v, want TIMEOUT", err)
	}
	c, _ = New(endpoint, blockingAPI{})
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(ErrAborted)
	_, err = c.Login(ctx, Credentials{Username: "u", Password: []byte("p")})
	if CodeOf(err) != CodeAborted {
		t.Fatalf("Login() with an aborted context: %v, want ABORTED", err)
	}
}

func TestWarningForRejectedRotation(t *testing.T) {
	c, api, _, rec := newTestClient(t)
	login(t, c)
	api.override = func(*Request) (*Response, error) {
		return jsonResponse(200, `{"data":{}}`, map[string]string{"X-Authorization": "Bearer " + "not-a-jwt"}), nil
	}
	if _, err := c.Do(context.Background(), graphql.Request{Query: "{ me { id } }"}); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.warnings) != 1 || !errors.Is(rec.warnings[0], session.ErrMalformed) {
		t.Fatalf("warnings = %v, want one ErrMalformed", rec.warnings)
	}
	if !c.Authenticated() {
		t.Error("a bad rotated header dropped the held token")
	}
}

func TestNew(t *testing.T) {
	api := newFakeAPI(t, &fakeClock{now: t0})
	tests := []struct {
		name     string
		endpoint string
		opts     []Option
		want     Code // "" for success
	}{
		{"https", "https://api.example.com/graphql", nil, ""},
		{"http loopback ip", "http://127.0.0.1:8080/graphql", nil, ""},
		{"http localhost", "http://localhost:8080/graphql", nil, ""},
		{"http ipv6 loopback", "http://[::1]:8080/graphql", nil, ""},
		{"http remote", "http://api.example.com/graphql", nil, CodeInsecureEndpoint},
		{"http remote allowed", "http://api.example.com/graphql", []Option{AllowInsecureHTTP()}, ""},
		{"relative", "/graphql", nil, CodeInvalidArgument},
		{"empty", "", nil, CodeInvalidArgument},
		{"ftp", "ftp://example.com/x", nil, CodeInvalidArgument},
		{"javascript", "javascript:alert(1)", nil, CodeInvalidArgument},
		{"user info", "https://u:p@api.example.com/", nil, CodeInvalidArgument},
		{"header with CRLF", endpoint, []Option{WithHeaders(map[string]string{"X-A": "a\r\nb"})}, CodeInvalidArgument},
		{"bad header name", endpoint, []Option{WithHeaders(map[string]string{"X A": "a"})}, CodeInvalidArgument},
		{"overriding authorization", endpoint, []Option{WithHeaders(map[string]string{"authorization": "x"})}, CodeInvalidArgument},
		{"good header", endpoint, []Option{WithHeaders(map[string]string{"X-Request-Source": "app v1"})}, ""},
		{"zero timeout", endpoint, []Option{WithTimeout(0)}, CodeInvalidArgument},
		{"negative leeway", endpoint, []Option{WithLeeway(-time.Second)}, CodeInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.endpoint, api, tt.opts...)
			if err == nil && tt.want != "" || err != nil && CodeOf(err) != tt.want {
				t.Fatalf("New(%q) error = %v, want code %q", tt.endpoint, err, tt.want)
			}
		})
	}
}

func TestClosedClientRefusesCalls(t *testing.T) {
	c, api, _, rec := newTestClient(t)
	login(t, c)
	c.Close(context.Background())
	if _, err := c.Do(context.Background(), graphql.Request{Query: "{ me { id } }"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Do() after Close: %v", err)
	}
	if _, err := c.Login(context.Background(), Credentials{Username: "demo", Password: []byte("right")}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Login() after Close: %v", err)
	}
	if api.requests() != 1 || rec.reasons() != "login,logout" {
		t.Errorf("%d requests, events %q", api.requests(), rec.reasons())
	}
}

func TestExpiryTimerPublishesExpired(t *testing.T) {
	c, _, clock, rec := newTestClient(t)
	var fire func()
	var delay time.Duration
	c.afterFunc = func(d time.Duration, f func()) func() bool { delay, fire = d, f; return func() bool { return true } }
	login(t, c)
	if delay != time.Hour || fire == nil {
		t.Fatalf("expiry check scheduled in %v, want 1h", delay)
	}
	clock.Advance(time.Hour)
	fire()
	if got, want := rec.reasons(), "login,expired"; got != want {
		t.Errorf("events = %q, want %q", got, want)
	}
}

func TestConcurrentRequestsKeepNewestToken(t *testing.T) {
	c, api, _, _ := newTestClient(t)
	login(t, c)
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Do(context.Background(), graphql.Request{Query: "{ me { id } }"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	want := fmt.Sprint(api.issued.Load())
	if _, err := c.Do(context.Background(), graphql.Request{Query: "{ me { id } }"}); err != nil {
		t.Fatal(err)
	}
	sent := strings.TrimPrefix(api.last().Header["Authorization"], "Bearer ")
	tok, err := session.ParseHeader(sent)
	if err != nil || tok.ID != want {
		t.Fatalf("next request carried jti %q, want the newest %q", tok.ID, want)
	}
}

func TestEventsCarryTheirCause(t *testing.T) {
	c, _, clock, rec := newTestClient(t)
	var fire func()
	c.afterFunc = func(d time.Duration, f func()) func() bool { fire = f; return func() bool { return true } }
	tab := WithCause(context.Background(), "tab-a")
	if _, err := c.Login(tab, Credentials{Username: "demo", Password: []byte("right")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(WithCause(context.Background(), "tab-b"), graphql.Request{Query: "{ me { id } }"}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Hour)
	fire() // the expiry timer: no call caused it
	if _, err := c.Login(tab, Credentials{Username: "demo", Password: []byte("right")}); err != nil {
		t.Fatal(err)
	}
	// A call that notices the expiry before the timer does: still no
	// call's doing.
	clock.Advance(2 * time.Hour)
	if _, err := c.Do(WithCause(context.Background(), "tab-b"), graphql.Request{Query: "{ me { id } }"}); CodeOf(err) != CodeTokenExpired {
		t.Fatalf("Do after exp: %v, want TOKEN_EXPIRED", err)
	}
	if _, err := c.Login(tab, Credentials{Username: "demo", Password: []byte("right")}); err != nil {
		t.Fatal(err)
	}
	c.Logout(WithCause(context.Background(), "tab-b"))
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if got, want := strings.Join(rec.causes, ","), "tab-a,tab-b,,tab-a,,tab-a,tab-b"; got != want {
		t.Errorf("causes = %q (events %v), want %q", got, rec.events, want)
	}
}

func TestKeepAliveSendsWhenIdleAndStopsOnLogout(t *testing.T) {
	c, api, clock, rec := newTestClient(t, WithLeeway(time.Minute), WithKeepAlive(graphql.Request{Query: "{ __typename }"}, 5*time.Minute))
	type timer struct {
		d       time.Duration
		f       func()
		stopped bool
	}
	var timers []*timer
	c.afterFunc = func(d time.Duration, f func()) func() bool {
		tm := &timer{d: d, f: f}
		timers = append(timers, tm)
		return func() bool { tm.stopped = true; return true }
	}
	// Keep-alives are due about 54 minutes after their token came (an hour,
	// less the leeway, less five minutes); expiry checks 59.
	keepAlives := func() []*timer {
		var out []*timer
		for _, tm := range timers {
			if tm.d > 53*time.Minute && tm.d <= 54*time.Minute {
				out = append(out, tm)
			}
		}
		return out
	}
	login(t, c)
	if len(keepAlives()) != 1 || keepAlives()[0].d != 54*time.Minute {
		t.Fatalf("timers %v: want one keep-alive armed 54 min after login", timers)
	}
	// Busy: a request rotates the token before the keep-alive is due; the
	// old keep-alive is stopped and a new one armed.
	if _, err := c.Do(context.Background(), graphql.Request{Query: "{ me { id } }"}); err != nil {
		t.Fatal(err)
	}
	ka := keepAlives()
	if len(ka) != 2 || !ka[0].stopped || ka[1].stopped {
		t.Fatalf("after a rotation: keep-alives %+v", ka)
	}
	// Idle: the keep-alive fires and sends its query, whose answer rotates.
	sent := api.requests()
	clock.Advance(54 * time.Minute)
	ka[1].f()
	if api.requests() != sent+1 || !strings.Contains(string(api.last().Body), "__typename") {
		t.Fatalf("the keep-alive did not send its query")
	}
	rec.mu.Lock()
	lastCause := rec.causes[len(rec.causes)-1]
	rec.mu.Unlock()
	if lastCause != CauseKeepAlive {
		t.Errorf("the keep-alive's rotation has cause %q", lastCause)
	}
	// A keep-alive armed for a token that was replaced sends nothing.
	sent = api.requests()
	ka[0].f()
	if api.requests() != sent {
		t.Error("a stale keep-alive sent a request")
	}
	// Logout stops it: no token, nothing armed, nothing sent.
	if len(keepAlives()) != 3 {
		t.Fatalf("keep-alives %+v: want a third, armed by the keep-alive's own rotation", keepAlives())
	}
	c.Logout(context.Background())
	last := keepAlives()[2]
	if !last.stopped {
		t.Error("logout did not stop the keep-alive")
	}
	last.f()
	if api.requests() != sent {
		t.Error("a keep-alive sent a request after logout")
	}
}

// A keepAliveBefore as long as the token's life would fire at once, and its
// answer's token would arm it at once again: the keep-alive waits half the
// token's usable life instead, however long keepAliveBefore is.
func TestKeepAliveWaitsHalfTheTokensLifeAtLeast(t *testing.T) {
	c, _, _, _ := newTestClient(t, WithLeeway(time.Minute), WithKeepAlive(graphql.Request{Query: "{ __typename }"}, 2*time.Hour))
	var delays []time.Duration
	c.afterFunc = func(d time.Duration, f func()) func() bool {
		delays = append(delays, d)
		return func() bool { return true }
	}
	login(t, c)
	// The token is usable for 59 minutes: the expiry check at 59, the
	// keep-alive at 29.5.
	if !slices.Contains(delays, 59*time.Minute/2) || slices.Contains(delays, 0) {
		t.Errorf("timers armed after login: %v, want a keep-alive at %v and none at once", delays, 59*time.Minute/2)
	}
}

// A timer's function runs on its own goroutine, outside any export: a panic
// there becomes a warning, and the client goes on.
func TestKeepAlivePanicBecomesAWarning(t *testing.T) {
	c, api, _, rec := newTestClient(t, WithKeepAlive(graphql.Request{Query: "{ __typename }"}, time.Minute))
	var keepAlive func()
	c.afterFunc = func(d time.Duration, f func()) func() bool {
		if d < time.Hour { // the expiry check is due at the hour
			keepAlive = f
		}
		return func() bool { return true }
	}
	login(t, c)
	api.mu.Lock()
	api.override = func(*Request) (*Response, error) { panic("transport bug") }
	api.mu.Unlock()
	keepAlive()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.warnings) != 1 || !strings.Contains(rec.warnings[0].Error(), "the keep-alive failed: transport bug") {
		t.Errorf("warnings %v: want the keep-alive's panic", rec.warnings)
	}
}

func TestKeepAliveOptionIsChecked(t *testing.T) {
	api := newFakeAPI(t, &fakeClock{now: t0})
	for _, o := range []Option{
		WithKeepAlive(graphql.Request{}, time.Minute),
		WithKeepAlive(graphql.Request{Query: "{ a }"}, 0),
		WithKeepAlive(graphql.Request{Query: "{ a }", Variables: []byte("[1]")}, time.Minute),
	} {
		if _, err := New(endpoint, api, o); CodeOf(err) != CodeInvalidArgument {
			t.Errorf("New with a bad keep-alive: %v, want INVALID_ARGUMENT", err)
		}
	}
}

func TestCodeOfUnknownIsInternal(t *testing.T) {
	if got := CodeOf(errors.New("boom")); got != CodeInternal {
		t.Errorf("CodeOf(unknown) = %s", got)
	}
	if got := CodeOf(fmt.Errorf("wrapped twice: %w", fmt.Errorf("%w", session.ErrExpired))); got != CodeTokenExpired {
		t.Errorf("CodeOf(wrapped ErrExpired) = %s", got)
	}
}

func TestNewNeedsATransport(t *testing.T) {
	if _, err := New(endpoint, nil); CodeOf(err) != CodeInvalidArgument {
		t.Fatalf("New without a transport: %v, want INVALID_ARGUMENT", err)
	}
}

func TestRequestsCarryStaticHeaders(t *testing.T) {
	c, api, _, _ := newTestClient(t, WithHeaders(map[string]string{"X-App": "1"}))
	login(t, c)
	if h := api.last().Header; h["X-App"] != "1" || h["Content-Type"] != "application/json" || h["Authorization"] != "" {
		t.Fatalf("login headers = %v", h)
	}
	if _, err := c.Do(context.Background(), graphql.Request{Query: "{ me { id } }"}); err != nil {
		t.Fatal(err)
	}
	if h := api.last().Header; h["X-App"] != "1" || !strings.HasPrefix(h["Authorization"], "Bearer ") {
		t.Fatalf("request headers = %v", h)
	}
}

func TestBodyProblemKeepsTheStatus(t *testing.T) {
	tests := []struct {
		name    string
		problem error
		want    Code
	}{
		{"too large", fmt.Errorf("%w: over 1 KiB", ErrResponseTooLarge), CodeBadResponse},
		{"cut off", fmt.Errorf("%w: connection reset", ErrNetwork), CodeNetworkError},
		{"time ran out", fmt.Errorf("%w: in the body", ErrTimeout), CodeTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, api, _, _ := newTestClient(t)
			login(t, c)
			api.override = func(*Request) (*Response, error) {
				return &Response{Status: 502, Header: map[string]string{}, Problem: tt.problem}, nil
			}
			_, err := c.Do(context.Background(), graphql.Request{Query: "{ me { id } }"})
			if code, status, _ := Details(err); code != tt.want || status != 502 {
				t.Fatalf("Details() = %s, %d; want %s, 502", code, status, tt.want)
			}
		})
	}
}

func TestRotationKeepsTheArmedExpiryTimer(t *testing.T) {
	c, _, clock, rec := newTestClient(t)
	var armed []time.Duration
	var fire func()
	c.afterFunc = func(d time.Duration, f func()) func() bool {
		armed, fire = append(armed, d), f
		return func() bool { return true }
	}
	login(t, c)
	for range 3 {
		if _, err := c.Do(context.Background(), graphql.Request{Query: "{ me { id } }"}); err != nil {
			t.Fatal(err)
		}
	}
	if len(armed) != 1 {
		t.Fatalf("timer armed %d times for a login and 3 rotations, want once", len(armed))
	}
	// It fires at the login token's expiry; the rotated token lives longer,
	// so the check arms itself again instead of publishing expired.
	clock.Advance(armed[0] - 2*time.Millisecond) // the timer fires a little early by the session's clock
	fire()
	if len(armed) != 2 || strings.Contains(rec.reasons(), "expired") {
		t.Fatalf("after an early fire: armed %v, events %q", armed, rec.reasons())
	}
}

func TestTokenUnusableFromTheStartIsExpiredAtOnce(t *testing.T) {
	c, _, _, rec := newTestClient(t, WithLeeway(2*time.Hour)) // longer than the token lives
	login(t, c)
	if got, want := rec.reasons(), "login,expired"; got != want {
		t.Fatalf("events = %q, want %q", got, want)
	}
	if c.Authenticated() {
		t.Error("a token inside the leeway counts as usable")
	}
}
