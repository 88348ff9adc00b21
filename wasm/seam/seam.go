// Package seam is the module's side of the seam between the worker and Go.
// The worker writes each call's record into Go memory and calls an export;
// Module reads the record, drives the call's exchange (package client),
// asks the worker to fetch through a Fetcher, and answers every export with
// one output record: what the worker is to do next (replies, token events,
// heads to pass on, requests to stop, warnings, timers). Records are JSON
// objects with named fields, read with package jsonscan and written by hand.
//
// The records it reads (all optional fields may be absent or null):
//
//	open:          {endpoint, expiryLeewaySeconds?, timeoutMs?, allowInsecureHTTP?,
//	                headers?: {name: value}, credentials?, maxResponseBytes?,
//	                refusalCodes?: [code], keepAlive?: {query, beforeExpiryMs}}
//	login:         {username?, email?, password}
//	fetchWithAuth: {query, variables?, operationName?}   (variables: an object)
//	fetch:         {method, query?, headers?: {name: value}}, and the body's bytes
//	head:          {status, statusText, headers: {name: value}, all?: [[name, value]]}
//
// The output record, whose lists are each absent when empty:
//
//	{"events":  [{client, reason, cause, expiresAt, expiresIn, usableFor}],
//	 "replies": [{call, ok: true, client?, body?, expiresAt, expiresIn, usableFor}
//	            | {call, ok: false, code, message, status?, body?}],
//	 "heads":   [{call, status, statusText, headers: [[name, value]]}],
//	 "stops":   [call],
//	 "warnings":[{client, message}],
//	 "wakes":   [{client, in}]}
//
// Events come before the replies they preceded. body says the body the
// worker collected for the call goes with the reply (the answer, or the
// errors a failure came with). A reply to a call whose head was passed on
// ends its body. wakes say, per client, in how many milliseconds to call
// Tick, or -1 for never.
//
// Module is not safe for concurrent use: the worker calls one export at a
// time. It is pure Go: it must not import syscall/js, net/http or fmt.
package seam

import (
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/gqlauth/gqlauth/wasm/client"
	"github.com/gqlauth/gqlauth/wasm/graphql"
	"github.com/gqlauth/gqlauth/wasm/handles"
	"github.com/gqlauth/gqlauth/wasm/internal/fault"
	"github.com/gqlauth/gqlauth/wasm/internal/jsonscan"
)

// MaxRecord bounds every record and body the worker writes into Go
// memory. A longer one is refused before Go allocates for it: running out
// of memory would end the module, for every tab that shares it.
const MaxRecord = 32 << 20

// Fetcher sends a request for call: the worker's fetch, to which request
// is the JSON record {url, method, headers, timeoutMs, maxBytes,
// credentials?, secret?, all?} and body the bytes to send (nil for none).
// It must read both before it returns, and answer later, from a callback,
// through Head, Chunk and End.
type Fetcher func(call uint32, request, body []byte)

// Failure says why the worker ended a call's answer, in End.
type Failure int32

// The failures.
const (
	Complete Failure = iota // the body came whole
	Network                 // fetch failed, or the body stopped coming
	Timeout                 // no complete answer within timeoutMs
	Aborted                 // the caller aborted the call
	TooLarge                // the body is larger than maxBytes
)

// Module holds the clients of one module instance and their calls under
// way.
type Module struct {
	fetch   Fetcher
	clients handles.Table[*client.Client]
	calls   map[uint32]*call
	// keepAlives numbers the calls Module starts itself, above the
	// worker's.
	keepAlives uint32
	// Options applied to every client (tests: a clock).
	opts []client.Option
	// clock is the clients' clock: the time the export began, read once
	// (each read of Go's clock is two imports).
	clock exportClock

	out     output
	request []byte // the last request record, reused
}

// call is an exchange under way and the client it belongs to.
type call struct {
	x      *client.Exchange
	client int
	passed bool // its head went to the app
}

// FirstKeepAlive is the first call number Module gives the keep-alives it
// starts; the worker numbers its calls below it.
const FirstKeepAlive = 1 << 31

// New returns a Module that fetches with fetch; opts apply to every client.
func New(fetch Fetcher, opts ...client.Option) *Module {
	m := &Module{fetch: fetch, calls: map[uint32]*call{}, keepAlives: FirstKeepAlive}
	m.opts = append([]client.Option{client.WithClock(&m.clock)}, opts...)
	return m
}

