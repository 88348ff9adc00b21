package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gqlauth/gqlauth/wasm/internal/fault"
)

// passRecord is a PassSink that keeps what it was passed, and can fail.
type passRecord struct {
	heads    []PassHead
	body     strings.Builder
	chunks   int
	onChunk  func()
	headErr  error // what Head returns
	failWith error // what Chunk returns
}

func (p *passRecord) Head(h PassHead) error {
	p.heads = append(p.heads, h)
	return p.headErr
}

func (p *passRecord) Chunk(c Chunk) error {
	p.chunks++
	p.body.Write(c.Bytes)
	if p.onChunk != nil {
		p.onChunk()
	}
	return p.failWith
}

// streamed answers with body in pieces of n bytes, and the token header.
func streamed(status int, body string, n int, tok string) *Response {
	resp := &Response{Status: status, StatusText: "OK", Header: map[string]string{}, All: [][2]string{{"content-type", "application/json"}}, Pieces: []string{}}
	for i := 0; i < len(body); i += n {
		resp.Pieces = append(resp.Pieces, body[i:min(len(body), i+n)])
	}
	if tok != "" {
		resp.All = append(resp.All, [2]string{"x-authorization", "Bearer " + tok}, [2]string{"authorization", "Bearer " + tok})
		resp.Header[HeaderXAuthorization] = "Bearer " + tok
	}
	return resp
}

const appBody = `{"query":"query Me { me { id } }","operationName":"Me","extensions":{"persistedQuery":{"version":1}}}`

func TestPassSendsTheAppsRequestWithTheTokenAndPassesTheAnswerOn(t *testing.T) {
	c, api, _, rec := newTestClient(t, WithHeaders(map[string]string{"X-App": "static", "X-Other": "1"}))
	login(t, c)
	held := c.ExpiresAt()
	answer := `{"data":{"me":{"id":"1"}}}`
	api.override = func(req *Request) (*Response, error) { return streamed(200, answer, 5, api.mint("1")), nil }
	sink := &passRecord{}
	sink.onChunk = func() {
		if c.ExpiresAt().Equal(held) {
			t.Error("the answer's token was not installed at its head")
		}
	}
	err := c.Pass(context.Background(), PassRequest{Method: "POST", Body: []byte(appBody),
		Header: map[string]string{"x-app": "mine", "accept": "application/graphql-response+json"}}, sink)
	if err != nil {
		t.Fatal(err)
	}
	req := api.last()
	if req.Method != "POST" || req.URL != endpoint || string(req.Body) != appBody {
		t.Errorf("sent %s %s %s; want the app's body, as it is, to the endpoint", req.Method, req.URL, req.Body)
	}
	wantHeaders := map[string]string{"x-app": "mine", "X-Other": "1", "accept": "application/graphql-response+json",
		"Content-Type": "application/json", "Authorization": req.Header["Authorization"]}
	if fmt.Sprint(req.Header) != fmt.Sprint(wantHeaders) || !strings.HasPrefix(req.Header["Authorization"], "Bearer ey") {
		t.Errorf("headers %v, want %v with the token", req.Header, wantHeaders)
	}
	if !req.AllHeaders {
		t.Error("the request did not ask for every header")
	}
	if len(sink.heads) != 1 || sink.heads[0].Status != 200 || sink.heads[0].StatusText != "OK" ||
		fmt.Sprint(sink.heads[0].All) != "[[content-type application/json]]" {
		t.Errorf("heads %+v; want one, without the token headers", sink.heads)
	}
	if sink.body.String() != answer || sink.chunks != 6 {
		t.Errorf("passed on %q in %d pieces", sink.body.String(), sink.chunks)
	}
	if got, want := rec.reasons(), "login,rotate"; got != want || c.ExpiresAt().Equal(held) {
		t.Errorf("events %q, want %q", got, want)
	}
}

