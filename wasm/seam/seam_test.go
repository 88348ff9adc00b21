package seam

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gqlauth/gqlauth/wasm/client"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

// worker is a fake worker: it records what the module asks it to fetch,
// and decodes output records.
type worker struct {
	t       *testing.T
	fetched []fetched
	issued  atomic.Int64
	clock   *clock
}

type fetched struct {
	call uint32
	req  map[string]any
	body string
}

func (w *worker) fetch(call uint32, req, body []byte) {
	var r map[string]any
	if err := json.Unmarshal(req, &r); err != nil {
		w.t.Fatalf("request record %s: %v", req, err)
	}
	w.fetched = append(w.fetched, fetched{call, r, string(body)})
}

func (w *worker) last() fetched { return w.fetched[len(w.fetched)-1] }

func (w *worker) mint() string {
	n := w.issued.Add(1)
	iat := w.clock.now.Add(time.Duration(n) * time.Millisecond)
	raw, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "1", "jti": fmt.Sprint(n), "iat": float64(iat.UnixMilli()) / 1000, "exp": float64(iat.Add(time.Hour).UnixMilli()) / 1000,
	}).SignedString([]byte("k"))
	if err != nil {
		w.t.Fatal(err)
	}
	return raw
}

// record is a decoded output record.
type record struct {
	Events []struct {
		Client    int
		Reason    string
		Cause     int
		ExpiresAt *int64
		UsableFor float64
	}
	Replies []struct {
		Call      uint32
		OK        bool
		Client    int
		Body      bool
		Code      string
		Message   string
		Status    int
		ExpiresAt *int64
	}
	Heads []struct {
		Call    uint32
		Status  int
		Headers [][2]string
	}
	Stops    []uint32
	Warnings []struct{ Message string }
	Wakes    []struct {
		Client int
		In     float64
	}
}

func decode(t *testing.T, b []byte) record {
	t.Helper()
	var o record
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatalf("output record %s: %v", b, err)
	}
	return o
}

func newModule(t *testing.T) (*Module, *worker) {
	w := &worker{t: t, clock: &clock{now: t0}}
	return New(w.fetch, client.WithClock(w.clock), client.WithLeeway(0)), w
}

// answer sends the head (a token when tok), then the body, then the end.
func answer(t *testing.T, m *Module, call uint32, status int, tok, body string) record {
	t.Helper()
	head := map[string]any{"status": status, "statusText": "OK", "headers": map[string]string{}, "all": [][2]string{{"content-type", "application/json"}}}
	if tok != "" {
		head["headers"] = map[string]string{"X-Authorization": "Bearer " + tok}
		head["all"] = [][2]string{{"content-type", "application/json"}, {"x-authorization", "Bearer " + tok}, {"x-echo", tok}}
	}
	rec, _ := json.Marshal(head)
	headOut := decode(t, m.Head(call, rec))
	m.Chunk(call, []byte(body))
	end := decode(t, m.End(call, Complete, ""))
	end.Heads = append(headOut.Heads, end.Heads...)
	end.Events = append(headOut.Events, end.Events...)
	end.Wakes = append(headOut.Wakes, end.Wakes...)
	return end
}

func open(t *testing.T, m *Module, options string) int {
	t.Helper()
	o := decode(t, m.Open(1, []byte(options)))
	if len(o.Replies) != 1 || !o.Replies[0].OK || o.Replies[0].Client == 0 {
		t.Fatalf("open(%s) = %+v", options, o)
	}
	return o.Replies[0].Client
}

func login(t *testing.T, m *Module, w *worker, h int) {
	t.Helper()
	rec := []byte(`{"username":"demo","password":"pa\"ss"}`)
	decode(t, m.Login(2, h, 7, rec))
	if strings.Contains(string(rec), "pa") {
		t.Errorf("the credentials record still holds the password: %q", rec)
	}
	if o := answer(t, m, 2, 200, w.mint(), `{"data":{"loginUser":{"id":"1"}}}`); len(o.Replies) != 1 || !o.Replies[0].OK || !o.Replies[0].Body {
		t.Fatalf("login's answer: %+v", o)
	}
}

