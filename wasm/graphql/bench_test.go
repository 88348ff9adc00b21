package graphql_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gqlauth/gqlauth/wasm/graphql"
)

// blobBody is a response like the reference API's blob(bytes:) answer, n
// bytes long in all: one long string.
func blobBody(n int) []byte {
	const head, tail = `{"data":{"blob":"`, `"}}`
	return []byte(head + strings.Repeat("x", max(n-len(head)-len(tail), 0)) + tail)
}

// listBody is about n bytes of a list of small objects, the shape of a
// typical page of results: many keys, numbers and short strings to scan.
func listBody(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"data":{"items":[`)
	for i := 0; b.Len() < n-64; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"%d","name":"item %d","done":%t,"tags":["a","b"]}`, i, i, i%2 == 0)
	}
	b.WriteString(`]}}`)
	return []byte(b.String())
}

const unauthorizedBody = `{"errors":[{"message":"Unauthorized","locations":[{"line":2,"column":3}],"customer_facing":false}]}`

var sizes = []struct {
	name string
	n    int
}{{"1KB", 1 << 10}, {"1MB", 1 << 20}}

// BenchmarkParseResponse measures the check every response goes through:
// valid JSON, an object, data or errors present.
func BenchmarkParseResponse(b *testing.B) {
	for _, shape := range []struct {
		name string
		body func(int) []byte
	}{{"blob", blobBody}, {"list", listBody}} {
		for _, size := range sizes {
			body := shape.body(size.n)
			b.Run(shape.name+"/"+size.name, func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := graphql.ParseResponse(body); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkUnauthorized measures the Unauthorized check on a parsed
// response: one with data and no errors (the common case) and the API's
// Unauthorized answer.
func BenchmarkUnauthorized(b *testing.B) {
	for _, tc := range []struct {
		name string
		body []byte
		want bool
	}{
		{"data/1KB", listBody(1 << 10), false},
		{"data/1MB", listBody(1 << 20), false},
		{"unauthorized", []byte(unauthorizedBody), true},
	} {
		r, err := graphql.ParseResponse(tc.body)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if r.Unauthorized(graphql.DefaultRefusalCodes) != tc.want {
					b.Fatal("wrong answer")
				}
			}
		})
	}
}

// BenchmarkParseAndCheck is what Client.Do does with every body: parse,
// then ask whether the token was refused.
func BenchmarkParseAndCheck(b *testing.B) {
	for _, size := range sizes {
		body := listBody(size.n)
		b.Run(size.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				r, err := graphql.ParseResponse(body)
				if err != nil || r.Unauthorized(graphql.DefaultRefusalCodes) {
					b.Fatal("unexpected answer", err)
				}
			}
		})
	}
}

// BenchmarkEncode measures building a request body.
func BenchmarkEncode(b *testing.B) {
	r := graphql.Request{Query: "query Item($id: ID!) { item(id: $id) { id name } }", Variables: []byte(`{"id":"42"}`), OperationName: "Item"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Encode(); err != nil {
			b.Fatal(err)
		}
	}
}
