package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/gqlauth/gqlauth/web/server/api"
)

// refusedBody is a /graphql request body whose query, of at most
// queryLimit bytes, asks with no token for as many protected fields as fit,
// at most maxFields: "protected_N: me { id }" under distinct aliases (so
// the engine merges nothing), separated by sep. With sep "\n" every field
// is on a line of its own; with " " they are all on one line.
func refusedBody(queryLimit, maxFields int, sep string) (body []byte, fields int) {
	var q strings.Builder
	q.WriteString("{")
	room := queryLimit - len(" }")
	for used := 1; fields < maxFields; fields++ {
		field := "protected_" + strconv.Itoa(fields) + ": me { id }"
		if used+len(sep)+len(field) > room {
			break
		}
		q.WriteString(sep)
		q.WriteString(field)
		used += len(sep) + len(field)
	}
	q.WriteString(" }")
	return queryBody(q.String()), fields
}

// serve sends body to srv's /graphql as a JSON POST with authorization as
// the Authorization header (none when empty), and returns the answer.
func serve(srv http.Handler, authorization string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return rec
}

// queryBody is the JSON body of a request for query.
func queryBody(query string) []byte {
	body, err := json.Marshal(map[string]string{"query": query})
	if err != nil {
		panic(err)
	}
	return body
}

// BenchmarkRefusedFieldsWithoutToken measures the largest request an
// unauthenticated client can have run: a query of DefaultMaxQueryBytes
// asking for protected fields only, as many as DefaultMaxSelections allows,
// answered with one Unauthorized error per field. It goes through the whole
// handler: decoding, running the query, locating every refused field,
// writing the answer.
func BenchmarkRefusedFieldsWithoutToken(b *testing.B) {
	srv, err := api.New(api.Config{})
	if err != nil {
		b.Fatal(err)
	}
	for _, shape := range []struct{ name, sep string }{{"lines", "\n"}, {"oneline", " "}} {
		// Each field is two selections: me and its id.
		body, fields := refusedBody(api.DefaultMaxQueryBytes, api.DefaultMaxSelections/2, shape.sep)
		b.Run(shape.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				rec := serve(srv, "", body)
				if rec.Code != http.StatusOK || rec.Header().Get("X-Authorization") != "" ||
					!strings.HasPrefix(rec.Body.String(), `{"errors":[{"message":"Unauthorized"`) {
					b.Fatalf("status %d, body %.200s; want 200, Unauthorized, no token", rec.Code, rec.Body)
				}
			}
			b.ReportMetric(float64(fields), "fields/op")
		})
	}
}

// repeatedFieldQuery is 56 KB of one field asked for 8000 times, without
// aliases: validating that they can be merged compares every pair of
// them, 32 million pairs, which took the server past 2 GB and 20 s before
// the overlap limit.
func repeatedFieldQuery() string {
	return "{" + strings.Repeat("me{id} ", 8000) + "}"
}

// BenchmarkRepeatedFieldWithoutToken measures repeatedFieldQuery sent
// without a token, answered with the overlap limit's error.
func BenchmarkRepeatedFieldWithoutToken(b *testing.B) {
	srv, err := api.New(api.Config{})
	if err != nil {
		b.Fatal(err)
	}
	body := queryBody(repeatedFieldQuery())
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		rec := serve(srv, "", body)
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Body.String(), `{"errors":[{"message":"the query repeats fields`) {
			b.Fatalf("status %d, body %.200s; want 200 and the overlap limit's error", rec.Code, rec.Body)
		}
	}
}

// blobAliasesQuery asks for n blobs of MaxBlobBytes under distinct
// aliases: with n = 16, 256 MiB of answer, held in memory, before the
// answer budget.
func blobAliasesQuery(n int) string {
	var q strings.Builder
	q.WriteString("{")
	for i := range n {
		fmt.Fprintf(&q, " b%d: blob(bytes: %d)", i, api.MaxBlobBytes)
	}
	q.WriteString(" }")
	return q.String()
}

// BenchmarkBlobAliasesOverTheAnswerBudget measures blobAliasesQuery(16)
// sent with a valid token, answered with the answer budget's errors and no
// data.
func BenchmarkBlobAliasesOverTheAnswerBudget(b *testing.B) {
	srv, err := api.New(api.Config{})
	if err != nil {
		b.Fatal(err)
	}
	login := serve(srv, "", queryBody(`{ loginUser(username: "demo", password: "`+api.DefaultDemoPassword+`") { id } }`))
	token := login.Header().Get("Authorization")
	if token == "" {
		b.Fatalf("login: status %d, body %.200s", login.Code, login.Body)
	}
	body := queryBody(blobAliasesQuery(16))
	b.ReportAllocs()
	for b.Loop() {
		rec := serve(srv, token, body)
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Body.String(), `{"errors":[{"message":"the answer would be larger`) ||
			!strings.HasSuffix(rec.Body.String(), `"data":null}`) {
			b.Fatalf("status %d, body %.200s; want 200, the answer budget's errors, null data", rec.Code, rec.Body)
		}
	}
}