// exportClock tells the time an export began: everything one export decides
// happens at one instant, and the clock is read once per export.
type exportClock struct{ at time.Time }

func (c *exportClock) Now() time.Time { return c.at }

// begin starts an export: a fresh output record, and the time.
func (m *Module) begin() {
	m.out.reset()
	m.clock.at = time.Now()
}

// Open makes a client from the options record rec and answers call with
// its handle.
func (m *Module) Open(id uint32, rec []byte) []byte {
	m.begin()
	h, err := m.open(id, rec)
	if err != nil {
		m.out.fail(id, err, m.state(0))
	} else {
		m.out.reply(id, h, false, m.state(h))
	}
	return m.done()
}

func (m *Module) open(id uint32, rec []byte) (int, error) {
	o, err := object(rec, "createClient's options")
	if err != nil {
		return 0, err
	}
	endpoint, err := text(o, "endpoint", true)
	if err != nil {
		return 0, err
	}
	var handle int
	opts := append([]client.Option{}, m.opts...)
	opts = append(opts,
		client.OnEvent(func(e client.Event) { m.event(handle, e) }),
		client.OnWarning(func(err error) { m.out.warn(handle, err.Error()) }))
	for _, read := range []func(jsonscan.Value) (client.Option, error){
		durationOption("expiryLeewaySeconds", time.Second, client.WithLeeway),
		durationOption("timeoutMs", time.Millisecond, client.WithTimeout),
		allowInsecure, headersOption, credentialsOption, maxBytesOption, refusalCodesOption, keepAliveOption,
	} {
		opt, err := read(o)
		if err != nil {
			return 0, err
		}
		if opt != nil {
			opts = append(opts, opt)
		}
	}
	c, err := client.New(endpoint, opts...)
	if err != nil {
		return 0, err
	}
	handle = m.clients.Add(c)
	m.out.touch(handle) // its first wake: none
	return handle, nil
}

// Login begins a login of client with the credentials record rec, which
// holds the password: rec is zeroed before Login returns.
func (m *Module) Login(id uint32, h int, cause client.Cause, rec []byte) []byte {
	m.begin()
	defer clear(rec)
	m.start(id, h, func(c *client.Client) (*client.Exchange, error) {
		o, err := object(rec, "login's credentials")
		if err != nil {
			return nil, errors.New("gqlauth: login needs {username or email, password}")
		}
		var cr client.Credentials
		if cr.Username, err = text(o, "username", false); err != nil {
			return nil, err
		}
		if cr.Email, err = text(o, "email", false); err != nil {
			return nil, err
		}
		password, ok := o.Get("password").AppendText(nil)
		if !ok {
			return nil, invalid("password must be a string")
		}
		defer clear(password)
		cr.Password = password
		return c.Login(cr, cause)
	})
	return m.done()
}

// FetchWithAuth begins a query of client, whose answer is collected.
func (m *Module) FetchWithAuth(id uint32, h int, cause client.Cause, rec []byte) []byte {
	m.begin()
	m.start(id, h, func(c *client.Client) (*client.Exchange, error) {
		o, err := object(rec, "fetchWithAuth's arguments")
		if err != nil {
			return nil, err
		}
		var r graphql.Request
		if r.Query, err = text(o, "query", true); err != nil {
			return nil, err
		}
		if r.OperationName, err = text(o, "operationName", false); err != nil {
			return nil, err
		}
		switch v := o.Get("variables"); v.Kind() {
		case 0, jsonscan.KindNull:
		case jsonscan.KindObject:
			r.Variables = v
		default:
			return nil, invalid("variables must be an object")
		}
		return c.Query(r, cause)
	})
	return m.done()
}

// Fetch begins the app's own request of client, whose answer is passed on.
func (m *Module) Fetch(id uint32, h int, cause client.Cause, rec, body []byte) []byte {
	m.begin()
	m.start(id, h, func(c *client.Client) (*client.Exchange, error) {
		o, err := object(rec, "the request")
		if err != nil {
			return nil, err
		}
		var r client.PassRequest
		if r.Method, err = text(o, "method", true); err != nil {
			return nil, err
		}
		if r.Query, err = text(o, "query", false); err != nil {
			return nil, err
		}
		if r.Header, err = headers(o.Get("headers"), "headers"); err != nil {
			return nil, err
		}
		if len(body) > 0 {
			r.Body = append([]byte(nil), body...)
		}
		return c.Pass(r, cause)
	})
	return m.done()
}

