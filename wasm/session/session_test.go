package session

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// fakeClock is a Clock that moves only when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// mint signs a token as a server would; the session never checks the key.
func mint(t testing.TB, sub string, iat time.Time, ttl time.Duration) Token {
	t.Helper()
	claims := jwt.MapClaims{
		"sub": sub,
		"jti": fmt.Sprintf("jti-%d", iat.UnixNano()),
		"iat": float64(iat.UnixMilli()) / 1000,
		"exp": float64(iat.Add(ttl).UnixMilli()) / 1000,
	}
	raw, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte("test key"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ParseHeader("Bearer " + raw)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func loggedIn(t *testing.T, clock *fakeClock, opts ...Option) (*Session, Token) {
	t.Helper()
	s := New(append([]Option{WithClock(clock), WithLeeway(0)}, opts...)...)
	tok := mint(t, "1", clock.Now(), time.Hour)
	if _, err := s.CompleteLogin(s.BeginLogin(), tok); err != nil {
		t.Fatal(err)
	}
	return s, tok
}

func TestBeginWithoutLoginIsNotAuthenticated(t *testing.T) {
	s := New()
	if _, _, err := s.Begin(); !errors.Is(err, ErrNotAuthenticated) {
		t.Fatalf("Begin() error = %v, want ErrNotAuthenticated", err)
	}
	if s.Usable() || s.ExpiresIn() != 0 || !s.ExpiresAt().IsZero() {
		t.Fatal("empty session reports a token")
	}
}

func TestLoginInstallsTokenAndReportsExactExpiry(t *testing.T) {
	clock := &fakeClock{now: t0}
	s, tok := loggedIn(t, clock)
	if got, want := s.ExpiresAt(), tok.ExpiresAt; !got.Equal(want) {
		t.Errorf("ExpiresAt() = %v, want %v", got, want)
	}
	if got, want := s.ExpiresIn(), time.Hour; got != want {
		t.Errorf("ExpiresIn() = %v, want %v", got, want)
	}
	ticket, _, err := s.Begin()
	if err != nil || ticket.Token.Raw != tok.Raw {
		t.Fatalf("Begin() = %v, %v; want the login token", ticket.Token, err)
	}
}

func TestExpiryHonoursLeewayButReportsExp(t *testing.T) {
	clock := &fakeClock{now: t0}
	s, tok := loggedIn(t, clock, WithLeeway(30*time.Second))
	clock.Advance(time.Hour - 31*time.Second)
	if !s.Usable() {
		t.Fatal("token unusable 31s before exp with a 30s leeway")
	}
	clock.Advance(time.Second)
	if s.Usable() {
		t.Fatal("token usable 30s before exp with a 30s leeway")
	}
	if got, want := s.ExpiresIn(), 30*time.Second; got != want {
		t.Errorf("ExpiresIn() = %v, want %v (leeway must not shorten it)", got, want)
	}
	if !s.ExpiresAt().Equal(tok.ExpiresAt) {
		t.Errorf("ExpiresAt() moved to %v", s.ExpiresAt())
	}
	_, ev, err := s.Begin()
	if !errors.Is(err, ErrExpired) || ev == nil || ev.Reason != ReasonExpired {
		t.Fatalf("Begin() = %v, %v; want ErrExpired with the expired event", ev, err)
	}
	if _, ev, _ := s.Begin(); ev != nil {
		t.Errorf("expired event published twice: %v", ev)
	}
	if ev := s.CheckExpiry(); ev != nil {
		t.Errorf("CheckExpiry() after the event = %v, want nil", ev)
	}
}

func TestStateIsReadAtOneInstant(t *testing.T) {
	clock := &fakeClock{now: t0}
	s, tok := loggedIn(t, clock, WithLeeway(10*time.Second))
	clock.Advance(20 * time.Minute)
	got := s.State()
	want := State{ExpiresAt: tok.ExpiresAt, ExpiresIn: s.ExpiresIn(), UsableFor: s.UsableFor()}
	if got != want {
		t.Errorf("State() = %+v, want %+v", got, want)
	}
	if got.ExpiresIn-got.UsableFor != 10*time.Second {
		t.Errorf("ExpiresIn - UsableFor = %v, want the leeway", got.ExpiresIn-got.UsableFor)
	}
	s.Logout()
	if got := s.State(); got != (State{}) {
		t.Errorf("State() after logout = %+v, want zero", got)
	}
}

func TestCheckExpiryFiresOnce(t *testing.T) {
	clock := &fakeClock{now: t0}
	s, _ := loggedIn(t, clock)
	if ev := s.CheckExpiry(); ev != nil {
		t.Fatalf("CheckExpiry() on a fresh token = %v", ev)
	}
	clock.Advance(time.Hour)
	if ev := s.CheckExpiry(); ev == nil || ev.Reason != ReasonExpired {
		t.Fatalf("CheckExpiry() at exp = %v, want expired", ev)
	}
	if ev := s.CheckExpiry(); ev != nil {
		t.Fatalf("second CheckExpiry() = %v, want nil", ev)
	}
}

func TestServerAnchoredClockCorrectsSkew(t *testing.T) {
	// The browser's clock is 10 minutes slow: the server says iat = t0+10m.
	clock := &fakeClock{now: t0}
	s := New(WithClock(clock), WithLeeway(0))
	tok := mint(t, "1", t0.Add(10*time.Minute), time.Hour)
	if _, err := s.CompleteLogin(s.BeginLogin(), tok); err != nil {
		t.Fatal(err)
	}
	if got, want := s.ExpiresIn(), time.Hour; got != want {
		t.Errorf("ExpiresIn() = %v, want %v", got, want)
	}
	clock.Advance(time.Hour)
	if s.Usable() {
		t.Error("token usable an hour after issue on the server's clock")
	}
}

func TestRotation(t *testing.T) {
	clock := &fakeClock{now: t0}
	tests := []struct {
		name    string
		offer   func(held Token) Token
		wantErr error
		wantNew bool
	}{
		{"newer token installs", func(Token) Token { return mint(t, "1", t0.Add(time.Second), time.Hour) }, nil, true},
		{"same token is a no-op", func(h Token) Token { return h }, nil, false},
		{"older token is ignored", func(Token) Token { return mint(t, "1", t0.Add(-time.Second), time.Hour) }, ErrOlder, false},
		{"another subject is ignored", func(Token) Token { return mint(t, "2", t0.Add(time.Second), time.Hour) }, ErrOtherSubject, false},
		{"expired token is ignored", func(Token) Token { return mint(t, "1", t0.Add(time.Millisecond), -time.Millisecond) }, ErrAlreadyExpired, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, held := loggedIn(t, clock)
			ticket, _, _ := s.Begin()
			offer := tt.offer(held)
			ev, err := s.Rotate(ticket, offer)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Rotate() error = %v, want %v", err, tt.wantErr)
			}
			if got := ev != nil; got != tt.wantNew {
				t.Fatalf("Rotate() event = %v, want event: %t", ev, tt.wantNew)
			}
			want := held
			if tt.wantNew {
				want = offer
			}
			if now, _, _ := s.Begin(); now.Token.Raw != want.Raw {
				t.Errorf("held token = %v, want %v", now.Token, want)
			}
		})
	}
}