func TestACallFromOpenToItsAnswer(t *testing.T) {
	m, w := newModule(t)
	h := open(t, m, `{"endpoint":"https://api.example.com/graphql","timeoutMs":5000,"headers":{"X-App":"1"},"credentials":"include"}`)
	login(t, m, w, h)
	req := w.last().req
	if req["url"] != "https://api.example.com/graphql" || req["method"] != "POST" || req["timeoutMs"] != 5000.0 || req["secret"] != true || req["credentials"] != "include" {
		t.Errorf("login request record %v", req)
	}
	if !strings.Contains(w.last().body, `"password":"pa\"ss"`) {
		t.Errorf("login body %s", w.last().body)
	}
	o := decode(t, m.FetchWithAuth(3, h, 7, []byte(`{"query":"query Me($a: Int) { me { id } }","variables":{"a":1},"operationName":"Me"}`)))
	if len(o.Replies) != 0 || w.last().call != 3 {
		t.Fatalf("a query began with %+v, fetching %+v", o, w.last())
	}
	req = w.last().req
	headers := req["headers"].(map[string]any)
	if !strings.HasPrefix(headers["Authorization"].(string), "Bearer ey") || headers["X-App"] != "1" || req["secret"] != nil {
		t.Errorf("query request record %v", req)
	}
	if w.last().body != `{"query":"query Me($a: Int) { me { id } }","variables":{"a":1},"operationName":"Me"}` {
		t.Errorf("query body %s", w.last().body)
	}
	o = answer(t, m, 3, 200, w.mint(), `{"data":{"me":{"id":"1"}}}`)
	if len(o.Events) != 1 || o.Events[0].Reason != "rotate" || o.Events[0].Cause != 7 || o.Events[0].Client != h {
		t.Errorf("events %+v", o.Events)
	}
	if len(o.Replies) != 1 || !o.Replies[0].OK || !o.Replies[0].Body || o.Replies[0].ExpiresAt == nil {
		t.Errorf("replies %+v", o.Replies)
	}
	if len(o.Wakes) != 1 || o.Wakes[0].Client != h || o.Wakes[0].In <= 0 {
		t.Errorf("wakes %+v: want the expiry's", o.Wakes)
	}
	if m.InFlight() != 0 {
		t.Errorf("InFlight() = %d", m.InFlight())
	}
}

func TestErrorsAreRepliesWithCodes(t *testing.T) {
	m, w := newModule(t)
	h := open(t, m, `{"endpoint":"https://api.example.com/graphql"}`)
	tests := []struct {
		name string
		out  func() []byte
		code string
	}{
		{"open without an endpoint", func() []byte { return m.Open(9, []byte(`{}`)) }, "INVALID_ARGUMENT"},
		{"open over http", func() []byte { return m.Open(9, []byte(`{"endpoint":"http://api.example.com/"}`)) }, "INSECURE_ENDPOINT"},
		{"open with a bad timeout", func() []byte { return m.Open(9, []byte(`{"endpoint":"https://a.example/","timeoutMs":-1}`)) }, "INVALID_ARGUMENT"},
		{"open with a 65 KiB keep-alive", func() []byte {
			return m.Open(9, []byte(`{"endpoint":"https://a.example/","keepAlive":{"query":"`+strings.Repeat("x", 65<<10)+`","beforeExpiryMs":1}}`))
		}, "INVALID_ARGUMENT"},
		{"open with an options list", func() []byte { return m.Open(9, []byte(`[1]`)) }, "INVALID_ARGUMENT"},
		{"a query before login", func() []byte { return m.FetchWithAuth(9, h, 1, []byte(`{"query":"{ me { id } }"}`)) }, "NOT_AUTHENTICATED"},
		{"a query that is not a string", func() []byte { return m.FetchWithAuth(9, h, 1, []byte(`{"query":42}`)) }, "INVALID_ARGUMENT"},
		{"variables that are a list", func() []byte { return m.FetchWithAuth(9, h, 1, []byte(`{"query":"q","variables":[1]}`)) }, "INVALID_ARGUMENT"},
		{"a login without a password", func() []byte { return m.Login(9, h, 1, []byte(`{"username":"demo"}`)) }, "INVALID_ARGUMENT"},
		{"a client never opened", func() []byte { return m.FetchWithAuth(9, 99, 1, []byte(`{"query":"q"}`)) }, "NOT_AUTHENTICATED"},
		{"a logout of no client", func() []byte { return m.Logout(9, 0, 1) }, "NOT_AUTHENTICATED"},
		{"a record too long", func() []byte { return m.Refuse(9, TooLong) }, "INVALID_ARGUMENT"},
		{"a fetch to another method", func() []byte { return m.Fetch(9, h, 1, []byte(`{"method":"PUT"}`), nil) }, "INVALID_ARGUMENT"},
	}
	for _, tt := range tests {
		o := decode(t, tt.out()) // an output record is valid until the next export
		if len(o.Replies) != 1 || o.Replies[0].OK || o.Replies[0].Code != tt.code || o.Replies[0].Call != 9 || !strings.HasPrefix(o.Replies[0].Message, "gqlauth: ") {
			t.Errorf("%s: %+v, want a %s reply", tt.name, o.Replies, tt.code)
		}
	}
	if len(w.fetched) != 0 {
		t.Errorf("refused calls fetched %+v", w.fetched)
	}
}

