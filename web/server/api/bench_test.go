package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/gqlauth/gqlauth/web/server/api"
)

// refusedBody is a /graphql request body of at most limit bytes whose query
// asks, with no token, for as many protected fields as fit:
// "protected_N: me { id }" under distinct aliases (so the engine merges
// nothing), separated by sep. With sep "\n" every field is on a line of its
// own; with " " they are all on one line. The aliases are long enough that
// 1 MiB of fields stays under the engine's limit of 100,000 selections.
func refusedBody(limit int, sep string) (body []byte, fields int) {
	var q strings.Builder
	q.WriteString("{")
	// Room for {"query":"..."} and the closing brace; a newline costs two
	// bytes once encoded as \n.
	room := limit - len(`{"query":""}`) - len(" }")
	sepCost := len(sep)
	if sep == "\n" {
		sepCost = 2
	}
	for used := 1; ; fields++ {
		field := "protected_" + strconv.Itoa(fields) + ": me { id }"
		if used+sepCost+len(field) > room {
			break
		}
		q.WriteString(sep)
		q.WriteString(field)
		used += sepCost + len(field)
	}
	q.WriteString(" }")
	body, err := json.Marshal(map[string]string{"query": q.String()})
	if err != nil {
		panic(err)
	}
	return body, fields
}

// BenchmarkRefusedFieldsWithoutToken measures the largest request an
// unauthenticated client can send: a body of MaxBodyBytes asking for
// protected fields only, answered with one Unauthorized error per field. It
// goes through the whole handler: decoding, running the query, locating
// every refused field, writing the answer.
func BenchmarkRefusedFieldsWithoutToken(b *testing.B) {
	srv, err := api.New(api.Config{})
	if err != nil {
		b.Fatal(err)
	}
	for _, shape := range []struct{ name, sep string }{{"lines", "\n"}, {"oneline", " "}} {
		body, fields := refusedBody(api.MaxBodyBytes, shape.sep)
		b.Run(shape.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/graphql", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || rec.Header().Get("X-Authorization") != "" ||
					!strings.HasPrefix(rec.Body.String(), `{"errors":[{"message":"Unauthorized"`) {
					b.Fatalf("status %d, body %.200s; want 200, Unauthorized, no token", rec.Code, rec.Body)
				}
			}
			b.ReportMetric(float64(fields), "fields/op")
		})
	}
}
