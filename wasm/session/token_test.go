package session

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// A token minted by the reference server's claims: sub, jti and
// millisecond-precise iat/exp.
const sampleJWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." +
	"eyJzdWIiOiIxIiwianRpIjoiYWJjIiwiaWF0IjoxNzY0MjQ0ODAwLjEyMywiZXhwIjoxNzY0MjQ4NDAwLjEyM30." +
	"c2lnbmF0dXJl"

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name    string
		header  string
		wantErr error
	}{
		{"bearer prefix", "Bearer " + sampleJWT, nil},
		{"bearer in lower case", "bearer " + sampleJWT, nil},
		{"bare token", sampleJWT, nil},
		{"surrounding space", "  Bearer  " + sampleJWT + " ", nil},
		{"empty", "", ErrNoToken},
		{"only spaces", "   ", ErrNoToken},
		{"CRLF injection", "Bearer " + sampleJWT + "\r\nX-Evil: 1", ErrUnsafeHeader},
		{"LF inside", sampleJWT[:10] + "\n" + sampleJWT[10:], ErrUnsafeHeader},
		{"non-ASCII", "Bearer é" + sampleJWT, ErrUnsafeHeader},
		{"other scheme", "Basic " + sampleJWT, ErrUnsafeHeader},
		{"not a JWT", "Bearer not-a-jwt", ErrMalformed},
		{"two parts", "Bearer a.b", ErrMalformed},
		{"huge", "Bearer " + strings.Repeat("a", MaxTokenBytes), ErrMalformed},
		{"no exp", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", ErrMalformed},
		{"exp not a number", "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOiJ0b21vcnJvdyJ9.c2ln", ErrMalformed},
		{"negative exp", "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOi0xfQ.c2ln", ErrMalformed},
		{"the same token on two lines", "Bearer " + sampleJWT + ", Bearer " + sampleJWT, nil},
		{"the same token bare and with a scheme", sampleJWT + ",Bearer " + sampleJWT, nil},
		{"two different tokens", "Bearer " + sampleJWT + ", Bearer " + sampleJWT[:len(sampleJWT)-2] + "xx", ErrMalformed},
		{"a token and junk", "Bearer " + sampleJWT + ", x", ErrMalformed},
		{"deeply nested claims", "eyJhbGciOiJIUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(`{"exp":2e9,"x":`+strings.Repeat("[", 2500)+strings.Repeat("]", 2500)+`}`)) + ".c2ln", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseHeader(tt.header)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseHeader() error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestParseHeaderReadsClaims(t *testing.T) {
	tok, err := ParseHeader("Bearer " + sampleJWT)
	if err != nil {
		t.Fatal(err)
	}
	want := Token{
		Raw:       sampleJWT,
		Subject:   "1",
		ID:        "abc",
		IssuedAt:  time.Date(2025, 11, 27, 12, 0, 0, 123e6, time.UTC),
		ExpiresAt: time.Date(2025, 11, 27, 13, 0, 0, 123e6, time.UTC),
	}
	if tok.Raw != want.Raw || tok.Subject != want.Subject || tok.ID != want.ID ||
		!tok.IssuedAt.Equal(want.IssuedAt) || !tok.ExpiresAt.Equal(want.ExpiresAt) {
		t.Fatalf("ParseHeader() = %+v (iat %v exp %v), want iat %v exp %v",
			tok, tok.IssuedAt, tok.ExpiresAt, want.IssuedAt, want.ExpiresAt)
	}
}

func FuzzParseHeader(f *testing.F) {
	for _, seed := range []string{"Bearer " + sampleJWT, sampleJWT, "", "Bearer ", "a.b.c", "Bearer a\r\nb", "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2ln"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		tok, err := ParseHeader(header)
		if err != nil {
			if !tok.IsZero() {
				t.Fatalf("error %v with a token", err)
			}
			return
		}
		if !isTokenText(tok.Raw) || tok.ExpiresAt.IsZero() {
			t.Fatalf("accepted %q as %v", header, tok)
		}
		if !strings.Contains(header, tok.Raw) {
			t.Fatalf("raw %q is not part of the header %q", tok.Raw, header)
		}
	})
}

// FuzzClaims feeds arbitrary claims JSON through a well-formed JWT frame, to
// reach the claims reader behind the header checks.
func FuzzClaims(f *testing.F) {
	for _, seed := range []string{
		`{"sub":"1","jti":"a","iat":1764244800.123,"exp":1764248400.123}`,
		`{"exp":1}`, `{"exp":-1}`, `{"exp":1e300}`, `{"exp":"1"}`, `{"iat":null,"exp":2}`,
		`{"sub":1,"exp":2}`, `[]`, `null`, `{"exp":253402300800}`,
	} {
		f.Add([]byte(seed))
	}
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		raw := header + "." + base64.RawURLEncoding.EncodeToString(payload) + ".c2ln"
		tok, err := ParseHeader("Bearer " + raw)
		if err != nil {
			return
		}
		if tok.Raw != raw || tok.ExpiresAt.IsZero() || tok.ExpiresAt.Year() > 9999 {
			t.Fatalf("accepted %q as %v", payload, tok)
		}
	})
}

