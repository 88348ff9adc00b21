package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gqlauth/gqlauth/web/server/api"
)

const meBody = `{"query":"{ me { id } }"}`

func TestTestHooksAreAbsentWithoutTheFlag(t *testing.T) {
	ts := newServer(t, api.Config{})
	token := login(t, ts)
	res := send(t, ts, http.MethodPost, "/graphql?fault=500html&delay=99999",
		map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + token}, meBody)
	if res.status != 200 {
		t.Errorf("status = %d, want 200", res.status)
	}
	assertJSON(t, res.body, `{"data":{"me":{"id":"1"}}}`)
	for _, path := range []string{"/test/tokens", "/test/reset"} {
		if res := send(t, ts, http.MethodGet, path, nil, ""); res.status != 404 {
			t.Errorf("GET %s: status = %d, want 404", path, res.status)
		}
	}
}

func TestFaultsBreakTheAnswer(t *testing.T) {
	ts := newServer(t, api.Config{TestHooks: true})
	token := login(t, ts)
	tests := []struct {
		fault      string
		wantStatus int
		wantType   string
		check      func(t *testing.T, body []byte)
	}{
		{"500html", 500, "text/html", func(t *testing.T, body []byte) {
			if !strings.Contains(string(body), "<html>") {
				t.Errorf("body = %q, want HTML", body)
			}
		}},
		{"502json", 502, "application/json", func(t *testing.T, body []byte) {
			assertJSON(t, body, `{"errors":[{"message":"bad gateway","customer_facing":false}]}`)
		}},
		{"truncated", 200, "application/json", func(t *testing.T, body []byte) {
			if len(body) == 0 || json.Valid(body) {
				t.Errorf("body = %q, want cut JSON", body)
			}
		}},
		{"empty", 200, "application/json", func(t *testing.T, body []byte) {
			if len(body) != 0 {
				t.Errorf("body = %q, want empty", body)
			}
		}},
		{"nonjson", 200, "text/plain", func(t *testing.T, body []byte) {
			if string(body) != "hello" {
				t.Errorf("body = %q, want hello", body)
			}
		}},
		{"deep", 200, "application/json", func(t *testing.T, body []byte) {
			want := `{"errors":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`
			if string(body) != want || !json.Valid(body) {
				t.Errorf("body = %.40q… (%d bytes), want {\"errors\": 5000 nested arrays}", body, len(body))
			}
		}},
		{"deepdata", 200, "application/json", func(t *testing.T, body []byte) {
			want := `{"data":{"me":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}}`
			if string(body) != want || !json.Valid(body) {
				t.Errorf("body = %.40q… (%d bytes), want {\"data\":{\"me\": 5000 nested arrays}}", body, len(body))
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fault, func(t *testing.T) {
			res := send(t, ts, http.MethodPost, "/graphql?fault="+tt.fault,
				map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + token}, meBody)
			if res.status != tt.wantStatus {
				t.Errorf("status = %d, want %d", res.status, tt.wantStatus)
			}
			if mt, _, _ := mime.ParseMediaType(res.header.Get("Content-Type")); mt != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", mt, tt.wantType)
			}
			noToken(t, res)
			tt.check(t, res.body)
		})
	}
}

func TestHugeFaultStreamsValidJSONOfTheAskedSize(t *testing.T) {
	ts := newServer(t, api.Config{TestHooks: true})
	for _, n := range []int{20, 1000, 3 << 20} {
		res := send(t, ts, http.MethodPost, "/graphql?fault=huge&bytes="+strconv.Itoa(n),
			map[string]string{"Content-Type": "application/json"}, meBody)
		if res.status != 200 || len(res.body) != n || !json.Valid(res.body) {
			t.Errorf("bytes=%d: status %d, %d bytes, valid JSON %v", n, res.status, len(res.body), json.Valid(res.body))
		}
	}
	res := send(t, ts, http.MethodPost, "/graphql?fault=huge", map[string]string{"Content-Type": "application/json"}, meBody)
	if len(res.body) != 40<<20 {
		t.Errorf("default huge answer has %d bytes, want 40 MiB", len(res.body))
	}
}

