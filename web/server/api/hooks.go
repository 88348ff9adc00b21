package api

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Test hooks, only with Config.TestHooks. Each /graphql request takes its
// hook parameters from the query string and, overriding those, from the
// object in its "__hook" variable (removed before the query runs), so that
// one client can make one request misbehave:
//
//	POST /graphql?delay=0-40&lag=0-80
//	{"query": "...", "variables": {"__hook": {"fault": "500html"}}}
//
// Parameters:
//
//   - delay=MS or delay=LO-HI: wait MS, or a random time from LO to HI
//     (milliseconds, at most 30000), after reading the body and before
//     checking the token.
//   - hold=1: then wait until released (POST /graphql?release=...), the
//     client goes away, or 60 s pass. GET /test/tokens lists held requests.
//   - lag=MS or lag=LO-HI: wait after the answer and its token are made,
//     before writing them, so that tokens reach the client out of the order
//     they were issued in.
//   - fault=KIND: make the answer broken in one of the ways below.
//   - bytes=N, nolength=1: the size of fault=huge, and whether to leave
//     out its Content-Length.
//   - to=URL: where fault=redirect sends the client, an absolute http or
//     https URL.
//
// Faults:
//
//   - 500html: 500 with an HTML body.
//   - 502json: 502 with a GraphQL-style JSON error.
//   - truncated: 200 with the first half of a JSON body.
//   - empty: 200 with an empty body.
//   - nonjson: 200, text/plain "hello".
//   - close: headers and part of the body, then the connection is closed.
//   - huge: 200 with a valid JSON body of bytes=N bytes (default 40 MiB).
//   - gzipbomb: 200 with a valid JSON body of bytes=N bytes (default
//     1 GiB) sent gzip-compressed, about a thousandth of that on the wire,
//     with Content-Encoding: gzip, which CORS hides from scripts.
//   - redirect: 307 Temporary Redirect to to=URL (400 without a usable
//     one), with the usual CORS headers and an empty body, so that a
//     browser follows it like any real redirect.
//   - deep: 200 with {"errors": A}, where A is 5000 arrays nested in one
//     another, [[[…]]], about 10 KB: for checking that a client bounds the
//     nesting depth of the JSON it parses.
//   - deepdata: 200 with {"data":{"me": A}}, A as for deep.
//   - badtoken: a normal answer whose token headers hold "not-a-jwt".
//   - expiredtoken: a normal answer whose token, correctly signed for the
//     same user and issued now (newer than any before it), expired a second
//     ago: its exp is a second before its iat.
//   - othersub: a normal answer whose token is signed for subject "2".
//   - crlftoken: a normal answer whose token header value has CR LF and a
//     second header line after the token. net/http turns CR and LF into
//     spaces, which is also all a browser could ever hand to a script.
//   - duptoken: a normal answer whose X-Authorization header is sent as two
//     header lines holding the same "Bearer <jwt>" (a browser joins them
//     into "Bearer <jwt>, Bearer <jwt>"); Authorization is sent once, as
//     usual.
//   - mixedtoken: a normal answer with two X-Authorization lines: first the
//     real new token, then a decoy, a different token correctly signed for
//     the same user with the same iat and exp (a browser joins them into
//     "Bearer <real>, Bearer <decoy>"). Authorization holds the real token
//     once. The decoy is logged as forged: it never becomes the session's
//     newest token, so strict rotation refuses it.
//   - echotoken: a normal answer that also echoes the token the request
//     carried in X-Debug-Request-Token and the new one in Set-Token-Debug
//     (both exposed to scripts), as a careless server might.
//
// The body faults (500html to deepdata) answer without running the query or
// sending a token. The token faults (badtoken to crlftoken) apply whenever
// a token would be sent; their tokens never become a session's newest one.
// The header faults (duptoken, mixedtoken) also apply whenever a token would
// be sent, but change only how the headers carry it: the real token they
// send is the session's newest, like that of a normal answer.
//
// POST /graphql?release=all (or release=SEQ) releases the held requests (or
// the one with that number) and answers {"released": N}; it is not counted
// as a GraphQL request. A client that goes away while a hook makes it wait,
// or while a huge body is written, is logged in TokenLog.Cancelled.
const (
	faultBadToken     = "badtoken"
	faultExpiredToken = "expiredtoken"
	faultOtherSubject = "othersub"
	faultCRLFToken    = "crlftoken"
	faultDupToken     = "duptoken"
	faultMixedToken   = "mixedtoken"
	faultRedirect     = "redirect"
	faultDeep         = "deep"
	faultDeepData     = "deepdata"
	faultGzipBomb     = "gzipbomb"
	faultEchoToken    = "echotoken"

	hookVariable      = "__hook"
	maxDelay          = 30 * time.Second
	maxHold           = 60 * time.Second
	defaultHugeBytes  = 40 << 20
	defaultBombBytes  = 1 << 30
	maxHugeBytes      = 1 << 30
	hugePrefix        = `{"data":{"blob":"`
	hugeSuffix        = `"}}`
	faultSampleAnswer = `{"data":{"me":{"id":"1","username":"demo","email":"demo@example.com"}}}`
	// deepNesting is how many arrays deep and deepdata nest.
	deepNesting = 5000
)