// start begins call id of client h with begin, and sends its first
// request, or answers it with begin's error.
func (m *Module) start(id uint32, h int, begin func(*client.Client) (*client.Exchange, error)) {
	c, ok := m.clients.Get(h)
	if !ok {
		m.out.fail(id, closed(h), m.state(0))
		return
	}
	if _, busy := m.calls[id]; busy {
		m.out.fail(id, invalid("call "+strconv.FormatUint(uint64(id), 10)+" is under way already"), m.state(h))
		return
	}
	x, err := begin(c)
	if err != nil {
		m.out.fail(id, err, m.state(h))
		return
	}
	m.calls[id] = &call{x: x, client: h}
	m.send(id, x)
}

// send asks the worker to fetch x's request for call id.
func (m *Module) send(id uint32, x *client.Exchange) {
	req := x.Request()
	m.request = encodeRequest(m.request[:0], req)
	m.fetch(id, m.request, req.Body)
	if req.Secret {
		clear(m.request) // it holds no password, but the worker read it
	}
}

// Head takes the head of the answer to call id, the record rec.
func (m *Module) Head(id uint32, rec []byte) []byte {
	m.begin()
	cl, ok := m.calls[id]
	if !ok {
		return m.done() // the call ended meanwhile (close, abort)
	}
	h, err := decodeHead(rec)
	if err != nil {
		m.end(id, cl, cl.x.End(fault.Wrap(client.ErrNetwork, "the answer's head", err)))
		return m.done()
	}
	if head, passOn := cl.x.Head(h); passOn {
		cl.passed = true
		m.out.head(id, head)
	}
	return m.done()
}

// Chunk takes the next piece of the body of the answer to call id. p is
// not kept.
func (m *Module) Chunk(id uint32, p []byte) {
	if cl, ok := m.calls[id]; ok {
		cl.x.Chunk(p)
	}
}

// End takes the end of the answer to call id, or why it did not come
// whole, with detail (a few words from fetch).
func (m *Module) End(id uint32, failure Failure, detail string) []byte {
	m.begin()
	cl, ok := m.calls[id]
	if !ok {
		return m.done()
	}
	var problem error
	switch failure {
	case Complete:
	case Timeout:
		problem = fault.New(client.ErrTimeout, "no complete answer within timeoutMs")
	case Aborted:
		problem = fault.New(client.ErrAborted, "the request was aborted by its signal")
	case TooLarge:
		problem = fault.New(client.ErrResponseTooLarge, detail)
	default:
		problem = fault.New(client.ErrNetwork, detail+" (the server is down or unreachable, it answered with a redirect, "+
			"which gqlauth never follows, or its CORS headers do not allow this origin)")
	}
	m.end(id, cl, cl.x.End(problem))
	return m.done()
}

// end acts on the outcome of call id: a replay, or its reply.
func (m *Module) end(id uint32, cl *call, o client.Outcome) {
	if o.Retry {
		m.send(id, cl.x)
		return
	}
	delete(m.calls, id)
	if id >= FirstKeepAlive {
		return // the client warned, if it failed
	}
	if o.PassOn {
		cl.passed = true
		m.out.head(id, cl.x.PassHead())
	}
	if o.Err != nil {
		m.out.fail(id, o.Err, m.state(cl.client))
		return
	}
	m.out.reply(id, 0, o.Body, m.state(cl.client))
}

// Logout drops the token of client h.
func (m *Module) Logout(id uint32, h int, cause client.Cause) []byte {
	m.begin()
	c, ok := m.clients.Get(h)
	if !ok {
		m.out.fail(id, closed(h), m.state(0))
		return m.done()
	}
	c.Logout(cause)
	m.out.reply(id, 0, false, m.state(h))
	return m.done()
}

// Close logs client h out, ends its calls (each answered ErrClosed, its
// request stopped) and forgets it; closing twice is a no-op.
func (m *Module) Close(id uint32, h int, cause client.Cause) []byte {
	m.begin()
	c, ok := m.clients.Remove(h)
	if !ok {
		m.out.fail(id, closed(h), m.state(0))
		return m.done()
	}
	c.Close(cause)
	for callID, cl := range m.calls {
		if cl.client != h {
			continue
		}
		delete(m.calls, callID)
		m.out.stop(callID)
		if callID < FirstKeepAlive {
			m.out.fail(callID, fault.New(client.ErrClosed, "close() ended the request"), m.state(0))
		}
	}
	m.out.reply(id, 0, false, m.state(0))
	return m.done()
}

