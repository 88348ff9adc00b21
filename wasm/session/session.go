package session

import (
	"errors"
	"strconv"
	"sync"
	"time"
)

// Errors returned when a session cannot lend its token to a request.
var (
	// ErrNotAuthenticated means no token is held: log in first.
	ErrNotAuthenticated = errors.New("not logged in")
	// ErrExpired means the held token is past its expiry (leeway included).
	ErrExpired = errors.New("token has expired")
)

// Errors explaining why a rotated token was not installed. The held token is
// kept in every case.
var (
	// ErrStale means the response answers a request sent before a logout or a
	// newer login.
	ErrStale = errors.New("response belongs to an earlier session")
	// ErrOlder means the offered token was issued before the held one.
	ErrOlder = errors.New("token is older than the one held")
	// ErrOtherSubject means the offered token names another user.
	ErrOtherSubject = errors.New("token belongs to another subject")
	// ErrAlreadyExpired means the offered token is already past its expiry.
	ErrAlreadyExpired = errors.New("token is already expired")
)

// Reason says why the held token changed.
type Reason string

// The reasons an Event can carry.
const (
	ReasonLogin        Reason = "login"        // a login installed a token
	ReasonRotate       Reason = "rotate"       // a response carried a newer token
	ReasonLogout       Reason = "logout"       // the app logged out
	ReasonExpired      Reason = "expired"      // the token reached its expiry
	ReasonUnauthorized Reason = "unauthorized" // the server refused the token
)

// Event reports a change of the held token. ExpiresAt is the new token's
// expiry, or zero when no usable token is held any more.
type Event struct {
	Reason    Reason
	ExpiresAt time.Time
}

// DefaultLeeway is how long before its exp a token stops being sent, to
// absorb clock skew and request latency.
const DefaultLeeway = 10 * time.Second

// Clock tells the time. Tests pass a fake one so that expiry is tested
// without sleeping.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Option configures a Session.
type Option func(*Session)

// WithClock makes the session read time from c instead of the system clock.
func WithClock(c Clock) Option { return func(s *Session) { s.clock = c } }

// WithLeeway sets how long before exp a token is treated as expired.
// Negative values are treated as zero.
func WithLeeway(d time.Duration) Option {
	return func(s *Session) { s.leeway = max(d, 0) }
}

// Session holds at most one token and owns every rule about replacing it.
// It is safe for concurrent use. Methods that change the token return the
// Event to publish; callers publish it after the call, never under a lock.
//
// Expiry rule: with skew = iat − (local time the token arrived), the server's
// time is estimated as now + skew. A token is usable while
// serverNow < exp − leeway. ExpiresAt reports exp exactly; ExpiresIn reports
// exp − serverNow, and is zero once that is not positive.
type Session struct {
	clock  Clock
	leeway time.Duration

	mu      sync.Mutex
	token   Token
	skew    time.Duration       // server clock minus local clock, learned from iat
	epoch   uint64              // bumped by Logout and by every Login install
	logins  uint64              // numbers logins as they begin
	pending map[uint64]struct{} // logins begun and not yet ended (EndLogin)
	expired bool                // the expired event for token was already published
}