// bodyFaults answer instead of the query.
var bodyFaults = map[string]bool{
	"500html": true, "502json": true, "truncated": true, "empty": true,
	"nonjson": true, "close": true, "huge": true,
	faultRedirect: true, faultDeep: true, faultDeepData: true, faultGzipBomb: true,
}

// tokenFaults replace the token a normal answer carries.
var tokenFaults = map[string]bool{
	faultBadToken: true, faultExpiredToken: true, faultOtherSubject: true, faultCRLFToken: true,
}

// headerFaults send the real new token, in malformed headers.
var headerFaults = map[string]bool{
	faultDupToken: true, faultMixedToken: true, faultEchoToken: true,
}

// msRange is a wait of lo to hi, chosen at random per request.
type msRange struct{ lo, hi time.Duration }

// pick returns a duration from r, uniformly at millisecond steps.
func (r msRange) pick() time.Duration {
	if r.hi <= r.lo {
		return r.lo
	}
	steps := int64((r.hi-r.lo)/time.Millisecond) + 1
	return r.lo + time.Duration(rand.Int64N(steps))*time.Millisecond
}

// hookParams are the hook parameters of one request.
type hookParams struct {
	delay     msRange
	hold      bool
	lag       msRange
	fault     string
	hugeBytes int
	noLength  bool
	to        string // fault=redirect's Location
}

// hookRequest identifies the request a hook acts on, for the token log.
type hookRequest struct {
	seq int
	op  string
	jti string
}

// takeHookParams reads the hook parameters of a request from query,
// overridden by the "__hook" variable, which it removes from req.
func takeHookParams(query url.Values, req *gqlRequest) (hookParams, error) {
	values := url.Values{}
	for k, v := range query {
		values[k] = v
	}
	if v, ok := req.Variables[hookVariable]; ok {
		delete(req.Variables, hookVariable)
		obj, ok := v.(map[string]any)
		if !ok {
			return hookParams{}, fmt.Errorf("variable %s must be an object of hook parameters", hookVariable)
		}
		for k, x := range obj {
			switch x := x.(type) {
			case string:
				values.Set(k, x)
			case float64:
				values.Set(k, strconv.FormatFloat(x, 'f', -1, 64))
			case bool:
				values.Set(k, strconv.FormatBool(x))
			default:
				return hookParams{}, fmt.Errorf("hook parameter %s must be a string, number or boolean", k)
			}
		}
	}
	return parseHookParams(values)
}

// parseHookParams checks and reads the hook parameters in v.
func parseHookParams(v url.Values) (hookParams, error) {
	var p hookParams
	var err error
	if p.delay, err = parseRange(v.Get("delay")); err != nil {
		return p, fmt.Errorf("delay %w", err)
	}
	if p.lag, err = parseRange(v.Get("lag")); err != nil {
		return p, fmt.Errorf("lag %w", err)
	}
	if p.hold, err = parseFlag(v.Get("hold")); err != nil {
		return p, fmt.Errorf("hold %w", err)
	}
	if p.noLength, err = parseFlag(v.Get("nolength")); err != nil {
		return p, fmt.Errorf("nolength %w", err)
	}
	p.fault = v.Get("fault")
	if p.fault != "" && !bodyFaults[p.fault] && !tokenFaults[p.fault] && !headerFaults[p.fault] {
		return p, fmt.Errorf("unknown fault %s: use 500html, 502json, truncated, empty, nonjson, close, huge, "+
			"redirect, deep, deepdata, gzipbomb, badtoken, expiredtoken, othersub, crlftoken, duptoken, mixedtoken or echotoken", strconv.Quote(p.fault))
	}
	if p.fault == faultRedirect {
		p.to = v.Get("to")
		if u, err := url.Parse(p.to); err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
			return p, fmt.Errorf("fault redirect needs to=URL, an absolute http or https URL")
		}
	}
	p.hugeBytes = defaultHugeBytes
	if p.fault == faultGzipBomb {
		p.hugeBytes = defaultBombBytes
	}
	if s := v.Get("bytes"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < len(hugePrefix)+len(hugeSuffix) || n > maxHugeBytes {
			return p, fmt.Errorf("bytes must be %d to %d", len(hugePrefix)+len(hugeSuffix), maxHugeBytes)
		}
		p.hugeBytes = n
	}
	return p, nil
}

