package contract_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gqlauth/gqlauth/web/server/contract"
)

// testKey signs the test API's tokens, so that tests can forge some.
var testKey = []byte("0123456789abcdef0123456789abcdef")

const (
	ttl     = time.Hour
	allowed = "https://app.example.com"
)

// newServer starts the test API of example_test.go, with testKey and ttl,
// allowing the origin allowed.
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(newAPI(&contract.Tokens{Key: testKey, TTL: ttl}, []string{allowed}))
	t.Cleanup(ts.Close)
	return ts
}

// result is an answer, read completely.
type result struct {
	status int
	header http.Header
	body   string
}

// send makes a request to ts's /graphql with header and reads the answer.
func send(t *testing.T, ts *httptest.Server, method string, header map[string]string, body string) result {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+"/graphql", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return result{resp.StatusCode, resp.Header, string(b)}
}

// post sends a GraphQL query with vars, and authorization as the
// Authorization header when not empty.
func post(t *testing.T, ts *httptest.Server, authorization, query string, vars map[string]any) result {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	header := map[string]string{"Content-Type": "application/json"}
	if authorization != "" {
		header["Authorization"] = authorization
	}
	return send(t, ts, http.MethodPost, header, string(body))
}

const loginQuery = `query($email: String, $username: String, $password: String!) {
  loginUser(email: $email, username: $username, password: $password) { id }
}`

// login logs the demo user in and returns the answer's token.
func login(t *testing.T, ts *httptest.Server) string {
	t.Helper()
	return tokenOf(t, post(t, ts, "", loginQuery, map[string]any{"username": "demo", "password": "demo-password"}))
}

// tokenOf checks that X-Authorization and Authorization hold the same
// "Bearer <jwt>", and returns the jwt.
func tokenOf(t *testing.T, res result) string {
	t.Helper()
	x, a := res.header.Get("X-Authorization"), res.header.Get("Authorization")
	raw, ok := strings.CutPrefix(x, "Bearer ")
	if !ok || raw == "" || a != x {
		t.Fatalf("X-Authorization %q, Authorization %q; want the same Bearer <jwt>; body %s", x, a, res.body)
	}
	if got, want := res.header.Get("Cache-Control"), "no-store"; got != want {
		t.Errorf("Cache-Control = %q, want %q", got, want)
	}
	return raw
}

// noToken checks that the answer has no token header.
func noToken(t *testing.T, res result) {
	t.Helper()
	for _, h := range []string{"X-Authorization", "Authorization"} {
		if got := res.header.Get(h); got != "" {
			t.Errorf("%s = %q, want none", h, got)
		}
	}
}

// assertJSON checks that got and want are the same JSON value.
func assertJSON(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("answer %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %q is not JSON: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("answer = %s\nwant %s", got, want)
	}
}

// claimsOf returns the claims of a token, unverified.
func claimsOf(t *testing.T, raw string) jwt.MapClaims {
	t.Helper()
	c := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(raw, c); err != nil {
		t.Fatalf("token %q: %v", raw, err)
	}
	return c
}