func TestCloseFaultDropsTheConnectionMidBody(t *testing.T) {
	ts := newServer(t, api.Config{TestHooks: true})
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/graphql?fault=close", strings.NewReader(meBody))
	req.Header.Set("Content-Type", "application/json")
	resp, err := ts.Client().Do(req)
	if err != nil {
		return // dropped before the headers arrived: also a broken connection
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("reading body: %q, %v; want unexpected EOF", body, err)
	}
}

func TestTokenFaultsReplaceTheRotatedToken(t *testing.T) {
	clock := newClock()
	ts := newServer(t, api.Config{TestHooks: true, Now: clock.Now})
	token := login(t, ts)
	now := float64(clock.Now().UnixMilli()) / 1000
	tests := []struct {
		fault string
		check func(t *testing.T, raw string)
	}{
		{"badtoken", func(t *testing.T, raw string) {
			if strings.Count(raw, ".") == 2 {
				t.Errorf("token %q looks like a JWT", raw)
			}
		}},
		{"expiredtoken", func(t *testing.T, raw string) {
			c := claimsOf(t, raw)
			if c["sub"] != "1" || !(c["exp"].(float64) < now) || !(c["iat"].(float64) > claimsOf(t, token)["iat"].(float64)) {
				t.Errorf("claims = %v, want sub 1, exp before %v, iat after the login token's", c, now)
			}
		}},
		{"othersub", func(t *testing.T, raw string) {
			c := claimsOf(t, raw)
			if c["sub"] != "2" || !(c["exp"].(float64) > now) {
				t.Errorf("claims = %v, want sub 2, not expired", c)
			}
		}},
		{"crlftoken", func(t *testing.T, raw string) {
			jwt, injected, ok := strings.Cut(raw, " ")
			if c := claimsOf(t, jwt); c["sub"] != "1" || !ok || !strings.Contains(injected, "X-Injected: 1") {
				t.Errorf("token header %q, want a JWT for sub 1 followed by the injected line", raw)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fault, func(t *testing.T) {
			res := send(t, ts, http.MethodPost, "/graphql?fault="+tt.fault,
				map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + token}, meBody)
			assertJSON(t, res.body, `{"data":{"me":{"id":"1"}}}`)
			tt.check(t, tokenOf(t, res))
		})
	}
	res := send(t, ts, http.MethodPost, "/graphql?fault=badtoken", map[string]string{"Content-Type": "application/json"},
		`{"query":"{ loginUser(username: \"demo\", password: \"demo-password\") { id } }"}`)
	if got := tokenOf(t, res); got != "not-a-jwt" {
		t.Errorf("login token = %q, want the bad one", got)
	}
}

func TestHookParametersAreChecked(t *testing.T) {
	ts := newServer(t, api.Config{TestHooks: true})
	for _, query := range []string{
		"fault=nope", "delay=-1", "delay=30001", "delay=x", "delay=50-10", "delay=0-30001", "delay=1-2-3",
		"lag=x", "lag=-5", "hold=yes", "nolength=2", "fault=huge&bytes=19", "fault=huge&bytes=x",
		"fault=redirect", "fault=redirect&to=", "fault=redirect&to=/graphql", "fault=redirect&to=//example.com/x",
		"fault=redirect&to=ftp://example.com/x", "fault=redirect&to=http://", "fault=redirect&to=http://%zz",
	} {
		res := send(t, ts, http.MethodPost, "/graphql?"+query, map[string]string{"Content-Type": "application/json"}, meBody)
		if res.status != 400 || len(decode(t, res).Errors) != 1 {
			t.Errorf("?%s: status %d, body %s; want 400 with one error", query, res.status, res.body)
		}
	}
}

func TestDelayWaitsAndStopsWhenTheClientGivesUp(t *testing.T) {
	ts := newServer(t, api.Config{TestHooks: true})
	res := send(t, ts, http.MethodPost, "/graphql?delay=5", map[string]string{"Content-Type": "application/json"}, `{"query":"{ __typename }"}`)
	assertJSON(t, res.body, `{"data":{"__typename":"Query"}}`)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+"/graphql?delay=30000", strings.NewReader(meBody))
	req.Header.Set("Content-Type", "application/json")
	if _, err := ts.Client().Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want deadline exceeded", err)
	}
	// ts.Close, at cleanup, waits for the handler: it must have returned.
}

