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
	"github.com/gqlauth/gqlauth/wasm/internal/fault"
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
	causes   []Cause
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

func newTestClient(t *testing.T, opts ...Option) (*testClient, *fakeAPI, *fakeClock, *recorder) {
	t.Helper()
	clock := &fakeClock{now: t0}
	api := newFakeAPI(t, clock)
	rec := &recorder{}
	all := append([]Option{WithClock(clock), WithLeeway(0)}, rec.options()...)
	c, err := New(endpoint, append(all, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return &testClient{Client: c, api: api}, api, clock, rec
}

func login(t *testing.T, c *testClient) LoginResult {
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
	if res.User != `{"data":{"loginUser":{"id":"1"}}}` {
		t.Errorf("the body = %s, want the answer, whose data.loginUser is the user", res.User)
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
	code, status, inBody := Details(err)
	if code != CodeLoginFailed || status != 200 || !inBody {
		t.Fatalf("Details() = %s, %d, errors in the body: %t", code, status, inBody)
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
	code, status, inBody := Details(err)
	if code != CodeUnauthorized || status != 200 || !inBody {
		t.Fatalf("Details() = %s, %d, errors in the body: %t", code, status, inBody)
	}
	if c.Authenticated() || rec.reasons() != "login,unauthorized" {
		t.Errorf("Authenticated() = %t, events %q", c.Authenticated(), rec.reasons())
	}
}

// rotateMeanwhile installs a newer token in c's session, as the answer to
// another request in flight would.
func rotateMeanwhile(t *testing.T, c *testClient, api *fakeAPI) {
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
	c, api, _, rec := newTestClient(t)
	cr := Credentials{Username: "demo", Password: []byte("right")}
	earlier, err := c.Client.Login(cr, 1)
	if err != nil {
		t.Fatal(err)
	}
	later, err := c.Client.Login(cr, 1)
	if err != nil {
		t.Fatal(err)
	}
	if o := later.End(fault.New(ErrAborted, "the caller's signal")); CodeOf(o.Err) != CodeAborted {
		t.Fatalf("the aborted login: %v, want ABORTED", o.Err)
	}
	if o := c.drive(context.Background(), earlier, nil, func([]byte) error { return nil }); o.Err != nil {
		t.Fatalf("the earlier login after the later one was aborted: %v, want success", o.Err)
	}
	if !c.Authenticated() || rec.reasons() != "login" || api.requests() != 1 {
		t.Errorf("Authenticated() = %t, events %q, %d requests", c.Authenticated(), rec.reasons(), api.requests())
	}
}

func TestCloseEndsExchangesUnderWay(t *testing.T) {
	c, _, _, rec := newTestClient(t)
	login(t, c)
	x, err := c.Client.Query(graphql.Request{Query: "{ me { id } }"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	l, err := c.Client.Login(Credentials{Username: "demo", Password: []byte("right")}, 1)
	if err != nil {
		t.Fatal(err)
	}
	body := l.Request().Body
	if c.InFlight() != 2 {
		t.Fatalf("InFlight() = %d, want 2", c.InFlight())
	}
	ended := c.Client.Close(2)
	if len(ended) != 2 || c.InFlight() != 0 {
		t.Fatalf("Close() ended %d exchanges, %d still under way; want 2, 0", len(ended), c.InFlight())
	}
	if strings.Contains(string(body), "right") {
		t.Error("the login's body still holds the password after Close")
	}
	if o := x.End(nil); !errors.Is(o.Err, ErrClosed) || CodeOf(o.Err) != CodeNotAuthenticated {
		t.Errorf("an answer after Close: %v, want ErrClosed (NOT_AUTHENTICATED)", o.Err)
	}
	if _, err := c.Client.Query(graphql.Request{Query: "{ me { id } }"}, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("a query after Close: %v, want ErrClosed", err)
	}
	if got, want := rec.reasons(), "login,logout"; got != want || rec.causes[1] != 2 {
		t.Errorf("events %q (causes %v), want %q caused by the closer", got, rec.causes, want)
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
			code, status, inBody := Details(err)
			if code != tt.want || status != tt.status || inBody != tt.gqlErrs {
				t.Fatalf("Details() = %s, %d, errors in the body: %t; want %s, %d, %t", code, status, inBody, tt.want, tt.status, tt.gqlErrs)
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
	client, err := New(endpoint, WithTimeout(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	c := &testClient{Client: client, api: blockingAPI{}}
	if got := client.ExpiresAt(); !got.IsZero() {
		t.Fatal(got)
	}
	_, err = c.Login(context.Background(), Credentials{Username: "u", Password: []byte("p")})
	if CodeOf(err) != CodeTimeout {
		t.Fatalf("Login() past the timeout: %v, want TIMEOUT", err)
	}
	client, _ = New(endpoint)
	c = &testClient{Client: client, api: blockingAPI{}}
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
		{"timeout past setTimeout's limit", endpoint, []Option{WithTimeout(MaxTimeout + time.Millisecond)}, CodeInvalidArgument},
		{"the longest timeout", endpoint, []Option{WithTimeout(MaxTimeout)}, ""},
		{"negative leeway", endpoint, []Option{WithLeeway(-time.Second)}, CodeInvalidArgument},
		{"leeway over a year", endpoint, []Option{WithLeeway(MaxLeeway + time.Second)}, CodeInvalidArgument},
		{"credentials include", endpoint, []Option{WithCredentials("include")}, ""},
		{"credentials unknown", endpoint, []Option{WithCredentials("always")}, CodeInvalidArgument},
		{"no response bytes", endpoint, []Option{WithMaxResponseBytes(0)}, CodeInvalidArgument},
		{"refusal codes", endpoint, []Option{WithRefusalCodes([]string{"invalid-jwt"})}, ""},
		{"an empty refusal code", endpoint, []Option{WithRefusalCodes([]string{""})}, CodeInvalidArgument},
		{"too many refusal codes", endpoint, []Option{WithRefusalCodes(make([]string, 33))}, CodeInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.endpoint, tt.opts...)
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

func TestTickPublishesExpiredWhenDue(t *testing.T) {
	c, _, clock, rec := newTestClient(t)
	if _, ok := c.Wake(); ok {
		t.Fatal("Wake() before login says something is due")
	}
	login(t, c)
	if d, ok := c.Wake(); !ok || d != time.Hour {
		t.Fatalf("Wake() = %v, %t after login; want 1h", d, ok)
	}
	clock.Advance(30 * time.Minute)
	if x := c.Tick(); x != nil || rec.reasons() != "login" {
		t.Fatalf("an early Tick: %v, events %q", x, rec.reasons())
	}
	clock.Advance(30 * time.Minute)
	c.Tick()
	c.Tick()
	if got, want := rec.reasons(), "login,expired"; got != want {
		t.Errorf("events = %q, want %q, once", got, want)
	}
	if _, ok := c.Wake(); ok {
		t.Error("Wake() after the expired event says something is due")
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
	tab := withCause(context.Background(), 1)
	if _, err := c.Login(tab, Credentials{Username: "demo", Password: []byte("right")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(withCause(context.Background(), 2), graphql.Request{Query: "{ me { id } }"}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Hour)
	c.Tick() // no call caused it
	if _, err := c.Login(tab, Credentials{Username: "demo", Password: []byte("right")}); err != nil {
		t.Fatal(err)
	}
	// A call that notices the expiry before Tick does: still no call's
	// doing.
	clock.Advance(2 * time.Hour)
	if _, err := c.Do(withCause(context.Background(), 2), graphql.Request{Query: "{ me { id } }"}); CodeOf(err) != CodeTokenExpired {
		t.Fatalf("Do after exp: %v, want TOKEN_EXPIRED", err)
	}
	if _, err := c.Login(tab, Credentials{Username: "demo", Password: []byte("right")}); err != nil {
		t.Fatal(err)
	}
	c.Logout(CauseRemote)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	want := []Cause{1, 2, CauseExpiry, 1, CauseExpiry, 1, CauseRemote}
	if !slices.Equal(rec.causes, want) {
		t.Errorf("causes = %v (events %v), want %v", rec.causes, rec.events, want)
	}
}

func TestKeepAliveSendsWhenIdleAndStopsOnLogout(t *testing.T) {
	c, api, clock, rec := newTestClient(t, WithLeeway(time.Minute), WithKeepAlive(graphql.Request{Query: "{ __typename }"}, 5*time.Minute))
	login(t, c)
	// Due 54 minutes after its token came: an hour, less the leeway, less
	// five minutes; the expiry at 59.
	if d, ok := c.Wake(); !ok || d != 54*time.Minute {
		t.Fatalf("Wake() = %v, %t after login; want the keep-alive at 54m", d, ok)
	}
	// Busy: a request rotates the token 10 minutes on; the keep-alive moves.
	clock.Advance(10 * time.Minute)
	if _, err := c.Do(context.Background(), graphql.Request{Query: "{ me { id } }"}); err != nil {
		t.Fatal(err)
	}
	if d, _ := c.Wake(); d != 54*time.Minute {
		t.Fatalf("Wake() after a rotation = %v, want 54m from it", d)
	}
	sent := api.requests()
	clock.Advance(53 * time.Minute)
	if x := c.Tick(); x != nil {
		t.Fatal("a keep-alive before it was due")
	}
	// Idle: it is due; Tick gives its exchange, whose answer rotates.
	clock.Advance(time.Minute)
	x := c.Tick()
	if x == nil || x.Cause() != CauseKeepAlive {
		t.Fatalf("Tick() when due = %v", x)
	}
	if o := c.drive(context.Background(), x, nil, func([]byte) error { return nil }); o.Err != nil {
		t.Fatal(o.Err)
	}
	if api.requests() != sent+1 || !strings.Contains(string(api.last().Body), "__typename") {
		t.Fatalf("the keep-alive did not send its query")
	}
	rec.mu.Lock()
	lastCause := rec.causes[len(rec.causes)-1]
	rec.mu.Unlock()
	if lastCause != CauseKeepAlive {
		t.Errorf("the keep-alive's rotation has cause %v", lastCause)
	}
	// Logout stops it: nothing due, nothing sent.
	c.Logout(1)
	clock.Advance(2 * time.Hour)
	if _, ok := c.Wake(); ok {
		t.Error("Wake() after logout says something is due")
	}
	if x := c.Tick(); x != nil {
		t.Error("a keep-alive after logout")
	}
}

// A keepAliveBefore as long as the token's life would be due at once, and
// its answer's token would make it due at once again: the keep-alive waits
// half the token's usable life instead, however long keepAliveBefore is.
func TestKeepAliveWaitsHalfTheTokensLifeAtLeast(t *testing.T) {
	c, _, _, _ := newTestClient(t, WithLeeway(time.Minute), WithKeepAlive(graphql.Request{Query: "{ __typename }"}, 2*time.Hour))
	login(t, c)
	if d, ok := c.Wake(); !ok || d != 59*time.Minute/2 {
		t.Errorf("Wake() = %v after login, want the keep-alive at %v", d, 59*time.Minute/2)
	}
}

func TestKeepAliveThatFailsIsAWarning(t *testing.T) {
	c, api, clock, rec := newTestClient(t, WithKeepAlive(graphql.Request{Query: "{ __typename }"}, time.Minute))
	login(t, c)
	clock.Advance(59 * time.Minute)
	x := c.Tick()
	if x == nil {
		t.Fatal("no keep-alive when due")
	}
	api.mu.Lock()
	api.override = func(*Request) (*Response, error) { return jsonResponse(500, "<html>boom</html>", nil), nil }
	api.mu.Unlock()
	c.drive(context.Background(), x, nil, func([]byte) error { return nil })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.warnings) != 1 || !strings.Contains(rec.warnings[0].Error(), "the keep-alive request failed") || !c.Authenticated() {
		t.Errorf("warnings %v, Authenticated() = %t: want the keep-alive's failure, and the session kept", rec.warnings, c.Authenticated())
	}
}

func TestKeepAliveOptionIsChecked(t *testing.T) {
	for _, o := range []Option{
		WithKeepAlive(graphql.Request{}, time.Minute),
		WithKeepAlive(graphql.Request{Query: "{ a }"}, 0),
		WithKeepAlive(graphql.Request{Query: "{ a }", Variables: []byte("[1]")}, time.Minute),
		WithKeepAlive(graphql.Request{Query: strings.Repeat("x", MaxKeepAliveQuery+1)}, time.Minute),
	} {
		if _, err := New(endpoint, o); CodeOf(err) != CodeInvalidArgument {
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

func TestRequestsCarryTheTransportOptions(t *testing.T) {
	c, api, _, _ := newTestClient(t, WithTimeout(5*time.Second), WithMaxResponseBytes(1<<20), WithCredentials("include"))
	login(t, c)
	req := api.last()
	if req.Method != "POST" || req.URL != endpoint || req.Timeout != 5*time.Second || req.MaxBytes != 1<<20 || req.Credentials != "include" || !req.Secret {
		t.Errorf("login request = %+v", req)
	}
	if got := req.Header["Accept"]; got != "application/graphql-response+json, application/json;q=0.9" {
		t.Errorf("Accept = %q", got)
	}
	if _, err := c.Do(context.Background(), graphql.Request{Query: "{ me { id } }"}); err != nil {
		t.Fatal(err)
	}
	if req := api.last(); req.Secret || req.AllHeaders {
		t.Errorf("a query is neither secret nor asks for every header: %+v", req)
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
