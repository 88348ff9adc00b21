package client

import (
	"bytes"
	"context"
	"io"
	"strings"

	"github.com/gqlauth/gqlauth/wasm/graphql"
)

// PassRequest is a GraphQL request the app encoded itself, for Pass: what
// a drop-in fetch was given, less the URL, which is always the client's
// endpoint.
type PassRequest struct {
	// Method is GET or POST.
	Method string
	// Query is a GET's query string ("?query=…"), which takes the place of
	// the endpoint's; "" for a POST.
	Query string
	// Header holds the app's request headers. Authorization and
	// X-Authorization are refused: the token is the client's to send.
	Header map[string]string
	// Body is a POST's body, sent as it is.
	Body []byte
}

// PassHead is the start of an answer that Pass passes on: its status and
// its headers, less the token headers.
type PassHead struct {
	Status     int
	StatusText string
	Header     [][2]string
}

// PassSink receives an answer that Pass passes on: its head, then its body
// piece by piece. An error from either ends the call with that error.
type PassSink interface {
	Head(PassHead) error
	Chunk(Chunk) error
}

// Pass sends the app's own request r with the held token and passes the
// answer on to sink as it arrives, without its token headers: the drop-in
// fetch that GraphQL clients call. The rules are Do's: without a usable
// token it fails and sends nothing; the token rotates from the answer; a
// refusal of the whole operation (Unauthorized) ends the session. The body
// streams through, judged piece by piece (graphql.Judge) and never kept,
// so an answer is judged when its body ends: its token is installed then.
//
// One rule needs a body judged before any of it is passed on: a refusal of
// a token that another answer had superseded by the time this answer came
// is sent again with the current token. Such an answer (a request that
// raced a rotation) is read whole, within the size limit, before it is
// passed on.
//
// Pass returns once the body has ended. An error returned before sink.Head
// was called means nothing was passed on.
func (c *Client) Pass(ctx context.Context, r PassRequest, sink PassSink) error {
	req, err := c.passRequest(r)
	if err != nil {
		return err
	}
	ctx, done, err := c.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	x := &exchange{cause: causeOf(ctx)} // its request is req, not one of x's making
	if err := c.lend(x); err != nil {
		return err
	}
	for {
		retry, err := c.passOnce(ctx, x, req, sink)
		if !retry {
			return err
		}
	}
}

// passRequest checks r and makes the request to send, less its token.
func (c *Client) passRequest(r PassRequest) (*Request, error) {
	req := &Request{Method: r.Method, URL: c.endpoint, Body: r.Body, ResponseHeaders: answerHeaders, AllHeaders: true, Stream: true}
	switch {
	case r.Method != "GET" && r.Method != "POST":
		return nil, invalidArg("the method must be GET or POST, not %q", r.Method)
	case r.Method == "GET" && len(r.Body) > 0:
		return nil, invalidArg("a GET request has no body")
	case r.Method == "POST" && r.Query != "":
		return nil, invalidArg("a POST request goes to the endpoint itself, without another query string")
	case r.Query != "" && (r.Query[0] != '?' || strings.ContainsAny(r.Query, "#\r\n")):
		return nil, invalidArg("the query string must start with '?' and hold no fragment")
	case r.Method == "GET":
		base, _, _ := strings.Cut(c.endpoint, "?")
		base, _, _ = strings.Cut(base, "#")
		req.URL = base + r.Query
	}
	req.Header = make(map[string]string, len(c.headers)+len(r.Header)+2)
	for name, value := range c.headers {
		req.Header[name] = value
	}
	for name, value := range r.Header {
		if err := checkHeader(name, value); err != nil {
			return nil, err
		}
		deleteHeader(req.Header, name) // the app's value takes the place of the client's
		req.Header[name] = value
	}
	if r.Method == "POST" && !hasHeader(req.Header, "Content-Type") {
		req.Header["Content-Type"] = "application/json"
	}
	if !hasHeader(req.Header, "Accept") {
		req.Header["Accept"] = acceptGraphQL
	}
	return req, nil
}

// deleteHeader deletes name from h, in any case.
func deleteHeader(h map[string]string, name string) {
	for have := range h {
		if strings.EqualFold(have, name) {
			delete(h, have)
		}
	}
}

func isTokenHeader(name string) bool {
	return strings.EqualFold(name, HeaderAuthorization) || strings.EqualFold(name, HeaderXAuthorization)
}

func hasHeader(h map[string]string, name string) bool {
	for have := range h {
		if strings.EqualFold(have, name) {
			return true
		}
	}
	return false
}

