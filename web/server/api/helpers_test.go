package api_test

import (
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

	"github.com/gqlauth/gqlauth/web/server/api"
)

// testKey signs the tokens of test servers, so tests can read and forge them.
var testKey = []byte("0123456789abcdef0123456789abcdef")

// start is the fake clock's start: unix 1767225600.123.
var start = time.Date(2026, 1, 1, 0, 0, 0, 123e6, time.UTC)

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: start} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newServer starts an httptest server for cfg, filling in the test key and,
// unless set, a fake clock.
func newServer(t *testing.T, cfg api.Config) *httptest.Server {
	t.Helper()
	if cfg.SigningKey == nil {
		cfg.SigningKey = testKey
	}
	if cfg.Now == nil {
		cfg.Now = newClock().Now
	}
	srv, err := api.New(cfg)
	if err != nil {
		t.Fatalf("api.New: %v", err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts
}

// result is an HTTP answer, read completely.
type result struct {
	status int
	header http.Header
	body   []byte
}

// send makes a request and reads the answer. A "Host" entry of header
// replaces the Host header, which is otherwise the server's address.
func send(t *testing.T, ts *httptest.Server, method, path string, header map[string]string, body string) result {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		switch {
		case v == "":
		case k == "Host":
			req.Host = v
		default:
			req.Header.Set(k, v)
		}
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: b}
}

// post sends a GraphQL request to /graphql with authorization as the
// Authorization header (none when empty).
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
	return send(t, ts, http.MethodPost, "/graphql", header, string(body))
}

const loginQuery = `query($email: String, $username: String, $password: String!) {
  loginUser(email: $email, username: $username, password: $password) { id username email }
}`

// login logs the demo user in and returns the token, without "Bearer ".
func login(t *testing.T, ts *httptest.Server) string {
	t.Helper()
	res := post(t, ts, "", loginQuery, map[string]any{"username": "demo", "password": api.DefaultDemoPassword})
	return tokenOf(t, res)
}

// tokenOf checks that both token headers hold the same "Bearer <jwt>" and
// returns the jwt.
func tokenOf(t *testing.T, res result) string {
	t.Helper()
	x, a := res.header.Get("X-Authorization"), res.header.Get("Authorization")
	if x == "" || x != a {
		t.Fatalf("token headers: X-Authorization %q, Authorization %q; want both, equal; body %s", x, a, res.body)
	}
	raw, ok := strings.CutPrefix(x, "Bearer ")
	if !ok || raw == "" {
		t.Fatalf("X-Authorization = %q, want Bearer <jwt>", x)
	}
	return raw
}

// noToken fails if the answer carries a token header.
func noToken(t *testing.T, res result) {
	t.Helper()
	if x, a := res.header.Get("X-Authorization"), res.header.Get("Authorization"); x != "" || a != "" {
		t.Errorf("token headers: X-Authorization %q, Authorization %q; want none", x, a)
	}
}

// claimsOf reads the claims of a test-key token without validating times.
func claimsOf(t *testing.T, raw string) jwt.MapClaims {
	t.Helper()
	claims := jwt.MapClaims{}
	_, err := jwt.NewParser(jwt.WithoutClaimsValidation()).ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) {
		return testKey, nil
	})
	if err != nil {
		t.Fatalf("parsing token: %v", err)
	}
	return claims
}

// sign makes a token with the given claims and key.
func sign(t *testing.T, claims jwt.MapClaims, key []byte) string {
	t.Helper()
	raw, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// assertJSON fails unless got and want are the same JSON value.
func assertJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("body is not JSON: %v: %q", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want is not JSON: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("body:\n got %s\nwant %s", got, want)
	}
}

// gqlBody is a decoded GraphQL answer.
type gqlBody struct {
	Data   map[string]json.RawMessage `json:"data"`
	Errors []struct {
		Message        string `json:"message"`
		CustomerFacing *bool  `json:"customer_facing"`
	} `json:"errors"`
}

func decode(t *testing.T, res result) gqlBody {
	t.Helper()
	var b gqlBody
	decodeInto(t, res, &b)
	return b
}

// decodeInto decodes the body of res into v.
func decodeInto(t *testing.T, res result, v any) {
	t.Helper()
	if err := json.Unmarshal(res.body, v); err != nil {
		t.Fatalf("body %.200q: %v", res.body, err)
	}
}