// FuzzAgreesWithGolangJWT holds the claims reader to golang-jwt's
// ParseUnverified (read into MapClaims): a token one accepts, the other
// accepts with the same claims, whenever its algorithm is one golang-jwt
// knows. The module does not link golang-jwt (see the package doc); this
// test, which is not linked into it, does.
func FuzzAgreesWithGolangJWT(f *testing.F) {
	enc := base64.RawURLEncoding.EncodeToString
	for _, c := range []string{
		`{"sub":"1","jti":"a","iat":1764244800.123,"exp":1764248400.123}`,
		`{"exp":1,"exp":2}`, `{"EXP":5}`, `{"sub":1,"exp":2}`, `{"sub":null,"exp":2}`, `{"iat":"x","exp":2}`,
		`{"exp":2,"jti":["a"]}`, `{"\u0065xp":3}`, `{"exp":1e3}`, `{"exp":-0}`, `{"exp":2}garbage`,
	} {
		f.Add(`{"alg":"HS256"}`, c)
	}
	f.Add(`{"alg":"none"}`, `{"exp":2}`)
	f.Add(`{"alg":5}`, `{"exp":2}`)
	f.Add(`[]`, `{"exp":2}`)
	f.Fuzz(func(t *testing.T, header, claims string) {
		raw := enc([]byte(header)) + "." + enc([]byte(claims)) + ".c2ln"
		ours, ourErr := parseJWT(raw)
		var mc jwt.MapClaims
		_, _, theirErr := jwt.NewParser().ParseUnverified(raw, &mc)
		var want Token
		if theirErr == nil {
			want, theirErr = fromMapClaims(raw, mc)
		}
		if ourErr == nil && theirErr != nil {
			var h map[string]any
			if json.Unmarshal([]byte(header), &h) == nil {
				if alg, _ := h["alg"].(string); jwt.GetSigningMethod(alg) == nil {
					return // an algorithm golang-jwt does not know; the reader need not know it
				}
			}
			t.Fatalf("accepted %s.%s that golang-jwt refuses: %v", header, claims, theirErr)
		}
		if ourErr != nil && theirErr == nil {
			t.Fatalf("refused %s.%s that golang-jwt accepts: %v", header, claims, ourErr)
		}
		if ourErr == nil && (ours.Subject != want.Subject || ours.ID != want.ID ||
			!ours.ExpiresAt.Equal(want.ExpiresAt) || !ours.IssuedAt.Equal(want.IssuedAt)) {
			t.Fatalf("%s: read %+v (iat %v exp %v), golang-jwt %+v (iat %v exp %v)",
				claims, ours, ours.IssuedAt, ours.ExpiresAt, want, want.IssuedAt, want.ExpiresAt)
		}
	})
}

// fromMapClaims applies the session's rules to claims golang-jwt decoded.
func fromMapClaims(raw string, mc jwt.MapClaims) (Token, error) {
	t := Token{Raw: raw}
	str := func(name string) (string, error) {
		switch v := mc[name].(type) {
		case nil:
			return "", nil
		case string:
			return strings.ToValidUTF8(v, "\uFFFD"), nil
		}
		return "", ErrMalformed
	}
	var err error
	if t.Subject, err = str("sub"); err != nil {
		return Token{}, err
	}
	if t.ID, err = str("jti"); err != nil {
		return Token{}, err
	}
	exp, ok := mc["exp"].(float64)
	if !ok {
		return Token{}, ErrMalformed
	}
	if t.ExpiresAt, ok = unixTime(exp); !ok {
		return Token{}, ErrMalformed
	}
	switch iat := mc["iat"].(type) {
	case nil:
	case float64:
		if t.IssuedAt, ok = unixTime(iat); !ok {
			return Token{}, ErrMalformed
		}
	default:
		return Token{}, ErrMalformed
	}
	return t, nil
}
