package client

import (
	"fmt"
	"strings"

	"github.com/gqlauth/gqlauth/wasm/graphql"
	"github.com/gqlauth/gqlauth/wasm/session"
)

// exchange is one call's request and what the client needs to judge its
// answers: the body, the ticket (which session and token it was sent
// with), and how often it was sent. It is used by one goroutine.
type exchange struct {
	login  bool
	body   []byte
	ticket session.Ticket
	sent   int    // attempts so far
	cause  string // of the events its answers cause (WithCause)
}

// authorization is the Authorization header value to send ("Bearer …"),
// or "" for a login.
func (x *exchange) authorization() string {
	if x.ticket.Token.IsZero() {
		return ""
	}
	return "Bearer " + x.ticket.Token.Raw
}

// request returns the HTTP request to send for x.
func (c *Client) request(x *exchange) *Request {
	h := make(map[string]string, len(c.headers)+2)
	for k, v := range c.headers {
		h[k] = v
	}
	h["Content-Type"] = "application/json"
	if !hasHeader(h, "Accept") {
		h["Accept"] = acceptGraphQL
	}
	if auth := x.authorization(); auth != "" {
		h[HeaderAuthorization] = auth
	}
	return &Request{URL: c.endpoint, Header: h, Body: x.body, Secret: x.login, ResponseHeaders: answerHeaders}
}

// acceptGraphQL is the Accept header of gqlauth's requests: GraphQL over
// HTTP's media type first, then plain JSON for the servers that predate it.
const acceptGraphQL = "application/graphql-response+json, application/json;q=0.9"

// answerHeaders are the response headers the client reads: the token's, and
// the type of the body.
var answerHeaders = []string{HeaderXAuthorization, HeaderAuthorization, "Content-Type"}

// loginBody encodes the loginUser request for cr. The password is copied
// straight from cr.Password into the body, which the caller zeroes, and
// into the variables, zeroed here. Both buffers are made large enough from
// the start (escaping at most sextuples a byte): a buffer that grew would
// leave its first copy behind, where nobody could zero it.
func loginBody(cr Credentials) ([]byte, error) {
	vars := make([]byte, 0, 6*(len(cr.Username)+len(cr.Email)+len(cr.Password))+48)
	vars = append(vars, '{')
	if cr.Username != "" {
		vars = append(vars, `"username":`...)
		vars = graphql.AppendString(vars, cr.Username)
		vars = append(vars, ',')
	}
	if cr.Email != "" {
		vars = append(vars, `"email":`...)
		vars = graphql.AppendString(vars, cr.Email)
		vars = append(vars, ',')
	}
	vars = append(vars, `"password":`...)
	vars = graphql.AppendBytes(vars, cr.Password)
	vars = append(vars, '}')
	defer clear(vars)
	return graphql.Request{Query: loginQuery, Variables: vars, OperationName: "Login"}.Encode()
}

// finishLogin judges the answer to a login and installs its token.
func (c *Client) finishLogin(x *exchange, resp *Response) (LoginResult, error) {
	parsed, err := parse(resp)
	if err != nil {
		return LoginResult{}, &ResponseError{Status: resp.Status, Err: err}
	}
	if !ok2xx(resp.Status) && !refusesCredentials(resp.Status) {
		// A server failure (5xx, a proxy's 502) is not a wrong password.
		return LoginResult{}, &ResponseError{Status: resp.Status, GraphQLErrors: parsed.ErrorsJSON(),
			Err: fmt.Errorf("%w: the server answered %d", ErrHTTPStatus, resp.Status)}
	}
	user := parsed.DataField("loginUser")
	if parsed.HasErrors() || user == "" || !ok2xx(resp.Status) {
		return LoginResult{}, &ResponseError{
			Status:        resp.Status,
			GraphQLErrors: parsed.ErrorsJSON(),
			Err:           fmt.Errorf("%w: %s", ErrLoginFailed, firstMessage(parsed, "the server returned no user")),
		}
	}
	tok, err := tokenFrom(resp)
	if err == session.ErrNoToken {
		err = fmt.Errorf("%w: the login succeeded but neither X-Authorization nor Authorization could be read; "+
			"a cross-origin API must list both in Access-Control-Expose-Headers", ErrTokenHeaderMissing)
	}
	if err != nil {
		return LoginResult{}, &ResponseError{Status: resp.Status, Err: err}
	}
	ev, err := c.sess.CompleteLogin(x.ticket, tok)
	switch {
	case err == session.ErrStale:
		return LoginResult{}, ErrOvertaken
	case err != nil:
		return LoginResult{}, fmt.Errorf("the login token: %w", err)
	}
	c.changed(&ev, x.cause)
	return LoginResult{User: user, ExpiresAt: tok.ExpiresAt}, nil
}