func TestRotationIgnoresOlderTokenArrivingLate(t *testing.T) {
	clock := &fakeClock{now: t0}
	s, _ := loggedIn(t, clock)
	ticket, _, _ := s.Begin()
	newest := mint(t, "1", t0.Add(2*time.Second), time.Hour)
	middle := mint(t, "1", t0.Add(time.Second), time.Hour)
	if _, err := s.Rotate(ticket, newest); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Rotate(ticket, middle); !errors.Is(err, ErrOlder) {
		t.Fatalf("late older token: error = %v, want ErrOlder", err)
	}
	if now, _, _ := s.Begin(); now.Token.Raw != newest.Raw {
		t.Errorf("held %v, want the newest", now.Token)
	}
}

func TestLogoutMakesInFlightAnswersStale(t *testing.T) {
	clock := &fakeClock{now: t0}
	s, _ := loggedIn(t, clock)
	ticket, _, _ := s.Begin()
	if ev := s.Logout(); ev == nil || ev.Reason != ReasonLogout {
		t.Fatalf("Logout() = %v, want logout event", ev)
	}
	if _, err := s.Rotate(ticket, mint(t, "1", t0.Add(time.Second), time.Hour)); !errors.Is(err, ErrStale) {
		t.Fatalf("Rotate after logout: error = %v, want ErrStale", err)
	}
	if s.Usable() {
		t.Fatal("a token was installed after logout")
	}
	if ev := s.Logout(); ev != nil {
		t.Errorf("second Logout() = %v, want nil", ev)
	}
}

