package client

import (
	"strconv"
	"strings"
	"time"

	"github.com/gqlauth/gqlauth/wasm/graphql"
	"github.com/gqlauth/gqlauth/wasm/internal/fault"
	"github.com/gqlauth/gqlauth/wasm/session"
)

// Request is one HTTP request for the driver to send, with fetch, never
// following a redirect (a redirect is ErrNetwork, and nothing goes to its
// target).
type Request struct {
	// Method is GET or POST.
	Method string
	URL    string
	// Header holds the request headers, the token's included.
	Header map[string]string
	// Body is sent as it is; nil for none.
	Body []byte
	// Secret says Body holds a password: the driver must wipe any copy it
	// makes once the request is on its way.
	Secret bool
	// AllHeaders asks for every response header scripts can read, in
	// Head.All, besides the ones AnswerHeaders names.
	AllHeaders bool
	// Timeout bounds the attempt, from send to the end of the body: past it
	// the driver stops the request and ends the exchange with ErrTimeout.
	Timeout time.Duration
	// MaxBytes bounds the body: past it (announced, or counted as it
	// arrives) the driver stops the request and ends the exchange with
	// ErrResponseTooLarge.
	MaxBytes int
	// Credentials is fetch's credentials mode, or "" for its default.
	Credentials string
}

// AnswerHeaders are the response headers the driver reads for Head.Header,
// with these names as keys: the token's, and the body's type and length.
var AnswerHeaders = []string{HeaderXAuthorization, HeaderAuthorization, "Content-Type", "Content-Length"}

// Head is the start of an answer: its status and headers.
type Head struct {
	Status     int
	StatusText string
	// Header holds the AnswerHeaders the answer has (and that CORS lets a
	// script read). A header sent on several lines is one value, joined
	// with ", ".
	Header map[string]string
	// All holds every header scripts can read, name and value, when the
	// request asked for them (AllHeaders).
	All [][2]string
}

// acceptGraphQL is the Accept header of gqlauth's requests: GraphQL over
// HTTP's media type first, then plain JSON for the servers that predate it.
const acceptGraphQL = "application/graphql-response+json, application/json;q=0.9"

type kind uint8

const (
	kindLogin kind = iota // loginUser: the answer's token is the session's
	kindQuery             // fetchWithAuth: the answer is collected whole
	kindPass              // the drop-in fetch: the answer is passed on as it arrives
)

// Exchange is one call: its request, the answer to the attempt under way
// and the judgement of it. Its driver sends Request(), then reports the
// answer with Head, Chunk (each piece of the body, in order) and End, or
// End alone if no answer came; End says whether to send again. It is used
// by one goroutine.
type Exchange struct {
	c     *Client
	kind  kind
	cause Cause
	body  []byte   // the request body; a login's holds the password, zeroed when the exchange ends
	pass  *Request // the app's own request, less its token
	// ticket is which session and token the attempt under way carries.
	ticket session.Ticket
	sent   int // attempts so far

	// The answer to the attempt under way.
	head    Head
	headed  bool
	brought session.Token // the token in the head, if any
	renewed bool          // the head brought a new usable token: the answer was authenticated
	held    bool          // the app's answer waits for its end (see Head)
	judge   graphql.Judge
	ended   bool
}

// Cause is the cause x was begun with.
func (x *Exchange) Cause() Cause { return x.cause }

// Request is what to send now. A login's Body holds the password: it is
// valid until the exchange ends.
func (x *Exchange) Request() *Request {
	c := x.c
	req := &Request{Method: "POST", URL: c.endpoint, Body: x.body, Secret: x.kind == kindLogin,
		Timeout: c.timeout, MaxBytes: c.maxBytes, Credentials: c.credentials}
	if x.pass != nil {
		p := *x.pass
		req.Method, req.URL, req.Body, req.AllHeaders = p.Method, p.URL, p.Body, true
		req.Header = make(map[string]string, len(p.Header)+1)
		for name, value := range p.Header {
			req.Header[name] = value
		}
	} else {
		req.Header = make(map[string]string, len(c.headers)+3)
		for name, value := range c.headers {
			req.Header[name] = value
		}
		req.Header["Content-Type"] = "application/json"
		if !hasHeader(req.Header, "Accept") {
			req.Header["Accept"] = acceptGraphQL
		}
	}
	if !x.ticket.Token.IsZero() {
		req.Header[HeaderAuthorization] = "Bearer " + x.ticket.Token.Raw
	}
	return req
}

