package client

import (
	"encoding/json"
	"fmt"

	"github.com/gqlauth/gqlauth/wasm/graphql"
	"github.com/gqlauth/gqlauth/wasm/session"
)

// Exchange is one request in flight and what the client needs to judge its
// answer. Login and Do run exchanges over a Transport; a caller that does its
// own I/O (the WebAssembly glue, where fetch runs in JavaScript so that no Go
// goroutine, timer or callback is needed per request) calls BeginLogin or
// BeginDo, sends Request(x), and hands the answer to FinishLogin or FinishDo.
// An Exchange is used by one goroutine at a time.
type Exchange struct {
	login  bool
	body   []byte
	ticket session.Ticket
	sent   int // attempts so far
}

// Close zeroes the request body (it may hold a password). The exchange
// cannot be sent again.
func (x *Exchange) Close() {
	clear(x.body)
	x.body = nil
}

// Login reports whether x is a login.
func (x *Exchange) Login() bool { return x.login }

// Body is the JSON request body.
func (x *Exchange) Body() []byte { return x.body }

// Authorization is the Authorization header value to send ("Bearer …"), or
// "" for a login.
func (x *Exchange) Authorization() string {
	if x.ticket.Token.IsZero() {
		return ""
	}
	return "Bearer " + x.ticket.Token.Raw
}

// Result is the answer to a protected request that was not refused. GraphQL
// errors in the body (partial data) are part of a Result, not an error.
type Result struct {
	Status int
	// Body is the response body: a GraphQL response.
	Body []byte
}

// Header returns the headers every request of this client carries: the
// static ones given with WithHeaders and Content-Type. Request(x) adds
// Authorization.
func (c *Client) Header() map[string]string {
	h := make(map[string]string, len(c.headers)+2)
	for k, v := range c.headers {
		h[k] = v
	}
	h["Content-Type"] = "application/json"
	return h
}

// Endpoint is the URL requests go to.
func (c *Client) Endpoint() string { return c.endpoint }

// Request returns the HTTP request to send for x.
func (c *Client) Request(x *Exchange) *Request {
	h := c.Header()
	if auth := x.Authorization(); auth != "" {
		h[HeaderAuthorization] = auth
	}
	return &Request{URL: c.endpoint, Header: h, Body: x.body, ResponseHeaders: tokenHeaders}
}

// BeginLogin prepares the loginUser request for cr. A login begun later, or
// a Logout, makes this one fail with ErrOvertaken when it finishes.
func (c *Client) BeginLogin(cr Credentials) (*Exchange, error) {
	if cr.Password == "" {
		return nil, invalidArg("password is required")
	}
	if cr.Username == "" && cr.Email == "" {
		return nil, invalidArg("a username or an email is required")
	}
	if err := c.checkOpen(); err != nil {
		return nil, err
	}
	vars, err := json.Marshal(cr)
	if err != nil {
		return nil, invalidArg("credentials: %v", err)
	}
	body, err := graphql.Request{Query: loginQuery, Variables: string(vars), OperationName: "Login"}.Encode()
	clear(vars)
	if err != nil {
		return nil, err
	}
	return &Exchange{login: true, body: body, ticket: c.sess.BeginLogin(), sent: 1}, nil
}

// FinishLogin judges the answer to a login exchange and installs its token.
func (c *Client) FinishLogin(x *Exchange, resp *Response) (LoginResult, error) {
	if !x.login {
		return LoginResult{}, invalidArg("FinishLogin needs a login exchange")
	}
	parsed, err := parse(resp)
	if err != nil {
		return LoginResult{}, &ResponseError{Status: resp.Status, Err: statusOr(resp.Status, err)}
	}
	if !ok2xx(resp.Status) && !refusesCredentials(resp.Status) {
		// A server failure (5xx, a proxy's 502) is not a wrong password.
		return LoginResult{}, &ResponseError{Status: resp.Status, GraphQLErrors: parsed.ErrorsJSON(), Err: statusOr(resp.Status, nil)}
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
	c.changed(&ev)
	return LoginResult{User: user, ExpiresAt: tok.ExpiresAt}, nil
}

// BeginDo prepares a protected request with the held token. Without a
// token it fails with session.ErrNotAuthenticated, with an expired one with
// session.ErrExpired: nothing is to be sent.
func (c *Client) BeginDo(r graphql.Request) (*Exchange, error) {
	if r.Query == "" {
		return nil, invalidArg("query must be a non-empty string")
	}
	if err := c.checkOpen(); err != nil {
		return nil, err
	}
	body, err := r.Encode()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	x := &Exchange{body: body}
	if err := c.lend(x); err != nil {
		return nil, err
	}
	return x, nil
}

// BeginProtected prepares a protected exchange whose body the caller
// encodes and sends itself (the browser glue lets JSON.stringify make it,
// so the query never crosses into Go and back). Request(x) has no body.
func (c *Client) BeginProtected() (*Exchange, error) {
	if err := c.checkOpen(); err != nil {
		return nil, err
	}
	x := &Exchange{}
	if err := c.lend(x); err != nil {
		return nil, err
	}
	return x, nil
}

// lend gives x the held token for its next attempt.
func (c *Client) lend(x *Exchange) error {
	ticket, ev, err := c.sess.Begin()
	c.changed(ev)
	if err != nil {
		return err
	}
	x.ticket = ticket
	x.sent++
	return nil
}

// FinishDo judges the answer to a protected exchange: it rotates the token
// from the response headers and returns the GraphQL response. When the
// server refused a token that was superseded while the request was in
// flight, and x was sent only once, retry is true and x now carries the
// current token: send Request(x) again.
func (c *Client) FinishDo(x *Exchange, resp *Response) (res Result, retry bool, err error) {
	if x.login {
		return Result{}, false, invalidArg("FinishDo needs a protected exchange")
	}
	c.rotateFrom(x.ticket, resp)
	parsed, perr := parse(resp)
	if perr == nil && parsed.Unauthorized() {
		replay, ev := c.sess.Refused(x.ticket)
		c.changed(ev)
		if replay && x.sent == 1 && c.lend(x) == nil {
			return Result{}, true, nil
		}
		return Result{}, false, &ResponseError{
			Status:        resp.Status,
			GraphQLErrors: parsed.ErrorsJSON(),
			Err:           fmt.Errorf("%w: the server refused the token; log in again", ErrUnauthorized),
		}
	}
	if perr != nil || !ok2xx(resp.Status) {
		re := &ResponseError{Status: resp.Status, Err: statusOr(resp.Status, perr)}
		if perr == nil {
			re.GraphQLErrors = parsed.ErrorsJSON()
		}
		return Result{}, false, re
	}
	return Result{Status: resp.Status, Body: resp.Body}, false, nil
}

// parse reads resp's body as a GraphQL response.
func parse(resp *Response) (*graphql.Response, error) {
	if resp.BodyError != nil {
		return nil, resp.BodyError
	}
	return graphql.ParseResponse(resp.Body)
}

// rotateFrom offers the response's token header, if any, to the session.
func (c *Client) rotateFrom(t session.Ticket, resp *Response) {
	tok, err := tokenFrom(resp)
	if err == session.ErrNoToken {
		return
	}
	var ev *session.Event
	if err == nil {
		ev, err = c.sess.Rotate(t, tok)
	}
	if err != nil && err != session.ErrStale {
		c.onWarning(fmt.Errorf("gqlauth: ignored the token in a response: %w", err))
	}
	c.changed(ev)
}