func TestTokenLogRecordsIssuedAndReceivedTokens(t *testing.T) {
	clock := newClock()
	ts := newServer(t, api.Config{TestHooks: true, Now: clock.Now, Origins: []string{allowed}})
	first := login(t, ts)
	clock.Advance(time.Second)
	second := tokenOf(t, post(t, ts, "Bearer "+first, `{ me { id } }`, nil))
	third := login(t, ts)
	post(t, ts, "Bearer garbage", `{ __typename }`, nil)

	res := send(t, ts, http.MethodGet, "/test/tokens", map[string]string{"Origin": allowed}, "")
	if got := res.header.Get("Access-Control-Allow-Origin"); got != allowed {
		t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, allowed)
	}
	var log api.TokenLog
	decodeInto(t, res, &log)
	if got, want := log.GraphQLRequests, 4; got != want {
		t.Errorf("graphqlRequests = %d, want %d", got, want)
	}
	wantIssued := []struct {
		raw          string
		chain, reqNo int
	}{{first, 1, 1}, {second, 1, 2}, {third, 2, 3}}
	if len(log.Issued) != len(wantIssued) {
		t.Fatalf("issued = %+v, want %d tokens", log.Issued, len(wantIssued))
	}
	for i, w := range wantIssued {
		got := log.Issued[i]
		c := claimsOf(t, w.raw)
		if got.Raw != w.raw || got.Chain != w.chain || got.Request != w.reqNo || got.Forged ||
			got.JTI != c["jti"] || got.Subject != "1" || got.IssuedAt != c["iat"] || got.ExpiresAt != c["exp"] {
			t.Errorf("issued[%d] = %+v, want token %d of chain %d", i, got, i+1, w.chain)
		}
	}
	wantReceived := []api.ReceivedToken{
		{Seq: 2, JTI: claimsOf(t, first)["jti"].(string), IssuedAt: 1767225600.123, At: 1767225601.123},
		{Seq: 4, JTI: "", At: 1767225601.123},
	}
	if len(log.Received) != len(wantReceived) || log.Received[0] != wantReceived[0] || log.Received[1] != wantReceived[1] {
		t.Errorf("received = %+v, want %+v", log.Received, wantReceived)
	}

	if res := send(t, ts, http.MethodPost, "/test/reset", nil, ""); res.status != 204 {
		t.Errorf("reset: status = %d, want 204", res.status)
	}
	res = send(t, ts, http.MethodGet, "/test/tokens", nil, "")
	assertJSON(t, res.body, `{"issued":[],"received":[],"held":[],"cancelled":[],"graphqlRequests":0}`)

	// Sessions survive a reset.
	res = post(t, ts, "Bearer "+second, `{ me { id } }`, nil)
	assertJSON(t, res.body, `{"data":{"me":{"id":"1"}}}`)
}

// tokenLog reads GET /test/tokens.
func tokenLog(t *testing.T, ts *httptest.Server) api.TokenLog {
	t.Helper()
	var log api.TokenLog
	decodeInto(t, send(t, ts, http.MethodGet, "/test/tokens", nil, ""), &log)
	return log
}