// New returns an empty session.
func New(opts ...Option) *Session {
	s := &Session{clock: systemClock{}, leeway: DefaultLeeway, pending: map[uint64]struct{}{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Ticket is what a request takes with it: the session epoch when it was sent
// and the token it carries (zero for a login). It lets the session tell
// answers to current requests from answers to earlier ones.
type Ticket struct {
	epoch uint64
	login uint64 // for a login: which one
	Token Token
}

// BeginLogin returns the ticket for a login request. Until the login
// completes, the held token keeps working and rotating. Call EndLogin with
// the ticket when the login is over, whatever its outcome.
//
// Which login wins: a login may install its token only if no logout and no
// other login's install happened since it began, and no login begun after
// it is still under way. A login that ends without installing (it failed,
// or its caller aborted it) gives up its place, so an earlier one that
// succeeds afterwards still installs.
func (s *Session) BeginLogin() Ticket {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logins++
	s.pending[s.logins] = struct{}{}
	return Ticket{epoch: s.epoch, login: s.logins}
}

// EndLogin records that the login with ticket t is over. Calling it again,
// or with a ticket that is not a login's, does nothing.
func (s *Session) EndLogin(t Ticket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pending, t.login)
}

// Begin returns a ticket carrying the held token for a protected request.
// With no token it returns ErrNotAuthenticated; with an expired one,
// ErrExpired and, the first time, the expired Event to publish.
func (s *Session) Begin() (Ticket, *Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token.IsZero() {
		return Ticket{}, nil, ErrNotAuthenticated
	}
	if !s.usableLocked() {
		return Ticket{}, s.expireLocked(), ErrExpired
	}
	return Ticket{epoch: s.epoch, Token: s.token}, nil, nil
}

// CompleteLogin installs the token a login returned, unless a logout or
// another login's install came after t was taken, or a login begun after it
// is still under way (ErrStale). See BeginLogin.
func (s *Session) CompleteLogin(t Ticket, tok Token) (Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.epoch != s.epoch || s.newerLoginPendingLocked(t.login) {
		return Event{}, ErrStale
	}
	if !tok.ExpiresAt.After(s.serverNowFor(tok)) {
		return Event{}, ErrAlreadyExpired
	}
	s.epoch++ // answers to requests sent with the previous token no longer rotate
	s.installLocked(tok)
	return Event{Reason: ReasonLogin, ExpiresAt: tok.ExpiresAt}, nil
}

// Rotate offers a token from the response to a request sent with t. It is
// installed only if it moves forward: same epoch, same subject, not older
// than the held token, and not already expired. Otherwise the held token is
// kept and the error says why. Offering the held token again is a no-op
// (nil event, nil error).
func (s *Session) Rotate(t Ticket, tok Token) (*Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case t.epoch != s.epoch || s.token.IsZero():
		return nil, ErrStale
	case tok.Raw == s.token.Raw:
		return nil, nil
	case tok.Subject != s.token.Subject:
		return nil, ErrOtherSubject
	case s.token.newerThan(tok):
		return nil, ErrOlder
	case !tok.ExpiresAt.After(s.serverNowLocked()):
		return nil, ErrAlreadyExpired
	}
	s.installLocked(tok)
	return &Event{Reason: ReasonRotate, ExpiresAt: tok.ExpiresAt}, nil
}

// Renews reports whether tok, read from the answer to a request sent with
// t, is a usable token newer than the one t carried: the token of the same
// subject, issued after it (see Rotate's order), and not already expired.
// Such an answer was authenticated: the server accepted t's token, whatever
// else the answer says. It changes nothing.
func (s *Session) Renews(t Ticket, tok Token) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !t.Token.IsZero() && tok.Raw != t.Token.Raw && tok.Subject == t.Token.Subject &&
		!t.Token.newerThan(tok) && tok.ExpiresAt.After(s.serverNowLocked())
}

// Refused records that the server answered Unauthorized to a request sent
// with t. If the held token is newer than the one t carried (the request
// raced a rotation), replay is true: send the request again with the held
// token. If t carried the held token, the token is dropped and the
// unauthorized Event returned. Answers from an earlier epoch change nothing.
func (s *Session) Refused(t Ticket) (replay bool, ev *Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case t.epoch != s.epoch || s.token.IsZero():
		return false, nil
	case t.Token.Raw != s.token.Raw:
		return s.usableLocked(), nil
	}
	s.clearLocked()
	return false, &Event{Reason: ReasonUnauthorized}
}

// Superseded reports whether the held token is newer than the one t
// carried, and usable: a refusal of a request sent with t would be
// replayed (see Refused).
func (s *Session) Superseded(t Ticket) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return t.epoch == s.epoch && !s.token.IsZero() && t.Token.Raw != s.token.Raw && s.usableLocked()
}