// Head takes the start of the answer. The answer's token is installed now,
// if it moves the session forward (see session.Rotate; a login's waits for
// End). For the app's own request (Pass), passOn says whether the head
// goes to the app now, as it returns it, without any header that holds a
// token; if not (the token the request carried had been superseded, so a
// refusal would be sent again), the head and the body wait for End.
func (x *Exchange) Head(h Head) (head Head, passOn bool) {
	x.head, x.headed, x.brought, x.renewed, x.held = h, true, session.Token{}, false, false
	x.judge = graphql.Judge{Codes: x.c.codes}
	if x.kind == kindLogin {
		x.judge.Field = "loginUser"
		return Head{}, false
	}
	tok, err := tokenFrom(h)
	if err == nil {
		x.brought = tok
		x.renewed = x.c.sess.Renews(x.ticket, tok)
	}
	// Held or not is judged before the answer's own token is installed,
	// which never makes its request stale.
	x.held = x.kind == kindPass && x.sent == 1 && x.c.sess.Superseded(x.ticket)
	x.c.rotateFrom(x, tok, err)
	if x.kind != kindPass {
		return Head{}, false
	}
	return x.passHead(), !x.held
}

// Chunk takes the next piece of the body. p is not kept.
func (x *Exchange) Chunk(p []byte) { x.judge.Write(p) }

// Outcome is what End decides.
type Outcome struct {
	// Retry says to send Request() again: the server refused a token that
	// had been superseded before its answer came, and the request now
	// carries the current one. It is sent again once at most.
	Retry bool
	// Err is why the call failed, or nil. A *ResponseError says whether the
	// body holds the server's errors (ErrorsInBody).
	Err error
	// Body says the body goes with the outcome: the answer to a query or a
	// login (whose data.loginUser is the user), or the errors Err came with.
	Body bool
	// PassOn says the app's answer, held back by Head, goes to the app now:
	// its head (PassHead) and its body.
	PassOn bool
	// ExpiresAt is the exp of a login's new token.
	ExpiresAt time.Time
}

// End takes the end of the answer, or, with problem, why it did not come
// whole: an error wrapping ErrNetwork, ErrTimeout, ErrAborted or
// ErrResponseTooLarge, with or without a head before it. It judges the
// answer and says what follows.
func (x *Exchange) End(problem error) Outcome {
	if x.ended {
		return Outcome{Err: fault.New(ErrClosed, "close() ended the request")}
	}
	if problem != nil {
		if x.headed {
			problem = &ResponseError{Status: x.head.Status, Err: problem}
		}
		return x.finish(Outcome{Err: problem})
	}
	v, err := x.judge.End()
	if x.kind == kindLogin {
		return x.finish(x.endLogin(v, err))
	}
	status := x.head.Status
	if (status == 401 || err == nil && v.Unauthorized) && !x.renewed {
		// The server refused the token: judged against the session as it
		// is now; the answer's own token never makes its request stale.
		replay, ev := x.c.sess.Refused(x.ticket)
		x.c.changed(ev, x.cause)
		switch {
		case x.kind == kindPass && !x.held:
			return x.finish(Outcome{}) // the app has the answer already
		case replay && x.sent == 1 && x.c.lend(x) == nil:
			return Outcome{Retry: true}
		case x.kind == kindPass:
			return x.finish(Outcome{PassOn: true})
		}
		withErrors := err == nil && v.Errors
		return x.finish(Outcome{Body: withErrors, Err: &ResponseError{Status: status, ErrorsInBody: withErrors,
			Err: fault.New(ErrUnauthorized, "the server refused the token; log in again")}})
	}
	switch {
	case x.kind == kindPass:
		return x.finish(Outcome{PassOn: x.held})
	case err != nil && !ok2xx(status):
		return x.finish(Outcome{Err: &ResponseError{Status: status, Err: httpStatus(status)}})
	case err != nil:
		return x.finish(Outcome{Err: &ResponseError{Status: status, Err: err}})
	case !ok2xx(status) && !isGraphQLError(x.head):
		return x.finish(Outcome{Body: v.Errors, Err: &ResponseError{Status: status, ErrorsInBody: v.Errors, Err: httpStatus(status)}})
	}
	return x.finish(Outcome{Body: true})
}