func TestPassGetGoesToTheEndpointWithItsQueryString(t *testing.T) {
	clock := &fakeClock{now: t0}
	api := newFakeAPI(t, clock)
	client, err := New(endpoint+"?tenant=a#top", WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	c := &testClient{Client: client, api: api}
	login(t, c)
	query := "?query=%7B%20me%20%7B%20id%20%7D%20%7D&tenant=a"
	if err := c.Pass(context.Background(), PassRequest{Method: "GET", Query: query}, &passRecord{}); err != nil {
		t.Fatal(err)
	}
	if req := api.last(); req.Method != "GET" || req.URL != endpoint+query || req.Body != nil || req.Header["Content-Type"] != "" {
		t.Errorf("sent %s %s %q %v", req.Method, req.URL, req.Body, req.Header)
	}
}

func TestPassRefusesWhatCouldSendTheTokenElsewhereOrTwice(t *testing.T) {
	c, api, _, _ := newTestClient(t)
	login(t, c)
	sent := api.requests()
	for _, r := range []PassRequest{
		{Method: "POST", Header: map[string]string{"Authorization": "Bearer mine"}},
		{Method: "POST", Header: map[string]string{"authorization": "Basic x"}},
		{Method: "POST", Header: map[string]string{"X-AUTHORIZATION": "x"}},
		{Method: "PUT"},
		{Method: "post"},
		{Method: ""},
		{Method: "GET", Body: []byte("{}")},
		{Method: "POST", Query: "?query=x"},
		{Method: "GET", Query: "query=x"},
		{Method: "GET", Query: "?query=x#frag"},
		{Method: "GET", Query: "?a=1\r\nHost: evil"},
		{Method: "POST", Header: map[string]string{"bad name": "x"}},
		{Method: "POST", Header: map[string]string{"x-a": "line\nbreak"}},
		{Method: "POST", Header: map[string]string{"x-a": "ünï\u20ac"}},
	} {
		sink := &passRecord{}
		err := c.Pass(context.Background(), r, sink)
		if CodeOf(err) != CodeInvalidArgument || len(sink.heads) != 0 {
			t.Errorf("Pass(%+v) = %v; want INVALID_ARGUMENT", r, err)
		}
	}
	if api.requests() != sent {
		t.Errorf("%d requests were sent", api.requests()-sent)
	}
}

func TestPassWithoutAUsableTokenSendsNothing(t *testing.T) {
	c, api, clock, _ := newTestClient(t)
	err := c.Pass(context.Background(), PassRequest{Method: "POST", Body: []byte(appBody)}, &passRecord{})
	if CodeOf(err) != CodeNotAuthenticated || api.requests() != 0 {
		t.Fatalf("before login: %v, %d requests", err, api.requests())
	}
	login(t, c)
	clock.Advance(time.Hour + time.Millisecond)
	sent := api.requests()
	err = c.Pass(context.Background(), PassRequest{Method: "POST", Body: []byte(appBody)}, &passRecord{})
	if CodeOf(err) != CodeTokenExpired || api.requests() != sent {
		t.Fatalf("after expiry: %v, %d requests", err, api.requests()-sent)
	}
}

func TestPassRefusalIsPassedOnAndEndsTheSession(t *testing.T) {
	c, api, _, rec := newTestClient(t)
	login(t, c)
	api.override = func(*Request) (*Response, error) {
		return streamed(200, refusal, 7, ""), nil
	}
	sink := &passRecord{}
	if err := c.Pass(context.Background(), PassRequest{Method: "POST", Body: []byte(appBody)}, sink); err != nil {
		t.Fatal(err)
	}
	if sink.body.String() != refusal || len(sink.heads) != 1 || sink.heads[0].Status != 200 {
		t.Errorf("passed on %+v %q; want the refusal as the server sent it", sink.heads, sink.body.String())
	}
	if got, want := rec.reasons(), "login,unauthorized"; got != want || c.Authenticated() {
		t.Errorf("events %q (want %q), Authenticated() = %t", got, want, c.Authenticated())
	}
}

func TestPassRefusalIsToldByRotation(t *testing.T) {
	const nulled = `{"data":{"me":null},"errors":[{"message":"Unauthorized","path":["me"]}]}`
	for _, fresh := range []bool{false, true} {
		c, api, _, rec := newTestClient(t)
		login(t, c)
		api.override = func(*Request) (*Response, error) {
			tok := ""
			if fresh {
				tok = api.mint("1")
			}
			return streamed(200, nulled, 5, tok), nil
		}
		if err := c.Pass(context.Background(), PassRequest{Method: "POST", Body: []byte(appBody)}, &passRecord{}); err != nil {
			t.Fatal(err)
		}
		want := "login,unauthorized" // a refused token: the field is null, and no new token came
		if fresh {
			want = "login,rotate" // a permission error: the answer was authenticated
		}
		if got := rec.reasons(); got != want || c.Authenticated() != fresh {
			t.Errorf("new token %t: events %q (want %q), Authenticated() = %t", fresh, got, want, c.Authenticated())
		}
	}
}

func TestPassHeadDropsEveryHeaderThatHoldsAToken(t *testing.T) {
	c, api, _, _ := newTestClient(t)
	login(t, c)
	var sent string
	api.override = func(req *Request) (*Response, error) {
		sent = strings.TrimPrefix(req.Header["Authorization"], "Bearer ")
		fresh := api.mint("1")
		resp := streamed(200, `{"data":{"me":{"id":"1"}}}`, 9, fresh)
		resp.All = append(resp.All,
			[2]string{"x-debug-echo", "token=" + sent},
			[2]string{"set-cookie", "session=" + fresh + "; HttpOnly"},
			[2]string{"x-request-id", "42"})
		return resp, nil
	}
	sink := &passRecord{}
	if err := c.Pass(context.Background(), PassRequest{Method: "POST", Body: []byte(appBody)}, sink); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, kv := range sink.heads[0].All {
		names = append(names, kv[0])
	}
	if got, want := strings.Join(names, ","), "content-type,x-request-id"; got != want || sent == "" {
		t.Errorf("headers passed on: %s; want %s", got, want)
	}
}

func TestPassFieldErrorKeepsTheSession(t *testing.T) {
	c, api, _, rec := newTestClient(t)
	login(t, c)
	api.override = func(*Request) (*Response, error) {
		return streamed(200, `{"data":{"me":{"id":"1"},"restricted":null},"errors":[{"message":"Unauthorized","path":["restricted"]}]}`, 3, api.mint("1")), nil
	}
	if err := c.Pass(context.Background(), PassRequest{Method: "POST", Body: []byte(appBody)}, &passRecord{}); err != nil {
		t.Fatal(err)
	}
	if got, want := rec.reasons(), "login,rotate"; got != want || !c.Authenticated() {
		t.Errorf("events %q (want %q), Authenticated() = %t", got, want, c.Authenticated())
	}
}

func TestPassReplaysARefusalOfASupersededTokenBeforePassingAnythingOn(t *testing.T) {
	c, api, _, _ := newTestClient(t)
	login(t, c)
	var calls int
	var tokens []string
	api.override = func(req *Request) (*Response, error) {
		calls++
		tokens = append(tokens, req.Header["Authorization"])
		if calls == 1 {
			rotateMeanwhile(t, c, api)
			return streamed(200, refusal, 4, ""), nil
		}
		return streamed(200, `{"data":{"me":{"id":"1"}}}`, 4, api.mint("1")), nil
	}
	sink := &passRecord{}
	if err := c.Pass(context.Background(), PassRequest{Method: "POST", Body: []byte(appBody)}, sink); err != nil {
		t.Fatal(err)
	}
	if calls != 2 || tokens[0] == tokens[1] || len(sink.heads) != 1 || sink.body.String() != `{"data":{"me":{"id":"1"}}}` {
		t.Fatalf("%d calls, heads %+v, body %q; want only the replay's answer passed on", calls, sink.heads, sink.body.String())
	}
	if !c.Authenticated() {
		t.Error("the refusal of a superseded token ended the session")
	}
}

func TestPassBodyCutShortFailsAfterTheHeadAndKeepsTheToken(t *testing.T) {
	c, api, _, rec := newTestClient(t)
	login(t, c)
	api.override = func(*Request) (*Response, error) {
		resp := streamed(200, `{"data":{"items":[1,2,3`, 4, api.mint("1"))
		resp.Problem = fault.New(ErrNetwork, "the connection was reset")
		return resp, nil
	}
	sink := &passRecord{}
	err := c.Pass(context.Background(), PassRequest{Method: "POST", Body: []byte(appBody)}, sink)
	if CodeOf(err) != CodeNetworkError || len(sink.heads) != 1 {
		t.Fatalf("Pass() = %v after %d heads; want NETWORK_ERROR after the head", err, len(sink.heads))
	}
	if got, want := rec.reasons(), "login,rotate"; got != want {
		t.Errorf("events %q, want %q: the answer's token counts, as in Do", got, want)
	}
}

// A sink that fails (the page went away) stops the download, at the head
// or at a piece; the answer's token was sent all the same, and counts.
func TestPassSinkFailureStopsTheBodyAndKeepsTheToken(t *testing.T) {
	gone := errors.New("the page went away")
	for _, tc := range []struct {
		name   string
		sink   *passRecord
		chunks int
	}{
		{"at the head", &passRecord{headErr: gone}, 0},
		{"at the first piece", &passRecord{failWith: gone}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, api, _, rec := newTestClient(t)
			login(t, c)
			api.override = func(*Request) (*Response, error) {
				return streamed(200, `{"data":{"me":{"id":"1"}}}`, 2, api.mint("1")), nil
			}
			if err := c.Pass(context.Background(), PassRequest{Method: "POST", Body: []byte(appBody)}, tc.sink); !errors.Is(err, gone) {
				t.Fatalf("Pass() = %v, want the sink's error", err)
			}
			if tc.sink.chunks != tc.chunks {
				t.Errorf("%d pieces passed on; want the download stopped after %d", tc.sink.chunks, tc.chunks)
			}
			if got, want := rec.reasons(), "login,rotate"; got != want {
				t.Errorf("events %q, want %q: the answer's token counts", got, want)
			}
		})
	}
}

func TestPassWholeBodyFromATransportThatDoesNotStream(t *testing.T) {
	c, _, _, rec := newTestClient(t) // fakeAPI answers with whole bodies
	login(t, c)
	sink := &passRecord{}
	if err := c.Pass(context.Background(), PassRequest{Method: "POST", Body: []byte(appBody)}, sink); err != nil {
		t.Fatal(err)
	}
	if sink.body.String() != `{"data":{"me":{"id":"1"}}}` || sink.chunks != 1 || rec.reasons() != "login,rotate" {
		t.Errorf("passed on %q in %d pieces, events %q", sink.body.String(), sink.chunks, rec.reasons())
	}
}