// sign makes a token for claims with method and key.
func sign(t *testing.T, method jwt.SigningMethod, claims jwt.MapClaims, key any) string {
	t.Helper()
	raw, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestLoginAnswersWithTheSameBearerTokenInBothHeaders(t *testing.T) {
	ts := newServer(t)
	tests := []struct {
		name          string
		authorization string
		query         string
		vars          map[string]any
		want          string
	}{
		{"by username", "", loginQuery,
			map[string]any{"username": "demo", "password": "demo-password"}, `{"data":{"loginUser":{"id":"1"}}}`},
		{"by email", "", loginQuery,
			map[string]any{"email": "demo@example.com", "password": "demo-password"}, `{"data":{"loginUser":{"id":"1"}}}`},
		{"with an invalid token", "Bearer not-a-jwt", loginQuery,
			map[string]any{"username": "demo", "password": "demo-password"}, `{"data":{"loginUser":{"id":"1"}}}`},
		{"twice in one query, concurrently", "",
			`{ a: loginUser(username: "demo", password: "demo-password") { id }
			   b: loginUser(email: "demo@example.com", password: "demo-password") { id } }`,
			nil, `{"data":{"a":{"id":"1"},"b":{"id":"1"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := post(t, ts, tt.authorization, tt.query, tt.vars)
			if res.status != http.StatusOK {
				t.Errorf("status = %d, want 200", res.status)
			}
			if got, want := claimsOf(t, tokenOf(t, res))["sub"], "1"; got != want {
				t.Errorf("sub = %v, want %v", got, want)
			}
			assertJSON(t, res.body, tt.want)
		})
	}
}

func TestFailedLoginAnswersWithoutToken(t *testing.T) {
	ts := newServer(t)
	tests := []struct {
		name string
		vars map[string]any
	}{
		{"wrong password", map[string]any{"username": "demo", "password": "nope"}},
		{"unknown user", map[string]any{"username": "nobody", "password": "demo-password"}},
		{"neither username nor email", map[string]any{"password": "demo-password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := post(t, ts, "", loginQuery, tt.vars)
			noToken(t, res)
			assertJSON(t, res.body, `{"data":{"loginUser":null},"errors":[{"message":"invalid username, email or password","path":["loginUser"]}]}`)
		})
	}
}

func TestValidTokenGetsDataAndADifferentFreshToken(t *testing.T) {
	ts := newServer(t)
	token := login(t, ts)
	for i := range 3 {
		res := post(t, ts, "Bearer "+token, `{ me { id username } }`, nil)
		assertJSON(t, res.body, `{"data":{"me":{"id":"1","username":"demo"}}}`)
		next := tokenOf(t, res)
		if next == token {
			t.Fatalf("request %d: the answer's token is the request's", i)
		}
		if claimsOf(t, next)["jti"] == claimsOf(t, token)["jti"] {
			t.Errorf("request %d: jti %v not renewed", i, claimsOf(t, next)["jti"])
		}
		token = next
	}
}

func TestInvalidTokenGetsUnauthorizedWithoutToken(t *testing.T) {
	ts := newServer(t)
	valid := login(t, ts)
	now := time.Now().Unix()
	live := jwt.MapClaims{"sub": "1", "jti": "x", "iat": now, "exp": now + 60}
	otherKey := make([]byte, 32)
	rand.Read(otherKey)
	tests := []struct {
		name          string
		authorization string
	}{
		{"missing", ""},
		{"not a JWT", "Bearer not-a-jwt"},
		{"empty Bearer", "Bearer "},
		{"without scheme", valid},
		{"other scheme", "Basic " + valid},
		{"tampered", "Bearer " + valid[:len(valid)-2] + "xx"},
		{"expired", "Bearer " + sign(t, jwt.SigningMethodHS256, jwt.MapClaims{"sub": "1", "jti": "x", "iat": now - 120, "exp": now - 60}, testKey)},
		{"signed with another key", "Bearer " + sign(t, jwt.SigningMethodHS256, live, otherKey)},
		{"HS384 with the right key", "Bearer " + sign(t, jwt.SigningMethodHS384, live, testKey)},
		{"alg none", "Bearer " + sign(t, jwt.SigningMethodNone, live, jwt.UnsafeAllowNoneSignatureType)},
		{"without exp", "Bearer " + sign(t, jwt.SigningMethodHS256, jwt.MapClaims{"sub": "1", "jti": "x", "iat": now}, testKey)},
		{"without sub", "Bearer " + sign(t, jwt.SigningMethodHS256, jwt.MapClaims{"jti": "x", "iat": now, "exp": now + 60}, testKey)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := post(t, ts, tt.authorization, `{ me { id } }`, nil)
			if res.status != http.StatusOK {
				t.Errorf("status = %d, want 200", res.status)
			}
			noToken(t, res)
			assertJSON(t, res.body, `{"data":{"me":null},"errors":[{"message":"Unauthorized","path":["me"]}]}`)
		})
	}
}

func TestPermissionErrorWithValidTokenStillGetsAFreshToken(t *testing.T) {
	ts := newServer(t)
	token := login(t, ts)
	res := post(t, ts, "Bearer "+token, `{ restricted }`, nil)
	assertJSON(t, res.body, `{"data":{"restricted":null},"errors":[{"message":"Unauthorized","path":["restricted"]}]}`)
	if next := tokenOf(t, res); next == token {
		t.Error("the answer's token is the request's")
	}
}

func TestPublicFieldsNeedNoToken(t *testing.T) {
	ts := newServer(t)
	res := post(t, ts, "", `{ __typename }`, nil)
	assertJSON(t, res.body, `{"data":{"__typename":"Query"}}`)
	noToken(t, res)
}

func TestCORS(t *testing.T) {
	ts := newServer(t)
	preflight := map[string]string{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}
	tests := []struct {
		name       string
		method     string
		origin     string
		header     map[string]string
		body       string
		wantStatus int
		want       map[string]string // "" for a header that must be absent
	}{
		{"preflight from an allowed origin", http.MethodOptions, allowed, preflight, "", http.StatusNoContent, map[string]string{
			"Access-Control-Allow-Origin":   allowed,
			"Access-Control-Allow-Methods":  "GET, POST",
			"Access-Control-Allow-Headers":  "Authorization, Content-Type",
			"Access-Control-Max-Age":        "600",
			"Access-Control-Expose-Headers": "Authorization, X-Authorization",
		}},
		{"preflight from a refused origin", http.MethodOptions, "https://evil.example", preflight, "", http.StatusNoContent, map[string]string{
			"Access-Control-Allow-Origin":   "",
			"Access-Control-Allow-Methods":  "",
			"Access-Control-Allow-Headers":  "",
			"Access-Control-Max-Age":        "",
			"Access-Control-Expose-Headers": "",
		}},
		{"preflight from an allowed origin's other port", http.MethodOptions, allowed + ":8443", preflight, "", http.StatusNoContent, map[string]string{
			"Access-Control-Allow-Origin": "",
		}},
		{"request from an allowed origin", http.MethodPost, allowed, nil, `{"query":"{ __typename }"}`, http.StatusOK, map[string]string{
			"Access-Control-Allow-Origin":   allowed,
			"Access-Control-Expose-Headers": "Authorization, X-Authorization",
			"Access-Control-Allow-Methods":  "",
		}},
		{"request from a refused origin", http.MethodPost, "https://evil.example", nil, `{"query":"{ __typename }"}`, http.StatusOK, map[string]string{
			"Access-Control-Allow-Origin":   "",
			"Access-Control-Expose-Headers": "",
		}},
		{"request without Origin", http.MethodPost, "", nil, `{"query":"{ __typename }"}`, http.StatusOK, map[string]string{
			"Access-Control-Allow-Origin": "",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := map[string]string{"Content-Type": "application/json"}
			if tt.origin != "" {
				header["Origin"] = tt.origin
			}
			for k, v := range tt.header {
				header[k] = v
			}
			res := send(t, ts, tt.method, header, tt.body)
			if res.status != tt.wantStatus {
				t.Errorf("status = %d, want %d", res.status, tt.wantStatus)
			}
			for k, want := range tt.want {
				if got := res.header.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if got, want := res.header.Values("Vary"), []string{"Origin"}; !reflect.DeepEqual(got, want) {
				t.Errorf("Vary = %q, want %q", got, want)
			}
		})
	}
}

func TestIssuedTokenClaims(t *testing.T) {
	tokens := &contract.Tokens{Key: testKey, TTL: 90 * time.Minute}
	seen := make(map[any]bool)
	for range 100 {
		before := time.Now().Unix()
		raw, err := tokens.Issue("42")
		if err != nil {
			t.Fatal(err)
		}
		after := time.Now().Unix()
		tok, err := jwt.Parse(raw, func(*jwt.Token) (any, error) { return testKey, nil })
		if err != nil {
			t.Fatalf("the issued token does not verify: %v", err)
		}
		if got, want := tok.Method.Alg(), "HS256"; got != want {
			t.Errorf("alg = %q, want %q", got, want)
		}
		c := tok.Claims.(jwt.MapClaims)
		if got, want := c["sub"], "42"; got != want {
			t.Errorf("sub = %v, want %v", got, want)
		}
		if iat := int64(c["iat"].(float64)); iat < before || iat > after {
			t.Errorf("iat = %d, want between %d and %d", iat, before, after)
		}
		if got, want := c["exp"].(float64)-c["iat"].(float64), (90 * time.Minute).Seconds(); got != want {
			t.Errorf("exp - iat = %v, want %v", got, want)
		}
		if jti, _ := c["jti"].(string); jti == "" || seen[jti] {
			t.Fatalf("jti = %q, want a new one", jti)
		}
		seen[c["jti"]] = true
	}
}

func TestUnusableTokensAreRefused(t *testing.T) {
	tests := []struct {
		name   string
		tokens contract.Tokens
	}{
		{"no key", contract.Tokens{TTL: ttl}},
		{"key of 31 bytes", contract.Tokens{Key: testKey[:31], TTL: ttl}},
		{"no TTL", contract.Tokens{Key: testKey}},
		{"negative TTL", contract.Tokens{Key: testKey, TTL: -time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if raw, err := tt.tokens.Issue("1"); err == nil {
				t.Errorf("Issue = %q, want an error", raw)
			}
			defer func() {
				if recover() == nil {
					t.Error("Middleware did not panic")
				}
			}()
			tt.tokens.Middleware(http.NotFoundHandler())
		})
	}
	if raw, err := (&contract.Tokens{Key: testKey, TTL: ttl}).Issue(""); err == nil {
		t.Errorf(`Issue("") = %q, want an error`, raw)
	}
}

func TestResponseControllerReachesTheServerThroughMiddleware(t *testing.T) {
	tokens := &contract.Tokens{Key: testKey, TTL: ttl}
	ts := httptest.NewServer(tokens.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		contract.LoggedIn(r.Context(), "1")
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline: %v", err)
		}
		if err := rc.Flush(); err != nil { // writes the head, with the token
			t.Errorf("Flush: %v", err)
		}
		if _, ok := w.(http.Flusher); !ok {
			t.Error("the ResponseWriter is not an http.Flusher")
		}
		io.WriteString(w, "streamed")
	})))
	defer ts.Close()
	res := send(t, ts, http.MethodGet, nil, "")
	tokenOf(t, res)
	if res.body != "streamed" {
		t.Errorf("body = %q, want %q", res.body, "streamed")
	}
}

func TestLoggedInIsSafeForConcurrentResolvers(t *testing.T) {
	tokens := &contract.Tokens{Key: testKey, TTL: ttl}
	ts := httptest.NewServer(tokens.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				contract.LoggedIn(r.Context(), "1")
				contract.UserID(r.Context())
			})
		}
		wg.Wait()
		io.WriteString(w, "ok")
	})))
	defer ts.Close()
	res := send(t, ts, http.MethodPost, nil, "")
	if got, want := claimsOf(t, tokenOf(t, res))["sub"], "1"; got != want {
		t.Errorf("sub = %v, want %v", got, want)
	}
}

func TestUserIDAndLoggedInOutsideMiddleware(t *testing.T) {
	ctx := context.Background()
	contract.LoggedIn(ctx, "1")
	if got := contract.UserID(ctx); got != "" {
		t.Errorf("UserID = %q, want \"\"", got)
	}
}
