package contract

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MinKeyBytes is the length of the shortest Tokens.Key: HS256 wants a key at
// least as long as its hash.
const MinKeyBytes = 32

// Tokens issues and verifies the API's tokens: JWTs signed with HS256.
type Tokens struct {
	// Key signs and verifies tokens. It must be secret, at least MinKeyBytes
	// long (random bytes, not a password) and the same on every instance of
	// the API.
	Key []byte
	// TTL is how long a token is valid: its exp is its iat plus TTL. Both
	// claims are whole seconds, so TTL should be too. It must be positive;
	// gqlauth's contract uses an hour.
	TTL time.Duration
}

// verifier accepts HS256 tokens with an exp only; an exp at or before the
// current time is refused.
var verifier = jwt.NewParser(
	jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
	jwt.WithExpirationRequired(),
)

// errNoBearer is verify's error for an Authorization header that is not
// "Bearer <jwt>".
var errNoBearer = errors.New(`contract: Authorization is not "Bearer <jwt>"`)

// Issue returns a new token for the user sub: an HS256 JWT with the claims
// sub, jti (random text, unique to the token), iat (now) and exp (iat + TTL).
func (t *Tokens) Issue(sub string) (string, error) {
	if err := t.check(); err != nil {
		return "", err
	}
	if sub == "" {
		return "", errors.New("contract: Issue needs a user ID")
	}
	now := time.Now()
	return jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{
		Subject:   sub,
		ID:        rand.Text(),
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(t.TTL)),
	}).SignedString(t.Key)
}

// verify returns the user of the token in an Authorization header value,
// "Bearer <jwt>" (the scheme in any case), when the token is valid: signed
// with HS256 and t.Key, with an exp still to come and a sub. Its errors wrap
// golang-jwt's (jwt.ErrTokenExpired, jwt.ErrTokenSignatureInvalid, …).
func (t *Tokens) verify(authorization string) (string, error) {
	scheme, raw, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", errNoBearer
	}
	var claims jwt.RegisteredClaims
	if _, err := verifier.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return t.Key, nil }); err != nil {
		return "", fmt.Errorf("contract: %w", err)
	}
	if claims.Subject == "" {
		return "", fmt.Errorf("contract: %w: no sub", jwt.ErrTokenInvalidClaims)
	}
	return claims.Subject, nil
}

// check refuses a Key too short to be safe and a TTL that gives tokens
// already expired.
func (t *Tokens) check() error {
	if len(t.Key) < MinKeyBytes {
		return fmt.Errorf("contract: Tokens.Key has %d bytes, want at least %d", len(t.Key), MinKeyBytes)
	}
	if t.TTL <= 0 {
		return fmt.Errorf("contract: Tokens.TTL is %v, want a positive duration", t.TTL)
	}
	return nil
}