func TestNewerLoginMakesEarlierAnswersStale(t *testing.T) {
	clock := &fakeClock{now: t0}
	s, _ := loggedIn(t, clock)
	inFlight, _, _ := s.Begin()
	firstLogin := s.BeginLogin()
	secondLogin := s.BeginLogin()
	if _, err := s.CompleteLogin(firstLogin, mint(t, "1", t0.Add(time.Second), time.Hour)); !errors.Is(err, ErrStale) {
		t.Fatalf("overtaken login: error = %v, want ErrStale", err)
	}
	fresh := mint(t, "2", t0.Add(2*time.Second), time.Hour)
	if _, err := s.CompleteLogin(secondLogin, fresh); err != nil {
		t.Fatal(err)
	}
	// A request sent with the old session's token answers after the login
	// with an even newer token: it must not replace the login's.
	if _, err := s.Rotate(inFlight, mint(t, "2", t0.Add(3*time.Second), time.Hour)); !errors.Is(err, ErrStale) {
		t.Fatalf("answer from before the login: error = %v, want ErrStale", err)
	}
	if now, _, _ := s.Begin(); now.Token.Raw != fresh.Raw {
		t.Errorf("held %v, want the second login's token", now.Token)
	}
}

func TestAbandonedLoginGivesUpItsPlace(t *testing.T) {
	clock := &fakeClock{now: t0}
	s := New(WithClock(clock))
	earlier := s.BeginLogin()
	later := s.BeginLogin()
	s.EndLogin(later) // aborted, or failed, before it answered
	tok := mint(t, "1", t0, time.Hour)
	if _, err := s.CompleteLogin(earlier, tok); err != nil {
		t.Fatalf("the earlier login after the later one gave up: %v, want it installed", err)
	}
	s.EndLogin(earlier)
	if now, _, _ := s.Begin(); now.Token.Raw != tok.Raw {
		t.Errorf("held %v, want the earlier login's token", now.Token)
	}
}

func TestLoginOvertakenByACompletedLoginStaysStale(t *testing.T) {
	clock := &fakeClock{now: t0}
	s := New(WithClock(clock))
	earlier := s.BeginLogin()
	later := s.BeginLogin()
	if _, err := s.CompleteLogin(later, mint(t, "1", t0, time.Hour)); err != nil {
		t.Fatal(err)
	}
	s.EndLogin(later)
	if _, err := s.CompleteLogin(earlier, mint(t, "1", t0.Add(time.Second), time.Hour)); !errors.Is(err, ErrStale) {
		t.Fatalf("a login older than an installed one: error = %v, want ErrStale", err)
	}
}

func TestLogoutOvertakesALoginInFlight(t *testing.T) {
	clock := &fakeClock{now: t0}
	s := New(WithClock(clock))
	login := s.BeginLogin()
	s.Logout()
	if _, err := s.CompleteLogin(login, mint(t, "1", t0, time.Hour)); !errors.Is(err, ErrStale) {
		t.Fatalf("a login begun before a logout: error = %v, want ErrStale", err)
	}
}

func TestRefusedCurrentTokenDropsIt(t *testing.T) {
	clock := &fakeClock{now: t0}
	s, _ := loggedIn(t, clock)
	ticket, _, _ := s.Begin()
	if s.Superseded(ticket) {
		t.Fatal("Superseded() = true for the held token")
	}
	replay, ev := s.Refused(ticket)
	if replay || ev == nil || ev.Reason != ReasonUnauthorized {
		t.Fatalf("Refused() = %t, %v; want no replay and the unauthorized event", replay, ev)
	}
	if _, _, err := s.Begin(); !errors.Is(err, ErrNotAuthenticated) {
		t.Fatalf("Begin() after refusal: %v, want ErrNotAuthenticated", err)
	}
}