// endLogin judges the answer to a login and installs its token.
func (x *Exchange) endLogin(v graphql.Verdict, err error) Outcome {
	status := x.head.Status
	switch {
	case err != nil && !ok2xx(status):
		return Outcome{Err: &ResponseError{Status: status, Err: httpStatus(status)}}
	case err != nil:
		return Outcome{Err: &ResponseError{Status: status, Err: err}}
	case !ok2xx(status) && status != 401 && status != 403:
		// A server failure (5xx, a proxy's 502) is not a wrong password;
		// some servers refuse credentials with 401 or 403.
		return Outcome{Body: v.Errors, Err: &ResponseError{Status: status, ErrorsInBody: v.Errors, Err: httpStatus(status)}}
	case v.Errors || !v.Field || !ok2xx(status):
		why := v.Message
		if why == "" {
			why = "the server returned no user"
		}
		return Outcome{Body: v.Errors, Err: &ResponseError{Status: status, ErrorsInBody: v.Errors, Err: fault.New(ErrLoginFailed, why)}}
	}
	tok, err := tokenFrom(x.head)
	switch {
	case err == session.ErrNoToken:
		return Outcome{Err: &ResponseError{Status: status, Err: fault.New(ErrTokenHeaderMissing, "the login succeeded but neither "+
			"X-Authorization nor Authorization could be read; a cross-origin API must list both in Access-Control-Expose-Headers")}}
	case err != nil:
		return Outcome{Err: &ResponseError{Status: status, Err: err}}
	}
	ev, err := x.c.sess.CompleteLogin(x.ticket, tok)
	switch {
	case err == session.ErrStale:
		return Outcome{Err: ErrOvertaken}
	case err != nil:
		return Outcome{Err: fault.New(err, "the login token")}
	}
	x.c.changed(&ev, x.cause)
	return Outcome{Body: true, ExpiresAt: tok.ExpiresAt}
}

// finish ends x: a login gives up its place, its password is wiped, and
// the client forgets it. A keep-alive that failed says why.
func (x *Exchange) finish(o Outcome) Outcome {
	if x.ended {
		return o
	}
	x.ended = true
	if x.kind == kindLogin {
		x.c.sess.EndLogin(x.ticket)
		clear(x.body)
	}
	x.c.mu.Lock()
	delete(x.c.calls, x)
	x.c.mu.Unlock()
	if o.Err != nil && x.cause == CauseKeepAlive {
		x.c.onWarning(fault.Wrap(errKeepAlive, "", o.Err))
	}
	return o
}

// rotateFrom offers tok, read from the answer to x (or why it could not
// be), to the session.
func (c *Client) rotateFrom(x *Exchange, tok session.Token, err error) {
	if err == session.ErrNoToken {
		return
	}
	var ev *session.Event
	if err == nil {
		ev, err = c.sess.Rotate(x.ticket, tok)
	}
	if err != nil && err != session.ErrStale {
		c.onWarning(fault.Wrap(errIgnoredToken, "", err))
	}
	c.changed(ev, x.cause)
}

// tokenFrom reads the token from X-Authorization, else Authorization: the
// deprecated header is the fallback when the preferred one is absent or
// unusable (two different tokens in it, say).
func tokenFrom(h Head) (session.Token, error) {
	firstErr := session.ErrNoToken
	for _, name := range tokenHeaders {
		tok, err := session.ParseHeader(h.Header[name])
		if err == nil {
			return tok, nil
		}
		if firstErr == session.ErrNoToken {
			firstErr = err
		}
	}
	return session.Token{}, firstErr
}

// passHead is the head of the answer as the app may see it: no token
// header, and no other header whose value holds the token the request
// carried or the one the answer brought.
func (x *Exchange) passHead() Head {
	h := Head{Status: x.head.Status, StatusText: x.head.StatusText, All: make([][2]string, 0, len(x.head.All))}
	for _, kv := range x.head.All {
		if !isTokenHeader(kv[0]) && !holds(kv[1], x.ticket.Token.Raw) && !holds(kv[1], x.brought.Raw) {
			h.All = append(h.All, kv)
		}
	}
	return h
}

// PassHead is the app's head of an answer Head held back, for when End
// says PassOn.
func (x *Exchange) PassHead() Head { return x.passHead() }

// holds reports whether a header value holds the token raw.
func holds(value, raw string) bool { return raw != "" && strings.Contains(value, raw) }

// isGraphQLError reports whether a non-2xx answer is a GraphQL answer all
// the same: GraphQL over HTTP's media type, application/graphql-response+json,
// with a 4xx status, which such servers give a request they could not run
// (a query that does not validate, say), with the errors in the body.
func isGraphQLError(h Head) bool {
	media, _, _ := strings.Cut(h.Header["Content-Type"], ";")
	return h.Status >= 400 && h.Status <= 499 &&
		strings.EqualFold(strings.TrimSpace(media), "application/graphql-response+json")
}

func httpStatus(status int) error {
	return fault.New(ErrHTTPStatus, "the server answered "+strconv.Itoa(status))
}

func ok2xx(status int) bool { return status >= 200 && status <= 299 }

// deleteHeader deletes name from h, in any case.
func deleteHeader(h map[string]string, name string) {
	for have := range h {
		if strings.EqualFold(have, name) {
			delete(h, have)
		}
	}
}

func hasHeader(h map[string]string, name string) bool {
	for have := range h {
		if strings.EqualFold(have, name) {
			return true
		}
	}
	return false
}

func isTokenHeader(name string) bool {
	return strings.EqualFold(name, HeaderAuthorization) || strings.EqualFold(name, HeaderXAuthorization)
}
