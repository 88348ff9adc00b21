package client

import (
	"context"
	"sync"
	"time"

	"github.com/gqlauth/gqlauth/wasm/graphql"
	"github.com/gqlauth/gqlauth/wasm/internal/fault"
)

// The tests drive exchanges the way the module's worker does, over a fake
// server: send Request(), report the head, the body in pieces and the end,
// and send again while End says Retry. A request's timeout and its
// caller's abort are a context here; in the browser they are the binding's
// AbortSignal.

// Response is a fake server's answer to one Request.
type Response struct {
	Status     int
	StatusText string
	Header     map[string]string
	All        [][2]string
	Body       []byte
	// Pieces, when set, is the body in pieces (Body is then unused).
	Pieces []string
	// Problem, when set, ends the body after its pieces: it stopped coming.
	Problem error
}

// transport is a fake server.
type transport interface {
	RoundTrip(ctx context.Context, req *Request) (*Response, error)
}

// testClient is a Client with a fake server and the blocking calls the
// tests make: Login, Do and Pass send and wait as an app's call does.
type testClient struct {
	*Client
	api transport

	mu      sync.Mutex
	cancels map[*Exchange]context.CancelCauseFunc
}

// LoginResult is what a login the tests drove brought.
type LoginResult struct {
	User      string // the body, which holds data.loginUser
	ExpiresAt time.Time
}

// Result is the answer to a query the tests drove.
type Result struct {
	Status int
	Body   []byte
}

// PassHead and Chunk are what a pass passes on to its sink.
type (
	PassHead = Head
	Chunk    struct{ Bytes []byte }
)

// PassSink receives what a pass passes on; an error from either stops it.
type PassSink interface {
	Head(PassHead) error
	Chunk(Chunk) error
}

func (c *testClient) Login(ctx context.Context, cr Credentials) (LoginResult, error) {
	x, err := c.Client.Login(cr, causeOf(ctx))
	if err != nil {
		return LoginResult{}, err
	}
	var body []byte
	o := c.drive(ctx, x, nil, func(p []byte) error { body = append(body, p...); return nil })
	if o.Err != nil {
		return LoginResult{}, o.Err
	}
	return LoginResult{User: string(body), ExpiresAt: o.ExpiresAt}, nil
}

func (c *testClient) Do(ctx context.Context, r graphql.Request) (Result, error) {
	x, err := c.Client.Query(r, causeOf(ctx))
	if err != nil {
		return Result{}, err
	}
	var body []byte
	o := c.drive(ctx, x, nil, func(p []byte) error { body = append(body, p...); return nil })
	return Result{Status: x.head.Status, Body: body}, o.Err
}

func (c *testClient) Pass(ctx context.Context, r PassRequest, sink PassSink) error {
	x, err := c.Client.Pass(r, causeOf(ctx))
	if err != nil {
		return err
	}
	var held [][]byte
	passing := false
	o := c.drive(ctx, x, func(h Head) error { passing = true; return sink.Head(h) }, func(p []byte) error {
		if !passing {
			held = append(held, append([]byte(nil), p...))
			return nil
		}
		return sink.Chunk(Chunk{Bytes: p})
	})
	if o.Err != nil {
		return o.Err
	}
	if o.PassOn {
		if err := sink.Head(x.PassHead()); err != nil {
			return err
		}
		for _, p := range held {
			if err := sink.Chunk(Chunk{Bytes: p}); err != nil {
				return err
			}
		}
	}
	return nil
}

// Close closes the client and stops the requests of its exchanges.
func (c *testClient) Close(ctx context.Context) {
	ended := c.Client.Close(causeOf(ctx))
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, x := range ended {
		if cancel := c.cancels[x]; cancel != nil {
			cancel(fault.New(ErrClosed, "close() ended the request"))
		}
	}
}

// drive runs x to its end. onHead hears a head that passes on; onChunk
// each piece of the body (a sink's error stops the body, as a page that
// went away does).
func (c *testClient) drive(ctx context.Context, x *Exchange, onHead func(Head) error, onChunk func([]byte) error) Outcome {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	c.mu.Lock()
	if c.cancels == nil {
		c.cancels = map[*Exchange]context.CancelCauseFunc{}
	}
	c.cancels[x] = cancel
	c.mu.Unlock()
	defer func() { c.mu.Lock(); delete(c.cancels, x); c.mu.Unlock() }()
	for {
		o := c.attempt(ctx, x, onHead, onChunk)
		if !o.Retry {
			return o
		}
	}
}

func (c *testClient) attempt(ctx context.Context, x *Exchange, onHead func(Head) error, onChunk func([]byte) error) Outcome {
	req := x.Request()
	ctx, cancel := context.WithTimeoutCause(ctx, req.Timeout, fault.New(ErrTimeout, "no complete answer in time"))
	defer cancel()
	resp, err := c.api.RoundTrip(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			err = context.Cause(ctx)
		}
		return x.End(err)
	}
	if resp.StatusText == "" {
		resp.StatusText = "OK"
	}
	head, passOn := x.Head(Head{Status: resp.Status, StatusText: resp.StatusText, Header: resp.Header, All: resp.All})
	if passOn && onHead != nil {
		if err := onHead(head); err != nil {
			return x.End(fault.Wrap(ErrAborted, "the page went away", err))
		}
	}
	pieces := resp.Pieces
	if pieces == nil {
		pieces = []string{string(resp.Body)}
	}
	for _, p := range pieces {
		x.Chunk([]byte(p))
		if err := onChunk([]byte(p)); err != nil {
			return x.End(fault.Wrap(ErrAborted, "the page went away", err))
		}
	}
	return x.End(resp.Problem)
}

type causeKey struct{}

// withCause makes the calls driven with ctx carry cause.
func withCause(ctx context.Context, cause Cause) context.Context {
	return context.WithValue(ctx, causeKey{}, cause)
}

func causeOf(ctx context.Context) Cause {
	cause, _ := ctx.Value(causeKey{}).(Cause)
	return cause
}
