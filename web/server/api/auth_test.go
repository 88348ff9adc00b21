package api_test

import (
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gqlauth/gqlauth/web/server/api"
)

func TestLoginReturnsBothTokenHeaders(t *testing.T) {
	ts := newServer(t, api.Config{})
	tests := []struct {
		name string
		vars map[string]any
	}{
		{"by username", map[string]any{"username": "demo", "password": "demo-password"}},
		{"by email", map[string]any{"email": "demo@example.com", "password": "demo-password"}},
		{"by email in other case", map[string]any{"email": "Demo@Example.com", "password": "demo-password"}},
		{"by username and email", map[string]any{"username": "demo", "email": "demo@example.com", "password": "demo-password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := post(t, ts, "", loginQuery, tt.vars)
			if res.status != 200 {
				t.Fatalf("status = %d, want 200", res.status)
			}
			tokenOf(t, res)
			assertJSON(t, res.body, `{"data":{"loginUser":{"id":"1","username":"demo","email":"demo@example.com"}}}`)
		})
	}
}

func TestLoginTokenHasMillisecondClaims(t *testing.T) {
	const ttl = 90 * time.Minute
	ts := newServer(t, api.Config{TokenTTL: ttl})
	raw := login(t, ts)

	h := claimsOf(t, raw)
	if got, want := h["sub"], "1"; got != want {
		t.Errorf("sub = %v, want %v", got, want)
	}
	if got, want := h["iat"], 1767225600.123; got != want {
		t.Errorf("iat = %v, want %v (the clock, in seconds with milliseconds)", got, want)
	}
	if got, want := h["exp"].(float64)-h["iat"].(float64), ttl.Seconds(); got != want {
		t.Errorf("exp - iat = %v, want %v", got, want)
	}
	if jti, _ := h["jti"].(string); !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(jti) {
		t.Errorf("jti = %q, want 32 hex digits", jti)
	}
	tok, _, err := jwt.NewParser().ParseUnverified(raw, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tok.Method.Alg(), "HS256"; got != want {
		t.Errorf("alg = %q, want %q", got, want)
	}
}

func TestLoginFailureIsAGraphQLErrorWithoutToken(t *testing.T) {
	ts := newServer(t, api.Config{Users: []api.User{
		{ID: "1", Username: "demo", Email: "demo@example.com", Password: "pw1"},
		{ID: "2", Username: "other", Email: "other@example.com", Password: "pw2"},
	}})
	tests := []struct {
		name string
		vars map[string]any
	}{
		{"wrong password", map[string]any{"username": "demo", "password": "pw2"}},
		{"empty password", map[string]any{"username": "demo", "password": ""}},
		{"unknown user", map[string]any{"username": "nobody", "password": "pw1"}},
		{"unknown email", map[string]any{"email": "nobody@example.com", "password": "pw1"}},
		{"neither username nor email", map[string]any{"password": "pw1"}},
		{"username and email of different users", map[string]any{"username": "demo", "email": "other@example.com", "password": "pw1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := post(t, ts, "", loginQuery, tt.vars)
			if res.status != 200 {
				t.Errorf("status = %d, want 200", res.status)
			}
			noToken(t, res)
			assertJSON(t, res.body, `{
				"errors":[{"message":"invalid username, email or password","path":["loginUser"],"customer_facing":true}],
				"data":{"loginUser":null}}`)
		})
	}
}

func TestEveryAuthenticatedResponseCarriesANewerToken(t *testing.T) {
	clock := newClock()
	ts := newServer(t, api.Config{Now: clock.Now})
	token := login(t, ts)
	queries := []struct {
		name    string
		advance time.Duration
		query   string
	}{
		{"a second later", time.Second, `{ me { id } }`},
		{"in the same millisecond", 0, `{ me { id } }`},
		{"with a field error", time.Millisecond, `{ items(first: 1000) { totalCount } }`},
		{"with a validation error", time.Minute, `{ me { nope } }`},
		{"without protected fields", time.Second, `{ __typename }`},
	}
	for _, q := range queries {
		t.Run(q.name, func(t *testing.T) {
			clock.Advance(q.advance)
			before := claimsOf(t, token)
			res := post(t, ts, "Bearer "+token, q.query, nil)
			next := tokenOf(t, res)
			after := claimsOf(t, next)
			if after["jti"] == before["jti"] {
				t.Errorf("jti not renewed: %v", after["jti"])
			}
			if !(after["iat"].(float64) > before["iat"].(float64)) {
				t.Errorf("iat = %v, want later than %v", after["iat"], before["iat"])
			}
			if got, want := after["exp"].(float64)-after["iat"].(float64), api.DefaultTokenTTL.Seconds(); got != want {
				t.Errorf("exp - iat = %v, want %v", got, want)
			}
			token = next
		})
	}
	res := post(t, ts, "Bearer "+token, `{ me { username } }`, nil)
	assertJSON(t, res.body, `{"data":{"me":{"username":"demo"}}}`)
}

func TestBareTokenIsAccepted(t *testing.T) {
	ts := newServer(t, api.Config{})
	res := post(t, ts, login(t, ts), `{ me { id } }`, nil)
	assertJSON(t, res.body, `{"data":{"me":{"id":"1"}}}`)
	tokenOf(t, res)
}

func TestSessionDescribesTheRequestToken(t *testing.T) {
	ts := newServer(t, api.Config{})
	token := login(t, ts)
	c := claimsOf(t, token)
	res := post(t, ts, "Bearer "+token, `{ session { jti subject issuedAt expiresAt } }`, nil)
	want, _ := json.Marshal(map[string]any{"data": map[string]any{"session": map[string]any{
		"jti": c["jti"], "subject": c["sub"], "issuedAt": c["iat"], "expiresAt": c["exp"],
	}}})
	assertJSON(t, res.body, string(want))
}

func TestProtectedFieldsWithoutValidTokenGetTheSeedsUnauthorized(t *testing.T) {
	clock := newClock()
	ts := newServer(t, api.Config{Now: clock.Now, TokenTTL: time.Minute})
	expired := login(t, ts)
	clock.Advance(30 * time.Second)
	valid := login(t, ts)
	clock.Advance(30 * time.Second) // expired's exp is now
	if post(t, ts, "Bearer "+expired, `{ me { id } }`, nil).header.Get("X-Authorization") != "" {
		t.Fatal("expired token still accepted")
	}
	now := float64(clock.Now().UnixMilli()) / 1000

	tokens := []struct {
		name          string
		authorization string
	}{
		{"missing", ""},
		{"malformed", "Bearer not-a-jwt"},
		{"empty bearer", "Bearer "},
		{"other scheme", "Basic " + valid},
		{"expired", "Bearer " + expired},
		{"badly signed", "Bearer " + sign(t, jwt.MapClaims{"sub": "1", "jti": "a", "iat": now, "exp": now + 60}, []byte("another key, another key, another"))},
		{"signed with alg none", "Bearer " + func() string {
			raw, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "1", "jti": "a", "iat": now, "exp": now + 60}).SignedString(jwt.UnsafeAllowNoneSignatureType)
			return raw
		}()},
		{"without exp", "Bearer " + sign(t, jwt.MapClaims{"sub": "1", "jti": "a", "iat": now}, testKey)},
		{"for an unknown user", "Bearer " + sign(t, jwt.MapClaims{"sub": "99", "jti": "a", "iat": now, "exp": now + 60}, testKey)},
	}
	queries := []struct {
		name  string
		query string
		want  string
	}{
		{"field at line 2 column 3", "query {\n  me { id }\n}",
			`{"errors":[{"message":"Unauthorized","locations":[{"line":2,"column":3}],"customer_facing":false}]}`},
		{"field after tabs and an alias", "{\n\t\tall: items(first: 2) { totalCount }\n}",
			`{"errors":[{"message":"Unauthorized","locations":[{"line":2,"column":3}],"customer_facing":false}]}`},
		{"two fields, one error each", "{ session { jti }\n    blob(bytes: 3) }",
			`{"errors":[
				{"message":"Unauthorized","locations":[{"line":1,"column":3}],"customer_facing":false},
				{"message":"Unauthorized","locations":[{"line":2,"column":5}],"customer_facing":false}]}`},
		{"public and protected fields", "{ __typename me { id } }",
			`{"errors":[{"message":"Unauthorized","locations":[{"line":1,"column":14}],"customer_facing":false}]}`},
		{"skipped field is not reported", "{\n  me @skip(if: true) { id }\n  session { jti }\n}",
			`{"errors":[{"message":"Unauthorized","locations":[{"line":3,"column":3}],"customer_facing":false}]}`},
		{"field in a fragment", "query Q { ...F }\nfragment F on Query {\n  me { id }\n}",
			`{"errors":[{"message":"Unauthorized","locations":[{"line":3,"column":3}],"customer_facing":false}]}`},
		{"mutation", "mutation {\n  addItem(name: \"x\") { id }\n}",
			`{"errors":[{"message":"Unauthorized","locations":[{"line":2,"column":3}],"customer_facing":false}]}`},
	}
	for _, tok := range tokens {
		for _, q := range queries {
			t.Run(tok.name+"/"+q.name, func(t *testing.T) {
				res := post(t, ts, tok.authorization, q.query, nil)
				if res.status != 200 {
					t.Errorf("status = %d, want 200", res.status)
				}
				noToken(t, res)
				assertJSON(t, res.body, q.want)
			})
		}
	}
}