// waitForLog polls GET /test/tokens until ok holds, for at most five seconds.
func waitForLog(t *testing.T, ts *httptest.Server, what string, ok func(api.TokenLog) bool) api.TokenLog {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		log := tokenLog(t, ts)
		if ok(log) {
			return log
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 5s for %s; log: %+v", what, log)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// hookBody is a GraphQL request body for query with the given __hook variable.
func hookBody(t *testing.T, query string, hook map[string]any) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"query": query, "variables": map[string]any{"__hook": hook}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sendAsync sends a /graphql request in the background; the answer (or the
// transport error) arrives on the returned channel.
func sendAsync(ctx context.Context, ts *httptest.Server, path, token, body string) <-chan asyncResult {
	out := make(chan asyncResult, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := ts.Client().Do(req)
		if err != nil {
			out <- asyncResult{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		out <- asyncResult{res: result{status: resp.StatusCode, header: resp.Header, body: b}, err: err}
	}()
	return out
}

type asyncResult struct {
	res result
	err error
}

func TestHookVariableOverridesTheQueryStringAndIsRemoved(t *testing.T) {
	ts := newServer(t, api.Config{TestHooks: true})
	token := login(t, ts)
	header := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + token}

	res := send(t, ts, http.MethodPost, "/graphql?fault=500html", header, hookBody(t, "{ me { id } }", map[string]any{"fault": "nonjson"}))
	if res.status != 200 || string(res.body) != "hello" {
		t.Errorf("__hook fault=nonjson over ?fault=500html: status %d, body %q; want 200 hello", res.status, res.body)
	}
	// A query that declares no variables still runs: __hook is taken out.
	res = send(t, ts, http.MethodPost, "/graphql", header, hookBody(t, "{ me { id } }", map[string]any{"delay": 1, "hold": false}))
	assertJSON(t, res.body, `{"data":{"me":{"id":"1"}}}`)

	for _, body := range []string{
		`{"query":"{ me { id } }","variables":{"__hook":5}}`,
		`{"query":"{ me { id } }","variables":{"__hook":{"fault":{}}}}`,
		`{"query":"{ me { id } }","variables":{"__hook":{"delay":"soon"}}}`,
	} {
		res := send(t, ts, http.MethodPost, "/graphql", header, body)
		if res.status != 400 || len(decode(t, res).Errors) != 1 {
			t.Errorf("%s: status %d, body %s; want 400 with one error", body, res.status, res.body)
		}
	}
}

func TestRandomDelayWaitsWithinItsRange(t *testing.T) {
	ts := newServer(t, api.Config{TestHooks: true})
	for range 5 {
		began := time.Now()
		res := send(t, ts, http.MethodPost, "/graphql?delay=20-40", map[string]string{"Content-Type": "application/json"}, `{"query":"{ __typename }"}`)
		if took := time.Since(began); took < 20*time.Millisecond {
			t.Errorf("answered after %v, want at least 20ms", took)
		}
		assertJSON(t, res.body, `{"data":{"__typename":"Query"}}`)
	}
}

func TestHeldRequestsWaitUntilReleased(t *testing.T) {
	ts := newServer(t, api.Config{TestHooks: true})
	token := login(t, ts)
	body := func(op string) string {
		return hookBody(t, "query "+op+" { me { id } }", map[string]any{"hold": 1})
	}
	first := sendAsync(context.Background(), ts, "/graphql", token, body("First"))
	waitForLog(t, ts, "First held", func(l api.TokenLog) bool { return len(l.Held) == 1 })
	second := sendAsync(context.Background(), ts, "/graphql", token, body("Second"))
	log := waitForLog(t, ts, "Second held", func(l api.TokenLog) bool { return len(l.Held) == 2 })
	if log.Held[0].Op != "First" || log.Held[1].Op != "Second" || log.Held[0].JTI != claimsOf(t, token)["jti"] {
		t.Errorf("held = %+v, want First then Second with the login token's jti", log.Held)
	}

	// Release the second one alone: it answers while the first still waits.
	res := send(t, ts, http.MethodPost, "/graphql?release="+strconv.Itoa(log.Held[1].Seq), nil, "")
	assertJSON(t, res.body, `{"released":1}`)
	select {
	case r := <-second:
		if r.err != nil {
			t.Fatal(r.err)
		}
		assertJSON(t, r.res.body, `{"data":{"me":{"id":"1"}}}`)
		tokenOf(t, r.res)
	case <-time.After(5 * time.Second):
		t.Fatal("the released request did not answer")
	}
	select {
	case <-first:
		t.Fatal("the request still held answered")
	case <-time.After(50 * time.Millisecond):
	}
	res = send(t, ts, http.MethodPost, "/graphql?release=all", nil, "")
	assertJSON(t, res.body, `{"released":1}`)
	if r := <-first; r.err != nil || r.res.status != 200 {
		t.Fatalf("first: %v, %+v", r.err, r.res)
	}
	if l := tokenLog(t, ts); len(l.Held) != 0 || l.GraphQLRequests != 3 {
		t.Errorf("after release: held %+v, %d GraphQL requests; want none held, 3 (release requests do not count)", l.Held, l.GraphQLRequests)
	}
	if res := send(t, ts, http.MethodPost, "/graphql?release=x", nil, ""); res.status != 400 {
		t.Errorf("release=x: status %d, want 400", res.status)
	}
}

func TestResetReleasesHeldRequests(t *testing.T) {
	ts := newServer(t, api.Config{TestHooks: true})
	held := sendAsync(context.Background(), ts, "/graphql", "", hookBody(t, "{ __typename }", map[string]any{"hold": true}))
	waitForLog(t, ts, "a held request", func(l api.TokenLog) bool { return len(l.Held) == 1 })
	send(t, ts, http.MethodPost, "/test/reset", nil, "")
	select {
	case r := <-held:
		assertJSON(t, r.res.body, `{"data":{"__typename":"Query"}}`)
	case <-time.After(5 * time.Second):
		t.Fatal("reset did not release the held request")
	}
}

func TestClientsThatGoAwayWhileWaitingAreLogged(t *testing.T) {
	ts := newServer(t, api.Config{TestHooks: true})
	token := login(t, ts)
	jti := claimsOf(t, token)["jti"].(string)
	tests := []struct {
		stage string
		hook  map[string]any
		// ready reports when the request is surely waiting in stage.
		ready func(api.TokenLog) bool
	}{
		{"delay", map[string]any{"delay": 30000}, func(l api.TokenLog) bool { return len(l.Received) == 1 }},
		{"hold", map[string]any{"hold": 1}, func(l api.TokenLog) bool { return len(l.Held) == 1 }},
		// The answer's token is issued before the lag.
		{"lag", map[string]any{"lag": 30000}, func(l api.TokenLog) bool { return len(l.Issued) == 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.stage, func(t *testing.T) {
			send(t, ts, http.MethodPost, "/test/reset", nil, "")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			began := time.Now()
			done := sendAsync(ctx, ts, "/graphql", token, hookBody(t, "query Slow { me { id } }", tt.hook))
			waitForLog(t, ts, "the request to wait", tt.ready)
			if tt.stage == "delay" {
				time.Sleep(50 * time.Millisecond) // net/http's background read notices the close only once it runs
			}
			cancel()
			if r := <-done; !errors.Is(r.err, context.Canceled) {
				t.Fatalf("err = %v, want canceled", r.err)
			}
			log := waitForLog(t, ts, "the cancellation", func(l api.TokenLog) bool { return len(l.Cancelled) == 1 })
			c := log.Cancelled[0]
			if c.Stage != tt.stage || c.Op != "Slow" || c.JTI != jti || c.Seq != 1 ||
				c.WaitedMS > time.Since(began).Milliseconds() || c.WaitedMS >= 30000 {
				t.Errorf("cancelled = %+v, want stage %s, op Slow, the token's jti, seq 1, waited less than it was to", c, tt.stage)
			}
			if tt.stage != "hold" && c.WaitMS != 30000 {
				t.Errorf("waitMs = %d, want 30000", c.WaitMS)
			}
		})
	}
}

func TestHugeAnswerLogsAClientThatStopsReading(t *testing.T) {
	ts := newServer(t, api.Config{TestHooks: true})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const size = 256 << 20
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+"/graphql?fault=huge&bytes="+strconv.Itoa(size),
		strings.NewReader(`{"query":"query Big { __typename }"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ContentLength != size {
		t.Errorf("Content-Length = %d, want %d", resp.ContentLength, size)
	}
	io.CopyN(io.Discard, resp.Body, 1<<20)
	cancel()
	resp.Body.Close()
	log := waitForLog(t, ts, "the cancellation", func(l api.TokenLog) bool { return len(l.Cancelled) == 1 })
	if c := log.Cancelled[0]; c.Stage != "body" || c.Op != "Big" || c.Size != size || c.Written < 1<<20 || c.Written >= size {
		t.Errorf("cancelled = %+v, want stage body, op Big, 1 MiB <= written < size", c)
	}
}

func TestHugeAnswerWithoutLengthIsChunked(t *testing.T) {
	ts := newServer(t, api.Config{TestHooks: true})
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/graphql?fault=huge&bytes=300000&nolength=1", strings.NewReader(meBody))
	req.Header.Set("Content-Type", "application/json")
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ContentLength != -1 || len(resp.TransferEncoding) == 0 || resp.TransferEncoding[0] != "chunked" {
		t.Errorf("Content-Length %d, Transfer-Encoding %v; want no length, chunked", resp.ContentLength, resp.TransferEncoding)
	}
	if len(body) != 300000 || !json.Valid(body) {
		t.Errorf("%d bytes, valid JSON %v; want 300000 bytes of JSON", len(body), json.Valid(body))
	}
}

func TestLagSendsTheAnswerAfterItsTokenWasIssued(t *testing.T) {
	ts := newServer(t, api.Config{TestHooks: true})
	token := login(t, ts)
	send(t, ts, http.MethodPost, "/test/reset", nil, "")
	done := sendAsync(context.Background(), ts, "/graphql?lag=300", token, meBody)
	log := waitForLog(t, ts, "the token", func(l api.TokenLog) bool { return len(l.Issued) == 1 })
	select {
	case <-done:
		t.Fatal("answered before the lag")
	default:
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if got := tokenOf(t, r.res); got != log.Issued[0].Raw || log.Issued[0].Request != 1 {
		t.Errorf("answer carries %q, log says %+v; want the token logged for request 1", got, log.Issued[0])
	}
}

func TestCRLFTokenFaultCannotInjectAHeader(t *testing.T) {
	ts := newServer(t, api.Config{TestHooks: true})
	token := login(t, ts)
	res := send(t, ts, http.MethodPost, "/graphql?fault=crlftoken",
		map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + token}, meBody)
	assertJSON(t, res.body, `{"data":{"me":{"id":"1"}}}`)
	x := res.header.Get("X-Authorization")
	if !strings.HasPrefix(x, "Bearer ey") || !strings.Contains(x, "X-Injected: 1") || strings.ContainsAny(x, "\r\n") {
		t.Errorf("X-Authorization = %q, want the token, spaces, then the injected text", x)
	}
	if got := res.header.Get("X-Injected"); got != "" {
		t.Errorf("X-Injected = %q: the header was injected", got)
	}
	if l := tokenLog(t, ts); len(l.Issued) != 2 || !l.Issued[1].Forged {
		t.Errorf("issued = %+v, want the login token and a forged one", l.Issued)
	}
}

func TestReceivedLogRecordsIssuedAtOperationAndRefusals(t *testing.T) {
	ts := newServer(t, api.Config{TestHooks: true, StrictRotation: true})
	first := login(t, ts)
	second := tokenOf(t, post(t, ts, "Bearer "+first, `query Rotate { me { id } }`, nil))
	res := post(t, ts, "Bearer "+first, `query Stale { me { id } }`, nil)
	if errs := decode(t, res).Errors; len(errs) != 1 || errs[0].Message != "Unauthorized" {
		t.Fatalf("superseded token: %s, want Unauthorized", res.body)
	}
	log := tokenLog(t, ts)
	c1, c2 := claimsOf(t, first), claimsOf(t, second)
	want := []api.ReceivedToken{
		{Seq: 2, JTI: c1["jti"].(string), IssuedAt: c1["iat"].(float64), Op: "Rotate", At: log.Received[0].At},
		{Seq: 3, JTI: c1["jti"].(string), IssuedAt: c1["iat"].(float64), Op: "Stale", Refused: true, At: log.Received[1].At},
	}
	if len(log.Received) != 2 || log.Received[0] != want[0] || log.Received[1] != want[1] {
		t.Errorf("received = %+v, want %+v", log.Received, want)
	}
	if len(log.Issued) != 2 || log.Issued[1].JTI != c2["jti"] || log.Issued[1].Request != 2 {
		t.Errorf("issued = %+v, want the second token issued to request 2", log.Issued)
	}
	named := send(t, ts, http.MethodPost, "/graphql", map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + second},
		`{"query":"query Other { me { id } } query Named { me { id } }","operationName":"Named"}`)
	assertJSON(t, named.body, `{"data":{"me":{"id":"1"}}}`)
	if l := tokenLog(t, ts); l.Received[2].Op != "Named" || l.Received[2].Refused {
		t.Errorf("received[2] = %+v, want op Named, not refused", l.Received[2])
	}
}

// sendNoFollow is send with a client that does not follow redirects.
func sendNoFollow(t *testing.T, ts *httptest.Server, path string, header map[string]string, body string) result {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := *ts.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: b}
}

func TestRedirectFaultSendsTheClientElsewhereWithoutRunningTheQuery(t *testing.T) {
	ts := newServer(t, api.Config{TestHooks: true, Origins: []string{allowed}})
	token := login(t, ts)
	const to = "http://127.0.0.1:9/graphql?from=redirect"
	header := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + token, "Origin": allowed}
	for _, how := range []struct{ name, path, body string }{
		{"query string", "/graphql?fault=redirect&to=" + url.QueryEscape(to), `{"query":"mutation { addItem(name: \"x\") { id } }"}`},
		{"__hook", "/graphql", hookBody(t, `mutation { addItem(name: "x") { id } }`, map[string]any{"fault": "redirect", "to": to})},
	} {
		t.Run(how.name, func(t *testing.T) {
			res := sendNoFollow(t, ts, how.path, header, how.body)
			if res.status != http.StatusTemporaryRedirect {
				t.Errorf("status = %d, want 307", res.status)
			}
			if got := res.header.Get("Location"); got != to {
				t.Errorf("Location = %q, want %q", got, to)
			}
			if got := res.header.Get("Access-Control-Allow-Origin"); got != allowed {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, allowed)
			}
			noToken(t, res)
		})
	}
	// addItem never ran: the list still has only the fixed items.
	res := post(t, ts, "Bearer "+token, `{ items { totalCount } }`, nil)
	assertJSON(t, res.body, `{"data":{"items":{"totalCount":50}}}`)
}

func TestDupTokenFaultSendsTheTokenTwiceInXAuthorization(t *testing.T) {
	ts := newServer(t, api.Config{TestHooks: true, StrictRotation: true})
	token := login(t, ts)
	res := send(t, ts, http.MethodPost, "/graphql?fault=duptoken",
		map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + token}, meBody)
	assertJSON(t, res.body, `{"data":{"me":{"id":"1"}}}`)
	x, a := res.header.Values("X-Authorization"), res.header.Values("Authorization")
	if len(x) != 2 || x[0] != x[1] || len(a) != 1 || a[0] != x[0] || !strings.HasPrefix(a[0], "Bearer ey") {
		t.Fatalf("X-Authorization lines %q, Authorization lines %q; want the same Bearer token twice, then once", x, a)
	}
	next := strings.TrimPrefix(a[0], "Bearer ")
	if l := tokenLog(t, ts); len(l.Issued) != 2 || l.Issued[1].Raw != next || l.Issued[1].Forged {
		t.Errorf("issued = %+v, want the login token and the real next one", l.Issued)
	}
	// It is the session's newest token: strict rotation takes it.
	assertJSON(t, post(t, ts, "Bearer "+next, `{ me { id } }`, nil).body, `{"data":{"me":{"id":"1"}}}`)
}

func TestMixedTokenFaultSendsARealTokenAndADecoy(t *testing.T) {
	ts := newServer(t, api.Config{TestHooks: true, StrictRotation: true})
	token := login(t, ts)
	res := send(t, ts, http.MethodPost, "/graphql?fault=mixedtoken",
		map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + token}, meBody)
	assertJSON(t, res.body, `{"data":{"me":{"id":"1"}}}`)
	x, a := res.header.Values("X-Authorization"), res.header.Values("Authorization")
	if len(x) != 2 || len(a) != 1 || x[0] != a[0] || x[1] == x[0] || !strings.HasPrefix(x[1], "Bearer ") {
		t.Fatalf("X-Authorization lines %q, Authorization lines %q; want the real token then a decoy, and the real one", x, a)
	}
	genuine, decoy := strings.TrimPrefix(x[0], "Bearer "), strings.TrimPrefix(x[1], "Bearer ")
	cr, cd := claimsOf(t, genuine), claimsOf(t, decoy)
	if cd["sub"] != cr["sub"] || cd["iat"] != cr["iat"] || cd["exp"] != cr["exp"] || cd["jti"] == cr["jti"] {
		t.Errorf("decoy claims %v, real %v; want the same sub, iat and exp, another jti", cd, cr)
	}
	l := tokenLog(t, ts)
	if len(l.Issued) != 3 || l.Issued[1].Raw != genuine || l.Issued[1].Forged || l.Issued[2].Raw != decoy || !l.Issued[2].Forged ||
		l.Issued[2].Chain != l.Issued[1].Chain || l.Issued[2].Request != l.Issued[1].Request {
		t.Errorf("issued = %+v, want the login token, the real one, then the decoy, forged, same chain and request", l.Issued)
	}
	// Strict rotation refuses the decoy and takes the real token.
	if errs := decode(t, post(t, ts, "Bearer "+decoy, `{ me { id } }`, nil)).Errors; len(errs) != 1 || errs[0].Message != "Unauthorized" {
		t.Errorf("decoy: errors %+v, want Unauthorized", errs)
	}
	assertJSON(t, post(t, ts, "Bearer "+genuine, `{ me { id } }`, nil).body, `{"data":{"me":{"id":"1"}}}`)
}

func TestHeaderFaultsSendNoTokenWithoutOne(t *testing.T) {
	ts := newServer(t, api.Config{TestHooks: true})
	for _, fault := range []string{"duptoken", "mixedtoken"} {
		res := send(t, ts, http.MethodPost, "/graphql?fault="+fault, map[string]string{"Content-Type": "application/json"}, meBody)
		noToken(t, res)
		if errs := decode(t, res).Errors; len(errs) != 1 || errs[0].Message != "Unauthorized" {
			t.Errorf("%s without a token: %s, want Unauthorized", fault, res.body)
		}
	}
}

func TestEchoTokenFaultEchoesBothTokensInOtherHeaders(t *testing.T) {
	ts := newServer(t, api.Config{TestHooks: true, Origins: []string{"http://page.test"}})
	token := login(t, ts)
	res := send(t, ts, http.MethodPost, "/graphql?fault=echotoken",
		map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + token, "Origin": "http://page.test"}, meBody)
	assertJSON(t, res.body, `{"data":{"me":{"id":"1"}}}`)
	next := strings.TrimPrefix(res.header.Get("X-Authorization"), "Bearer ")
	if got := res.header.Get("X-Debug-Request-Token"); got != token {
		t.Errorf("X-Debug-Request-Token = %q, want the request's token", got)
	}
	if got := res.header.Get("Set-Token-Debug"); got != "issued="+next || next == "" {
		t.Errorf("Set-Token-Debug = %q, want issued=<the new token>", got)
	}
	if got := res.header.Get("Access-Control-Expose-Headers"); !strings.Contains(got, "X-Debug-Request-Token") || !strings.Contains(got, "Set-Token-Debug") {
		t.Errorf("Access-Control-Expose-Headers = %q: the echoes must be readable by scripts", got)
	}
}

func TestGzipBombFaultInflatesToTheAskedSize(t *testing.T) {
	ts := newServer(t, api.Config{TestHooks: true})
	const size = 8 << 20
	res := send(t, ts, http.MethodPost, fmt.Sprintf("/graphql?fault=gzipbomb&bytes=%d", size),
		map[string]string{"Content-Type": "application/json", "Accept-Encoding": "gzip"}, meBody)
	if res.header.Get("Content-Encoding") != "gzip" || len(res.body) > size/100 {
		t.Fatalf("Content-Encoding %q, %d bytes on the wire; want gzip, about a thousandth of %d", res.header.Get("Content-Encoding"), len(res.body), size)
	}
	zr, err := gzip.NewReader(bytes.NewReader(res.body))
	if err != nil {
		t.Fatal(err)
	}
	inflated, err := io.ReadAll(zr)
	if err != nil || len(inflated) != size || !json.Valid(inflated) {
		t.Fatalf("inflated to %d bytes (valid JSON: %t), %v; want %d", len(inflated), json.Valid(inflated), err, size)
	}
}
