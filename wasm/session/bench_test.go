package session_test

import (
	"encoding/base64"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gqlauth/gqlauth/wasm/session"
)

var benchStart = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// stoppedClock always says the same time.
type stoppedClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stoppedClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// header returns an Authorization value shaped like the reference server's:
// HS256, sub, a 32-hex-digit jti, millisecond iat and exp, a 32-byte
// signature. The session never checks the signature.
func header(n int, iat time.Time) string {
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	claims := enc.EncodeToString(fmt.Appendf(nil, `{"sub":"1","jti":"%032x","iat":%.3f,"exp":%.3f}`,
		n, float64(iat.UnixMilli())/1000, float64(iat.Add(time.Hour).UnixMilli())/1000))
	sig := enc.EncodeToString([]byte(fmt.Sprintf("%032d", n)))
	return "Bearer " + head + "." + claims + "." + sig
}

// BenchmarkParseHeader reads a token from a response header: trim, scheme,
// character check, base64 and JSON decoding of the claims.
func BenchmarkParseHeader(b *testing.B) {
	h := header(1, benchStart)
	b.SetBytes(int64(len(h)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := session.ParseHeader(h); err != nil {
			b.Fatal(err)
		}
	}
}

// loggedInSession returns a session on a stopped clock holding the token of
// header(0, benchStart).
func loggedInSession(b *testing.B) (*session.Session, session.Ticket) {
	b.Helper()
	s := session.New(session.WithClock(&stoppedClock{now: benchStart}))
	tok, err := session.ParseHeader(header(0, benchStart))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.CompleteLogin(s.BeginLogin(), tok); err != nil {
		b.Fatal(err)
	}
	t, _, err := s.Begin()
	if err != nil {
		b.Fatal(err)
	}
	return s, t
}

// BenchmarkRotate offers the session an already parsed, newer token, as
// every authenticated response does: the rules and the install, under the
// lock.
func BenchmarkRotate(b *testing.B) {
	s, ticket := loggedInSession(b)
	raws := [2]string{"token-a", "token-b"} // only compared, never parsed
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		iat := benchStart.Add(time.Duration(i) * time.Millisecond)
		tok := session.Token{Raw: raws[i%2], Subject: "1", IssuedAt: iat, ExpiresAt: iat.Add(time.Hour)}
		ev, err := s.Rotate(ticket, tok)
		if err != nil || ev == nil {
			b.Fatal("not rotated:", err)
		}
	}
}

// BenchmarkRotateSameToken offers the held token again (a response that
// repeats it): the cheapest answer.
func BenchmarkRotateSameToken(b *testing.B) {
	s, ticket := loggedInSession(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Rotate(ticket, ticket.Token); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRotateFromHeader is the whole per-response work of rotation:
// ParseHeader on a fresh header value, then Rotate. Headers are made ahead
// of time, newer and newer; when they run out the session starts over.
func BenchmarkRotateFromHeader(b *testing.B) {
	const ring = 4096
	headers := make([]string, ring)
	for i := range headers {
		headers[i] = header(i+1, benchStart.Add(time.Duration(i+1)*time.Millisecond))
	}
	s, ticket := loggedInSession(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == ring {
			i = 0
			b.StopTimer()
			s, ticket = loggedInSession(b)
			b.StartTimer()
		}
		tok, err := session.ParseHeader(headers[i])
		if err != nil {
			b.Fatal(err)
		}
		if ev, err := s.Rotate(ticket, tok); err != nil || ev == nil {
			b.Fatal("not rotated:", err)
		}
		i++
	}
}

// BenchmarkBegin takes the ticket every protected request starts with.
func BenchmarkBegin(b *testing.B) {
	s, _ := loggedInSession(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.Begin(); err != nil {
			b.Fatal(err)
		}
	}
}