func TestPublicFieldsNeedNoToken(t *testing.T) {
	ts := newServer(t, api.Config{})
	res := post(t, ts, "Bearer not-a-jwt", `{ __typename }`, nil)
	assertJSON(t, res.body, `{"data":{"__typename":"Query"}}`)
	noToken(t, res)
}

func TestStrictRotationRejectsSupersededTokens(t *testing.T) {
	tests := []struct {
		strict   bool
		wantBody string
	}{
		{false, `{"data":{"me":{"id":"1"}}}`},
		{true, `{"errors":[{"message":"Unauthorized","locations":[{"line":1,"column":3}],"customer_facing":false}]}`},
	}
	for _, tt := range tests {
		ts := newServer(t, api.Config{StrictRotation: tt.strict})
		first := login(t, ts)
		second := tokenOf(t, post(t, ts, "Bearer "+first, `{ me { id } }`, nil))
		other := login(t, ts) // another session does not supersede the first

		res := post(t, ts, "Bearer "+first, `{ me { id } }`, nil)
		assertJSON(t, res.body, tt.wantBody)
		for _, token := range []string{second, other} {
			res := post(t, ts, "Bearer "+token, `{ me { id } }`, nil)
			assertJSON(t, res.body, `{"data":{"me":{"id":"1"}}}`)
		}
	}
}