// passOnce sends x once and passes the answer on; retry says x must be sent
// again (it now carries the current token).
func (c *Client) passOnce(ctx context.Context, x *exchange, template *Request, sink PassSink) (retry bool, err error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	req := *template
	req.Header = make(map[string]string, len(template.Header)+1)
	for name, value := range template.Header {
		req.Header[name] = value
	}
	req.Header[HeaderAuthorization] = x.authorization()
	resp, err := c.transport.RoundTrip(ctx, &req)
	if err != nil {
		if ctx.Err() != nil {
			return false, context.Cause(ctx)
		}
		return false, err
	}
	body := streamOf(resp)
	defer body.Close()
	if x.sent == 1 && c.sess.Superseded(x.ticket) {
		return c.passWhole(ctx, x, resp, body, sink)
	}
	if err := sink.Head(passHead(x, resp)); err != nil {
		c.rotateFrom(x, resp) // its token came, though the app is gone
		return false, err
	}
	unauthorized, err := c.drain(ctx, x, resp, body, sink.Chunk)
	switch {
	case err != nil:
		return false, err
	case c.refuses(x, resp, unauthorized):
		// Too late to send it again, had the token been superseded since:
		// the answer is the app's now.
		_, ev := c.sess.Refused(x.ticket)
		c.changed(ev, x.cause)
	default:
		c.rotateFrom(x, resp)
	}
	return false, nil
}

// passWhole reads the answer to x whole and judges it before passing it
// on, so that a refusal can be sent again instead.
func (c *Client) passWhole(ctx context.Context, x *exchange, resp *Response, body Stream, sink PassSink) (retry bool, err error) {
	var chunks []Chunk
	unauthorized, err := c.drain(ctx, x, resp, body, func(chunk Chunk) error {
		chunks = append(chunks, Chunk{Bytes: bytes.Clone(chunk.Bytes), Native: chunk.Native})
		return nil
	})
	switch {
	case err != nil:
		return false, err
	case c.refuses(x, resp, unauthorized):
		replay, ev := c.sess.Refused(x.ticket)
		c.changed(ev, x.cause)
		if replay && c.lend(x) == nil {
			return true, nil
		}
	default:
		c.rotateFrom(x, resp)
	}
	if err := sink.Head(passHead(x, resp)); err != nil {
		return false, err
	}
	for _, chunk := range chunks {
		if err := sink.Chunk(chunk); err != nil {
			return false, err
		}
	}
	return false, nil
}

// drain reads body to its end, giving each piece to the judge and to each,
// and says whether the answer has an Unauthorized error (see refuses). A
// body cut short (the network, ctx, an error from each) still brought its
// token, as in Do: drain installs it before it returns the error.
func (c *Client) drain(ctx context.Context, x *exchange, resp *Response, body Stream, each func(Chunk) error) (unauthorized bool, err error) {
	judge := graphql.Judge{Codes: c.refusalCodes}
	for {
		chunk, err := body.Next(ctx)
		if err == io.EOF {
			break
		}
		if err == nil {
			judge.Write(chunk.Bytes)
			err = each(chunk)
		}
		if err != nil {
			c.rotateFrom(x, resp)
			if ctx.Err() != nil {
				return false, context.Cause(ctx)
			}
			return false, err
		}
	}
	unauthorized, err = judge.End()
	return err == nil && unauthorized, nil
}

// passHead is the head of the answer to x as the app may see it: no token
// header, and no other header whose value holds the token x carried or the
// one the answer brought.
func passHead(x *exchange, resp *Response) PassHead {
	h := PassHead{Status: resp.Status, StatusText: resp.StatusText, Header: make([][2]string, 0, len(resp.All))}
	brought, _ := tokenFrom(resp)
	for _, kv := range resp.All {
		if !isTokenHeader(kv[0]) && !holds(kv[1], x.ticket.Token.Raw) && !holds(kv[1], brought.Raw) {
			h.Header = append(h.Header, kv)
		}
	}
	return h
}

// holds reports whether a header value holds the token raw.
func holds(value, raw string) bool { return raw != "" && strings.Contains(value, raw) }

// streamOf returns resp's body as a Stream, also when the Transport read
// it whole.
func streamOf(resp *Response) Stream {
	if resp.Stream != nil {
		return resp.Stream
	}
	return &wholeBody{resp: resp}
}

// wholeBody is a body read whole, as a Stream of one piece.
type wholeBody struct {
	resp *Response
	read bool
}

func (w *wholeBody) Next(context.Context) (Chunk, error) {
	switch {
	case w.resp.Problem != nil:
		return Chunk{}, w.resp.Problem
	case w.read:
		return Chunk{}, io.EOF
	}
	w.read = true
	return Chunk{Bytes: w.resp.Body, Native: w.resp.Native}, nil
}

func (w *wholeBody) Close() {}
