// Package session owns the token a client holds: reading it from a response
// header, deciding whether it is still usable, and the rules by which a newer
// token replaces it.
//
// It is pure Go: it must not import syscall/js or net/http, so that it is
// tested natively with -race. The browser cannot verify a token's signature
// (it has no key), so claims are read without verification and used only to
// schedule expiry and order rotations, never to grant access.
package session

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Errors reported when a header value cannot become a Token. They wrap
// golang-jwt's errors where one applies, so errors.Is works with both.
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
func ParseHeader(value string) (Token, error) {
	raw := strings.TrimSpace(value)
	if raw == "" {
		return Token{}, ErrNoToken
	}
	if len(raw) > MaxTokenBytes {
		return Token{}, fmt.Errorf("%w: %d bytes is longer than the %d allowed", ErrMalformed, len(raw), MaxTokenBytes)
	}
	if scheme, rest, ok := strings.Cut(raw, " "); ok && strings.EqualFold(scheme, "Bearer") {
		raw = strings.TrimLeft(rest, " ")
	}
	if !isTokenText(raw) {
		return Token{}, ErrUnsafeHeader
	}
	return parseJWT(raw)
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

// claims is what the session reads from a token. Times stay float64 so that
// fractional NumericDates (millisecond-precise iat) keep their order.
type claims struct {
	Subject   string   `json:"sub"`
	ID        string   `json:"jti"`
	IssuedAt  *float64 `json:"iat"`
	ExpiresAt *float64 `json:"exp"`
}

// The jwt.Claims methods are required by the parser; validation never runs
// because tokens are only parsed unverified.
func (c *claims) GetExpirationTime() (*jwt.NumericDate, error) { return nil, nil }
func (c *claims) GetIssuedAt() (*jwt.NumericDate, error)       { return nil, nil }
func (c *claims) GetNotBefore() (*jwt.NumericDate, error)      { return nil, nil }
func (c *claims) GetIssuer() (string, error)                   { return "", nil }
func (c *claims) GetSubject() (string, error)                  { return c.Subject, nil }
func (c *claims) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }

var unverified = jwt.NewParser(jwt.WithoutClaimsValidation())

func parseJWT(raw string) (Token, error) {
	var c claims
	if _, _, err := unverified.ParseUnverified(raw, &c); err != nil {
		return Token{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if c.ExpiresAt == nil {
		return Token{}, fmt.Errorf("%w: it has no exp claim", ErrMalformed)
	}
	exp, ok := unixTime(*c.ExpiresAt)
	if !ok {
		return Token{}, fmt.Errorf("%w: exp is out of range", ErrMalformed)
	}
	t := Token{Raw: raw, Subject: c.Subject, ID: c.ID, ExpiresAt: exp}
	if c.IssuedAt != nil {
		if t.IssuedAt, ok = unixTime(*c.IssuedAt); !ok {
			return Token{}, fmt.Errorf("%w: iat is out of range", ErrMalformed)
		}
	}
	return t, nil
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
	return fmt.Sprintf("Token(sub=%q jti=%q exp=%s)", t.Subject, t.ID, t.ExpiresAt.Format(time.RFC3339))
}

// GoString is String, so %#v does not print the raw token either.
func (t Token) GoString() string { return t.String() }