// Logout drops the held token. Answers to requests already sent no longer
// install theirs. It returns the logout Event, or nil if nothing was held.
func (s *Session) Logout() *Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.epoch++
	if s.token.IsZero() {
		return nil
	}
	s.clearLocked()
	return &Event{Reason: ReasonLogout}
}

// CheckExpiry returns the expired Event if the held token has become
// unusable since the last check and nobody was told yet.
func (s *Session) CheckExpiry() *Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token.IsZero() || s.usableLocked() {
		return nil
	}
	return s.expireLocked()
}

// Usable reports whether a token is held and is not expired (leeway
// included): whether Begin would succeed.
func (s *Session) Usable() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.token.IsZero() && s.usableLocked()
}

// ExpiresAt returns the held token's exp exactly as the server set it, or
// the zero time when no token is held.
func (s *Session) ExpiresAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token.ExpiresAt
}

// ExpiresIn returns the time left until the held token's exp on the
// server's clock, or zero when there is no token or it has expired. The
// leeway does not shorten it.
func (s *Session) ExpiresIn() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token.IsZero() {
		return 0
	}
	return max(s.token.ExpiresAt.Sub(s.serverNowLocked()), 0)
}

// UsableFor returns how long the held token stays usable (exp minus leeway,
// on the server's clock), or zero. Callers use it to schedule CheckExpiry.
func (s *Session) UsableFor() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token.IsZero() {
		return 0
	}
	return max(s.token.ExpiresAt.Add(-s.leeway).Sub(s.serverNowLocked()), 0)
}

// ExpiryDue returns how long until the held token stops being usable, and
// whether CheckExpiry is yet to report it: false when no token is held, or
// its expired event was published.
func (s *Session) ExpiryDue() (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token.IsZero() || s.expired {
		return 0, false
	}
	return max(s.token.ExpiresAt.Add(-s.leeway).Sub(s.serverNowLocked()), 0), true
}

// State is what can be said of a session's token at one instant, none of it
// secret.
type State struct {
	// ExpiresAt is the held token's exp, or zero when none is held.
	ExpiresAt time.Time
	// ExpiresIn is the time left until ExpiresAt on the server's clock, or
	// zero (see ExpiresIn).
	ExpiresIn time.Duration
	// UsableFor is how long the token may still be sent (see UsableFor).
	UsableFor time.Duration
}

// State returns ExpiresAt, ExpiresIn and UsableFor, read at one instant.
func (s *Session) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token.IsZero() {
		return State{}
	}
	now := s.serverNowLocked()
	return State{
		ExpiresAt: s.token.ExpiresAt,
		ExpiresIn: max(s.token.ExpiresAt.Sub(now), 0),
		UsableFor: max(s.token.ExpiresAt.Add(-s.leeway).Sub(now), 0),
	}
}

// String describes the session without revealing the token.
func (s *Session) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "Session(" + s.token.String() + " usable=" + strconv.FormatBool(!s.token.IsZero() && s.usableLocked()) + ")"
}

func (s *Session) newerLoginPendingLocked(login uint64) bool {
	for n := range s.pending {
		if n > login {
			return true
		}
	}
	return false
}

func (s *Session) serverNowLocked() time.Time { return s.clock.Now().Add(s.skew) }

func (s *Session) usableLocked() bool {
	return s.serverNowLocked().Before(s.token.ExpiresAt.Add(-s.leeway))
}

// serverNowFor estimates the server's time when a freshly issued tok
// arrives: its iat, or the held estimate when it has none.
func (s *Session) serverNowFor(tok Token) time.Time {
	if tok.IssuedAt.IsZero() {
		return s.clock.Now().Add(s.skew)
	}
	return tok.IssuedAt
}

func (s *Session) installLocked(tok Token) {
	if !tok.IssuedAt.IsZero() {
		s.skew = tok.IssuedAt.Sub(s.clock.Now())
	}
	s.token = tok
	s.expired = false
}

func (s *Session) clearLocked() {
	s.token = Token{}
	s.expired = false
}

func (s *Session) expireLocked() *Event {
	if s.expired {
		return nil
	}
	s.expired = true
	return &Event{Reason: ReasonExpired}
}
