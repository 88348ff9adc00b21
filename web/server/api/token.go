package api

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// tokenClaims are the claims of an issued token. iat and exp are unix
// seconds with millisecond precision (e.g. 1764220000.123), kept as floats
// here so that jwt.TimePrecision, a package global, can stay untouched.
type tokenClaims struct {
	Subject   string  `json:"sub"`
	IssuedAt  float64 `json:"iat"`
	ExpiresAt float64 `json:"exp"`
	ID        string  `json:"jti"`
}

var _ jwt.Claims = (*tokenClaims)(nil)

// GetExpirationTime implements jwt.Claims.
func (c *tokenClaims) GetExpirationTime() (*jwt.NumericDate, error) {
	return numericDate(c.ExpiresAt), nil
}

// GetIssuedAt implements jwt.Claims.
func (c *tokenClaims) GetIssuedAt() (*jwt.NumericDate, error) {
	return numericDate(c.IssuedAt), nil
}

// GetNotBefore implements jwt.Claims; tokens have no nbf.
func (c *tokenClaims) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }

// GetIssuer implements jwt.Claims; tokens have no iss.
func (c *tokenClaims) GetIssuer() (string, error) { return "", nil }

// GetSubject implements jwt.Claims.
func (c *tokenClaims) GetSubject() (string, error) { return c.Subject, nil }

// GetAudience implements jwt.Claims; tokens have no aud.
func (c *tokenClaims) GetAudience() (jwt.ClaimStrings, error) { return nil, nil }

// numericDate converts unix seconds to a NumericDate without the rounding
// jwt.NewNumericDate applies; 0 means the claim is absent.
func numericDate(sec float64) *jwt.NumericDate {
	if sec == 0 {
		return nil
	}
	return &jwt.NumericDate{Time: time.UnixMilli(int64(math.Round(sec * 1000)))}
}

func unixSeconds(ms int64) float64 { return float64(ms) / 1000 }

var errTokenClaims = errors.New("token lacks sub or jti")

// tokenIssuer signs and verifies HS256 tokens.
type tokenIssuer struct {
	key    []byte
	ttl    time.Duration
	now    func() time.Time
	parser *jwt.Parser

	mu     sync.Mutex
	lastMS int64 // iat of the newest token, in unix milliseconds
}

func newTokenIssuer(key []byte, ttl time.Duration, now func() time.Time) *tokenIssuer {
	return &tokenIssuer{
		key: key,
		ttl: ttl,
		now: now,
		// No jwt.WithIssuedAt: under bursts, iat runs a few milliseconds
		// ahead of the clock (see issue), and such tokens must still work.
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithExpirationRequired(),
			jwt.WithTimeFunc(now),
		),
	}
}

// issue signs a new token for sub. Its iat is the current time in
// milliseconds, moved one millisecond past the previous token's when needed,
// so that the tokens of one server are strictly ordered by iat.
func (t *tokenIssuer) issue(sub string) (string, tokenClaims, error) {
	t.mu.Lock()
	iat := max(t.now().UnixMilli(), t.lastMS+1)
	t.lastMS = iat
	t.mu.Unlock()
	return t.sign(sub, iat, iat+t.ttl.Milliseconds())
}

func (t *tokenIssuer) sign(sub string, iatMS, expMS int64) (string, tokenClaims, error) {
	id := make([]byte, 16)
	rand.Read(id)
	c := tokenClaims{
		Subject:   sub,
		IssuedAt:  unixSeconds(iatMS),
		ExpiresAt: unixSeconds(expMS),
		ID:        hex.EncodeToString(id),
	}
	raw, err := jwt.NewWithClaims(jwt.SigningMethodHS256, &c).SignedString(t.key)
	return raw, c, err
}

// verify checks signature, algorithm, exp and iat with golang-jwt.
func (t *tokenIssuer) verify(raw string) (tokenClaims, error) {
	var c tokenClaims
	_, err := t.parser.ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) { return t.key, nil })
	if err != nil {
		return tokenClaims{}, err
	}
	if c.Subject == "" || c.ID == "" {
		return tokenClaims{}, errTokenClaims
	}
	return c, nil
}

// bearerToken extracts the token from an Authorization header value:
// "Bearer <jwt>" or a bare "<jwt>".
func bearerToken(header string) string {
	header = strings.TrimSpace(header)
	if scheme, rest, ok := strings.Cut(header, " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(rest)
	}
	return header
}