// finishDo judges the answer to a protected request. A refusal of the token
// is judged first (see refuses), against the session as it was when the
// answer arrived: the answer's own token never makes its request look
// stale. When the server refused a token that had been superseded while the
// request was in flight, and x was sent only once, retry is true and x now
// carries the current token. Otherwise the token is rotated from the
// answer.
func (c *Client) finishDo(x *exchange, resp *Response) (res Result, retry bool, err error) {
	parsed, perr := parse(resp)
	if c.refuses(x, resp, perr == nil && parsed.Unauthorized(c.refusalCodes)) {
		replay, ev := c.sess.Refused(x.ticket)
		c.changed(ev, x.cause)
		if replay && x.sent == 1 && c.lend(x) == nil {
			return Result{}, true, nil
		}
		refusal := &ResponseError{Status: resp.Status, Err: fmt.Errorf("%w: the server refused the token; log in again", ErrUnauthorized)}
		if perr == nil {
			refusal.GraphQLErrors = parsed.ErrorsJSON()
		}
		return Result{}, false, refusal
	}
	c.rotateFrom(x, resp)
	switch {
	case perr != nil:
		return Result{}, false, &ResponseError{Status: resp.Status, Err: perr}
	case !ok2xx(resp.Status) && !isGraphQLError(resp):
		return Result{}, false, &ResponseError{Status: resp.Status, GraphQLErrors: parsed.ErrorsJSON(),
			Err: fmt.Errorf("%w: the server answered %d", ErrHTTPStatus, resp.Status)}
	}
	return Result{Status: resp.Status, Body: resp.Body, Native: resp.Native}, false, nil
}

// refuses reports whether the answer to x says the server refused the
// token x carried: its status is 401, or it has an Unauthorized error
// (unauthorized), and it brings no new usable token. An answer that brings
// one was authenticated: an Unauthorized error in it is a permission error,
// an ordinary GraphQL error, even with no data at all.
func (c *Client) refuses(x *exchange, resp *Response, unauthorized bool) bool {
	if resp.Status != 401 && !unauthorized {
		return false
	}
	tok, err := tokenFrom(resp)
	return err != nil || !c.sess.Renews(x.ticket, tok)
}

// isGraphQLError reports whether a non-2xx answer is a GraphQL answer all
// the same: GraphQL over HTTP's media type, application/graphql-response+json,
// with a 4xx status, which such servers give a request they could not run
// (a query that does not validate, say), with the errors in the body.
func isGraphQLError(resp *Response) bool {
	media, _, _ := strings.Cut(resp.Header["Content-Type"], ";")
	return resp.Status >= 400 && resp.Status <= 499 &&
		strings.EqualFold(strings.TrimSpace(media), "application/graphql-response+json")
}

// parse reads resp's body as a GraphQL response: the one place that decides
// whether an answer is one. A body that was not read whole, or a non-2xx
// answer whose body is not GraphQL, is explained by its problem or status.
func parse(resp *Response) (*graphql.Response, error) {
	if resp.Problem != nil {
		return nil, resp.Problem
	}
	parsed, err := graphql.ParseResponse(resp.Body)
	if err != nil && !ok2xx(resp.Status) {
		return nil, fmt.Errorf("%w: the server answered %d", ErrHTTPStatus, resp.Status)
	}
	return parsed, err
}

// rotateFrom offers the token header of the answer to x, if any, to the
// session.
func (c *Client) rotateFrom(x *exchange, resp *Response) {
	tok, err := tokenFrom(resp)
	if err == session.ErrNoToken {
		return
	}
	var ev *session.Event
	if err == nil {
		ev, err = c.sess.Rotate(x.ticket, tok)
	}
	if err != nil && err != session.ErrStale {
		c.onWarning(fmt.Errorf("gqlauth: ignored the token in a response: %w", err))
	}
	c.changed(ev, x.cause)
}

// tokenFrom reads the token from X-Authorization, else Authorization: the
// deprecated header is the fallback when the preferred one is absent or
// unusable (two different tokens in it, say).
func tokenFrom(resp *Response) (session.Token, error) {
	firstErr := session.ErrNoToken
	for _, name := range tokenHeaders {
		tok, err := session.ParseHeader(resp.Header[name])
		if err == nil {
			return tok, nil
		}
		if firstErr == session.ErrNoToken {
			firstErr = err
		}
	}
	return session.Token{}, firstErr
}

func firstMessage(r *graphql.Response, fallback string) string {
	if errs := r.Errors(); len(errs) > 0 && errs[0].Message != "" {
		return errs[0].Message
	}
	return fallback
}

func ok2xx(status int) bool { return status >= 200 && status <= 299 }

// refusesCredentials reports whether a login answered with status is a
// refusal of the credentials (some servers say so with 401 or 403) rather
// than a failure of the server.
func refusesCredentials(status int) bool { return status == 401 || status == 403 }
