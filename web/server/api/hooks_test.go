package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
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
			if c["sub"] != "1" || !(c["exp"].(float64) < now) {
				t.Errorf("claims = %v, want sub 1 and exp before %v", c, now)
			}
		}},
		{"othersub", func(t *testing.T, raw string) {
			c := claimsOf(t, raw)
			if c["sub"] != "2" || !(c["exp"].(float64) > now) {
				t.Errorf("claims = %v, want sub 2, not expired", c)
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
	for _, query := range []string{"fault=nope", "delay=-1", "delay=30001", "delay=x", "fault=huge&bytes=19", "fault=huge&bytes=x"} {
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
		raw   string
		chain int
	}{{first, 1}, {second, 1}, {third, 2}}
	if len(log.Issued) != len(wantIssued) {
		t.Fatalf("issued = %+v, want %d tokens", log.Issued, len(wantIssued))
	}
	for i, w := range wantIssued {
		got := log.Issued[i]
		c := claimsOf(t, w.raw)
		if got.Raw != w.raw || got.Chain != w.chain || got.JTI != c["jti"] || got.Subject != "1" ||
			got.IssuedAt != c["iat"] || got.ExpiresAt != c["exp"] {
			t.Errorf("issued[%d] = %+v, want token %d of chain %d", i, got, i+1, w.chain)
		}
	}
	wantReceived := []api.ReceivedToken{
		{JTI: claimsOf(t, first)["jti"].(string), At: 1767225601.123},
		{JTI: "", At: 1767225601.123},
	}
	if len(log.Received) != len(wantReceived) || log.Received[0] != wantReceived[0] || log.Received[1] != wantReceived[1] {
		t.Errorf("received = %+v, want %+v", log.Received, wantReceived)
	}

	if res := send(t, ts, http.MethodPost, "/test/reset", nil, ""); res.status != 204 {
		t.Errorf("reset: status = %d, want 204", res.status)
	}
	res = send(t, ts, http.MethodGet, "/test/tokens", nil, "")
	assertJSON(t, res.body, `{"issued":[],"received":[],"graphqlRequests":0}`)

	// Sessions survive a reset.
	res = post(t, ts, "Bearer "+second, `{ me { id } }`, nil)
	assertJSON(t, res.body, `{"data":{"me":{"id":"1"}}}`)
}
