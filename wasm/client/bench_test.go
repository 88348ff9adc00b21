package client_test

import (
	"encoding/base64"
	"fmt"
	"strings"
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

var loginBody = []byte(`{"data":{"loginUser":{"id":"1"}}}`)

// exchange runs x to its end, answered with head and body, as the
// module's glue does: the request is made, the answer judged and its token
// rotated; the network costs nothing.
func exchange(b *testing.B, x *client.Exchange, head client.Head, body []byte) {
	_ = x.Request()
	x.Head(head)
	x.Chunk(body)
	if o := x.End(nil); o.Err != nil || o.Retry {
		b.Fatal(o.Err)
	}
}

func tokenHead(tok string) client.Head {
	return client.Head{Status: 200, Header: map[string]string{client.HeaderXAuthorization: tok, client.HeaderAuthorization: tok}}
}

// loggedIn returns a client, logged in with the ring's first token, on a
// stopped clock.
func loggedIn(b *testing.B, ring []string) *client.Client {
	b.Helper()
	c, err := client.New("https://api.example.com/graphql", client.WithClock(stoppedClock{benchStart}))
	if err != nil {
		b.Fatal(err)
	}
	x, err := c.Login(client.Credentials{Username: "demo", Password: []byte("demo-password")}, 1)
	if err != nil {
		b.Fatal(err)
	}
	exchange(b, x, tokenHead(ring[0]), loginBody)
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

// BenchmarkQuery is the Go side of one fetchWithAuth: encode, take the
// token, build the request, rotate from the answer's header, judge the body.
// The answer's token comes from a ring made ahead of time, so that minting
// costs nothing during the benchmark.
func BenchmarkQuery(b *testing.B) {
	const ring = 8192
	tokens := make([]string, ring)
	for i := range tokens {
		tokens[i] = bearer(i)
	}
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
			c := loggedIn(b, tokens)
			req := graphql.Request{Query: "{ me { id } }"}
			b.SetBytes(int64(len(tc.body)))
			b.ReportAllocs()
			n := 1
			for b.Loop() {
				if n == ring {
					b.StopTimer()
					c.Close(0)
					c = loggedIn(b, tokens)
					n = 1
					b.StartTimer()
				}
				x, err := c.Query(req, 1)
				if err != nil {
					b.Fatal(err)
				}
				head := client.Head{Status: 200}
				if tc.rotate {
					head = tokenHead(tokens[n])
				}
				exchange(b, x, head, tc.body)
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
