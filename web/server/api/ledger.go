package api

import (
	"sync"
	"time"
)

// IssuedToken is an entry of the test token log: a token the server sent.
type IssuedToken struct {
	JTI       string  `json:"jti"`
	Subject   string  `json:"sub"`
	IssuedAt  float64 `json:"iat"`
	ExpiresAt float64 `json:"exp"`
	Raw       string  `json:"raw"`
	// Chain numbers the session, the chain of tokens started by one login.
	Chain int `json:"chain"`
}

// ReceivedToken is an entry of the test token log: a token that arrived on
// /graphql. JTI is empty when the token was not readable.
type ReceivedToken struct {
	JTI string `json:"jti"`
	// At is the arrival time in unix seconds.
	At float64 `json:"at"`
}

// TokenLog is the body of GET /test/tokens.
type TokenLog struct {
	Issued          []IssuedToken   `json:"issued"`
	Received        []ReceivedToken `json:"received"`
	GraphQLRequests int             `json:"graphqlRequests"`
}

// ledger tracks sessions for strict rotation and, with test hooks, logs
// tokens. A nil *ledger tracks nothing.
type ledger struct {
	keepLog bool

	mu      sync.Mutex
	log     TokenLog
	chains  int
	chainOf map[string]int // jti -> chain
	newest  map[int]string // chain -> jti of its newest token
}

func newLedger(keepLog bool) *ledger {
	return &ledger{
		keepLog: keepLog,
		log:     TokenLog{Issued: []IssuedToken{}, Received: []ReceivedToken{}},
		chainOf: make(map[string]int),
		newest:  make(map[int]string),
	}
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

// issued records a token sent in session chain. advance makes it the
// session's newest token; tokens forged by test faults do not advance.
func (l *ledger) issued(raw string, c tokenClaims, chain int, advance bool) {
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
			JTI: c.ID, Subject: c.Subject, IssuedAt: c.IssuedAt, ExpiresAt: c.ExpiresAt, Raw: raw, Chain: chain,
		})
	}
}

// received counts a /graphql request and logs the token it carried.
func (l *ledger) received(raw string, at time.Time) {
	if l == nil || !l.keepLog {
		return
	}
	entry := ReceivedToken{JTI: unverifiedID(raw), At: unixSeconds(at.UnixMilli())}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.log.GraphQLRequests++
	if raw != "" {
		l.log.Received = append(l.log.Received, entry)
	}
}

// snapshot copies the log.
func (l *ledger) snapshot() TokenLog {
	l.mu.Lock()
	defer l.mu.Unlock()
	return TokenLog{
		Issued:          append([]IssuedToken{}, l.log.Issued...),
		Received:        append([]ReceivedToken{}, l.log.Received...),
		GraphQLRequests: l.log.GraphQLRequests,
	}
}

// reset empties the log; sessions stay valid.
func (l *ledger) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.log = TokenLog{Issued: []IssuedToken{}, Received: []ReceivedToken{}}
}
