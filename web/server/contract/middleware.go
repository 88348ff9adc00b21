package contract

import (
	"context"
	"net/http"
	"sync"
)

// session is who one request is authenticated as. The resolvers of a query
// may run concurrently, so user is guarded by mu.
type session struct {
	mu   sync.Mutex
	user string // "" when the request is not authenticated
}

func (s *session) userID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.user
}

// sessionKey is the context key of a request's *session.
type sessionKey struct{}

// UserID returns the user the request of ctx is authenticated as: the user
// of a login in this request (see LoggedIn), else the user of the request's
// valid token. It returns "" when there is neither, and outside Middleware.
func UserID(ctx context.Context) string {
	s, ok := ctx.Value(sessionKey{}).(*session)
	if !ok {
		return ""
	}
	return s.userID()
}

// LoggedIn records that a login in the request of ctx succeeded for userID,
// so that its answer carries a token for userID. The loginUser resolver calls
// it once the credentials are right. It is safe for concurrent use; of two
// logins in one request, the last one wins. Outside Middleware it does
// nothing.
func LoggedIn(ctx context.Context, userID string) {
	s, ok := ctx.Value(sessionKey{}).(*session)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user = userID
}

// Middleware serves gqlauth's contract around next, the GraphQL handler.
//
// It verifies the "Authorization: Bearer <jwt>" header of each request and
// records the token's user for UserID; a request with a missing or invalid
// token (malformed, expired, not HS256, signed with another key) is served
// as not authenticated, and next's resolvers refuse its protected fields.
// Just before next writes the answer's head, if the request is
// authenticated (its token was valid, or a login in it succeeded), Middleware
// issues a fresh token for the user and sets both X-Authorization and
// Authorization to "Bearer <jwt>", with Cache-Control: no-store; an answer
// to a request that is not authenticated carries no token.
//
// Middleware panics if t.Key is shorter than MinKeyBytes or t.TTL is not
// positive.
func (t *Tokens) Middleware(next http.Handler) http.Handler {
	if err := t.check(); err != nil {
		panic(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := new(session)
		if user, err := t.verify(r.Header.Get("Authorization")); err == nil {
			s.user = user
		}
		ctx := context.WithValue(r.Context(), sessionKey{}, s)
		next.ServeHTTP(&tokenWriter{ResponseWriter: w, tokens: t, session: s}, r.WithContext(ctx))
	})
}

// tokenWriter is the ResponseWriter next writes to: it sets the token
// headers just before the answer's head is written, by WriteHeader, Write or
// Flush. (An answer next writes nothing to, whose head the server writes
// after next returns, carries no token; a GraphQL answer always has a
// body.) Unwrap lets http.ResponseController reach the server's writer.
type tokenWriter struct {
	http.ResponseWriter
	tokens      *Tokens
	session     *session
	wroteHeader bool
}

// WriteHeader sets the token headers, if the request is authenticated,
// before the final head (status 200 or more) is written.
func (w *tokenWriter) WriteHeader(status int) {
	if !w.wroteHeader && status >= 200 {
		w.wroteHeader = true
		if user := w.session.userID(); user != "" {
			// Issue cannot fail: Middleware has checked w.tokens.
			if token, err := w.tokens.Issue(user); err == nil {
				h := w.Header()
				h.Set("X-Authorization", "Bearer "+token)
				h.Set("Authorization", "Bearer "+token)
				h.Set("Cache-Control", "no-store")
			}
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

// Write writes the head first, as 200, if it is not written yet.
func (w *tokenWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Flush writes the head first, as 200, if it is not written yet; it makes
// tokenWriter an http.Flusher for handlers that stream.
func (w *tokenWriter) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap returns the server's ResponseWriter, for http.ResponseController.
func (w *tokenWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
