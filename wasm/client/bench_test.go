package client_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gqlauth/gqlauth/wasm/client"
	"github.com/gqlauth/gqlauth/wasm/graphql"
	"github.com/gqlauth/gqlauth/wasm/session"
)

var benchStart = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

type stoppedClock struct{ now time.Time }

func (c stoppedClock) Now() time.Time { return c.now }

// bearer returns a token header value shaped like the reference server's,
// the n-th of a session: each one is issued a millisecond after the last.
func bearer(n int) string {
	enc := base64.RawURLEncoding
	iat := benchStart.Add(time.Duration(n) * time.Millisecond)
	claims := fmt.Appendf(nil, `{"sub":"1","jti":"%032x","iat":%.3f,"exp":%.3f}`,
		n, float64(iat.UnixMilli())/1000, float64(iat.Add(time.Hour).UnixMilli())/1000)
	return "Bearer " + enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." +
		enc.EncodeToString(claims) + "." + enc.EncodeToString(fmt.Appendf(nil, "%032d", n))
}

// memoryAPI is an in-memory Transport: it answers a login with token 0 and
// every other request with body and, when rotate is set, the next token of
// a ring made ahead of time, so that minting costs nothing during the
// benchmark. Past the end of the ring it answers with the last token again.
type memoryAPI struct {
	body   []byte
	rotate bool
	ring   []string

	mu   sync.Mutex
	next int
}

func newMemoryAPI(body []byte, rotate bool, ring int) *memoryAPI {
	api := &memoryAPI{body: body, rotate: rotate, ring: make([]string, ring)}
	for i := range api.ring {
		api.ring[i] = bearer(i)
	}
	return api
}

var loginBody = []byte(`{"data":{"loginUser":{"id":"1"}}}`)

func (m *memoryAPI) RoundTrip(_ context.Context, req *client.Request) (*client.Response, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if strings.Contains(string(req.Body[:min(len(req.Body), 64)]), "Login") {
		m.next = 1
		tok := m.ring[0]
		return &client.Response{Status: 200, Body: loginBody, Header: map[string]string{client.HeaderXAuthorization: tok, client.HeaderAuthorization: tok}}, nil
	}
	resp := &client.Response{Status: 200, Body: m.body}
	if m.rotate {
		tok := m.ring[min(m.next, len(m.ring)-1)]
		m.next++
		resp.Header = map[string]string{client.HeaderXAuthorization: tok, client.HeaderAuthorization: tok}
	}
	return resp, nil
}

// loggedIn returns a client of api, logged in, on a stopped clock.
func loggedIn(b *testing.B, api *memoryAPI) *client.Client {
	b.Helper()
	c, err := client.New("https://api.example.com/graphql", api, client.WithClock(stoppedClock{benchStart}))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Login(context.Background(), client.Credentials{Username: "demo", Password: []byte("demo-password")}); err != nil {
		b.Fatal(err)
	}
	return c
}

func listBody(n int) []byte {
	var sb strings.Builder
	sb.WriteString(`{"data":{"items":[`)
	for i := 0; sb.Len() < n-64; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"id":"%d","name":"item %d","done":%t,"tags":["a","b"]}`, i, i, i%2 == 0)
	}
	sb.WriteString(`]}}`)
	return []byte(sb.String())
}

// BenchmarkDo is the Go side of one fetchWithAuth: encode, take the token,
// build headers, round trip (in memory, free), rotate from the response
// header, parse the body and check it for Unauthorized.
func BenchmarkDo(b *testing.B) {
	const ring = 8192
	small := []byte(`{"data":{"me":{"id":"1"}}}`)
	for _, tc := range []struct {
		name   string
		body   []byte
		rotate bool
	}{
		{"small/rotating", small, true},
		{"small/no-token-header", small, false},
		{"1MB/rotating", listBody(1 << 20), true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			api := newMemoryAPI(tc.body, tc.rotate, ring)
			c := loggedIn(b, api)
			defer c.Close(context.Background())
			req := graphql.Request{Query: "{ me { id } }"}
			ctx := context.Background()
			b.SetBytes(int64(len(tc.body)))
			b.ReportAllocs()
			n := 1
			for b.Loop() {
				if n == ring {
					b.StopTimer()
					c.Close(context.Background())
					c = loggedIn(b, api)
					n = 1
					b.StartTimer()
				}
				if _, err := c.Do(ctx, req); err != nil {
					b.Fatal(err)
				}
				n++
			}
		})
	}
}

// BenchmarkParseHeaderShare shows how much of BenchmarkDo/small/rotating is
// reading the token: session.ParseHeader on the same kind of header.
func BenchmarkParseHeaderShare(b *testing.B) {
	h := bearer(1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := session.ParseHeader(h); err != nil {
			b.Fatal(err)
		}
	}
}