func TestFailuresKeepTheirStatusAndSayWhetherTheBodyHoldsErrors(t *testing.T) {
	m, w := newModule(t)
	h := open(t, m, `{"endpoint":"https://api.example.com/graphql"}`)
	login(t, m, w, h)
	m.FetchWithAuth(3, h, 1, []byte(`{"query":"{ me { id } }"}`))
	o := answer(t, m, 3, 200, "", `{"data":{"me":null},"errors":[{"message":"Unauthorized","path":["me"]}]}`)
	if r := o.Replies[0]; r.OK || r.Code != "UNAUTHORIZED" || r.Status != 200 || !r.Body || r.ExpiresAt != nil {
		t.Errorf("a refused token: %+v", r)
	}
	if len(o.Events) != 1 || o.Events[0].Reason != "unauthorized" {
		t.Errorf("events %+v", o.Events)
	}
	login(t, m, w, h)
	for _, tc := range []struct {
		failure Failure
		code    string
	}{{Network, "NETWORK_ERROR"}, {Timeout, "TIMEOUT"}, {Aborted, "ABORTED"}, {TooLarge, "BAD_RESPONSE"}} {
		m.FetchWithAuth(4, h, 1, []byte(`{"query":"{ me { id } }"}`))
		o := decode(t, m.End(4, tc.failure, "it broke"))
		if r := o.Replies[0]; r.OK || r.Code != tc.code || r.Status != 0 || r.Body {
			t.Errorf("failure %d: %+v, want %s", tc.failure, r, tc.code)
		}
	}
}

func TestTheAppsFetchPassesItsHeadOnWithoutTokens(t *testing.T) {
	m, w := newModule(t)
	h := open(t, m, `{"endpoint":"https://api.example.com/graphql"}`)
	login(t, m, w, h)
	decode(t, m.Fetch(5, h, 1, []byte(`{"method":"POST","headers":{"content-type":"application/json"}}`), []byte(`{"query":"{ me { id } }"}`)))
	if w.last().req["all"] != true || w.last().body != `{"query":"{ me { id } }"}` {
		t.Fatalf("fetch request %+v", w.last())
	}
	o := answer(t, m, 5, 200, w.mint(), `{"data":{"me":{"id":"1"}}}`)
	if len(o.Heads) != 1 || fmt.Sprint(o.Heads[0].Headers) != "[[content-type application/json]]" {
		t.Errorf("heads %+v: want the head, without the token header or its echo", o.Heads)
	}
	if r := o.Replies[0]; !r.OK || r.Body {
		t.Errorf("the end %+v: ok, and no body (the app has it)", r)
	}
}

func TestCloseEndsTheCallsOfItsClient(t *testing.T) {
	m, w := newModule(t)
	h := open(t, m, `{"endpoint":"https://api.example.com/graphql"}`)
	other := open(t, m, `{"endpoint":"https://other.example.com/graphql"}`)
	login(t, m, w, h)
	m.FetchWithAuth(3, h, 1, []byte(`{"query":"{ me { id } }"}`))
	o := decode(t, m.Close(4, h, 1))
	if fmt.Sprint(o.Stops) != "[3]" || len(o.Replies) != 2 || o.Replies[0].Code != "NOT_AUTHENTICATED" || !o.Replies[1].OK {
		t.Fatalf("close: %+v", o)
	}
	if len(o.Events) != 1 || o.Events[0].Reason != "logout" {
		t.Errorf("events %+v", o.Events)
	}
	if o := decode(t, m.End(3, Complete, "")); len(o.Replies) != 0 {
		t.Errorf("an answer after close: %+v", o)
	}
	if fmt.Sprint(m.Handles()) != fmt.Sprint([]int{other}) {
		t.Errorf("Handles() = %v", m.Handles())
	}
}

func TestTickSendsTheKeepAliveAndPublishesExpiry(t *testing.T) {
	m, w := newModule(t)
	h := open(t, m, `{"endpoint":"https://api.example.com/graphql","keepAlive":{"query":"{ __typename }","beforeExpiryMs":60000}}`)
	login(t, m, w, h)
	sent := len(w.fetched)
	w.clock.now = w.clock.now.Add(59 * time.Minute)
	o := decode(t, m.Tick(h))
	if len(w.fetched) != sent+1 || w.last().call < FirstKeepAlive || !strings.Contains(w.last().body, "__typename") {
		t.Fatalf("Tick() when the keep-alive is due fetched %+v", w.fetched[sent:])
	}
	if len(o.Replies) != 0 {
		t.Errorf("a keep-alive has no reply: %+v", o)
	}
	o = answer(t, m, w.last().call, 200, w.mint(), `{"data":{"__typename":"Query"}}`)
	if len(o.Events) != 1 || o.Events[0].Cause != int(client.CauseKeepAlive) || len(o.Replies) != 0 {
		t.Errorf("the keep-alive's answer: %+v", o)
	}
	w.clock.now = w.clock.now.Add(2 * time.Hour)
	o = decode(t, m.Tick(h))
	if len(o.Events) != 1 || o.Events[0].Reason != "expired" || o.Events[0].Cause != 0 {
		t.Errorf("Tick() past the expiry: %+v", o)
	}
	if len(o.Wakes) != 1 || o.Wakes[0].In != -1 {
		t.Errorf("wakes %+v: nothing due once expired", o.Wakes)
	}
}

