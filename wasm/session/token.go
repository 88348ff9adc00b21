// Package session owns the token a client holds: reading it from a response
// header, deciding whether it is still usable, and the rules by which a newer
// token replaces it.
//
// It is pure Go: it must not import syscall/js or net/http, so that it is
// tested natively with -race. The browser cannot verify a token's signature
// (it has no key), so claims are read without verification and used only to
// schedule expiry and order rotations, never to grant access.
//
// Claims are read with base64 and jsonscan, not golang-jwt: importing golang-jwt
// links every signing algorithm it registers (RSA, ECDSA P-256/384/521,
// Ed25519) into the module, about 1.1 MB raw and 290 KB brotli, for a reader
// that never verifies. A differential fuzz test (FuzzAgreesWithGolangJWT)
// holds the reader to golang-jwt's ParseUnverified.
package session

import (
	"bytes"
	"encoding/base64"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gqlauth/gqlauth/wasm/internal/fault"
	"github.com/gqlauth/gqlauth/wasm/internal/jsonscan"
)

// Errors reported when a header value cannot become a Token. Details are
// wrapped behind them, so test with errors.Is.
var (
	// ErrNoToken means the header was absent or empty.
	ErrNoToken = errors.New("no token in header")
	// ErrMalformed means the header value is not a well-formed JWT with the
	// claims a session needs (exp, and iat when present must be a number).
	ErrMalformed = errors.New("token is not a well-formed JWT")
	// ErrUnsafeHeader means the header value holds characters that may not
	// appear in a bearer token (CR, LF, spaces, controls, non-ASCII).
	ErrUnsafeHeader = errors.New("token holds characters not allowed in a header")
)

// maxClaimsDepth bounds how deeply a token's header and claims may nest.
// Real ones are flat: anything much deeper is refused as malformed.
const maxClaimsDepth = 32

// MaxTokenBytes bounds the header value a Token is read from. Real JWTs are
// a few hundred bytes; anything longer than this is refused as malformed.
const MaxTokenBytes = 8 << 10

// Token is one JWT as the server sent it, with the claims the session uses.
// The zero Token holds nothing and is not Valid.
type Token struct {
	// Raw is the compact JWT without any "Bearer " prefix. It is the only
	// field that is secret; it is sent in the Authorization header and
	// nowhere else.
	Raw string
	// Subject is the "sub" claim, empty when the token has none.
	Subject string
	// ID is the "jti" claim, empty when the token has none.
	ID string
	// IssuedAt is the "iat" claim on the server's clock, zero when absent.
	IssuedAt time.Time
	// ExpiresAt is the "exp" claim on the server's clock, exactly as the
	// server set it. A session token always has one.
	ExpiresAt time.Time
}

// ParseHeader reads a token from an Authorization or X-Authorization header
// value. It accepts "Bearer <jwt>" (the scheme in any case) and a bare
// "<jwt>". The signature is not verified; the claims are read only to learn
// expiry and order. An empty value returns ErrNoToken.
//
// A header sent on several lines reaches a script joined with ", " (that is
// what fetch's Headers.get returns). If every value in such a list names the
// same token, that token is read; a list of different tokens is
// ErrMalformed.
func ParseHeader(value string) (Token, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return Token{}, ErrNoToken
	}
	if len(value) > MaxTokenBytes {
		return Token{}, fault.New(ErrMalformed, strconv.Itoa(len(value))+" bytes is longer than the "+strconv.Itoa(MaxTokenBytes)+" allowed")
	}
	first, rest, repeated := strings.Cut(value, ",")
	raw := bareToken(first)
	for repeated {
		var next string
		next, rest, repeated = strings.Cut(rest, ",")
		if bareToken(next) != raw {
			return Token{}, fault.New(ErrMalformed, "the header lists different tokens")
		}
	}
	if !isTokenText(raw) {
		return Token{}, ErrUnsafeHeader
	}
	return parseJWT(raw)
}

// bareToken strips spaces and a "Bearer " scheme from one header value.
func bareToken(v string) string {
	v = strings.Trim(v, " ")
	if scheme, rest, ok := strings.Cut(v, " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimLeft(rest, " ")
	}
	return v
}

// isTokenText reports whether s uses only the characters of a compact JWT
// (base64url and dots), which also keeps it safe to put in a header.
func isTokenText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '_', c == '.', c == '=':
		default:
			return false
		}
	}
	return true
}

