package api

import (
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// IssuedToken is an entry of the test token log: a token the server sent.
// Entries are in the order the tokens were recorded; IssuedAt orders them
// exactly (strictly increasing per server), the log order nearly so.
type IssuedToken struct {
	JTI       string  `json:"jti"`
	Subject   string  `json:"sub"`
	IssuedAt  float64 `json:"iat"`
	ExpiresAt float64 `json:"exp"`
	Raw       string  `json:"raw"`
	// Chain numbers the session, the chain of tokens started by one login.
	Chain int `json:"chain"`
	// Request is the Seq of the request whose answer carried the token.
	Request int `json:"request"`
	// Forged marks the tokens of the token faults, which never become a
	// session's newest token.
	Forged bool `json:"forged,omitempty"`
}

// ReceivedToken is an entry of the test token log: a /graphql request that
// carried a token, in arrival order. JTI is empty when the token was not
// readable.
type ReceivedToken struct {
	// Seq numbers the request among all /graphql requests, from 1.
	Seq int    `json:"seq"`
	JTI string `json:"jti"`
	// IssuedAt is the token's iat in unix seconds, read without checking
	// the token; 0 when not readable.
	IssuedAt float64 `json:"iat"`
	// At is the arrival time in unix seconds.
	At float64 `json:"at"`
	// Op is the request's operationName or else the name of its document's
	// first operation, once its body was read.
	Op string `json:"op,omitempty"`
	// Refused is set when the answer was the seed's Unauthorized.
	Refused bool `json:"refused,omitempty"`
}

// HeldRequest is a request waiting, with hold=1, to be released.
type HeldRequest struct {
	Seq int    `json:"seq"`
	Op  string `json:"op,omitempty"`
	JTI string `json:"jti,omitempty"`
}

// CancelledRequest is a request whose client went away while a test hook
// was making it wait or was writing its body: proof that the browser really
// aborted the fetch.
type CancelledRequest struct {
	Seq int    `json:"seq"`
	Op  string `json:"op,omitempty"`
	JTI string `json:"jti,omitempty"`
	// Stage is where it was: "delay", "hold", "lag" or "body".
	Stage string `json:"stage"`
	// WaitedMS is how long it had waited; WaitMS how long it was to wait
	// (not set for hold).
	WaitedMS int64 `json:"waitedMs"`
	WaitMS   int64 `json:"waitMs,omitempty"`
	// Written and Size are the body bytes written and the body size, for
	// stage "body".
	Written int64 `json:"written,omitempty"`
	Size    int64 `json:"size,omitempty"`
}

// TokenLog is the body of GET /test/tokens.
type TokenLog struct {
	Issued          []IssuedToken      `json:"issued"`
	Received        []ReceivedToken    `json:"received"`
	Held            []HeldRequest      `json:"held"`
	Cancelled       []CancelledRequest `json:"cancelled"`
	GraphQLRequests int                `json:"graphqlRequests"`
}

// ledger tracks sessions for strict rotation and, with test hooks, logs
// tokens and keeps the requests that hold=1 parks. A nil *ledger tracks
// nothing.
type ledger struct {
	keepLog bool

	mu         sync.Mutex
	log        TokenLog
	receivedAt map[int]int // Seq -> index in log.Received
	held       []heldRequest
	chains     int
	chainOf    map[string]int // jti -> chain
	newest     map[int]string // chain -> jti of its newest token
}

// heldRequest is a parked request and the channel that releases it.
type heldRequest struct {
	HeldRequest
	release chan struct{}
}

func newLedger(keepLog bool) *ledger {
	l := &ledger{
		keepLog: keepLog,
		chainOf: make(map[string]int),
		newest:  make(map[int]string),
	}
	l.clearLog()
	return l
}

func (l *ledger) clearLog() {
	l.log = TokenLog{
		Issued: []IssuedToken{}, Received: []ReceivedToken{},
		Held: []HeldRequest{}, Cancelled: []CancelledRequest{},
	}
	l.receivedAt = make(map[int]int)
}

// newChain starts a session.
func (l *ledger) newChain() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.chains++
	return l.chains
}

// chain returns the session of the token with the given jti.
func (l *ledger) chain(jti string) int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.chainOf[jti]
}

// isNewest reports whether jti is the newest token of its session.
func (l *ledger) isNewest(jti string) bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	chain, ok := l.chainOf[jti]
	return ok && l.newest[chain] == jti
}

