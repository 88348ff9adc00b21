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

// BenchmarkJudge measures the judgement every answer goes through, fed in
// 64 KiB pieces as fetch delivers a body: valid JSON, an object, data or
// errors present, and whether an error says Unauthorized.
func BenchmarkJudge(b *testing.B) {
	for _, shape := range []struct {
		name string
		body func(int) []byte
	}{{"blob", blobBody}, {"list", listBody}, {"unauthorized", func(int) []byte { return []byte(unauthorizedBody) }}} {
		for _, size := range sizes {
			body := shape.body(size.n)
			b.Run(shape.name+"/"+size.name, func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				for b.Loop() {
					var j graphql.Judge
					for i := 0; i < len(body); i += 64 << 10 {
						j.Write(body[i:min(len(body), i+64<<10)])
					}
					if v, err := j.End(); err != nil || v.Unauthorized != (shape.name == "unauthorized") {
						b.Fatal("unexpected verdict", v, err)
					}
				}
			})
			if shape.name == "unauthorized" {
				break
			}
		}
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