// Tick does what is due for client h (see client.Client.Tick).
func (m *Module) Tick(h int) []byte {
	m.begin()
	c, ok := m.clients.Get(h)
	if !ok {
		return m.done()
	}
	m.out.touch(h)
	if x := c.Tick(); x != nil {
		m.keepAlives++
		m.calls[m.keepAlives] = &call{x: x, client: h}
		m.send(m.keepAlives, x)
	}
	return m.done()
}

// State is what can be said of a client's token now, none of it secret:
// the zero State for a closed client.
type State struct {
	ExpiresAt     time.Time
	ExpiresIn     time.Duration
	UsableFor     time.Duration
	Authenticated bool
}

// State returns client h's State now (outside an export: it reads the clock).
func (m *Module) State(h int) State {
	m.clock.at = time.Now()
	return m.state(h)
}

func (m *Module) state(h int) State {
	c, ok := m.clients.Get(h)
	if !ok {
		return State{}
	}
	st := c.State()
	return State{ExpiresAt: st.ExpiresAt, ExpiresIn: st.ExpiresIn, UsableFor: st.UsableFor, Authenticated: c.Authenticated()}
}

// InFlight is the number of calls under way, keep-alives included.
func (m *Module) InFlight() int { return len(m.calls) }

// Handles lists the open clients' handles.
func (m *Module) Handles() []int {
	var hs []int
	for h := range m.clients.All() {
		hs = append(hs, h)
	}
	return hs
}

// Refusal says why the worker could not take a call's record.
type Refusal int32

// The refusals.
const (
	TooLong  Refusal = iota // the record and its body are longer than MaxRecord
	NotBytes                // the body is not a Uint8Array
)

// Refuse answers call id with why its record could not be taken: the
// worker wrote nothing into Go memory for it.
func (m *Module) Refuse(id uint32, why Refusal) []byte {
	m.begin()
	if why == NotBytes {
		m.out.fail(id, invalid("the body must be a Uint8Array"), m.state(0))
	} else {
		m.out.fail(id, invalid("a request is at most "+strconv.Itoa(MaxRecord>>20)+" MiB"), m.state(0))
	}
	return m.done()
}

// done ends an export: it adds, for every client whose token changed (and
// one opened or ticked), when to Tick it, and returns the output record.
func (m *Module) done() []byte {
	m.wakes()
	return m.out.bytes()
}

// event records e of client h for the worker: the token changed, and with
// it when to Tick the client.
func (m *Module) event(h int, e client.Event) {
	m.out.touch(h)
	m.out.event(h, e, m.state(h))
}

// wakes adds, for every client touched by the export, when to Tick it.
func (m *Module) wakes() {
	for _, h := range m.out.touched {
		c, ok := m.clients.Get(h)
		in := time.Duration(-1)
		if ok {
			if d, due := c.Wake(); due {
				in = d
			}
		}
		m.out.wake(h, in)
	}
}

func invalid(detail string) error { return fault.New(client.ErrInvalidArgument, detail) }

func closed(h int) error {
	return fault.New(client.ErrClosed, "no client "+strconv.Itoa(h)+": it was closed, or never made; create a new client")
}

// ms is d in milliseconds, rounded down, as JSON.
func ms(d time.Duration) float64 { return math.Floor(float64(d) / float64(time.Millisecond)) }

// errPanic is what a call fails with when an export panicked: a bug in
// gqlauth, which the module survives.
var errPanic = errors.New("gqlauth: internal error, please report it (the module keeps working)")

// Panicked answers call id after its export panicked with r: it fails with
// INTERNAL, and its exchange, if it had begun, ends and its request stops.
func (m *Module) Panicked(id uint32, r any) []byte {
	m.begin()
	var why string
	switch v := r.(type) {
	case string:
		why = v
	case error:
		why = v.Error()
	default:
		why = "a panic"
	}
	err := fault.New(errPanic, why)
	if cl, ok := m.calls[id]; ok {
		delete(m.calls, id)
		cl.x.End(err)
		m.out.stop(id)
	}
	if id != 0 {
		m.out.fail(id, err, m.state(0))
	}
	return m.done()
}