// parseRange reads "MS" or "LO-HI" in milliseconds; "" is no wait.
func parseRange(s string) (msRange, error) {
	if s == "" {
		return msRange{}, nil
	}
	lo, hi, isRange := strings.Cut(s, "-")
	if !isRange {
		hi = lo
	}
	a, errA := strconv.Atoi(lo)
	b, errB := strconv.Atoi(hi)
	r := msRange{time.Duration(a) * time.Millisecond, time.Duration(b) * time.Millisecond}
	if errA != nil || errB != nil || a < 0 || b < a || r.hi > maxDelay {
		return msRange{}, fmt.Errorf("must be MS or LO-HI, milliseconds from 0 to %d", maxDelay.Milliseconds())
	}
	return r, nil
}

func parseFlag(s string) (bool, error) {
	switch s {
	case "", "0", "false":
		return false, nil
	case "1", "true":
		return true, nil
	}
	return false, fmt.Errorf("must be 1 or 0")
}

// waitBefore applies delay and hold. It returns false when the client went
// away meanwhile; the request is then logged as cancelled.
func (s *Server) waitBefore(r *http.Request, hr hookRequest, p hookParams) bool {
	if d := p.delay.pick(); d > 0 {
		if !s.wait(r, hr, "delay", d, nil) {
			return false
		}
	}
	if p.hold {
		release, drop := s.ledger.hold(HeldRequest{Seq: hr.seq, Op: hr.op, JTI: hr.jti})
		defer drop()
		return s.wait(r, hr, "hold", maxHold, release)
	}
	return true
}

// waitLag applies lag, after the answer's token was made.
func (s *Server) waitLag(r *http.Request, hr hookRequest, p hookParams) bool {
	if d := p.lag.pick(); d > 0 {
		return s.wait(r, hr, "lag", d, nil)
	}
	return true
}

// wait waits for d, or until release is closed, or until the client goes
// away, which it logs and reports with false.
func (s *Server) wait(r *http.Request, hr hookRequest, stage string, d time.Duration, release <-chan struct{}) bool {
	start := time.Now()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-release:
		return true
	case <-r.Context().Done():
		c := CancelledRequest{
			Seq: hr.seq, Op: hr.op, JTI: hr.jti, Stage: stage,
			WaitedMS: time.Since(start).Milliseconds(),
		}
		if release == nil {
			c.WaitMS = d.Milliseconds()
		}
		s.ledger.cancelled(c)
		return false
	}
}

// writeFault answers with the body fault in p.
func (s *Server) writeFault(w http.ResponseWriter, hr hookRequest, p hookParams) {
	h := w.Header()
	switch p.fault {
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
		if written, err := writeHuge(w, p.hugeBytes, !p.noLength); err != nil {
			s.ledger.cancelled(CancelledRequest{
				Seq: hr.seq, Op: hr.op, JTI: hr.jti, Stage: "body", Written: written, Size: int64(p.hugeBytes),
			})
		}
	case faultGzipBomb:
		bomb, err := gzipBomb(p.hugeBytes)
		if err != nil {
			writeError(w, http.StatusInternalServerError, "internal server error")
			return
		}
		h.Set("Content-Encoding", "gzip")
		if written, err := writeBytes(w, http.StatusOK, "application/json", bomb); err != nil {
			s.ledger.cancelled(CancelledRequest{
				Seq: hr.seq, Op: hr.op, JTI: hr.jti, Stage: "body", Written: written, Size: int64(len(bomb)),
			})
		}
	case faultRedirect:
		h.Set("Location", p.to)
		writeBody(w, http.StatusTemporaryRedirect, "text/plain; charset=utf-8", "")
	case faultDeep:
		writeBody(w, http.StatusOK, "application/json", `{"errors":`+nestedArrays(deepNesting)+`}`)
	case faultDeepData:
		writeBody(w, http.StatusOK, "application/json", `{"data":{"me":`+nestedArrays(deepNesting)+`}}`)
	}
}

// nestedArrays returns n empty JSON arrays nested in one another: [[…]].
func nestedArrays(n int) string {
	return strings.Repeat("[", n) + strings.Repeat("]", n)
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

// writeHuge streams a valid JSON answer of exactly n bytes, announced in
// Content-Length when withLength. It returns how many bytes were written
// and the error that stopped it early.
func writeHuge(w http.ResponseWriter, n int, withLength bool) (int64, error) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if withLength {
		h.Set("Content-Length", strconv.Itoa(n))
	}
	w.WriteHeader(http.StatusOK)
	var written int64
	write := func(b []byte) error {
		k, err := w.Write(b)
		written += int64(k)
		return err
	}
	if err := write([]byte(hugePrefix)); err != nil {
		return written, err
	}
	chunk := bytes.Repeat([]byte{'x'}, 64<<10)
	for left := n - len(hugePrefix) - len(hugeSuffix); left > 0; {
		k := min(left, len(chunk))
		if err := write(chunk[:k]); err != nil {
			return written, err
		}
		left -= k
	}
	if err := write([]byte(hugeSuffix)); err != nil {
		return written, err
	}
	// Without Content-Length the end of the body is only known once the
	// final chunk is sent.
	return written, http.NewResponseController(w).Flush()
}