func TestAPanicFailsItsCallAndEndsItsExchange(t *testing.T) {
	m, w := newModule(t)
	h := open(t, m, `{"endpoint":"https://api.example.com/graphql"}`)
	login(t, m, w, h)
	m.FetchWithAuth(3, h, 1, []byte(`{"query":"{ me { id } }"}`))
	o := decode(t, m.Panicked(3, "boom"))
	if fmt.Sprint(o.Stops) != "[3]" || len(o.Replies) != 1 || o.Replies[0].Code != "INTERNAL" || !strings.Contains(o.Replies[0].Message, "boom") {
		t.Fatalf("Panicked: %+v", o)
	}
	if m.InFlight() != 0 {
		t.Errorf("InFlight() = %d after a panic", m.InFlight())
	}
	m.FetchWithAuth(4, h, 1, []byte(`{"query":"{ me { id } }"}`))
	if o := answer(t, m, 4, 200, w.mint(), `{"data":{}}`); !o.Replies[0].OK {
		t.Errorf("the module after a panic: %+v", o)
	}
}

func TestHeadRecordsAreChecked(t *testing.T) {
	m, w := newModule(t)
	h := open(t, m, `{"endpoint":"https://api.example.com/graphql"}`)
	login(t, m, w, h)
	for i, rec := range []string{`[]`, `{"status":"200"}`, `{"status":200.5}`, `{"status":200,"headers":{"X-Authorization":1}}`, `{`} {
		call := uint32(10 + i)
		m.FetchWithAuth(call, h, 1, []byte(`{"query":"{ me { id } }"}`))
		if o := decode(t, m.Head(call, []byte(rec))); len(o.Replies) != 1 || o.Replies[0].Code == "" || o.Replies[0].OK {
			t.Errorf("head %s: %+v, want the call failed", rec, o)
		}
	}
	if m.InFlight() != 0 {
		t.Errorf("InFlight() = %d", m.InFlight())
	}
}

func FuzzRecordsNeverPanic(f *testing.F) {
	for _, seed := range []string{`{"endpoint":"https://a.example/"}`, `{"query":"q","variables":{"a":[1]}}`, `{"username":"u","password":"p"}`,
		`{"status":200,"headers":{},"all":[["a","b"]]}`, `{"method":"GET","query":"?q=1","headers":{"a":"b"}}`, `{`, `null`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		m, w := newModule(t)
		h := open(t, m, `{"endpoint":"https://api.example.com/graphql"}`)
		m.Open(2, append([]byte(nil), rec...))
		m.Login(3, h, 1, append([]byte(nil), rec...))
		login(t, m, w, h)
		m.FetchWithAuth(4, h, 1, append([]byte(nil), rec...))
		m.Fetch(5, h, 1, append([]byte(nil), rec...), rec)
		m.FetchWithAuth(6, h, 1, []byte(`{"query":"q"}`))
		m.Head(6, append([]byte(nil), rec...))
		m.Chunk(6, rec)
		decode(t, m.End(6, Complete, string(rec)))
	})
}

// Without a clock option the clients read the module's: the time each
// export began, and State reads it afresh.
func TestTheModulesClock(t *testing.T) {
	w := &worker{t: t, clock: &clock{now: time.Now()}}
	m := New(w.fetch, client.WithLeeway(0))
	h := open(t, m, `{"endpoint":"https://api.example.com/graphql"}`)
	login(t, m, w, h)
	first := m.State(h)
	if !first.Authenticated || first.ExpiresIn <= 59*time.Minute || first.ExpiresIn > time.Hour {
		t.Fatalf("State after login = %+v", first)
	}
	time.Sleep(20 * time.Millisecond)
	if later := m.State(h); first.ExpiresIn-later.ExpiresIn < 20*time.Millisecond {
		t.Errorf("State 20ms later says %v left, first %v: the clock did not move", later.ExpiresIn, first.ExpiresIn)
	}
}