func parseJWT(raw string) (Token, error) {
	head, rest, ok := strings.Cut(raw, ".")
	payload, sig, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || strings.Contains(sig, ".") {
		return Token{}, fault.New(ErrMalformed, "it has not three dot-separated parts")
	}
	header, err := segment(head)
	if err != nil {
		return Token{}, fault.Wrap(ErrMalformed, "header", err)
	}
	if alg, _ := header.Get("alg").Text(); alg == "" {
		return Token{}, fault.New(ErrMalformed, "header names no algorithm")
	}
	claims, err := segment(payload)
	if err != nil {
		return Token{}, fault.Wrap(ErrMalformed, "claims", err)
	}
	t := Token{Raw: raw}
	var exp, iat jsonscan.Value
	for key, v := range claims.Members() { // the last of a repeated claim counts
		switch key {
		case "sub":
			t.Subject, ok = stringClaim(v)
		case "jti":
			t.ID, ok = stringClaim(v)
		case "exp":
			exp = v
		case "iat":
			iat = v
		}
		if !ok {
			return Token{}, fault.New(ErrMalformed, "sub and jti must be strings")
		}
	}
	if exp.Kind() != jsonscan.KindNumber {
		return Token{}, fault.New(ErrMalformed, "it has no numeric exp claim")
	}
	if t.ExpiresAt, ok = claimTime(exp); !ok {
		return Token{}, fault.New(ErrMalformed, "exp is out of range")
	}
	switch iat.Kind() {
	case 0, jsonscan.KindNull: // absent or null: unknown
	case jsonscan.KindNumber:
		if t.IssuedAt, ok = claimTime(iat); !ok {
			return Token{}, fault.New(ErrMalformed, "iat is out of range")
		}
	default:
		return Token{}, fault.New(ErrMalformed, "iat is not a number")
	}
	return t, nil
}

// segment decodes one base64url part of a compact JWT holding a JSON object.
func segment(part string) (jsonscan.Value, error) {
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return nil, errors.New("not base64url")
	}
	if err := jsonscan.CheckObject(b, maxClaimsDepth); err != nil {
		return nil, err
	}
	return bytes.Trim(b, " \t\r\n"), nil
}

// stringClaim reads a claim that must be a string (invalid UTF-8 becomes
// U+FFFD); null counts as absent.
func stringClaim(v jsonscan.Value) (string, bool) {
	if s, ok := v.Text(); ok {
		return s, true
	}
	return "", v.Kind() == jsonscan.KindNull
}

// claimTime reads a NumericDate claim (see unixTime).
func claimTime(v jsonscan.Value) (time.Time, bool) {
	sec, ok := v.Float() // false past float64's range
	if !ok {
		return time.Time{}, false
	}
	return unixTime(sec)
}

// unixTime converts NumericDate seconds, fractions kept to the microsecond.
// Values outside years 1970..9999 are refused.
func unixTime(sec float64) (time.Time, bool) {
	const maxSec = 253402300799 // 9999-12-31T23:59:59Z
	if math.IsNaN(sec) || sec < 0 || sec > maxSec {
		return time.Time{}, false
	}
	whole, frac := math.Modf(sec)
	return time.Unix(int64(whole), int64(math.Round(frac*1e6))*1e3).UTC(), true
}

// IsZero reports whether t holds no token.
func (t Token) IsZero() bool { return t.Raw == "" }

// newerThan reports whether t was issued after u: by iat, then by exp.
// Tokens that compare equal are neither newer nor older.
func (t Token) newerThan(u Token) bool {
	if !t.IssuedAt.Equal(u.IssuedAt) {
		return t.IssuedAt.After(u.IssuedAt)
	}
	return t.ExpiresAt.After(u.ExpiresAt)
}

// String never shows the raw token, so a Token is safe to print or log.
func (t Token) String() string {
	if t.IsZero() {
		return "Token(none)"
	}
	return "Token(sub=" + strconv.Quote(t.Subject) + " jti=" + strconv.Quote(t.ID) + " exp=" + strconv.FormatInt(t.ExpiresAt.Unix(), 10) + ")"
}

// GoString is String, so %#v does not print the raw token either.
func (t Token) GoString() string { return t.String() }