// sessionToken returns the token to send for sub in session chain, in the
// answer to request seq, honouring a token fault, and its claims (none for
// badtoken).
func (s *Server) sessionToken(sub string, chain, seq int, fault string) (string, tokenClaims, error) {
	var (
		raw string
		c   tokenClaims
		err error
	)
	switch fault {
	case faultBadToken:
		return "not-a-jwt", tokenClaims{}, nil
	case faultExpiredToken:
		raw, c, err = s.issueExpiredNow(sub)
	case faultOtherSubject:
		raw, c, err = s.tokens.issue("2")
	default:
		raw, c, err = s.tokens.issue(sub)
	}
	if err != nil {
		return "", tokenClaims{}, err
	}
	forged := tokenFaults[fault]
	s.ledger.issued(raw, c, chain, seq, !forged)
	if fault == faultCRLFToken {
		raw += "\r\nX-Injected: 1"
	}
	return raw, c, nil
}

// addTokenLine adds the second X-Authorization line of a header fault to
// h: the token raw again for duptoken; for mixedtoken a decoy signed for
// the same subject with the same iat and exp as c, logged as forged in
// session chain for request seq.
func (s *Server) addTokenLine(h http.Header, fault, raw string, c tokenClaims, chain, seq int) error {
	switch fault {
	case faultDupToken:
		h.Add("X-Authorization", "Bearer "+raw)
	case faultEchoToken:
		h.Set("Set-Token-Debug", "issued="+raw)
		h.Set("Access-Control-Expose-Headers", h.Get("Access-Control-Expose-Headers")+", X-Debug-Request-Token, Set-Token-Debug")
	case faultMixedToken:
		iatMS, expMS := int64(math.Round(c.IssuedAt*1000)), int64(math.Round(c.ExpiresAt*1000))
		decoy, dc, err := s.tokens.sign(c.Subject, iatMS, expMS)
		if err != nil {
			return err
		}
		s.ledger.issued(decoy, dc, chain, seq, false)
		h.Add("X-Authorization", "Bearer "+decoy)
	}
	return nil
}

// issueExpiredNow signs a token for sub with the iat a new token would
// get now, and an exp one second before it. Being the newest token, it is
// refused by a client only because it has expired.
func (s *Server) issueExpiredNow(sub string) (string, tokenClaims, error) {
	_, fresh, err := s.tokens.issue(sub)
	if err != nil {
		return "", tokenClaims{}, err
	}
	iatMS := int64(math.Round(fresh.IssuedAt * 1000))
	return s.tokens.sign(sub, iatMS, iatMS-1000)
}

// serveRelease answers POST /graphql?release=all|SEQ.
func (s *Server) serveRelease(w http.ResponseWriter, r *http.Request) {
	which := r.URL.Query().Get("release")
	seq := 0
	if which != "all" {
		var err error
		if seq, err = strconv.Atoi(which); err != nil || seq < 1 {
			writeError(w, http.StatusBadRequest, "release must be all or the number of a held request")
			return
		}
	}
	n := s.ledger.release(seq)
	writeBody(w, http.StatusOK, "application/json", `{"released":`+strconv.Itoa(n)+`}`)
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

// serveReset answers POST /test/reset by emptying the token log and
// releasing held requests.
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

// gzipBombs are the gzip-compressed huge bodies made so far, by size.
var gzipBombs sync.Map // int -> []byte

// gzipBomb returns a valid JSON body of n bytes, {"data":{"blob":"xx…"}},
// gzip-compressed; made once per size.
func gzipBomb(n int) ([]byte, error) {
	if b, ok := gzipBombs.Load(n); ok {
		return b.([]byte), nil
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	zw.Write([]byte(hugePrefix))
	chunk := bytes.Repeat([]byte{'x'}, 1<<20)
	for left := n - len(hugePrefix) - len(hugeSuffix); left > 0; left -= len(chunk) {
		zw.Write(chunk[:min(left, len(chunk))])
	}
	zw.Write([]byte(hugeSuffix))
	if err := zw.Close(); err != nil {
		return nil, err
	}
	b, _ := gzipBombs.LoadOrStore(n, buf.Bytes())
	return b.([]byte), nil
}

// writeBytes answers with body, counting what reached the client.
func writeBytes(w http.ResponseWriter, status int, contentType string, body []byte) (int64, error) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	n, err := w.Write(body)
	return int64(n), err
}