// issued records a token sent in session chain, in the answer to request
// seq. advance makes it the session's newest token; tokens forged by test
// faults do not advance.
func (l *ledger) issued(raw string, c tokenClaims, chain, seq int, advance bool) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.chainOf[c.ID] = chain
	if advance {
		l.newest[chain] = c.ID
	}
	if l.keepLog {
		l.log.Issued = append(l.log.Issued, IssuedToken{
			JTI: c.ID, Subject: c.Subject, IssuedAt: c.IssuedAt, ExpiresAt: c.ExpiresAt, Raw: raw,
			Chain: chain, Request: seq, Forged: !advance,
		})
	}
}

// received counts a /graphql request, logs the token it carried, and
// returns the request's Seq (0 without a log).
func (l *ledger) received(raw string, at time.Time) int {
	if l == nil || !l.keepLog {
		return 0
	}
	var c tokenClaims
	if raw != "" {
		c = unverifiedClaims(raw)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.log.GraphQLRequests++
	seq := l.log.GraphQLRequests
	if raw != "" {
		l.receivedAt[seq] = len(l.log.Received)
		l.log.Received = append(l.log.Received, ReceivedToken{
			Seq: seq, JTI: c.ID, IssuedAt: c.IssuedAt, At: unixSeconds(at.UnixMilli()),
		})
	}
	return seq
}

// update changes the received entry of request seq, if it has one.
func (l *ledger) update(seq int, f func(*ReceivedToken)) {
	if l == nil || !l.keepLog {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if i, ok := l.receivedAt[seq]; ok {
		f(&l.log.Received[i])
	}
}

// named records the operationName of request seq.
func (l *ledger) named(seq int, op string) {
	l.update(seq, func(r *ReceivedToken) { r.Op = op })
}

// refused records that request seq was answered Unauthorized.
func (l *ledger) refused(seq int) {
	l.update(seq, func(r *ReceivedToken) { r.Refused = true })
}

// cancelled logs a request whose client went away.
func (l *ledger) cancelled(c CancelledRequest) {
	if l == nil || !l.keepLog {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.log.Cancelled = append(l.log.Cancelled, c)
}

// hold parks a request. The returned channel is closed when it is
// released; drop must be called when it stops waiting for any reason.
func (l *ledger) hold(h HeldRequest) (release <-chan struct{}, drop func()) {
	ch := make(chan struct{})
	l.mu.Lock()
	l.held = append(l.held, heldRequest{HeldRequest: h, release: ch})
	l.mu.Unlock()
	return ch, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		for i, x := range l.held {
			if x.release == ch {
				l.held = append(l.held[:i], l.held[i+1:]...)
				return
			}
		}
	}
}

// release lets the held request with the given Seq go on, or every held
// request when seq is 0. It returns how many it released.
func (l *ledger) release(seq int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.releaseLocked(seq)
}

func (l *ledger) releaseLocked(seq int) int {
	kept := l.held[:0]
	n := 0
	for _, x := range l.held {
		if seq == 0 || x.Seq == seq {
			close(x.release)
			n++
		} else {
			kept = append(kept, x)
		}
	}
	clear(l.held[len(kept):])
	l.held = kept
	return n
}

// snapshot copies the log.
func (l *ledger) snapshot() TokenLog {
	l.mu.Lock()
	defer l.mu.Unlock()
	held := make([]HeldRequest, 0, len(l.held))
	for _, x := range l.held {
		held = append(held, x.HeldRequest)
	}
	return TokenLog{
		Issued:          append([]IssuedToken{}, l.log.Issued...),
		Received:        append([]ReceivedToken{}, l.log.Received...),
		Held:            held,
		Cancelled:       append([]CancelledRequest{}, l.log.Cancelled...),
		GraphQLRequests: l.log.GraphQLRequests,
	}
}

// reset empties the log and releases held requests; sessions stay valid.
func (l *ledger) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.releaseLocked(0)
	l.clearLog()
}

// unverifiedClaims reads the claims of a token without checking it, for the
// log of received tokens. It returns zero claims when there are none.
func unverifiedClaims(raw string) tokenClaims {
	var c tokenClaims
	if _, _, err := jwt.NewParser().ParseUnverified(raw, &c); err != nil {
		return tokenClaims{}
	}
	return c
}