func TestRefusedSupersededTokenAsksForReplay(t *testing.T) {
	clock := &fakeClock{now: t0}
	s, _ := loggedIn(t, clock)
	old, _, _ := s.Begin()
	if _, err := s.Rotate(old, mint(t, "1", t0.Add(time.Second), time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !s.Superseded(old) {
		t.Fatal("Superseded() = false for a token rotated away")
	}
	replay, ev := s.Refused(old)
	if !replay || ev != nil {
		t.Fatalf("Refused(superseded) = %t, %v; want replay and no event", replay, ev)
	}
	if !s.Usable() {
		t.Fatal("the current token was dropped")
	}
}

func TestRefusedAfterLogoutChangesNothing(t *testing.T) {
	clock := &fakeClock{now: t0}
	s, _ := loggedIn(t, clock)
	old, _, _ := s.Begin()
	s.Logout()
	if s.Superseded(old) {
		t.Fatal("Superseded() = true after a logout")
	}
	if replay, ev := s.Refused(old); replay || ev != nil {
		t.Fatalf("Refused() after logout = %t, %v; want nothing", replay, ev)
	}
}

func TestConcurrentRotationsKeepTheNewest(t *testing.T) {
	clock := &fakeClock{now: t0}
	s, _ := loggedIn(t, clock)
	const n = 200
	toks := make([]Token, n)
	for i := range toks {
		toks[i] = mint(t, "1", t0.Add(time.Duration(i+1)*time.Millisecond), time.Hour)
	}
	var wg sync.WaitGroup
	for i := n - 1; i >= 0; i-- { // newest first: most offers are older
		wg.Add(1)
		go func(tok Token) {
			defer wg.Done()
			ticket, _, err := s.Begin()
			if err != nil {
				t.Error(err)
				return
			}
			s.Rotate(ticket, tok)
		}(toks[i])
	}
	wg.Wait()
	if now, _, _ := s.Begin(); now.Token.Raw != toks[n-1].Raw {
		t.Errorf("held %v, want the newest %v", now.Token, toks[n-1])
	}
}

func TestStringNeverShowsTheToken(t *testing.T) {
	clock := &fakeClock{now: t0}
	s, tok := loggedIn(t, clock)
	for _, got := range []string{s.String(), tok.String(), fmt.Sprintf("%v %+v %#v", tok, tok, tok)} {
		if strings.Contains(got, tok.Raw) || strings.Contains(got, strings.Split(tok.Raw, ".")[2]) {
			t.Errorf("%q reveals the token", got)
		}
	}
}

func TestFailedLoginDoesNotStopRotation(t *testing.T) {
	clock := &fakeClock{now: t0}
	s, _ := loggedIn(t, clock)
	inFlight, _, _ := s.Begin()
	s.BeginLogin() // a login that will fail: nothing completes it
	newer := mint(t, "1", t0.Add(time.Second), time.Hour)
	if _, err := s.Rotate(inFlight, newer); err != nil {
		t.Fatalf("rotation while a login is pending: %v", err)
	}
}

func TestRenewsTellsAnAuthenticatedAnswer(t *testing.T) {
	clock := &fakeClock{now: t0}
	s, held := loggedIn(t, clock)
	ticket, _, _ := s.Begin()
	later := mint(t, "1", t0.Add(time.Second), time.Hour)
	sameSecond := mint(t, "1", t0, time.Hour) // another token, issued in the same instant
	tests := []struct {
		name string
		tok  Token
		want bool
	}{
		{"a newer token", later, true},
		{"another token of the same instant", sameSecond, sameSecond.Raw != held.Raw},
		{"the token sent, echoed", held, false},
		{"an older token", mint(t, "1", t0.Add(-time.Minute), time.Hour), false},
		{"another subject's", mint(t, "2", t0.Add(time.Second), time.Hour), false},
		{"already expired", mint(t, "1", t0.Add(time.Second), -time.Second), false},
	}
	for _, tt := range tests {
		if got := s.Renews(ticket, tt.tok); got != tt.want {
			t.Errorf("%s: Renews() = %t, want %t", tt.name, got, tt.want)
		}
	}
	if s.Renews(Ticket{}, later) {
		t.Error("Renews() = true for a request that carried no token")
	}
	if !s.Usable() || s.ExpiresAt() != held.ExpiresAt {
		t.Error("Renews changed the session")
	}
}

func TestExpiryDueUntilTheExpiredEvent(t *testing.T) {
	clock := &fakeClock{now: t0}
	s := New(WithClock(clock), WithLeeway(10*time.Second))
	if _, ok := s.ExpiryDue(); ok {
		t.Fatal("ExpiryDue() with no token says something is due")
	}
	if _, err := s.CompleteLogin(s.BeginLogin(), mint(t, "1", t0, time.Minute)); err != nil {
		t.Fatal(err)
	}
	if d, ok := s.ExpiryDue(); !ok || d != 50*time.Second {
		t.Fatalf("ExpiryDue() = %v, %t; want 50s (exp minus the leeway)", d, ok)
	}
	clock.Advance(time.Minute)
	if d, ok := s.ExpiryDue(); !ok || d != 0 {
		t.Fatalf("ExpiryDue() past the moment = %v, %t; want 0, true", d, ok)
	}
	if ev := s.CheckExpiry(); ev == nil || ev.Reason != ReasonExpired {
		t.Fatalf("CheckExpiry() = %v", ev)
	}
	if _, ok := s.ExpiryDue(); ok {
		t.Error("ExpiryDue() after the expired event says something is due")
	}
}
