package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Test hooks, only with Config.TestHooks. ?fault=KIND on /graphql makes the
// answer broken in one way:
//
//   - 500html: 500 with an HTML body.
//   - 502json: 502 with a GraphQL-style JSON error.
//   - truncated: 200 with the first half of a JSON body.
//   - empty: 200 with an empty body.
//   - nonjson: 200, text/plain "hello".
//   - close: headers and part of the body, then the connection is closed.
//   - huge: 200 with a valid JSON body of ?bytes=N bytes (default 40 MiB).
//   - badtoken: a normal answer whose token headers hold "not-a-jwt".
//   - expiredtoken: a normal answer whose token, correctly signed for the
//     same user, expired a second ago.
//   - othersub: a normal answer whose token is signed for subject "2".
//
// The body faults (all but the last three) answer without running the query
// or sending a token. The token faults apply whenever a token would be sent;
// their tokens never become a session's newest one. ?delay=MS (at most
// 30000) waits before anything else.
const (
	faultBadToken     = "badtoken"
	faultExpiredToken = "expiredtoken"
	faultOtherSubject = "othersub"

	maxDelay          = 30 * time.Second
	defaultHugeBytes  = 40 << 20
	maxHugeBytes      = 1 << 30
	hugePrefix        = `{"data":{"blob":"`
	hugeSuffix        = `"}}`
	faultSampleAnswer = `{"data":{"me":{"id":"1","username":"demo","email":"demo@example.com"}}}`
)

// runHooks applies ?delay= and the body faults. It returns the token fault
// to apply later, or done when it has answered the request itself.
func (s *Server) runHooks(w http.ResponseWriter, r *http.Request) (tokenFault string, done bool) {
	q := r.URL.Query()
	if v := q.Get("delay"); v != "" {
		ms, err := strconv.Atoi(v)
		if err != nil || ms < 0 || time.Duration(ms)*time.Millisecond > maxDelay {
			writeError(w, http.StatusBadRequest, "delay must be 0 to 30000 milliseconds")
			return "", true
		}
		t := time.NewTimer(time.Duration(ms) * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return "", true
		}
	}
	kind := q.Get("fault")
	h := w.Header()
	switch kind {
	case "":
		return "", false
	case faultBadToken, faultExpiredToken, faultOtherSubject:
		return kind, false
	case "500html":
		writeBody(w, http.StatusInternalServerError, "text/html; charset=utf-8",
			"<!doctype html><html><body><h1>500 Internal Server Error</h1></body></html>")
	case "502json":
		writeError(w, http.StatusBadGateway, "bad gateway")
	case "truncated":
		writeBody(w, http.StatusOK, "application/json", faultSampleAnswer[:len(faultSampleAnswer)/2])
	case "empty":
		writeBody(w, http.StatusOK, "application/json", "")
	case "nonjson":
		writeBody(w, http.StatusOK, "text/plain; charset=utf-8", "hello")
	case "close":
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(faultSampleAnswer)))
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, faultSampleAnswer[:len(faultSampleAnswer)/2])
		closeConnection(w)
	case "huge":
		n := defaultHugeBytes
		if v := q.Get("bytes"); v != "" {
			var err error
			n, err = strconv.Atoi(v)
			if err != nil || n < len(hugePrefix)+len(hugeSuffix) || n > maxHugeBytes {
				writeError(w, http.StatusBadRequest, "bytes must be 20 to 1073741824")
				return "", true
			}
		}
		writeHuge(w, n)
	default:
		writeError(w, http.StatusBadRequest, "unknown fault "+strconv.Quote(kind)+
			": use 500html, 502json, truncated, empty, nonjson, close, huge, badtoken, expiredtoken or othersub")
	}
	return "", true
}

// closeConnection drops the connection after flushing what was written.
func closeConnection(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	rc.Flush()
	conn, _, err := rc.Hijack()
	if err != nil {
		// Not hijackable (HTTP/2): aborting resets the stream instead.
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

// writeHuge streams a valid JSON answer of exactly n bytes.
func writeHuge(w http.ResponseWriter, n int) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(n))
	w.WriteHeader(http.StatusOK)
	if _, err := io.WriteString(w, hugePrefix); err != nil {
		return
	}
	chunk := bytes.Repeat([]byte{'x'}, 64<<10)
	for left := n - len(hugePrefix) - len(hugeSuffix); left > 0; {
		k := min(left, len(chunk))
		if _, err := w.Write(chunk[:k]); err != nil {
			return
		}
		left -= k
	}
	io.WriteString(w, hugeSuffix)
}

// sessionToken returns the token to send for sub in session chain,
// honouring a token fault.
func (s *Server) sessionToken(sub string, chain int, fault string) (string, error) {
	var (
		raw string
		c   tokenClaims
		err error
	)
	switch fault {
	case faultBadToken:
		return "not-a-jwt", nil
	case faultExpiredToken:
		raw, c, err = s.tokens.issueExpired(sub)
	case faultOtherSubject:
		raw, c, err = s.tokens.issue("2")
	default:
		raw, c, err = s.tokens.issue(sub)
	}
	if err != nil {
		return "", err
	}
	s.ledger.issued(raw, c, chain, fault == "")
	return raw, nil
}

// serveTokenLog answers GET /test/tokens with the TokenLog.
func (s *Server) serveTokenLog(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, OPTIONS")
		writeError(w, http.StatusMethodNotAllowed, "method not allowed: use GET")
		return
	}
	b, err := json.Marshal(s.ledger.snapshot())
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal server error")
		return
	}
	writeBody(w, http.StatusOK, "application/json", string(b))
}

// serveReset answers POST /test/reset by emptying the token log.
func (s *Server) serveReset(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST, OPTIONS")
		writeError(w, http.StatusMethodNotAllowed, "method not allowed: use POST")
		return
	}
	s.ledger.reset()
	w.WriteHeader(http.StatusNoContent)
}

// writeBody writes a complete answer.
func writeBody(w http.ResponseWriter, status int, contentType, body string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if body != "" {
		io.WriteString(w, body)
	}
}
